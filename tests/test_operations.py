"""Unattended operation: lock, stop on signals and time budget, full disks, reports,
quiet and JSON logs, check, fetch (against a fake hub), the cron wrapper."""

from __future__ import annotations

import errno
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from types import SimpleNamespace

import pytest

from conftest import ARTICLE_VELO, write_config
from summarizer.cli import main
from summarizer.locking import RunLock
from summarizer.stopping import SignalHandlers, StopSignal

REPO = Path(__file__).resolve().parents[1]


def many_articles(folder: Path, count: int) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for index in range(count):
        (folder / f"a{index:02d}.txt").write_text(
            ARTICLE_VELO.replace("Lyon", f"Lyon {index}"), encoding="utf-8"
        )


def operations_config(tmp_path: Path, tiny_models, extra: str = "") -> Path:
    return write_config(
        tmp_path / "job.yaml",
        f"""\
        inputs: {{paths: [articles]}}
        reports: {{dir: reports}}
        runtime: {{device: cpu, wave_articles: 2{extra}}}
        summarization:
          model: {tiny_models["summarizer"]}
          generation: {{max_new_tokens: 8, min_new_tokens: 2}}
        translation:
          model: {tiny_models["translator"]}
          generation: {{max_new_tokens: 8}}
        """,
    )


def metas(folder: Path) -> dict[str, int]:
    return {p.name: p.stat().st_mtime_ns for p in folder.glob("*.meta.json")}


def assert_complete(folder: Path) -> None:
    """Every article with a meta file has all its outputs; no temporary files anywhere."""
    for meta_file in folder.glob("*.meta.json"):
        stem = meta_file.name[: -len(".meta.json")]
        for suffix in ("summary.fr.txt", "summary.en.txt", "translation.en.txt"):
            assert (folder / f"{stem}.{suffix}").read_text(encoding="utf-8").endswith("\n")
    assert not [p for p in folder.rglob("*") if p.name.endswith(".tmp")]


def test_a_second_run_exits_75_while_the_first_holds_the_lock(tmp_path, tiny_models, capsys) -> None:
    many_articles(tmp_path / "articles", 1)
    config = operations_config(tmp_path, tiny_models)
    with RunLock([tmp_path / "articles"]):
        assert main(["run", "-c", str(config)]) == 75
    err = capsys.readouterr().err
    lock = tmp_path / "articles" / ".summarizer.lock"
    assert f"another summarizer run (pid {os.getpid()}) holds the lock {lock}; exiting" in err
    assert not list((tmp_path / "articles").glob("*.meta.json"))
    assert main(["run", "-c", str(config)]) == 0  # released: no stale lock
    assert lock.read_text() == ""


def test_dry_run_does_not_take_the_lock(tmp_path, tiny_models) -> None:
    many_articles(tmp_path / "articles", 1)
    config = operations_config(tmp_path, tiny_models)
    with RunLock([tmp_path / "articles"]):
        assert main(["run", "-c", str(config), "--dry-run"]) == 0


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


