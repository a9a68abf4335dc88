"""The Ray executor, on a local Ray with 2 CPUs and the tiny models: the same files
as the local executor, reruns skip each other's work, one bad article or one worker
crash is recorded and never fatal. Skipped when Ray is not installed (`make test`
installs the ``ray`` extra, so CI runs them)."""

from __future__ import annotations

import functools
import json
import os
import pickle
import shutil
import sys
import threading
import time
from pathlib import Path

import pytest

ray = pytest.importorskip("ray")
pytest.importorskip("ray.data")

from conftest import edit_config, written_earlier  # noqa: E402
from summarizer import RunOptions, load_config, run_job  # noqa: E402
from summarizer.cli import main  # noqa: E402
from summarizer.errors import ModelLoadError  # noqa: E402
from summarizer.executors.ray import SummariseStage, TranslateStage, process_on_ray  # noqa: E402

TIMING_KEYS = {"finished_at", "seconds", "config"}  # and the config file that wrote them (each run's own)

# After a stop, Ray's shutdown ends the abandoned Ray Data executor thread with
# SystemExit, which Python (unlike pytest) ignores silently in threads.
pytestmark = [pytest.mark.ray, pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")]


@pytest.fixture(scope="module", autouse=True)
def local_ray():
    """One local Ray for the module (starting one takes seconds); the stages below
    are sent to the workers by value, since they cannot import this test module."""
    from ray import cloudpickle

    cloudpickle.register_pickle_by_value(sys.modules[__name__])
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield
    ray.shutdown()
    cloudpickle.unregister_pickle_by_value(sys.modules[__name__])


@pytest.fixture
def feed(tmp_path: Path, articles: Path) -> Path:
    """The two French articles, a JSONL of two more, and an English one that the
    French-only config skips (unsupported language: decided by the driver)."""
    records = [
        {"id": "r1", "title": "Grève jeudi", "text": "Les syndicats appellent à la grève jeudi dans les transports.\nLe métro sera perturbé."},
        {"id": "r2", "title": "Budget adopté", "text": "Le conseil municipal a adopté lundi soir un budget en hausse de 3 %."},
    ]
    (articles / "depeches.jsonl").write_text(
        "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8"
    )
    (articles / "council.txt").write_text(
        "City council approves the budget\nThe city council approved the budget on Monday evening after a long debate "
        "about public transport, schools and the cost of housing in the city centre.\n",
        encoding="utf-8",
    )
    written_earlier(articles)
    return articles


def ray_config(job_config: Path, **ray_settings: object) -> Path:
    changes = {"runtime": {"executor": "ray"}, "ray": {"batch_articles": 2, **ray_settings}}
    return edit_config(job_config, changes, job_config.with_name("ray.yaml"))


def tree(folder: Path) -> dict[str, object]:
    """Every output file's content, timings left out of meta and results files."""
    found: dict[str, object] = {}
    for path in sorted(folder.rglob("*")):
        if not path.is_file() or path.name == ".summarizer.lock":
            continue
        name = path.relative_to(folder).as_posix()
        if path.name.endswith(".meta.json"):
            found[name] = _without_timings(json.loads(path.read_text(encoding="utf-8")))
        elif path.name.endswith(".results.jsonl"):
            found[name] = [_without_timings(json.loads(line)) for line in path.read_text(encoding="utf-8").splitlines()]
        else:
            found[name] = path.read_text(encoding="utf-8")
    return found


def mtimes(folder: Path) -> dict[Path, int]:
    """Modification times of the output files (the lock file is touched by every run)."""
    return {p: p.stat().st_mtime_ns for p in folder.rglob("*") if p.is_file() and p.name != ".summarizer.lock"}


def _without_timings(value: object) -> object:
    if isinstance(value, dict):
        return {k: _without_timings(v) for k, v in value.items() if k not in TIMING_KEYS}
    if isinstance(value, list):
        return [_without_timings(v) for v in value]
    return value


def test_a_ray_run_writes_what_a_local_run_writes_and_each_skips_the_other(job_config, feed, tmp_path, capsys) -> None:
    local_out, ray_out = tmp_path / "local", tmp_path / "ray"
    config = ray_config(job_config)
    assert main(["run", "-q", "-c", str(job_config), "--output-dir", str(local_out)]) == 0
    assert main(["run", "-q", "-c", str(config), "--output-dir", str(ray_out)]) == 0
    assert tree(ray_out) == tree(local_out)
    assert len(tree(ray_out)) == 2 * 4 + 1 + 1  # 2 French articles, the JSONL results, the English one's meta
    capsys.readouterr()

    before = mtimes(ray_out)
    assert main(["run", "-c", str(config), "--output-dir", str(ray_out)]) == 0
    assert main(["run", "-c", str(job_config), "--output-dir", str(ray_out)]) == 0
    assert main(["run", "-c", str(config), "--output-dir", str(local_out), "--executor", "ray"]) == 0
    err = capsys.readouterr().err
    assert err.count("5 found, 0 done, 5 skipped, 0 failed") == 3
    assert mtimes(ray_out) == before


def test_the_report_counts_the_workers_tokens(job_config, feed, tmp_path) -> None:
    report = run_job(load_config(ray_config(job_config)).with_overrides(output_dir=tmp_path / "out"), RunOptions())
    assert report.counts["done"] == 4
    assert set(report.stats.models) == {"summarization.model", "translation.model"}
    assert all(usage.stats.generated_tokens > 0 and usage.stats.loads >= 1 for usage in report.stats.models.values())
    assert report.stats.generated_tokens == sum(
        task.generated_tokens for result in report.results for task in result.tasks.values()
    )


def summariser_that(action, when: str, name: str) -> type[SummariseStage]:
    """A summarising stage that first calls ``action`` for any batch holding an
    article whose text contains ``when``."""

    def step(self, work):
        if any(when in item.article.text for item in work):
            action()
        return SummariseStage.step(self, work)

    return type(name, (SummariseStage,), {"step": step})


def fail_with(error: Exception):
    def raise_it():
        raise error

    return raise_it


PoisonedSummarise = summariser_that(fail_with(RuntimeError("poisoned article")), "budget", "PoisonedSummarise")
AlwaysCrashSummarise = summariser_that(lambda: os._exit(1), "nappes", "AlwaysCrashSummarise")
MissingModelSummarise = summariser_that(
    fail_with(ModelLoadError("summarization.model: not in this worker's model cache")), "nappes", "MissingModelSummarise"
)
SlowSummarise = summariser_that(lambda: time.sleep(120), "nappes", "SlowSummarise")


def test_one_poisoned_article_is_recorded_and_the_rest_done(job_config, feed, tmp_path) -> None:
    config = load_config(ray_config(job_config)).with_overrides(output_dir=tmp_path / "out")
    executor = functools.partial(process_on_ray, stages=(PoisonedSummarise, TranslateStage))
    report = run_job(config, RunOptions(), executor=executor)
    failed = {r.key: r.error for r in report.results if r.status == "failed"}
    assert list(failed) == ["depeches.jsonl#r2"]
    assert "RuntimeError: poisoned article" in failed["depeches.jsonl#r2"]
    assert report.counts["done"] == 3
    records = [json.loads(line) for line in (tmp_path / "out" / "depeches.results.jsonl").read_text().splitlines()]
    assert [(r["id"], r["status"]) for r in records] == [("r1", "ok"), ("r2", "failed")]
    assert records[1]["language"] == "fr"  # a failure keeps what is known about the article, as locally


class CrashOnceSummarise(SummariseStage):
    """Kills its worker process on its first batch ever (a marker file remembers)."""

    marker: Path

    def step(self, work):
        if not self.marker.exists():
            self.marker.write_text("crashed")
            os._exit(1)
        return super().step(work)


def test_a_crashed_worker_is_retried_and_nothing_is_lost_or_written_twice(job_config, feed, tmp_path) -> None:
    crash = type("CrashOnce", (CrashOnceSummarise,), {"marker": tmp_path / "crashed"})
    config = load_config(ray_config(job_config)).with_overrides(output_dir=tmp_path / "out")
    report = run_job(config, RunOptions(), executor=functools.partial(process_on_ray, stages=(crash, TranslateStage)))
    assert (tmp_path / "crashed").exists()
    keys = [result.key for result in report.results]
    assert len(keys) == len(set(keys)) == 5
    assert report.counts["done"] == 4 and not report.failed
    records = [json.loads(line) for line in (tmp_path / "out" / "depeches.results.jsonl").read_text().splitlines()]
    assert [r["id"] for r in records] == ["r1", "r2"]


def test_a_batch_that_keeps_crashing_its_worker_is_recorded_as_failed(job_config, feed, tmp_path) -> None:
    config = load_config(ray_config(job_config, batch_articles=1, max_retries=1)).with_overrides(
        output_dir=tmp_path / "out"
    )
    executor = functools.partial(process_on_ray, stages=(AlwaysCrashSummarise, TranslateStage))
    report = run_job(config, RunOptions(), executor=executor)
    failed = {r.key: r.error for r in report.results if r.status == "failed"}
    assert list(failed) == ["eau.md"]
    assert "lost on a Ray worker (it crashed or failed 2 times)" in failed["eau.md"]
    assert report.counts["done"] == 3
    assert json.loads((tmp_path / "out" / "eau.meta.json").read_text())["status"] == "failed"


def test_an_input_that_cannot_be_read_is_recorded_by_the_driver(job_config, feed, tmp_path) -> None:
    (feed / "binary.txt").write_bytes(b"\x00\x01\x02" * 100)
    shutil.copy(feed / "2026-11-28" / "velo.txt", feed / "velo-copy.txt")
    config = load_config(ray_config(job_config)).with_overrides(output_dir=tmp_path / "out")
    report = run_job(config, RunOptions())
    assert {r.key for r in report.results if r.status == "failed"} == {"binary.txt"}
    assert report.counts["done"] == 5
    exported = {row["key"]: row["status"] for row in report.export}  # the night's dataset, from the driver's writer
    assert len(exported) == len(report.export) and exported == {r.key: r.status for r in report.results}


def test_a_stage_turns_errors_into_failed_articles_or_a_fatal_row(job_config, feed) -> None:
    """In-process, without Ray: what a worker returns for a batch."""
    import numpy as np

    from summarizer.planning import make_plan
    from summarizer.processing import ArticleProcessor

    config = load_config(job_config).with_overrides(input_paths=[feed])
    plan = make_plan(config)
    _, work = ArticleProcessor(config, plan.fingerprints, RunOptions()).prepare(plan.todo)
    batch = {
        "key": np.array([w.article.key for w in work], dtype=object),
        "kind": np.array(["work"] * len(work), dtype=object),
        "payload": np.array([pickle.dumps(w) for w in work], dtype=object),
        "stats": np.array([b""] * len(work), dtype=object),
    }
    rows = PoisonedSummarise(config, plan.fingerprints)(batch)
    kinds = dict(zip(rows["key"], rows["kind"]))
    assert kinds["depeches.jsonl#r2"] == "result" and list(kinds.values()).count("work") == len(work) - 1
    rows = MissingModelSummarise(config, plan.fingerprints)(batch)  # the whole batch: the run will stop
    assert set(rows["kind"]) == {"fatal"}
    assert {pickle.loads(payload)[0] for payload in rows["payload"]} == {"ModelLoadError"}
    assert all(b"not in this worker's model cache" in payload for payload in rows["payload"])


def test_a_model_missing_on_a_worker_stops_the_run_keeping_what_was_written(job_config, feed, tmp_path) -> None:
    config = load_config(ray_config(job_config, batch_articles=1)).with_overrides(output_dir=tmp_path / "out")
    executor = functools.partial(process_on_ray, stages=(MissingModelSummarise, TranslateStage))
    with pytest.raises(ModelLoadError, match="on a Ray worker: summarization.model: not in this worker's model cache"):
        run_job(config, RunOptions(), executor=executor)
    assert not (tmp_path / "out" / "eau.meta.json").exists()
    assert not list((tmp_path / "out").rglob("*.tmp"))


def test_a_stop_request_ends_a_ray_run_after_the_batch_in_hand_and_the_next_run_finishes(
    job_config, feed, tmp_path, monkeypatch
) -> None:
    from summarizer.stopping import StopSignal
    from summarizer.writing import ResultWriter

    stop = StopSignal()
    write = ResultWriter.write

    def write_then_stop(self, results):
        results = list(results)
        written = write(self, results)
        if any(result.status == "ok" for result in results):
            stop.request("received SIGTERM", 143)
        return written

    monkeypatch.setattr(ResultWriter, "write", write_then_stop)
    config = load_config(ray_config(job_config, batch_articles=1)).with_overrides(output_dir=tmp_path / "out")
    first = run_job(config, RunOptions(stop=stop))
    assert first.stopped == "received SIGTERM"
    assert 1 <= first.counts["done"] < 4 and first.counts["left"] == 4 - first.counts["done"]
    assert not list((tmp_path / "out").rglob("*.tmp"))
    monkeypatch.setattr(ResultWriter, "write", write)
    second = run_job(config, RunOptions())
    assert second.counts["done"] == 4 - first.counts["done"]
    assert second.counts["skipped"] == first.counts["done"] + 1  # and the English article


def test_a_stop_does_not_wait_for_a_long_batch(job_config, feed, tmp_path) -> None:
    from summarizer.stopping import StopSignal

    stop = StopSignal()
    config = load_config(ray_config(job_config, batch_articles=1)).with_overrides(output_dir=tmp_path / "out")
    timer = threading.Timer(8, stop.request, ("received SIGTERM", 143))
    timer.start()
    started = time.monotonic()
    report = run_job(config, RunOptions(stop=stop), executor=functools.partial(process_on_ray, stages=(SlowSummarise, TranslateStage)))
    assert time.monotonic() - started < 60
    assert report.stopped == "received SIGTERM" and report.counts["left"] >= 1
    assert not (tmp_path / "out" / "eau.meta.json").exists()


def test_settings_that_cannot_work_on_ray_are_refused_before_anything_runs(job_config, feed, tmp_path) -> None:
    from summarizer.errors import ConfigError, UsageError

    out = tmp_path / "out"
    with pytest.raises(UsageError, match="--download does not work with --executor ray"):
        run_job(load_config(ray_config(job_config)).with_overrides(output_dir=out), RunOptions(allow_download=True))
    cuda = edit_config(ray_config(job_config), {"runtime": {"device": "cuda"}}, tmp_path / "cuda.yaml")
    with pytest.raises(ConfigError, match="ray.gpus_per_actor: runtime.device is cuda but the workers reserve no GPU"):
        run_job(load_config(cuda).with_overrides(output_dir=out), RunOptions())
    assert not out.exists() or not any(p.name != ".summarizer.lock" for p in out.rglob("*") if p.is_file())
