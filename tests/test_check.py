"""`check` and `inspect`: what a run would do, before it runs."""

from __future__ import annotations

from conftest import write_config
from summarizer.cli import main


def test_check_prints_the_plan_and_generates_nothing(job_config, articles, capsys) -> None:
    assert main(["check", "-c", str(job_config)]) == 0
    out = capsys.readouterr().out
    assert "articles        2 found, 2 new or changed, 0 already done" in out
    assert "model cache     " in out and "(hub.cache_dir; runs never download)" in out
    assert "(local folder)" in out and "device          cpu (float32)" in out
    assert not list(articles.rglob("*.meta.json"))


def test_check_fails_78_for_a_model_not_available_locally(tmp_path, articles, capsys) -> None:
    config = write_config(
        tmp_path / "c.yaml",
        f"""\
        inputs: {{paths: [{articles}]}}
        runtime: {{device: cpu}}
        translation: {{model: example-org/not-cached, revision: main}}
        """,
    )
    assert main(["check", "-c", str(config)]) == 78
    captured = capsys.readouterr()
    assert "translation.model\n                NOT AVAILABLE" in captured.out
    assert "translation.model: example-org/not-cached@main: not available locally" in captured.err
    assert "summarizer fetch -c CONFIG" in captured.err
    assert "translation.revision: 'main' can change under you; pin a commit hash" in captured.err


def test_trust_remote_code_cannot_be_turned_on(tmp_path, capsys) -> None:
    config = write_config(tmp_path / "c.yaml", "translation: {trust_remote_code: true}\n")
    assert main(["check", "-c", str(config)]) == 78
    assert "translation.trust_remote_code: not supported: code shipped with a hub model is never run" in capsys.readouterr().err


def test_inspect_usage_errors_exit_2(job_config, articles, capsys) -> None:
    assert main(["inspect", "-c", str(job_config), str(articles)]) == 2
    feed = articles / "feed.jsonl"
    feed.write_text('{"id": "1", "text": "Le conseil a voté."}\n', encoding="utf-8")
    assert main(["inspect", "-c", str(job_config), str(feed), "--id", "zz"]) == 2
    assert "no record with id 'zz'" in capsys.readouterr().err
