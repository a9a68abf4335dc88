"""What people and monitoring read in the morning: report.json, the digest, metrics, and
`summarizer status`, which tell how the night ended whatever happened."""

from __future__ import annotations

import json
import os
import signal
import time
from pathlib import Path

import pytest

from conftest import ARTICLE_VELO, edit_config, many_articles, operations_config
from summarizer.cli import main


def metric(path: Path, name: str, **labels: str) -> float:
    """The value of one sample of a Prometheus textfile."""
    from prometheus_client.parser import text_string_to_metric_families

    for family in text_string_to_metric_families(path.read_text(encoding="utf-8")):
        for sample in family.samples:
            if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items()):
                return sample.value
    raise AssertionError(f"{name} {labels} not in {path}")


def reports_of(tmp_path: Path) -> list[dict]:
    return [json.loads(p.read_text(encoding="utf-8")) for p in sorted((tmp_path / "reports").glob("*/report.json"))]


def digest_first_line(tmp_path: Path) -> str:
    return next((tmp_path / "reports").glob("digest-*.md")).read_text(encoding="utf-8").splitlines()[0]


def test_reports_digest_and_metrics(tmp_path, tiny_models) -> None:
    articles = tmp_path / "articles"
    articles.mkdir()
    (articles / "velo.txt").write_text(ARTICLE_VELO, encoding="utf-8")
    (articles / "xss.txt").write_text(
        "<script>alert(1)</script> & « guillemets »\nUn texte *en gras* et <b>balisé</b>.\n",
        encoding="utf-8",
    )
    (articles / "vide.txt").write_text("", encoding="utf-8")
    config = operations_config(tmp_path, tiny_models)
    assert main(["run", "-c", str(config)]) == 1
    reports = tmp_path / "reports"
    (run_folder,) = [p for p in reports.iterdir() if p.is_dir()]
    report = json.loads((run_folder / "report.json").read_text(encoding="utf-8"))
    assert report["exit_code"] == 1
    assert report["config"]["path"] == str(config)
    assert len(report["config"]["fingerprint"]) == 64
    assert report["counts"] == {
        "found": 3, "new": 3, "done": 2, "skipped": 0, "unsupported": 0, "failed": 1,
        "deferred": 0, "left": 0,
    }
    assert set(report["models"]) == {"summarization.model", "translation.model"}
    assert report["models"]["translation.model"]["device"] == "cpu"
    assert report["models"]["translation.model"]["generated_tokens"] > 0
    assert set(report["stage_seconds"]) >= {"read", "load_models", "summarise", "translate", "write"}
    entry = next(a for a in report["articles"] if a["key"] == "velo.txt")
    assert entry["language"] == "fr" and entry["tasks"]["summary"]["segments"] >= 1

    day = report["started_at"][:10]
    digests = sorted(p.name for p in reports.glob("digest-*"))
    assert len(digests) == 2 and digests[0].endswith(".html") and digests[1].endswith(".md")
    html_text = next(reports.glob("digest-*.html")).read_text(encoding="utf-8")
    assert "<script>alert(1)</script>" not in html_text
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; « guillemets »" in html_text
    assert 'href="../articles/velo.summary.fr.txt"' in html_text
    assert "vide.txt</code>: file is empty" in html_text
    markdown = next(reports.glob("digest-*.md")).read_text(encoding="utf-8")
    assert "\\<script\\>" in markdown and "(../articles/velo.translation.en.txt)" in markdown
    assert "2 articles done (" in markdown and "), 1 failed." in markdown
    assert "## French (fr)" in markdown

    prom = reports / "summarizer-job.prom"
    assert metric(prom, "summarizer_last_run_exit_code", config="job") == 1
    assert metric(prom, "summarizer_last_run_articles", config="job", status="done") == 2
    assert metric(prom, "summarizer_last_completed_timestamp_seconds", config="job") > 0

    # A later run the same day: the day's digest still lists everything.
    (articles / "vide.txt").write_text("Titre\nMaintenant il y a un texte.\n", encoding="utf-8")
    assert main(["run", "-c", str(config)]) == 0
    assert len([p for p in reports.iterdir() if p.is_dir()]) == 2
    markdown = (reports / f"digest-{day}.md").read_text(encoding="utf-8")
    assert "3 articles done (" in markdown or day != time.strftime("%Y-%m-%d")
    assert metric(prom, "summarizer_last_run_exit_code", config="job") == 0


