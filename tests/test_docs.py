"""The docs: the configuration reference is current and complete, README is short, links resolve."""

from __future__ import annotations

import re
import typing
from dataclasses import fields, is_dataclass
from pathlib import Path

from summarizer.config.reference import render_reference
from summarizer.config.sections import JobConfig, ModelChoice

REPO = Path(__file__).resolve().parents[1]
DOCS = REPO / "docs"
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
ROW = re.compile(r"^\| `([^`]+)` \| (?:[^|\\]|\\.)+ \| (.*) \|$", re.MULTILINE)


def yaml_keys() -> list[str]:
    """Every YAML key of a job config, dotted, plus the keys of a model entry."""
    hints = typing.get_type_hints(JobConfig)
    keys = []
    for f in fields(JobConfig):
        if not f.metadata.get("yaml", True):
            continue
        section = hints[f.name]
        if is_dataclass(section):
            for g in fields(section):  # a group of keys inside a section: summarization.prompt.user
                group = typing.get_type_hints(section)[g.name]
                names = [f"{g.name}.{h.name}" for h in fields(group)] if is_dataclass(group) else [g.name]
                keys += [f"{f.name}.{name}" for name in names]
        else:
            keys.append(f.name)
    return keys + [f.name for f in fields(ModelChoice)]


def test_configuration_reference_is_current() -> None:
    written = (DOCS / "configuration.md").read_text(encoding="utf-8")
    assert written == render_reference(), "docs/configuration.md is out of date: run `make docs`"


def test_every_config_key_is_in_the_reference() -> None:
    rows = dict(ROW.findall(render_reference()))
    assert not [k for k in yaml_keys() if k not in rows], "keys missing from the reference"
    assert not [k for k in yaml_keys() if not rows[k].strip()], "fields without a docstring"
    # Bounds are read from the checks' closures: a refactor of checks.py must not lose them.
    assert "*Accepted:* greater than 0; at most" in rows["inputs.max_file_mb"]


def test_readme_fits_on_a_screen() -> None:
    lines = (REPO / "README.md").read_text(encoding="utf-8").splitlines()
    assert len(lines) <= 220, f"README.md has {len(lines)} lines; move details to docs/"


def anchors(page: Path) -> set[str]:
    """The heading anchors GitHub makes for a Markdown page."""
    text = re.sub(r"```.*?```", "", page.read_text(encoding="utf-8"), flags=re.DOTALL)
    slugs = set()
    for heading in re.findall(r"^#+ (.+)$", text, flags=re.MULTILINE):
        slug = re.sub(r"[^\w\- ]", "", heading.strip().lower().replace("`", "")).replace(" ", "-")
        slugs.add(slug)
    return slugs


def test_relative_links_point_to_files_and_headings() -> None:
    broken = []
    for page in [REPO / "README.md", *sorted(DOCS.glob("*.md"))]:
        text = re.sub(r"```.*?```", "", page.read_text(encoding="utf-8"), flags=re.DOTALL)
        for target in LINK.findall(re.sub(r"`[^`\n]*`", "", text)):
            path, _, anchor = target.partition("#")
            if re.match(r"[a-z][a-z0-9+.-]*:", path):
                continue
            linked = page.parent / path if path else page
            if not linked.exists():
                broken.append(f"{page.relative_to(REPO)}: {target}")
            elif anchor and linked.suffix == ".md" and anchor not in anchors(linked):
                broken.append(f"{page.relative_to(REPO)}: {target} (no such heading)")
    assert not broken, f"relative links to missing files or headings: {broken}"
