"""Odd input file names (issue 28, item 6) and any day for ``summarizer export`` (item 9).

Whatever an input's name holds (a newline, a carriage return, a name that ends in a
newline, ``.summary.fr.txt`` inside it, bytes that are not UTF-8), the job recognises its
outputs as its own: a second night finds nothing new, and ``summarizer export`` rebuilds
the rows the night exported. Every day the parser takes gives rows or a one-line error.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from conftest import ARTICLE_VELO, FEED, write_config, written_earlier
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from summarizer.cli import main
from summarizer.errors import UsageError, exit_code_for
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


# Item 9: any day the parser takes.


@pytest.fixture
def night(tmp_path: Path, tiny_models) -> Path:
    """A night of one article and a feed; the config's path."""
    _write_inputs(tmp_path / "articles", ["velo.txt", "feed.jsonl"])
    config = _config(tmp_path, tiny_models)
    assert _night(tmp_path)["exit_code"] == 0
    return config


DAYS = st.sampled_from([date.min, date.max, date(1969, 12, 31), date(1970, 1, 1), date(2038, 1, 19)]) | st.dates()


@pytest.fixture(params=[None, "XST-14", "YST+11"], ids=["local", "UTC+14", "UTC-11"])
def time_zone(request):
    """The machine's time zone, then the two furthest from UTC (``TZ``, POSIX form)."""
    saved = os.environ.get("TZ")
    if request.param:
        os.environ["TZ"] = request.param
        time.tzset()
    yield
    if saved is None:
        os.environ.pop("TZ", None)
    else:
        os.environ["TZ"] = saved
    time.tzset()


def test_every_day_the_parser_takes_gives_rows_or_a_one_line_error(night: Path, time_zone, tmp_path, capsys) -> None:
    out = tmp_path / "days.jsonl"
    everything = _by_key(_rebuilt(tmp_path))
    assert len(everything) == 3
    finished = {key: datetime.fromisoformat(row["finished_at"]).astimezone().date() for key, row in everything.items()}

    @settings(max_examples=40, deadline=None)
    @given(DAYS, DAYS, st.sampled_from(["--day", "--since", "--since --until"]))
    @example(date.min, date.max, "--since --until")
    @example(date.min, date.min, "--since")
    @example(date.max, date.max, "--day")
    @example(date.max, date.min, "--since --until")
    def check(first: date, last: date, options: str) -> None:
        capsys.readouterr()
        days = [first.isoformat(), last.isoformat()] if options == "--since --until" else [first.isoformat()]
        arguments = [part for pair in zip(options.split(), days) for part in pair]
        code = main(["export", "-c", str(night), *arguments, "-o", str(out)])
        err = capsys.readouterr().err
        assert "Traceback" not in err
        last = last if options == "--since --until" else first
        if first > last:
            assert code == exit_code_for(UsageError("")) and len(err.strip().splitlines()) == 1, err
            return
        assert code == 0, err
        wanted = {key for key, day in finished.items() if first <= day <= last}
        assert set(_by_key(read_export(out))) == wanted

    check()


@pytest.mark.parametrize(
    "finished, on_its_day",
    [
        ("0001-01-01T00:00:00+05:00", True),
        ("9999-12-31T23:59:59-05:00", False),  # its file was last written before that day: not read for it
    ],
)
def test_a_record_finished_at_the_calendar_s_edge_gives_rows(night: Path, tmp_path, capsys, finished, on_its_day) -> None:
    meta_file = tmp_path / "articles" / "velo.meta.json"
    meta = json.loads(meta_file.read_text(encoding="utf-8"))
    meta_file.write_text(json.dumps({**meta, "finished_at": finished}), encoding="utf-8")
    out = tmp_path / "edge.jsonl"
    assert main(["export", "-c", str(night), "--since", "0001-01-01", "--until", "9999-12-31", "-o", str(out)]) == 0
    assert set(_by_key(read_export(out))) == {"velo.txt", "feed.jsonl#a", "feed.jsonl#b"}
    assert main(["export", "-c", str(night), "--day", finished[:10], "-o", str(out)]) == 0
    assert [row["finished_at"] for row in read_export(out)] == ([finished] if on_its_day else [])
    assert "Traceback" not in capsys.readouterr().err