def test_a_night_that_failed_with_78_says_so_everywhere(tmp_path, tiny_models, capsys) -> None:
    many_articles(tmp_path / "articles", 3)
    config = operations_config(tmp_path, tiny_models)
    edit_config(config, {"translation": {"model": "example-org/missing"}})
    assert main(["run", "-c", str(config)]) == 78
    prom = tmp_path / "reports" / "summarizer-job.prom"
    assert metric(prom, "summarizer_last_run_exit_code", config="job") == 78
    assert metric(prom, "summarizer_last_completed_timestamp_seconds", config="job") == 0  # never, from day one
    (report,) = reports_of(tmp_path)
    assert "Run `summarizer fetch -c CONFIG`" in report["error"]
    assert report["outcome"].startswith("exit 78 (bad config, or a model not available): translation.model: ")
    first = digest_first_line(tmp_path)
    assert "exit 78 (bad config, or a model not available)" in first and "example-org/missing" in first
    capsys.readouterr()
    assert main(["status", "-c", str(config)]) == 2
    out = capsys.readouterr().out
    assert "outcome         exit 78 (bad config, or a model not available): translation.model" in out
    assert report["counts"]["new"] == 3 and report["counts"]["left"] == 3
    assert report["outcome"].endswith("; 0 done, 0 failed, 3 left for the next run")
    assert "waiting         3 left unfinished" in out


def test_a_night_that_crashed_says_so_with_what_it_finished(tmp_path, tiny_models, capsys, monkeypatch) -> None:
    from summarizer.sinks import ArticleFiles

    many_articles(tmp_path / "articles", 3)
    config = operations_config(tmp_path, tiny_models)
    write_article = ArticleFiles.write
    calls: list[str] = []

    def crash_after_one(self, entry):
        calls.append(entry.result.key)
        if len(calls) > 1:
            raise RuntimeError("a bug in the writer")
        return write_article(self, entry)

    monkeypatch.setattr(ArticleFiles, "write", crash_after_one)
    assert main(["run", "-c", str(config)]) == 70
    (report,) = reports_of(tmp_path)
    assert report["exit_code"] == 70 and report["error"] == "internal error (a bug): RuntimeError: a bug in the writer"
    assert report["counts"]["done"] == 1 and report["counts"]["left"] == 2
    assert "exit 70 (internal error (a bug))" in digest_first_line(tmp_path)
    capsys.readouterr()
    assert main(["status", "-c", str(config)]) == 2
    assert "waiting         2 left unfinished" in capsys.readouterr().out


def test_a_disk_that_fills_while_a_feed_is_written_still_reports_the_article_before(tmp_path, tiny_models, monkeypatch) -> None:
    from conftest import written_earlier
    from summarizer.errors import OutputWriteError
    from summarizer.sinks import FeedResults

    many_articles(tmp_path / "articles", 1)
    (tmp_path / "articles" / "feed.jsonl").write_text(
        json.dumps({"id": "r1", "text": "Le conseil municipal a voté le budget mardi soir."}) + "\n", encoding="utf-8"
    )
    written_earlier(tmp_path / "articles")
    config = operations_config(tmp_path, tiny_models)

    def disk_full(self, source_path):
        raise OutputWriteError("cannot write feed.results.jsonl: No space left on device")

    monkeypatch.setattr(FeedResults, "rewrite", disk_full)
    assert main(["run", "-c", str(config)]) == 75
    (report,) = reports_of(tmp_path)
    assert (tmp_path / "articles" / "a00.meta.json").exists()
    assert report["counts"]["done"] == 1 and report["counts"]["left"] == 1
    assert report["outcome"].endswith("1 done, 0 failed, 1 left for the next run")


def test_metrics_that_cannot_be_written_are_an_output_error_not_a_bug(tmp_path, tiny_models, capsys) -> None:
    many_articles(tmp_path / "articles", 1)
    (tmp_path / "a-file").write_text("", encoding="utf-8")
    config = operations_config(tmp_path, tiny_models)
    edit_config(config, {"reports": {"prometheus_file": str(tmp_path / "a-file" / "job.prom")}})
    assert main(["run", "-c", str(config)]) == 75
    err = capsys.readouterr().err
    assert "cannot write the metrics file" in err and "reports.prometheus_file" in err and "Traceback" not in err
    (report,) = reports_of(tmp_path)
    assert report["counts"]["done"] == 1


def test_a_night_stopped_by_sigterm_says_what_it_left(tmp_path, tiny_models, capsys) -> None:
    from test_stopping import signalled_run

    articles = tmp_path / "articles"
    many_articles(articles, 12)
    config = operations_config(tmp_path, tiny_models)
    returncode, _ = signalled_run(config, articles, signal.SIGTERM)
    assert returncode == 143
    (report,) = reports_of(tmp_path)
    left = report["counts"]["left"]
    assert left > 0 and report["stopped"] == "received SIGTERM"
    assert report["outcome"].startswith(f"exit 143 (stopped by SIGTERM): stopped: {left} left for the next run")
    assert f"stopped: {left} left for the next run" in digest_first_line(tmp_path)
    assert main(["status", "-c", str(config)]) == 2
    out = capsys.readouterr().out
    assert f"waiting         {left} left unfinished" in out


