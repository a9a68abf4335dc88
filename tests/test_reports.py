"""What people and monitoring read in the morning: report.json, the digest, metrics."""

from __future__ import annotations

import json
import time

from conftest import ARTICLE_VELO, edit_config, many_articles, operations_config
from summarizer.cli import main


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

    prom = (reports / "summarizer.prom").read_text(encoding="utf-8")
    assert 'summarizer_last_run_exit_code{config="job"} 1' in prom
    assert 'summarizer_last_run_articles{config="job",status="done"} 2' in prom
    assert 'summarizer_last_completed_timestamp_seconds{config="job"}' in prom

    # A later run the same day: the day's digest still lists everything.
    (articles / "vide.txt").write_text("Titre\nMaintenant il y a un texte.\n", encoding="utf-8")
    assert main(["run", "-c", str(config)]) == 0
    assert len([p for p in reports.iterdir() if p.is_dir()]) == 2
    markdown = (reports / f"digest-{day}.md").read_text(encoding="utf-8")
    assert "3 articles done (" in markdown or day != time.strftime("%Y-%m-%d")
    prom = (reports / "summarizer.prom").read_text(encoding="utf-8")
    assert 'summarizer_last_run_exit_code{config="job"} 0' in prom


def test_a_model_that_cannot_load_is_a_failed_night_in_the_metrics(tmp_path, tiny_models) -> None:
    many_articles(tmp_path / "articles", 1)
    config = operations_config(tmp_path, tiny_models)
    edit_config(config, {"translation": {"model": "example-org/missing"}})
    assert main(["run", "-c", str(config)]) == 78
    prom = (tmp_path / "reports" / "summarizer.prom").read_text()
    assert 'summarizer_last_run_exit_code{config="job"} 78' in prom
    (report,) = (tmp_path / "reports").glob("*/report.json")
    assert "Run `summarizer fetch -c CONFIG`" in json.loads(report.read_text())["error"]


def test_old_run_reports_are_pruned(tmp_path, tiny_models) -> None:
    many_articles(tmp_path / "articles", 1)
    config = operations_config(tmp_path, tiny_models)
    edit_config(config, {"reports": {"keep_runs": 2}})
    for _ in range(4):
        assert main(["run", "-c", str(config)]) == 0
    assert len([p for p in (tmp_path / "reports").iterdir() if p.is_dir()]) == 2


def test_metrics_keep_timestamps_exact_and_carry_the_last_completed_run() -> None:
    from summarizer.reporting.prometheus import previous_completed, render_metrics

    text = render_metrics(
        config_name='news "fr"',
        finished_at=1795921234.5678,
        duration_seconds=12.0,
        exit_code=78,
        articles={"done": 0},
        tokens_per_second=0.0,
        last_completed=1795900000.25,
    )
    assert 'summarizer_last_run_timestamp_seconds{config="news \\"fr\\""} 1795921234.568' in text
    assert 'summarizer_last_run_exit_code{config="news \\"fr\\""} 78' in text
    assert previous_completed(text, 'news "fr"') == 1795900000.25
    assert previous_completed(text, "other") is None


def test_jobs_sharing_a_metrics_file_keep_each_others_series(tmp_path, tiny_models) -> None:
    many_articles(tmp_path / "articles", 1)
    first = operations_config(tmp_path, tiny_models)
    second = edit_config(first, {"inputs": {"paths": ["more"]}}, tmp_path / "other.yaml")
    many_articles(tmp_path / "more", 1)
    (tmp_path / "more" / "vide.txt").write_text("")
    assert main(["run", "-c", str(first)]) == 0
    assert main(["run", "-c", str(second)]) == 1
    prom = (tmp_path / "reports" / "summarizer.prom").read_text()
    assert 'summarizer_last_run_exit_code{config="job"} 0' in prom
    assert 'summarizer_last_run_exit_code{config="other"} 1' in prom
    assert prom.count("# TYPE summarizer_last_run_exit_code gauge") == 1
    assert 'summarizer_last_run_articles{config="other",status="unsupported"} 0' in prom


def test_the_digest_keeps_articles_that_share_a_relative_path(tmp_path, tiny_models) -> None:
    for folder in ("in1", "in2"):
        many_articles(tmp_path / folder, 1)
    config = operations_config(tmp_path, tiny_models)
    assert main(["run", "-c", str(config), "--input", str(tmp_path / "in1")]) == 0
    assert main(["run", "-c", str(config), "--input", str(tmp_path / "in2")]) == 0
    digest = next((tmp_path / "reports").glob("digest-*.md")).read_text(encoding="utf-8")
    assert digest.count("`a00.txt`") == 2
