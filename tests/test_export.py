"""The night as a dataset (issue 22): one row per article a run did, in its run folder,
with a ``latest`` pointer; ``summarizer export`` rebuilds the same rows from the files."""

from __future__ import annotations

import json
import os
import signal
from datetime import date, timedelta
from pathlib import Path

import pytest
import yaml
from conftest import DELETE, FEED, PAGE, edit_config, written_earlier

from summarizer.cli import main
from summarizer.reporting.export import SCHEMA_VERSION, latest_export, read_export

@pytest.fixture
def night(job_config: Path, articles: Path, tmp_path: Path) -> Path:
    """Text, Markdown, HTML and JSONL articles, and one that fails (empty); reports on."""
    (articles / "page.html").write_text(PAGE, encoding="utf-8")
    (articles / "feed.jsonl").write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in FEED), encoding="utf-8")
    (articles / "vide.txt").write_text("", encoding="utf-8")
    written_earlier(articles)
    return edit_config(job_config, {"reports": {"dir": str(tmp_path / "reports")}})


def _report(tmp_path: Path) -> dict:
    (report,) = [json.loads(p.read_text(encoding="utf-8")) for p in (tmp_path / "reports").glob("*/report.json")]
    return report


def _by_key(rows: list[dict]) -> dict[str, dict]:
    keyed = {row["key"]: row for row in rows}
    assert len(keyed) == len(rows), "an article appears twice"
    return keyed


def test_a_night_is_exported_once_per_article_with_its_values(night, articles, tmp_path) -> None:
    assert main(["run", "-c", str(night)]) == 1  # vide.txt fails
    export = latest_export(tmp_path / "reports", "job")
    assert export is not None and export.name == "export.jsonl" and export.parent.parent == tmp_path / "reports"
    rows = _by_key(read_export(export))
    report = {a["key"]: a for a in _report(tmp_path)["articles"]}
    assert set(rows) == set(report) == {"2026-11-28/velo.txt", "eau.md", "page.html", "feed.jsonl#a", "feed.jsonl#b", "vide.txt"}
    assert rows["vide.txt"]["status"] == "failed" and rows["vide.txt"]["error"] and rows["vide.txt"]["summary"] is None
    assert all(row["schema_version"] == SCHEMA_VERSION for row in rows.values())
    velo = rows["2026-11-28/velo.txt"]
    folder = articles / "2026-11-28"
    meta = json.loads((folder / "velo.meta.json").read_text(encoding="utf-8"))
    assert velo["summary"] == (folder / "velo.summary.fr.txt").read_text(encoding="utf-8").rstrip("\n")
    assert velo["summary_translation"] == (folder / "velo.summary.en.txt").read_text(encoding="utf-8").rstrip("\n")
    assert (folder / "velo.translation.en.txt").read_text(encoding="utf-8") == f"{velo['title_translation']}\n\n{velo['translation']}\n"
    assert velo["source"] == str(folder / "velo.txt") and velo["record_id"] is None
    for name in ("flags", "findings", "models", "fingerprint", "finished_at", "language", "title"):
        assert velo[name] == meta.get(name, {} if name == "findings" else None), name
    results = {r["id"]: r for r in map(json.loads, (articles / "feed.results.jsonl").read_text().splitlines())}
    assert rows["feed.jsonl#b"]["summary"] == results["b"]["summary"] and rows["feed.jsonl#b"]["record_id"] == "b"
    assert rows["feed.jsonl#b"]["source"] == str(articles / "feed.jsonl")
    assert any(row["flags"] for row in rows.values() if row["status"] == "ok")  # tiny models: flagged
    for key, row in rows.items():
        assert row["flags"] == report[key].get("flags", []), key


def test_export_rebuilds_the_rows_the_night_wrote(night, tmp_path, capsys) -> None:
    assert main(["run", "-c", str(night)]) == 1
    night_rows = read_export(latest_export(tmp_path / "reports", "job"))
    capsys.readouterr()
    assert main(["export", "-c", str(night)]) == 0
    target = tmp_path / "reports" / "exports" / f"export-{date.today().isoformat()}.jsonl"
    assert f"6 article(s) finished on {date.today()}: {target}" in capsys.readouterr().out
    assert _by_key(read_export(target)) == _by_key(night_rows)