def test_a_night_with_failed_articles_is_a_warning(tmp_path, tiny_models, capsys) -> None:
    many_articles(tmp_path / "articles", 1)
    (tmp_path / "articles" / "vide.txt").write_text("", encoding="utf-8")
    config = operations_config(tmp_path, tiny_models)
    assert main(["run", "-c", str(config)]) == 1
    assert digest_first_line(tmp_path).endswith("exit 1 (finished, but some articles failed): 1 done, 1 failed**")
    capsys.readouterr()
    assert main(["status", "-c", str(config)]) == 1
    out = capsys.readouterr().out
    assert "failed          vide.txt: file is empty" in out
    assert "outcome         exit 1 (finished, but some articles failed): 1 done, 1 failed" in out


def test_a_night_with_nothing_to_do_is_recorded_without_pushing_work_out(tmp_path, tiny_models, capsys) -> None:
    many_articles(tmp_path / "articles", 1)
    config = operations_config(tmp_path, tiny_models)
    edit_config(config, {"reports": {"keep_runs": 2}})
    assert main(["run", "-c", str(config)]) == 0  # the run with real work
    for _ in range(3):
        assert main(["run", "-c", str(config)]) == 0  # nothing new
    kept = reports_of(tmp_path)
    assert [r["idle"] for r in kept] == [False, True, True]
    assert kept[0]["counts"]["done"] == 1
    assert kept[-1]["outcome"] == "exit 0 (all done, or nothing to do): nothing new to do (1 already done)"
    assert "nothing new to do" in digest_first_line(tmp_path)
    capsys.readouterr()
    assert main(["status", "-c", str(config)]) == 0
    assert main(["status", "-c", str(config), "--max-age", "0"]) == 2  # a missing night, for a monitor


def test_status_without_any_run_is_critical(tmp_path, tiny_models, capsys) -> None:
    config = operations_config(tmp_path, tiny_models)
    assert main(["status", "-c", str(config)]) == 2
    assert "last run        none recorded in" in capsys.readouterr().out


def test_status_refuses_a_max_age_that_would_switch_the_check_off(tmp_path, tiny_models, capsys) -> None:
    config = operations_config(tmp_path, tiny_models)
    for value in ("nan", "inf", "0", "-1"):
        assert main(["status", "-c", str(config), "--max-age", value]) == 2
        assert "--max-age: must be a number of hours greater than 0" in capsys.readouterr().err


def test_metrics_keep_timestamps_exact_and_carry_the_last_completed_run(tmp_path) -> None:
    from summarizer.reporting.prometheus import write_metrics

    path = tmp_path / "job.prom"
    common = {"config_name": 'news "fr"', "duration_seconds": 12.0, "articles": {"done": 0}, "tokens_per_second": 0.0}
    write_metrics(path, finished_at=1795900000.25, exit_code=0, completed=True, **common)
    write_metrics(path, finished_at=1795921234.5678, exit_code=78, completed=False, **common)
    assert metric(path, "summarizer_last_run_timestamp_seconds", config='news "fr"') == 1795921234.5678
    assert metric(path, "summarizer_last_run_exit_code", config='news "fr"') == 78
    assert metric(path, "summarizer_last_completed_timestamp_seconds", config='news "fr"') == 1795900000.25


def test_each_config_has_its_own_metrics_file_and_no_series_outlives_its_run(tmp_path, tiny_models) -> None:
    many_articles(tmp_path / "articles", 1)
    first = operations_config(tmp_path, tiny_models)
    second = edit_config(first, {"inputs": {"paths": ["more"]}}, tmp_path / "other.yaml")
    many_articles(tmp_path / "more", 1)
    (tmp_path / "more" / "vide.txt").write_text("")
    assert main(["run", "-c", str(first)]) == 0
    assert main(["run", "-c", str(second)]) == 1
    reports = tmp_path / "reports"
    assert metric(reports / "summarizer-job.prom", "summarizer_last_run_exit_code", config="job") == 0
    assert metric(reports / "summarizer-other.prom", "summarizer_last_run_exit_code", config="other") == 1
    assert 'config="other"' not in (reports / "summarizer-job.prom").read_text()
    os.remove(tmp_path / "more" / "vide.txt")
    assert main(["run", "-c", str(second)]) == 0
    text = (reports / "summarizer-other.prom").read_text()
    assert 'status="failed"} 0.0' in text and text.count("summarizer_last_run_exit_code{") == 1


