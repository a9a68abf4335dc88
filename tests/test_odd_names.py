"""Odd input file names (issue 28, item 6).

Whatever an input's name holds (a newline, a carriage return, a name that ends in a
newline, ``.summary.fr.txt`` inside it, bytes that are not UTF-8), the job recognises its
outputs as its own: a second night finds nothing new, and ``summarizer export`` rebuilds
the rows the night exported.
"""

from __future__ import annotations

import json
import os
import tempfile
from datetime import date, timedelta
from pathlib import Path

from conftest import ARTICLE_VELO, FEED, write_config, written_earlier
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from summarizer.cli import main
from summarizer.io.layout import OutputLocation, is_output_file, output_label, output_location_of
from summarizer.reporting.export import latest_export, read_export

EXTENSIONS = [".txt", ".md", ".jsonl"]
#: Pieces of names that broke, or could break, a pattern on names.
ODD_PIECES = [
    "\n", "\r", "\r\n", "\t", "\x85", "\u2028", " ", ".", "..", "é", "\udce9", "\udcff",
    ".summary.fr.txt", ".translation.en.txt", ".meta.json", ".results.jsonl", ".txt", "summary",
]
#: Any character a POSIX file name can hold (a lone surrogate is an undecodable byte).
NAME_CHARACTER = st.characters(blacklist_characters="/\x00", blacklist_categories=("Cs",)) | st.sampled_from(
    ["\udc80", "\udce9", "\udcff"]
)
STEMS = st.lists(
    st.sampled_from(ODD_PIECES) | st.text(NAME_CHARACTER, min_size=1, max_size=6), min_size=1, max_size=4
).map("".join)
LANGUAGES = st.sampled_from(["fr", "en", "de", "pt-BR", "zh-Hant"])


@settings(max_examples=300)
@given(STEMS, LANGUAGES)
@example("velo\nlyon", "fr")
@example("velo\n", "en")
@example("a.summary.fr.txt", "fr")
def test_every_output_name_is_recognised_whatever_the_stem_holds(stem: str, language: str) -> None:
    location = OutputLocation(folder=Path("/out"), name=stem, root=Path("/out"))
    for name, label in [
        (location.summary_name(language), f"summary ({language})"),
        (location.translation_name(language), "translation"),
        (location.meta_name, "meta"),
        (location.results.name, "results"),
    ]:
        assert is_output_file(name), ascii(name)
        assert output_label(name) == label, ascii(name)
    for path in (location.meta, location.results):
        assert output_location_of(path, Path("/out")) == location, ascii(path.name)


def _config(folder: Path, tiny_models: dict[str, Path]) -> Path:
    return write_config(
        folder / "job.yaml",
        f"""\
        inputs: {{paths: [{folder / "articles"}]}}
        reports: {{dir: {folder / "reports"}}}
        runtime: {{device: cpu}}
        summarization:
          model: {tiny_models["summarizer"]}
          generation: {{max_new_tokens: 6, min_new_tokens: 2}}
        translation:
          model: {tiny_models["translator"]}
          generation: {{max_new_tokens: 6}}
        """,
    )


def _write_inputs(articles: Path, names: list[str]) -> None:
    articles.mkdir()
    for name in names:
        body = (
            "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in FEED)
            if name.lower().endswith(".jsonl")
            else ARTICLE_VELO
        )
        (articles / name).write_bytes(body.encode("utf-8"))
    written_earlier(articles)


def _night(folder: Path) -> dict:
    """Run a night; its report."""
    before = set((folder / "reports").glob("*/report.json"))
    main(["run", "-c", str(folder / "job.yaml")])
    (report,) = set((folder / "reports").glob("*/report.json")) - before
    return json.loads(report.read_text(encoding="utf-8"))


def _rebuilt(folder: Path) -> list[dict]:
    today, out = date.today(), folder / "rebuilt.jsonl"
    since, until = (today - timedelta(days=1)).isoformat(), (today + timedelta(days=1)).isoformat()
    assert main(["export", "-c", str(folder / "job.yaml"), "--since", since, "--until", until, "-o", str(out)]) == 0
    return read_export(out)


def _by_key(rows: list[dict]) -> dict[str, dict]:
    keyed = {row["key"]: row for row in rows}
    assert len(keyed) == len(rows), "an article appears twice"
    return keyed


def _two_nights_and_a_rebuild(folder: Path, tiny_models: dict[str, Path], names: list[str]) -> None:
    """The property: a second night finds nothing new, and the rebuild equals the night's
    export, except the articles whose names cannot hold outputs (failed each night)."""
    _write_inputs(folder / "articles", names)
    _config(folder, tiny_models)
    first = _night(folder)
    files = sorted(os.listdir(folder / "articles"))
    export = latest_export(folder / "reports", "job")
    night_rows = read_export(export) if export else []  # none when it found nothing (hidden names only)
    second = _night(folder)
    assert sorted(os.listdir(folder / "articles")) == files, "the second night wrote outputs of outputs"
    assert second["counts"]["found"] == first["counts"]["found"]
    assert second["counts"]["done"] == 0
    no_outputs = {  # io.layout.output_name_problem: "its name is not valid UTF-8" or "... too long"
        a["key"] for a in first["articles"] if a["status"] == "failed" and "its name" in (a.get("error") or "")
    }
    assert {a["key"] for a in second["articles"] if a["status"] != "skipped"} == no_outputs
    assert second["exit_code"] == (1 if no_outputs else 0)
    expected = {key: row for key, row in _by_key(night_rows).items() if key not in no_outputs}
    assert _by_key(_rebuilt(folder)) == expected


def test_a_newline_in_a_name_is_done_once_and_rebuilt(tmp_path: Path, tiny_models) -> None:
    _write_inputs(tmp_path / "articles", ["velo\nlyon.txt"])
    _config(tmp_path, tiny_models)
    first = _night(tmp_path)
    assert (first["exit_code"], first["counts"]["found"], first["counts"]["done"]) == (0, 1, 1)
    suffixes = ("txt", "meta.json", "summary.fr.txt", "summary.en.txt", "translation.en.txt")
    assert sorted(os.listdir(tmp_path / "articles")) == sorted(
        [f"velo\nlyon.{suffix}" for suffix in suffixes] + [".summarizer.lock"]
    )
    night_rows = read_export(latest_export(tmp_path / "reports", "job"))
    assert len(night_rows) == 1
    for _ in range(2):
        later = _night(tmp_path)
        assert (later["exit_code"], later["counts"]["found"], later["counts"]["skipped"]) == (0, 1, 1)
    assert _rebuilt(tmp_path) == night_rows


@settings(
    max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture]
)
@given(
    st.lists(
        st.tuples(STEMS, st.sampled_from(EXTENSIONS + [".TXT"])).map("".join),
        min_size=1,
        max_size=3,
        unique_by=lambda name: name.rsplit(".", 1)[0],
    )
)
@example(["retour\rchariot.txt", "fin de ligne\n.md", "a.summary.fr.txt.txt", "caf\udce9.txt"])
@example(["flux\nde dépêches.jsonl", "x.results.jsonl.md", "x.meta.json.txt", "velo.txt\n"])
def test_any_name_the_readers_take_is_done_once_and_rebuilt(tiny_models, names: list[str]) -> None:
    with tempfile.TemporaryDirectory() as folder:
        _two_nights_and_a_rebuild(Path(folder), tiny_models, names)
