"""The daily digest an editor opens with their coffee: Markdown and plain HTML.

Built from report dictionaries (``JobReport.to_dict``) so that every run of a
day contributes; all article text is escaped.
"""

from __future__ import annotations

import html
import os
import re
from pathlib import Path
from typing import Any, Iterable
from urllib.parse import quote

from ..flags import informative, meaning, untrusted
from ..io.layout import output_label
from ..text.language import LANGUAGE_NAMES


def language_name(code: str | None) -> str:
    """``fr`` -> ``French (fr)``."""
    if not code:
        return "Unknown language"
    return f"{LANGUAGE_NAMES.get(code, code)} ({code})"


def language_label(code: str | None) -> str:
    """``fr`` -> ``French``."""
    return LANGUAGE_NAMES.get(code or "", code or "?")


def by_language(entries: list[dict[str, Any]]) -> list[tuple[str | None, list[dict[str, Any]]]]:
    """Entries grouped by language, the largest group first."""
    groups: dict[str | None, list[dict[str, Any]]] = {}
    for entry in entries:
        groups.setdefault(entry.get("language"), []).append(entry)
    return sorted(groups.items(), key=lambda item: (-len(item[1]), item[0] or ""))


def warnings_of(entry: dict[str, Any]) -> list[str]:
    """The flags of an entry that an editor should check before using it."""
    return untrusted(entry["flags"])

#: Said in every digest: its links work from the reports folder, not from a mailed copy.
LINKS_NOTE = "Links are relative to the reports folder: open this digest from there (a mailed copy's links do not work)."

_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>#|])")