def test_configs_sharing_a_reports_folder_neither_hide_nor_prune_each_other(tmp_path, tiny_models, capsys) -> None:
    many_articles(tmp_path / "articles", 1)
    first = operations_config(tmp_path, tiny_models)
    edit_config(first, {"reports": {"keep_runs": 1}})
    second = edit_config(first, {"inputs": {"paths": ["more"]}, "translation": {"model": "example-org/missing"}}, tmp_path / "other.yaml")
    many_articles(tmp_path / "more", 1)
    assert main(["run", "-c", str(second)]) == 78
    assert main(["run", "-c", str(first)]) == 0  # later, and fine: the failure must still show
    first_line = digest_first_line(tmp_path)
    assert first_line.startswith("**⚠ NOT OK: Last runs: other (") and "exit 78" in first_line
    assert "; job (" in first_line and "exit 0" in first_line
    assert main(["run", "-c", str(first)]) == 0  # idle: keep_runs 1 per config and kind
    assert main(["run", "-c", str(first)]) == 0
    assert sorted((r["config"]["path"], r["idle"]) for r in reports_of(tmp_path)) == [
        (str(first), False), (str(first), True), (str(second), False),
    ]
    capsys.readouterr()
    assert main(["status", "-c", str(second)]) == 2
    assert "exit 78" in capsys.readouterr().out


def test_a_damaged_run_record_is_left_out_not_a_crash(tmp_path, tiny_models, capsys) -> None:
    many_articles(tmp_path / "articles", 1)
    config = operations_config(tmp_path, tiny_models)
    for name, content in (("2026-11-30T00-00-00Z", '{"started_at": 5}'), ("2026-11-30T00-00-01Z", "garbage")):
        (tmp_path / "reports" / name).mkdir(parents=True)
        (tmp_path / "reports" / name / "report.json").write_text(content, encoding="utf-8")
    assert main(["run", "-c", str(config)]) == 0
    assert (tmp_path / "reports" / "2026-11-30T00-00-00Z").exists()  # not ours to judge: left alone
    assert "1 done" in digest_first_line(tmp_path)
    assert main(["status", "-c", str(config)]) == 0


def test_listing_runs_reads_only_their_small_summaries(tmp_path, tiny_models, monkeypatch) -> None:
    from summarizer.reporting import history

    many_articles(tmp_path / "articles", 1)
    config = operations_config(tmp_path, tiny_models)
    assert main(["run", "-c", str(config)]) == 0
    (folder,) = [p for p in (tmp_path / "reports").iterdir() if p.is_dir()]
    assert json.loads((folder / "run.json").read_text())["config"] == str(config)
    monkeypatch.setattr(history.RunEntry, "report", lambda self: pytest.fail("a full report was read"))
    assert [entry.folder for entry in history.recorded_runs(tmp_path / "reports")] == [folder]
    history.prune(tmp_path / "reports", 1, str(config))
    assert history.last_run_of(tmp_path / "reports", str(config)).exit_code == 0
    monkeypatch.undo()
    (folder / "run.json").unlink()  # a folder of an older version: found from its report
    assert main(["status", "-c", str(config)]) == 0
    assert not (folder / "run.json").exists()  # status writes nothing
    history.prune(tmp_path / "reports", 1, str(config))
    assert json.loads((folder / "run.json").read_text())["exit_code"] == 0  # pruning remembers it, once


def test_the_digest_keeps_articles_that_share_a_relative_path(tmp_path, tiny_models) -> None:
    for folder in ("in1", "in2"):
        many_articles(tmp_path / folder, 1)
    config = operations_config(tmp_path, tiny_models)
    assert main(["run", "-c", str(config), "--input", str(tmp_path / "in1")]) == 0
    assert main(["run", "-c", str(config), "--input", str(tmp_path / "in2")]) == 0
    digest = next((tmp_path / "reports").glob("digest-*.md")).read_text(encoding="utf-8")
    assert digest.count("`a00.txt`") == 2


def test_pruning_keeps_the_latest_busy_runs_and_the_latest_idle_ones(tmp_path) -> None:
    from summarizer.reporting.history import prune

    reports = tmp_path / "reports"
    idle_flags = [False, True, False, True, True, False, True]
    for number, idle in enumerate(idle_flags):
        folder = reports / f"2026-11-{number + 10:02d}T02-30-00Z"
        folder.mkdir(parents=True)
        report = {"idle": idle, "started_at": f"2026-11-{number + 10:02d}T02:30:00+00:00", "config": {"path": "job.yaml"}}
        (folder / "report.json").write_text(json.dumps(report), encoding="utf-8")
    prune(reports, 2, "job.yaml")
    kept = sorted(p.name[8:10] for p in reports.iterdir())
    assert kept == ["12", "14", "15", "16"]  # busy: 12, 15 (not 10); idle: 14, 16 (not 11, 13)