def test_a_rebuild_takes_only_the_days_asked(night, articles, tmp_path, capsys) -> None:
    assert main(["run", "-c", str(night)]) == 1
    meta_file = articles / "eau.meta.json"
    meta = json.loads(meta_file.read_text(encoding="utf-8"))
    earlier = (date.today() - timedelta(days=3)).isoformat()
    meta_file.write_text(json.dumps({**meta, "finished_at": f"{earlier}T12:00:00+00:00"}), encoding="utf-8")
    today, out = date.today().isoformat(), tmp_path / "one.jsonl"
    assert main(["export", "-c", str(night), "--day", today, "-o", str(out)]) == 0
    assert set(_by_key(read_export(out))) == {"2026-11-28/velo.txt", "page.html", "feed.jsonl#a", "feed.jsonl#b", "vide.txt"}
    assert main(["export", "-c", str(night), "--since", earlier, "--until", earlier, "-o", str(out)]) == 0
    assert list(_by_key(read_export(out))) == ["eau.md"]
    assert main(["export", "-c", str(night), "--since", today, "--until", earlier, "-o", str(out)]) == 2
    assert "is after --until" in capsys.readouterr().err
    (articles / "2026-11-28" / "velo.meta.json").write_text("{damaged", encoding="utf-8")
    assert main(["export", "-c", str(night), "--day", today, "-o", str(out)]) == 1  # read what it can, say what not
    assert "velo.meta.json: no readable JSON in it" in capsys.readouterr().err
    assert "2026-11-28/velo.txt" not in _by_key(read_export(out))


def test_the_parquet_export_reads_back_to_the_same_rows(night, tmp_path) -> None:
    pytest.importorskip("pyarrow")
    assert main(["run", "-c", str(edit_config(night, {"reports": {"export": "parquet"}}))]) == 1
    export = latest_export(tmp_path / "reports", "job")
    assert export is not None and export.suffix == ".parquet"
    out = tmp_path / "rebuilt.jsonl"
    assert main(["export", "-c", str(night), "--format", "jsonl", "-o", str(out)]) == 0
    assert _by_key(read_export(export)) == _by_key(read_export(out))


def test_no_export_when_turned_off_and_parquet_needs_pyarrow(night, tmp_path, monkeypatch, capsys) -> None:
    assert main(["run", "-c", str(edit_config(night, {"reports": {"export": "none"}}))]) == 1
    assert not list((tmp_path / "reports").glob("*/export.*")) and latest_export(tmp_path / "reports", "job") is None
    assert "export" not in _report(tmp_path) and (tmp_path / "reports" / "summarizer-job.prom").exists()
    import importlib.util

    find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "pyarrow" else find_spec(name, *a))
    capsys.readouterr()
    assert main(["check", "-c", str(edit_config(night, {"reports": {"export": "parquet"}}))]) == 78
    assert "reports.export: parquet needs pyarrow" in capsys.readouterr().err


def test_a_night_stopped_midway_exports_what_it_finished(night, tmp_path, monkeypatch) -> None:
    from summarizer.writing import ResultWriter

    edit_config(night, {"runtime": {"wave_articles": 1}})
    write = ResultWriter.write

    def write_then_stop(self, results):
        written = write(self, results)
        if written.results:
            os.kill(os.getpid(), signal.SIGTERM)  # after the first article: the run stops at the next step
        return written

    monkeypatch.setattr(ResultWriter, "write", write_then_stop)
    assert main(["run", "-c", str(night)]) == 143
    report = _report(tmp_path)
    finished = {a["key"] for a in report["articles"]}
    assert report["counts"]["left"] >= 1 and finished
    assert set(_by_key(read_export(latest_export(tmp_path / "reports", "job")))) == finished