def day_articles(reports: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """The latest entry per article over the given run reports (oldest first).

    Articles are told apart by their files (two inputs can share a relative key),
    JSONL records by their key within their results file.
    """
    latest: dict[tuple[str, str], dict[str, Any]] = {}
    for report in reports:
        for entry in report.get("articles", []):
            outputs = entry.get("outputs") or [""]
            identity = (outputs[-1], entry["key"])
            latest.pop(identity, None)
            latest[identity] = {"target_language": report.get("target_language", "en"), **entry}
    return list(latest.values())


def _link(path: str, base: Path) -> str:
    try:
        relative = os.path.relpath(path, base)
    except ValueError:
        relative = path
    return quote(relative.replace(os.sep, "/"))


def _file_label(path: str) -> str:
    name = Path(path).name
    return output_label(name) or name


def _md(text: str) -> str:
    return _MD_SPECIAL.sub(r"\\\1", " ".join(text.split()))


_OUTPUT_LABELS = {"summary": "summary", "summary_translation": "English summary", "translation": "translation"}


def _notes(entry: dict[str, Any]) -> str:
    """The untrusted flags of an entry, what each means, and the words at fault."""
    notes = []
    for flag in warnings_of(entry):
        words = [
            f"{value} ({_OUTPUT_LABELS.get(task, task)})"
            for task, found in (entry.get("findings") or {}).items()
            for value in found.get(flag, [])
        ]
        notes.append(f"{flag}: {meaning(flag)}" + (f": {', '.join(words)}" if words else ""))
    return "; ".join(notes)


def render_markdown(day: str, last_run: str, entries: list[dict[str, Any]], base: Path) -> str:
    """The digest as Markdown, grouped by language; links are relative to ``base``.

    Its first line is ``last_run``: how the night ended."""
    done = [e for e in entries if e["status"] == "ok"]
    failed = [e for e in entries if e["status"] == "failed"]
    skipped = [e for e in entries if e["status"] == "skipped"]
    flagged = sum(1 for e in done if warnings_of(e))
    lines = [
        f"**{_md(last_run)}**",
        "",
        f"# Digest {day}",
        "",
        f"{len(done)} articles done ({flagged} flagged: check before use), {len(failed)} failed.",
        "",
    ]
    lines += _md_list("Failed", failed, "error")  # what went wrong first
    for language, group in by_language(done):
        lines += [f"## {language_name(language)}", ""]
        for entry in group:
            title = entry["title_translation"] or entry["title"] or entry["key"]
            mark = "⚠ " if warnings_of(entry) else ""
            lines += [f"### {mark}{_md(title)}", ""]
            if entry["title"] and entry["title"] != title:
                lines += [f"*{_md(entry['title'])}*", ""]
            if warnings_of(entry):
                lines += [f"**Check before use:** {_md(_notes(entry))}", ""]
            lines += [f"*{_md(meaning(f).capitalize())}.*" for f in informative(entry["flags"])]
            target = language_label(entry.get("target_language", "en"))
            lines += [f"**Summary ({target}):** {_md(entry['summary_translation'])}", ""]
            if entry["summary"] != entry["summary_translation"]:
                lines += [f"**Summary ({language_label(language)}):** {_md(entry['summary'])}", ""]
            links = " · ".join(f"[{_file_label(p)}]({_link(p, base)})" for p in entry["outputs"])
            lines += [f"`{entry['key']}`: {links}", ""]
    lines += _md_list("Not processed", skipped, "reason")
    lines += [f"*{LINKS_NOTE}*", ""]
    return "\n".join(lines)


def render_html(day: str, last_run: str, entries: list[dict[str, Any]], base: Path) -> str:
    """The digest as one plain, self-contained HTML page, grouped by language; the
    first thing on the page is ``last_run``: how the night ended."""
    esc = html.escape
    done = [e for e in entries if e["status"] == "ok"]
    failed = [e for e in entries if e["status"] == "failed"]
    skipped = [e for e in entries if e["status"] == "skipped"]
    flagged = sum(1 for e in done if warnings_of(e))
    parts = [
        "<!doctype html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>Digest {esc(day)}</title>",
        "<style>body{font-family:sans-serif;max-width:50em;margin:2em auto;line-height:1.5}"
        "article{border-top:1px solid #ccc;padding:.5em 0}.flags{background:#fff3cd;padding:.3em}"
        ".key{color:#666;font-size:.9em}.bad{background:#f8d7da;padding:.3em}</style></head><body>",
        f'<p class="last{" bad" if failed or last_run.startswith("⚠") else ""}"><strong>{esc(last_run)}</strong></p>',
        f"<h1>Digest {esc(day)}</h1>",
        f"<p>{len(done)} articles done ({flagged} flagged: check before use), {len(failed)} failed.</p>",
    ]
    parts += _html_list("Failed", failed, "error")  # what went wrong first
    for language, group in by_language(done):
        parts.append(f"<h2>{esc(language_name(language))}</h2>")
        for entry in group:
            title = entry["title_translation"] or entry["title"] or entry["key"]
            mark = "⚠ " if warnings_of(entry) else ""
            parts.append(f"<article><h3>{mark}{esc(title)}</h3>")
            if entry["title"] and entry["title"] != title:
                parts.append(f'<p lang="{esc(language or "")}"><em>{esc(entry["title"])}</em></p>')
            if warnings_of(entry):
                parts.append(f'<p class="flags">Check before use: {esc(_notes(entry))}</p>')
            parts += [
                f"<p><em>{esc(meaning(f).capitalize())}.</em></p>" for f in informative(entry["flags"])
            ]
            target = language_label(entry.get("target_language", "en"))
            parts.append(f"<p><strong>Summary ({esc(target)}):</strong> {esc(entry['summary_translation'])}</p>")
            if entry["summary"] != entry["summary_translation"]:
                parts.append(
                    f'<p lang="{esc(language or "")}"><strong>Summary ({esc(language_label(language))}):</strong> '
                    f"{esc(entry['summary'])}</p>"
                )
            links = " · ".join(
                f'<a href="{esc(_link(p, base))}">{esc(_file_label(p))}</a>' for p in entry["outputs"]
            )
            parts.append(f'<p class="key">{esc(entry["key"])}: {links}</p></article>')
    parts += _html_list("Not processed", skipped, "reason")
    parts.append(f'<p class="key">{esc(LINKS_NOTE)}</p>')
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


def _md_list(heading: str, group: list[dict[str, Any]], field: str) -> list[str]:
    if not group:
        return []
    return [f"## {heading}", "", *(f"- `{entry['key']}`: {_md(entry.get(field) or '')}" for entry in group), ""]


def _html_list(heading: str, group: list[dict[str, Any]], field: str) -> list[str]:
    if not group:
        return []
    esc = html.escape
    items = [f"<li><code>{esc(entry['key'])}</code>: {esc(entry.get(field) or '')}</li>" for entry in group]
    return [f"<h2>{heading}</h2><ul>", *items, "</ul>"]
