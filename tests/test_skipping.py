"""A year of history costs nothing: a done article is skipped with a stat and a small
read of its meta, never parsed; a touched-but-identical one is skipped too (its bytes
hashed, not parsed); a changed one is redone. The rules themselves are unchanged."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from conftest import FEED, PAGE, written_earlier
from summarizer.cli import main

@pytest.fixture
def parses(monkeypatch) -> list[str]:
    """The input files the readers parse (every format), in order."""
    from summarizer.io import readers

    seen: list[str] = []
    for name in ("_read_text_article", "_read_html_article", "_read_jsonl"):
        original = getattr(readers, name)

        def counting(source, *args, _original=original, **kwargs):
            seen.append(source.key)
            return _original(source, *args, **kwargs)

        monkeypatch.setattr(readers, name, counting)
    return seen


@pytest.fixture
def done(job_config: Path, articles: Path, capsys) -> Path:
    """The four formats, all done once."""
    (articles / "page.html").write_text(PAGE, encoding="utf-8")
    (articles / "feed.jsonl").write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in FEED), encoding="utf-8")
    written_earlier(articles)
    assert main(["run", "-c", str(job_config)]) == 0
    capsys.readouterr()
    return articles


def test_a_time_too_close_to_the_read_is_not_vouched_for() -> None:
    from summarizer.records import FileStamp

    now = 1_800_000_000_000_000_000
    assert FileStamp.as_read(5, now - 50_000_000, "h", now).mtime_ns == 0  # 50 ms: may be rewritten unseen
    assert FileStamp.as_read(5, now - 200_000_000 + 1, "h", now).mtime_ns == now - 200_000_000 + 1
    assert FileStamp.as_read(5, now - 1_000_000_000, "h", now).mtime_ns == 0  # whole seconds: a coarse clock
    assert FileStamp.as_read(5, now - 3_000_000_000, "h", now).mtime_ns == now - 3_000_000_000
    assert FileStamp.as_read(5, now + 10**15, "h", now).mtime_ns == now + 10**15  # a skewed clock, not a rewrite


def test_results_written_before_records_were_counted_are_stamped_once(job_config, done, parses, capsys) -> None:
    results = done / "feed.results.jsonl"
    older = [json.loads(line) for line in results.read_text().splitlines()]
    for record in older:
        del record["source_file"]["records"]
    results.write_text("".join(json.dumps(r) + "\n" for r in older), encoding="utf-8")
    assert main(["run", "-c", str(job_config)]) == 0
    assert parses == ["feed.jsonl"]  # read once, and its results stamped with the count
    parses.clear()
    assert main(["run", "-c", str(job_config)]) == 0
    assert parses == []


def test_an_article_read_just_after_it_was_written_is_hashed_next_time(job_config, articles, parses, capsys) -> None:
    os.utime(articles / "eau.md")  # written just now
    assert main(["run", "-c", str(job_config)]) == 0
    meta = json.loads((articles / "eau.meta.json").read_text())
    assert meta["source_file"]["mtime_ns"] == 0
    written_earlier(articles)
    parses.clear()
    assert main(["run", "-c", str(job_config)]) == 0
    assert parses == []  # hashed, not parsed, and found unchanged
    meta = json.loads((articles / "eau.meta.json").read_text())
    assert meta["source_file"]["mtime_ns"] == (articles / "eau.md").stat().st_mtime_ns


def test_a_done_article_of_any_format_is_skipped_unread(job_config, done, parses, capsys) -> None:
    meta = json.loads((done / "page.meta.json").read_text())
    stat = (done / "page.html").stat()
    assert meta["source_file"]["size"] == stat.st_size and meta["source_file"]["mtime_ns"] == stat.st_mtime_ns
    assert main(["run", "-c", str(job_config)]) == 0
    assert parses == []
    assert "5 found, 0 done, 5 skipped" in capsys.readouterr().err


def test_a_touched_but_identical_article_is_skipped_and_its_new_time_recorded(job_config, done, parses, capsys) -> None:
    for name in ("eau.md", "page.html", "feed.jsonl"):
        os.utime(done / name, ns=(1_700_000_000_000_000_000, 1_700_000_000_000_000_000))
    assert main(["run", "-c", str(job_config)]) == 0
    assert parses == []
    assert "5 found, 0 done, 5 skipped" in capsys.readouterr().err
    assert json.loads((done / "eau.meta.json").read_text())["source_file"]["mtime_ns"] == 1_700_000_000_000_000_000
    record = json.loads((done / "feed.results.jsonl").read_text().splitlines()[0])
    assert record["source_file"]["mtime_ns"] == 1_700_000_000_000_000_000


def test_a_changed_article_is_read_and_redone_alone(job_config, done, parses, capsys) -> None:
    page = done / "page.html"
    page.write_text(PAGE.replace("jeudi prochain", "vendredi prochain"), encoding="utf-8")
    records = done / "feed.jsonl"
    records.write_text(records.read_text().replace("mardi soir", "lundi soir"), encoding="utf-8")
    assert main(["run", "-c", str(job_config)]) == 0
    assert sorted(parses) == ["feed.jsonl", "page.html"]
    assert "5 found, 2 done, 3 skipped" in capsys.readouterr().err


def test_results_of_an_older_version_are_read_once_then_skipped_unread(job_config, done, parses, capsys) -> None:
    meta_file = done / "eau.meta.json"
    meta = json.loads(meta_file.read_text())
    del meta["source_file"]  # written before stamps were recorded
    meta_file.write_text(json.dumps(meta))
    assert main(["run", "-c", str(job_config)]) == 0
    assert parses == ["eau.md"]  # read to be sure, not redone
    assert "0 done, 5 skipped" in capsys.readouterr().err
    assert json.loads(meta_file.read_text())["source_file"]["size"] == (done / "eau.md").stat().st_size
    parses.clear()
    assert main(["run", "-c", str(job_config)]) == 0
    assert parses == []


@pytest.mark.parametrize("damage", ["deleted", "garbled"])
def test_a_feed_whose_results_lost_a_line_is_read_and_the_record_redone(job_config, done, parses, capsys, damage) -> None:
    results = done / "feed.results.jsonl"
    lines = results.read_text(encoding="utf-8").splitlines()
    lines[1] = "{not json" if damage == "garbled" else ""
    results.write_text("\n".join(line for line in lines if line) + "\n", encoding="utf-8")
    assert main(["run", "-c", str(job_config)]) == 0
    assert parses == ["feed.jsonl"]
    assert "5 found, 1 done, 4 skipped" in capsys.readouterr().err
    assert [json.loads(line)["id"] for line in results.read_text().splitlines()] == ["a", "b"]


def test_force_still_redoes_everything(job_config, done, parses, capsys) -> None:
    assert main(["run", "-c", str(job_config), "--force"]) == 0
    assert len(parses) == 4
    assert "5 done, 0 skipped" in capsys.readouterr().err


def test_a_feed_cut_short_by_a_stop_is_read_again_and_finished(job_config, articles, parses, monkeypatch) -> None:
    from conftest import edit_config
    from summarizer.config import load_config
    from summarizer.options import RunOptions
    from summarizer.pipeline import run_job
    from summarizer.stopping import StopSignal
    from summarizer.writing import ResultWriter

    (articles / "feed.jsonl").write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in FEED), encoding="utf-8")
    config = load_config(edit_config(job_config, {"runtime": {"wave_articles": 1}}))
    stop = StopSignal()
    write = ResultWriter.write

    def write_then_stop(self, results):
        results = list(results)
        if any(result.key.startswith("feed.jsonl#") for result in results):
            stop.request("received SIGTERM", 143)
        return write(self, results)

    monkeypatch.setattr(ResultWriter, "write", write_then_stop)
    first = run_job(config, RunOptions(stop=stop))
    assert first.stopped == "received SIGTERM" and first.counts["left"] >= 1
    written = [json.loads(line) for line in (articles / "feed.results.jsonl").read_text().splitlines()]
    assert len(written) == 1 and written[0]["source_file"] is None  # incomplete: no stamp to skip it by
    monkeypatch.setattr(ResultWriter, "write", write)
    parses.clear()
    second = run_job(config, RunOptions())
    assert "feed.jsonl" in parses
    assert first.counts["done"] + second.counts["done"] == 4  # the two files and the two records
    records = [json.loads(line) for line in (articles / "feed.results.jsonl").read_text().splitlines()]
    assert [r["id"] for r in records] == ["a", "b"] and all(r["source_file"] for r in records)