def test_an_export_that_cannot_be_written_never_costs_the_report(night, tmp_path, monkeypatch, capsys) -> None:
    from summarizer.reporting import export as exporting

    def disk_full(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(exporting, "write_export", disk_full)
    assert main(["run", "-c", str(night)]) == 1  # the night's own outcome
    report = _report(tmp_path)
    assert "the night's export could not be written (OSError" in report["export_error"]
    assert "the night's export could not be written" in capsys.readouterr().err
    assert list((tmp_path / "reports").glob("digest-*.md"))


def test_the_latest_pointer_follows_pruning(night, tmp_path) -> None:
    edit_config(night, {"reports": {"keep_runs": 1}})
    assert main(["run", "-c", str(night)]) == 1
    reports, pointer = tmp_path / "reports", tmp_path / "reports" / "latest-export-job.json"
    first = latest_export(reports, "job")
    assert first is not None
    fields = json.loads(pointer.read_text(encoding="utf-8"))
    assert set(fields) == {"schema_version", "file", "format", "run_started_at", "written_at"}
    assert (fields["file"], fields["format"]) == (first.relative_to(reports).as_posix(), "jsonl")
    assert main(["run", "-c", str(night), "--force"]) == 1  # prunes the first run's folder
    second = latest_export(reports, "job")
    assert second is not None and second != first and not first.exists()
    assert json.loads(pointer.read_text(encoding="utf-8"))["file"] == second.relative_to(reports).as_posix()
    edit_config(night, {"reports": {"export": "none"}})
    assert main(["run", "-c", str(night), "--force"]) == 1  # its only kept run has no export
    assert latest_export(tmp_path / "reports", "job") is None
    assert not (tmp_path / "reports" / "latest-export-job.json").exists()


def test_overlapping_input_paths_rebuild_each_article_once(night, articles, tmp_path) -> None:
    assert main(["run", "-c", str(night)]) == 1
    overlapping = edit_config(night, {"inputs": {"paths": [str(articles), str(articles / "2026-11-28"), str(articles / "eau.md")]}})
    out = tmp_path / "all.jsonl"
    assert main(["export", "-c", str(overlapping), "-o", str(out)]) == 0
    assert len(_by_key(read_export(out))) == 6


def test_damaged_records_become_nulls_and_odd_names_reach_parquet(night, articles, tmp_path) -> None:
    pyarrow = pytest.importorskip("pyarrow")
    (articles / "caf\udce9.txt").write_bytes("Un café\nLe conseil a voté le budget de la ville mardi.\n".encode())
    written_earlier(articles)
    assert main(["run", "-c", str(edit_config(night, {"reports": {"export": "parquet"}}))]) == 1
    rows = _by_key(read_export(latest_export(tmp_path / "reports", "job")))
    assert rows["caf%E9.txt"]["status"] == "failed"  # its name cannot hold outputs; the export holds it, escaped
    meta_file = articles / "eau.meta.json"
    meta = json.loads(meta_file.read_text(encoding="utf-8"))
    meta_file.write_text(json.dumps({**meta, "flags": 5, "title": 7, "models": "x"}), encoding="utf-8")
    out = tmp_path / "rebuilt.parquet"
    assert main(["export", "-c", str(night), "-o", str(out)]) == 0  # the format from the suffix
    eau = _by_key(read_export(out))["eau.md"]
    assert (eau["flags"], eau["title"], eau["models"]) == ([], None, {})
    assert pyarrow.parquet.read_schema(out).metadata[b"summarizer_export_schema"] == str(SCHEMA_VERSION).encode()


def test_export_day_options_are_checked(night, capsys) -> None:
    assert main(["export", "-c", str(night), "--until", "2026-12-01"]) == 2
    assert "--until needs --since" in capsys.readouterr().err
    assert main(["export", "-c", str(night), "--day", "2026-12-01", "--since", "2026-12-01"]) == 2


def test_an_article_already_in_the_target_language_has_its_summary_only(night, articles, tmp_path) -> None:
    english = "City council approves the budget\nThe city council approved the budget on Monday evening after a long debate about public transport, schools and housing.\n"
    (articles / "council.txt").write_text(english, encoding="utf-8")
    (articles / "wire.jsonl").write_text(json.dumps({"id": "w1", "text": english.split("\n")[1]}) + "\n", encoding="utf-8")
    written_earlier(articles)
    summarizer = yaml.safe_load(night.read_text(encoding="utf-8"))["summarization"]["model"]
    edit_config(night, {"summarization": {"model": DELETE, "models": {"default": {"model": summarizer}}}})
    assert main(["run", "-c", str(night)]) == 1
    rows = _by_key(read_export(latest_export(tmp_path / "reports", "job")))
    for key in ("council.txt", "wire.jsonl#w1"):
        assert rows[key]["language"] == "en" and rows[key]["status"] == "ok" and rows[key]["summary"], key
        assert (rows[key]["summary_translation"], rows[key]["translation"]) == (None, None), key
    out = tmp_path / "rebuilt.jsonl"
    assert main(["export", "-c", str(night), "-o", str(out)]) == 0
    assert _by_key(read_export(out)) == rows
