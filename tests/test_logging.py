"""What a run prints: quiet, JSON logs, and the cron wrapper that is silent on success."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from conftest import many_articles, operations_config
from summarizer.cli import main

REPO = Path(__file__).resolve().parents[1]


def test_quiet_prints_nothing_on_success_and_the_failures_otherwise(job_config, articles, capsys) -> None:
    assert main(["run", "-c", str(job_config), "--quiet"]) == 0
    assert capsys.readouterr() == ("", "")
    (articles / "vide.txt").write_text("")
    assert main(["run", "-c", str(job_config), "--quiet"]) == 1
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 2
    assert err[0].endswith("ERROR failed: vide.txt: file is empty")
    assert "WARNING 3 found, 0 done, 2 skipped, 1 failed" in err[1]


def test_json_logs(job_config, capsys) -> None:
    assert main(["run", "-c", str(job_config), "--log-format", "json"]) == 0
    lines = capsys.readouterr().err.splitlines()
    records = [json.loads(line) for line in lines]
    assert {r["level"] for r in records} == {"info"}
    assert records[-1]["message"].startswith("2 found, 2 done")
    assert all({"time", "level", "logger", "message"} <= set(r) for r in records)


def run_nightly(tmp_path: Path, config: Path, **environment: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, SUMMARIZER_VENV=sys.prefix, SUMMARIZER_LOG=str(tmp_path / "logs" / "n.log"), **environment)
    return subprocess.run(
        ["bash", str(REPO / "jobs" / "nightly.sh"), str(config)], capture_output=True, text=True, env=env
    )


def test_the_nightly_wrapper_is_silent_on_success_and_loud_on_failure(tmp_path, tiny_models) -> None:
    many_articles(tmp_path / "articles", 1)
    config = operations_config(tmp_path, tiny_models)
    done = run_nightly(tmp_path, config)
    assert (done.returncode, done.stdout, done.stderr) == (0, "", "")
    log = (tmp_path / "logs" / "n.log").read_text()
    assert "1 found, 1 done" in log and "end: exit code 0" in log
    (tmp_path / "articles" / "vide.txt").write_text("")
    failed = run_nightly(tmp_path, config)
    assert failed.returncode == 1
    assert "summarizer nightly run failed with exit code 1" in failed.stderr
    assert "failed: vide.txt: file is empty" in failed.stderr
    assert (tmp_path / "logs" / "n.log").read_text().count("=== ") == 4


def test_the_nightly_wrapper_runs_the_night_when_tmpdir_is_unusable(tmp_path, tiny_models) -> None:
    many_articles(tmp_path / "articles", 1)
    config = operations_config(tmp_path, tiny_models)
    done = run_nightly(tmp_path, config, TMPDIR=str(tmp_path / "no-such-folder"))
    assert (done.returncode, done.stderr) == (0, "")
    log = (tmp_path / "logs" / "n.log").read_text()
    assert "TMPDIR" in log and "is not usable" in log and "1 found, 1 done" in log
    assert list((tmp_path / "reports").glob("*/report.json"))