@pytest.mark.parametrize(("signum", "expected"), [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_a_signal_stops_the_run_cleanly_and_the_next_run_finishes(
    tmp_path, tiny_models, signum, expected
) -> None:
    articles = tmp_path / "articles"
    many_articles(articles, 12)
    config = operations_config(tmp_path, tiny_models)
    process = subprocess.Popen(slow_run_script(config, 0.15), stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while not list(articles.glob("*.meta.json")) and time.monotonic() < deadline:
        time.sleep(0.05)
    process.send_signal(signum)
    _, err = process.communicate(timeout=60)
    assert process.returncode == expected, err
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
    from summarizer.models.loading import ModelSpec
    from summarizer.models.seq2seq import Seq2SeqEngine

    stop = StopSignal()
    engine = Seq2SeqEngine(ModelSpec(str(tiny_models["translator"])), RuntimeConfig(device="cpu"), stop=stop)
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
    results = engine.run(["Bonjour", "Une enquête."])
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


@pytest.mark.parametrize("error", [errno.ENOSPC, errno.EROFS])
def test_a_full_or_read_only_disk_stops_the_run_with_75(tmp_path, tiny_models, monkeypatch, capsys, error) -> None:
    from summarizer.io import files as writers

    articles = tmp_path / "articles"
    many_articles(articles, 4)
    config = operations_config(tmp_path, tiny_models)
    real_replace = os.replace
    calls = []

    def failing_replace(source, target):
        calls.append(target)
        if len(calls) == 6:
            raise OSError(error, os.strerror(error))
        real_replace(source, target)

    monkeypatch.setattr(writers.os, "replace", failing_replace)
    assert main(["run", "-c", str(config)]) == 75
    err = capsys.readouterr().err
    assert f"cannot write {calls[5]}: {os.strerror(error)}; the run stops" in err
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
    text = config.read_text().replace(str(tiny_models["translator"]), "example-org/missing")
    config.write_text(text)
    assert main(["run", "-c", str(config)]) == 78
    prom = (tmp_path / "reports" / "summarizer.prom").read_text()
    assert 'summarizer_last_run_exit_code{config="job"} 78' in prom
    (report,) = (tmp_path / "reports").glob("*/report.json")
    assert "Run `summarizer fetch -c CONFIG`" in json.loads(report.read_text())["error"]


def test_old_run_reports_are_pruned(tmp_path, tiny_models) -> None:
    many_articles(tmp_path / "articles", 1)
    config = operations_config(tmp_path, tiny_models)
    config.write_text(config.read_text().replace("reports: {dir: reports}", "reports: {dir: reports, keep_runs: 2}"))
    for _ in range(4):
        assert main(["run", "-c", str(config)]) == 0
    assert len([p for p in (tmp_path / "reports").iterdir() if p.is_dir()]) == 2


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


def test_check_prints_the_plan_and_generates_nothing(job_config, articles, capsys) -> None:
    assert main(["check", "-c", str(job_config)]) == 0
    out = capsys.readouterr().out
    assert "articles        2 found, 2 new or changed, 0 already done" in out
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


class FakeHub:
    """Stands in for huggingface_hub.HfApi."""

    def __init__(self, repos: dict, prs: dict | None = None, down: bool = False) -> None:
        self.repos, self.prs, self.down = repos, prs or {}, down
        self.downloads: list[tuple] = []

    def _repo(self, repo_id, revision):
        if self.down:
            raise ConnectionError("Name or service not known")
        return self.repos[(repo_id, revision)]

    def list_repo_files(self, repo_id, *, revision=None):
        return self._repo(repo_id, revision)["files"]

    def model_info(self, repo_id, *, revision=None):
        return SimpleNamespace(sha=self._repo(repo_id, revision)["sha"])

    def get_repo_discussions(self, repo_id, *, discussion_type, discussion_status):
        assert (discussion_type, discussion_status) == ("pull_request", "open")
        return [SimpleNamespace(num=n, title=t) for n, t in self.prs.get(repo_id, [])]

    def snapshot_download(self, repo_id, **kwargs):
        self.downloads.append((repo_id, kwargs))
        return f"/cache/{repo_id}/{self._repo(repo_id, kwargs['revision'])['sha']}"


def fetch_config(tmp_path: Path, revision: str = "main") -> Path:
    return write_config(
        tmp_path / "c.yaml",
        f"""\
        summarization: {{model: org/summ, revision: {revision}}}
        translation: {{model: org/trans, revision: {"b" * 40}}}
        """,
    )


def test_fetch_downloads_safetensors_and_prints_commits(tmp_path, monkeypatch, capsys) -> None:
    from summarizer import hub

    fake = FakeHub(
        {
            ("org/summ", "main"): {"files": ["config.json", "model.safetensors", "spiece.model"], "sha": "a" * 40},
            ("org/trans", "b" * 40): {"files": ["config.json", "model.safetensors"], "sha": "b" * 40},
        }
    )
    monkeypatch.setattr(hub, "default_client", lambda: fake)
    assert main(["fetch", "-c", str(fetch_config(tmp_path))]) == 0
    out = capsys.readouterr().out
    assert f"revision main = commit {'a' * 40}" in out
    assert f"pin it: set summarization.revision: {'a' * 40}" in out
    assert "pin it: set translation" not in out
    repo, kwargs = fake.downloads[0]
    assert repo == "org/summ" and kwargs["revision"] == "main"
    assert "*.safetensors" in kwargs["allow_patterns"]
    assert not any("bin" in pattern for pattern in kwargs["allow_patterns"])


def test_fetch_finds_the_safetensors_conversion_of_a_pickle_only_model(tmp_path, monkeypatch, capsys) -> None:
    from summarizer import hub

    fake = FakeHub(
        {
            ("org/summ", "main"): {"files": ["config.json", "pytorch_model.bin"], "sha": "a" * 40},
            ("org/summ", "refs/pr/1"): {"files": ["config.json", "pytorch_model.bin"], "sha": "c" * 40},
            ("org/summ", "refs/pr/2"): {"files": ["config.json", "model.safetensors"], "sha": "d" * 40},
            ("org/trans", "b" * 40): {"files": ["config.json", "model.safetensors"], "sha": "b" * 40},
        },
        prs={"org/summ": [(1, "Add a model card"), (2, "Adding `safetensors` variant of this model")]},
    )
    monkeypatch.setattr(hub, "default_client", lambda: fake)
    assert main(["fetch", "-c", str(fetch_config(tmp_path))]) == 78
    err = capsys.readouterr().err
    assert (
        "org/summ@main has only pickle weights (.bin); the hub's safetensors conversion is pull "
        f"request #2: set summarization.revision: {'d' * 40}  (refs/pr/2)"
    ) in err
    assert [repo for repo, _ in fake.downloads] == ["org/trans"]


def test_fetch_reports_an_unreachable_hub_with_69(tmp_path, monkeypatch, capsys) -> None:
    from summarizer import hub

    monkeypatch.setattr(hub, "default_client", lambda: FakeHub({}, down=True))
    assert main(["fetch", "-c", str(fetch_config(tmp_path))]) == 69
    assert "cannot reach the hub (ConnectionError" in capsys.readouterr().err


def run_nightly(tmp_path: Path, config: Path) -> subprocess.CompletedProcess:
    env = dict(os.environ, SUMMARIZER_VENV=sys.prefix, SUMMARIZER_LOG=str(tmp_path / "logs" / "n.log"))
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


def test_jobs_sharing_a_metrics_file_keep_each_others_series(tmp_path, tiny_models) -> None:
    many_articles(tmp_path / "articles", 1)
    first = operations_config(tmp_path, tiny_models)
    second = tmp_path / "other.yaml"
    second.write_text(first.read_text().replace("inputs: {paths: [articles]}", "inputs: {paths: [more]}"))
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


def test_inspect_usage_errors_exit_2(job_config, articles, capsys) -> None:
    assert main(["inspect", "-c", str(job_config), str(articles)]) == 2
    feed = articles / "feed.jsonl"
    feed.write_text('{"id": "1", "text": "Le conseil a voté."}\n', encoding="utf-8")
    assert main(["inspect", "-c", str(job_config), str(feed), "--id", "zz"]) == 2
    assert "no record with id 'zz'" in capsys.readouterr().err
