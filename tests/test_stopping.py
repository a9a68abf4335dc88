"""Stopping cleanly: signals, the time budget, a hung generation, the watchdog, and
outputs that cannot be written (full or read-only disk, an unusable folder)."""

from __future__ import annotations

import errno
import json
import os
import re
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from conftest import assert_complete, many_articles, metas, operations_config, requests
from summarizer.cli import main
from summarizer.stopping import SignalHandlers, StopSignal

REPO = Path(__file__).resolve().parents[1]


def slow_run_script(config: Path, delay: float) -> list[str]:
    code = textwrap.dedent(
        f"""
        import sys, time
        sys.path.insert(0, {str(REPO / "tests")!r})
        from summarizer.models import seq2seq
        original = seq2seq.Seq2SeqEngine._generate_batch
        def slow(self, *args, **kwargs):
            time.sleep({delay})
            return original(self, *args, **kwargs)
        seq2seq.Seq2SeqEngine._generate_batch = slow
        from summarizer.cli import main
        sys.exit(main(["run", "-c", {str(config)!r}]))
        """
    )
    return [sys.executable, "-c", code]


def signalled_run(config: Path, articles: Path, signum: int) -> tuple[int, str]:
    """Run the job (slowed down) in a subprocess and send it ``signum`` once its first
    article is written; returns its exit code and stderr."""
    process = subprocess.Popen(slow_run_script(config, 0.15), stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while not list(articles.glob("*.meta.json")) and time.monotonic() < deadline:
        time.sleep(0.05)
    process.send_signal(signum)
    _, err = process.communicate(timeout=60)
    return process.returncode, err


@pytest.mark.parametrize(
    ("signum", "expected"), [(signal.SIGTERM, 143), (signal.SIGINT, 130), (signal.SIGHUP, 129)]
)
def test_a_signal_stops_the_run_cleanly_and_the_next_run_finishes(
    tmp_path, tiny_models, signum, expected
) -> None:
    articles = tmp_path / "articles"
    many_articles(articles, 12)
    config = operations_config(tmp_path, tiny_models)
    returncode, err = signalled_run(config, articles, signum)
    assert returncode == expected, err
    assert f"stopped: received {signal.Signals(signum).name}" in err
    first = metas(articles)
    assert 0 < len(first) < 12
    assert_complete(articles)
    report = json.loads(next((tmp_path / "reports").glob("*/report.json")).read_text())
    assert report["exit_code"] == expected
    assert report["counts"]["left"] == 12 - len(first)
    assert main(["run", "-c", str(config)]) == 0
    second = metas(articles)
    assert len(second) == 12
    assert all(second[name] == stamp for name, stamp in first.items())  # nothing redone
    assert_complete(articles)


def test_the_time_budget_stops_the_run_with_75(tmp_path, tiny_models, monkeypatch, capsys) -> None:
    from summarizer.models import seq2seq

    articles = tmp_path / "articles"
    many_articles(articles, 10)
    config = operations_config(tmp_path, tiny_models, ", time_budget_minutes: 0.02")
    original = seq2seq.Seq2SeqEngine._generate_batch

    def slow(self, *args, **kwargs):
        time.sleep(0.2)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(seq2seq.Seq2SeqEngine, "_generate_batch", slow)
    assert main(["run", "-c", str(config)]) == 75
    assert "time budget of 0.02 minutes (runtime.time_budget_minutes) used up" in capsys.readouterr().err
    assert len(metas(articles)) < 10
    assert_complete(articles)


def test_a_hung_generation_is_cut_at_the_next_decoding_step(tiny_models) -> None:
    from summarizer.config import RuntimeConfig
    from summarizer.models.factory import build_engine
    from summarizer.models.loading import ModelSpec

    stop = StopSignal()
    engine = build_engine(
        ModelSpec(str(tiny_models["translator"])), RuntimeConfig(device="cpu"), stop=stop, backend="transformers"
    )
    engine.load()
    steps = []

    def endless_generate(input_ids, stopping_criteria, **kwargs):
        while True:  # a decoding loop that would never end by itself
            steps.append(1)
            if len(steps) == 5:
                stop.request("test", 75)
            if stopping_criteria(input_ids, None).all():
                return input_ids

    engine._model.generate = endless_generate
    results = engine.run(requests(["Bonjour", "Une enquête."]))
    assert len(steps) == 5
    assert all(r.interrupted and not r.text for r in results)


def test_the_watchdog_ends_a_run_that_does_not_stop() -> None:
    stop = StopSignal()
    exits = []
    with SignalHandlers(stop, grace_seconds=0.05, hard_exit=exits.append):
        stop.request("received SIGTERM", 143)
        time.sleep(0.3)
    assert exits == [143]
    with SignalHandlers(StopSignal(), grace_seconds=0.05, hard_exit=exits.append):
        pass
    assert exits == [143]


def test_the_same_stop_delivered_twice_is_one_request_and_a_later_one_forces() -> None:
    from summarizer.stopping import ForcedStop

    stop = StopSignal()
    with SignalHandlers(stop, grace_seconds=60, hard_exit=lambda code: None) as handlers:
        os.kill(os.getpid(), signal.SIGTERM)
        os.kill(os.getpid(), signal.SIGTERM)  # systemd and the wrapper both forward it
        time.sleep(0.05)
        assert (stop.reason, stop.exit_code) == ("received SIGTERM", 143)
        handlers._first_signal -= 10  # pretend the first came long ago
        with pytest.raises(ForcedStop) as forced:
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(0.05)
    assert forced.value.exit_code == 143


@pytest.mark.parametrize("error", [errno.ENOSPC, errno.EROFS])
def test_a_full_or_read_only_disk_stops_the_run_with_75(tmp_path, tiny_models, monkeypatch, capsys, error) -> None:
    from summarizer.io import folders as writers

    articles = tmp_path / "articles"
    many_articles(articles, 4)
    config = operations_config(tmp_path, tiny_models)
    real_replace = os.replace
    calls = []

    def failing_replace(source, target, **folders):
        calls.append(target)
        if len(calls) == 6:
            raise OSError(error, os.strerror(error))
        real_replace(source, target, **folders)

    monkeypatch.setattr(writers.os, "replace", failing_replace)
    assert main(["run", "-c", str(config)]) == 75
    err = capsys.readouterr().err
    assert re.search(rf"cannot write \S*/{re.escape(calls[5])}: {os.strerror(error)}; the run stops", err)
    assert len(metas(articles)) == 1
    assert_complete(articles)
    monkeypatch.setattr(writers.os, "replace", real_replace)
    assert main(["run", "-c", str(config)]) == 0
    assert len(metas(articles)) == 4


def test_an_unusable_output_folder_exits_75(tmp_path, tiny_models, capsys) -> None:
    many_articles(tmp_path / "articles", 1)
    (tmp_path / "blocker").write_text("a file, not a folder")
    config = operations_config(tmp_path, tiny_models)
    assert main(["run", "-c", str(config), "--output-dir", str(tmp_path / "blocker" / "out")]) == 75
    assert "cannot create lock file" in capsys.readouterr().err


def test_a_signal_while_the_report_is_written_still_leaves_the_report(job_config, tmp_path, monkeypatch, capsys) -> None:
    from conftest import edit_config
    from summarizer.reporting import publish as publishing

    edit_config(job_config, {"reports": {"dir": str(tmp_path / "reports")}})
    write_digest = publishing.write_day_digest

    def signalled_while_writing(root, when):
        os.kill(os.getpid(), signal.SIGTERM)  # the run's work is done; its report is being written
        return write_digest(root, when)

    monkeypatch.setattr(publishing, "write_day_digest", signalled_while_writing)
    assert main(["run", "-c", str(job_config)]) == 0
    assert list((tmp_path / "reports").glob("*/report.json")) and list((tmp_path / "reports").glob("digest-*.md"))
    assert "received SIGTERM after the night's work was done; its report was written" in capsys.readouterr().err
