"""Running the job's model work on a Ray cluster, with Ray Data.

The driver (this process) plans exactly as a local run does: same lock,
discovery, skip rules and fingerprints, and it cleans and routes the articles
itself. The articles that need a model become a Ray Dataset that flows through
two ``map_batches`` stages, each served by a pool of actors that load their
models once: summarise, then translate and assemble. The local run's wave plan
(``execution.wave_plan``) orders them; the articles longer than ``runtime.wave_chars``
go in a second dataset, run once the first is done, each a batch of its own (its
workers load their models again), so that none holds up a shorter article. Results
stream back to the driver, which writes them with the same writer as a local run, so both
executors write the same files and each skips what the other has done. Workers
write nothing. What each batch cost (``RunStats``) travels with its rows and is
added up on the driver.

A batch that raises is retried article by article, so one bad article is
recorded as failed, as locally. A worker that crashes is restarted by Ray and
its batch retried (``ray.max_retries`` times); the articles of a batch that
still fails are recorded as failed, never lost, and never written twice. A
model or setting that cannot work on a worker stops the run as it would
locally (exit 78).
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import pickle
import queue
import threading
import time
from typing import TYPE_CHECKING, Any, Callable, Iterable

from ..config import JobConfig
from ..errors import ConfigError, ModelLoadError, ServiceUnavailableError, SummarizerError, UsageError
from ..options import RunOptions
from ..planning import Fingerprints, Plan
from ..processing import ArticleProcessor, ArticleWork
from ..records import ArticleResult, RunStats
from ..writing import ResultWriter, Written
from .execution import Execution, Wave, left_alone, wave_plan
from .ray_cluster import RayConnection, first_line, require_ray, set_ray_data_console_level

if TYPE_CHECKING:
    import numpy as np

logger = logging.getLogger(__name__)

WORK, RESULT, FATAL = "work", "result", "fatal"
"""Row kinds: an article between stages, a finished result, an error that stops the run."""

FATAL_ERRORS: dict[str, type[SummarizerError]] = {"ModelLoadError": ModelLoadError, "ConfigError": ConfigError}
"""Errors on a worker that stop the run, as they would locally (exit 78)."""

class _Stage:
    """A Ray Data callable class: one ArticleProcessor per actor, models loaded once."""

    def __init__(self, config: JobConfig, fingerprints: Fingerprints) -> None:
        self.processor = ArticleProcessor(config, fingerprints, RunOptions())

    def step(self, work: list[ArticleWork]) -> tuple[list[ArticleWork | ArticleResult], RunStats]:
        """This stage's work on some articles (in order), and what it cost."""
        raise NotImplementedError

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        import numpy as np

        rows: list[tuple[str, str, Any]] = []
        work: list[ArticleWork] = []
        stats = sum((pickle.loads(blob) for blob in batch["stats"] if blob), RunStats())  # earlier stages'
        for key, kind, payload in zip(batch["key"], batch["kind"], batch["payload"]):
            if kind != WORK:
                rows.append((key, kind, payload))
                continue
            try:
                work.append(pickle.loads(payload))
            except Exception as exc:  # noqa: BLE001 - driver and worker run different code
                message = (
                    f"a Ray worker cannot read the work it was sent ({type(exc).__name__}: {exc}); "
                    "install the same summarizer version on every node"
                )
                rows.append((key, FATAL, pickle.dumps(("ConfigError", message))))
        outcomes, spent = self._guarded(work)
        for item, outcome in zip(work, outcomes):
            if isinstance(outcome, tuple):
                rows.append((item.article.key, FATAL, pickle.dumps(outcome)))
            else:
                kind = WORK if isinstance(outcome, ArticleWork) else RESULT
                rows.append((item.article.key, kind, pickle.dumps(outcome)))
        blobs = [pickle.dumps(stats + spent)] + [b""] * (len(rows) - 1)  # once per batch: sums stay exact
        return {
            "key": np.array([row[0] for row in rows], dtype=object),
            "kind": np.array([row[1] for row in rows], dtype=object),
            "payload": np.array([row[2] for row in rows], dtype=object),
            "stats": np.array(blobs[: len(rows)], dtype=object),
        }

    def _guarded(
        self, work: list[ArticleWork]
    ) -> tuple[list[ArticleWork | ArticleResult | tuple[str, str]], RunStats]:
        """``step`` on the batch; if it raises, on each article alone, so that only
        the article at fault fails. A model that cannot load or a setting that cannot
        work stops the run: (error class name, message)."""
        if not work:
            return [], RunStats()
        try:
            outcomes, stats = self.step(work)
            return list(outcomes), stats
        except (ModelLoadError, ConfigError) as exc:
            return [(type(exc).__name__, str(exc))] * len(work), RunStats()
        except Exception as exc:  # noqa: BLE001 - recorded in the article's meta
            if len(work) == 1:
                logger.exception("failed on a Ray worker: %s", work[0].article.key)
                return [self.processor.failed(work[0], f"{type(exc).__name__}: {exc}")], RunStats()
        found: list[ArticleWork | ArticleResult | tuple[str, str]] = []
        total = RunStats()
        for item in work:
            outcomes, stats = self._guarded([item])
            found += outcomes
            total += stats
        return found, total


class SummariseStage(_Stage):
    """Summarises articles; holds the summarisation models."""

    def step(self, work: list[ArticleWork]) -> tuple[list[ArticleWork | ArticleResult], RunStats]:
        return list(work), self.processor.summarise(work)


class TranslateStage(_Stage):
    """Translates summarised articles and assembles their results; holds the translation models."""

    def step(self, work: list[ArticleWork]) -> tuple[list[ArticleWork | ArticleResult], RunStats]:
        stats = self.processor.translate(work)
        results = self.processor.assemble(work)
        return [results[item.article.key] for item in work], stats


def worker_config(config: JobConfig) -> JobConfig:
    """The config the workers run with: torch threads match the cores each reserves."""
    cpus = config.ray.cpus_per_actor
    if config.runtime.threads is None and cpus >= 1:
        return dataclasses.replace(config, runtime=dataclasses.replace(config.runtime, threads=int(cpus)))
    return config


def ray_parts(
    waves: list[Wave], work: list[ArticleWork], batch_articles: int
) -> list[tuple[list[ArticleWork], int, bool]]:
    """``work`` in the order of ``waves``, as the datasets to run one after the other, each
    with its batch size and whether it holds articles alone in their waves: those that share
    waves (in plan order: by model, so a worker's batch seldom needs more models than it
    holds), ``batch_articles`` at a time; then those alone in a wave, one at a time, the
    shortest first."""
    position = {item.key: index for index, item in enumerate(item for wave in waves for item in wave.items)}
    alone = {wave.items[0].key for wave in waves if wave.alone}
    ordered = sorted(work, key=lambda w: position[w.article.key])
    together = [w for w in ordered if w.article.key not in alone]
    by_itself = [w for w in ordered if w.article.key in alone]
    parts = ((together, batch_articles, False), (by_itself, 1, True))
    return [part for part in parts if part[0]]


def build_dataset(
    ray: Any,
    config: JobConfig,
    fingerprints: Fingerprints,
    work: list[ArticleWork],
    options: RunOptions,
    stages: tuple[type[_Stage], type[_Stage]] = (SummariseStage, TranslateStage),
    batch_articles: int | None = None,
) -> Any:
    """The Ray Dataset of ``work`` (in its order) through the summarise and translate
    stages, ``batch_articles`` (default: ``ray.batch_articles``) at a time."""
    from ray.data import ActorPoolStrategy

    settings = config.ray
    batch = batch_articles or settings.batch_articles
    rows = [{"key": w.article.key, "kind": WORK, "payload": pickle.dumps(w), "stats": b""} for w in work]
    blocks = max(1, -(-len(rows) // batch))
    dataset = ray.data.from_items(rows, override_num_blocks=blocks)
    context = dataset.context
    context.enable_progress_bars = options.show_progress
    context.max_errored_blocks = len(rows)  # a batch that keeps crashing its worker is recorded, not fatal
    env = {"TOKENIZERS_PARALLELISM": "false"}
    if not options.allow_download:
        env["HF_HUB_OFFLINE"] = "1"
    if not settings.gpus_per_actor:
        env["CUDA_VISIBLE_DEVICES"] = ""  # Ray 2.60 no longer hides GPUs from workers that reserve none
    arguments = {"config": worker_config(config), "fingerprints": fingerprints}
    for stage, actors in zip(stages, (settings.summarization_actors, settings.translation_actors)):
        dataset = dataset.map_batches(
            stage,
            fn_constructor_kwargs=arguments,
            compute=ActorPoolStrategy(size=actors),
            batch_size=batch,
            batch_format="numpy",
            num_cpus=settings.cpus_per_actor,
            num_gpus=settings.gpus_per_actor or None,
            max_restarts=-1,  # a crashed worker always comes back; the batch is what gives up
            max_task_retries=settings.max_retries,
            runtime_env={"env_vars": env},
        )
    return dataset


def _check_settings(config: JobConfig, options: RunOptions) -> None:
    if options.allow_download:
        raise UsageError(
            "--download does not work with --executor ray: workers never download; "
            "run `summarizer fetch` on each node (or share the model cache) first"
        )
    if config.runtime.device == "cuda" and not config.ray.gpus_per_actor:
        raise ConfigError(
            f"{config.source or 'config'}: ray.gpus_per_actor: runtime.device is cuda but the workers "
            "reserve no GPU; set ray.gpus_per_actor (e.g. 1) or runtime.device: auto"
        )


def _warn_if_too_small(ray: Any, config: JobConfig) -> None:
    """Workers that the cluster cannot place wait until it grows: say so."""
    settings = config.ray
    actors = settings.summarization_actors + settings.translation_actors
    have = ray.cluster_resources()
    for resource, each in (("CPU", settings.cpus_per_actor), ("GPU", settings.gpus_per_actor)):
        if each and actors * each > have.get(resource, 0):
            logger.warning(
                "the workers need %g %s (%d workers x %g) but the cluster has %g: some will wait "
                "until more nodes join (ray.summarization_actors, ray.translation_actors, ray.%s_per_actor)",
                actors * each, resource, actors, each, have.get(resource, 0), resource.lower() + "s",
            )


_DONE = object()


def _batches(dataset: Any, stop: Any, poll_seconds: float = 0.5) -> Iterable[dict[str, Any]]:
    """The dataset's output batches; returns as soon as a stop is requested, even
    while Ray is still working on the next batch (the reading goes on in a thread)."""
    arrived: queue.Queue[Any] = queue.Queue(maxsize=4)

    def pump() -> None:
        try:
            for batch in dataset.iter_batches(batch_size=None, batch_format="numpy"):
                arrived.put(batch)
            arrived.put(_DONE)
        except BaseException as exc:  # noqa: BLE001 - handed to the reading thread
            # After a stop, Ray's shutdown ends the pending read with SystemExit: nobody reads it.
            with contextlib.suppress(BaseException):
                arrived.put(exc, timeout=1)

    threading.Thread(target=pump, name="ray-batches", daemon=True).start()
    while not stop.requested:
        try:
            item = arrived.get(timeout=poll_seconds)
        except queue.Empty:
            continue
        if item is _DONE:
            return
        if isinstance(item, BaseException):
            raise item
        yield item


def _abandon(dataset: Any) -> None:
    """Stop the dataset's execution (batches in progress are dropped) before Ray shuts down.

    Ray Data's own threads may still complain once Ray is gone; after a stop
    that is noise, so its console logging is silenced for the rest of the process.
    """
    set_ray_data_console_level(logging.CRITICAL + 1)
    executor = getattr(dataset, "_current_executor", None)  # set once the first batch is out
    if executor is not None:
        with contextlib.suppress(Exception):
            executor.shutdown(force=True)


def _stream(
    dataset: Any, options: RunOptions, writer: ResultWriter, keep: Callable[[Written], None], results: list[ArticleResult]
) -> RunStats:
    """Write the results of ``dataset`` as they arrive (``keep`` what is written, ``results``
    holding all so far); returns what the workers spent. Stops reading at a stop request."""
    spent = RunStats()
    try:
        for batch in _batches(dataset, options.stop):
            spent += sum((pickle.loads(blob) for blob in batch["stats"] if blob), RunStats())
            rows = list(zip(batch["key"], batch["kind"], batch["payload"]))
            keep(writer.write(pickle.loads(payload) for _, kind, payload in rows if kind == RESULT))
            fatal = [pickle.loads(payload) for _, kind, payload in rows if kind == FATAL]
            if fatal:
                kind, message = fatal[0]
                raise FATAL_ERRORS.get(kind, ConfigError)(f"on a Ray worker: {message}")
    except SummarizerError:
        raise
    except Exception as exc:
        if not type(exc).__module__.startswith("ray"):
            raise
        raise ServiceUnavailableError(
            f"the Ray job failed ({first_line(exc)}); {len(results)} finished articles are "
            "written, the rest are left for the next run; details in the Ray logs"
        ) from None
    finally:
        keep(writer.close())  # before the next dataset too: a run killed during it keeps these
        if options.stop.requested:
            _abandon(dataset)
    return spent


def process_on_ray(
    config: JobConfig,
    plan: Plan,
    options: RunOptions,
    writer: ResultWriter,
    stages: tuple[type[_Stage], type[_Stage]] = (SummariseStage, TranslateStage),
) -> Execution:
    """Do ``plan.todo`` on Ray and write every result here, as it arrives.

    Raises ModelLoadError or ConfigError (a model or setting that does not work,
    here or on a worker: what was written stays), ServiceUnavailableError (no
    cluster: nothing written; or the Ray job failed: what was written stays),
    UsageError (``--download``).
    """
    ray = require_ray(config)
    _check_settings(config, options)
    processor = ArticleProcessor(config, plan.fingerprints, options)
    processor.check_models(plan.todo)
    results: list[ArticleResult] = []
    stats = RunStats()

    def keep(written: Written) -> None:
        nonlocal stats
        results.extend(written.results)
        stats += written.stats

    ready, work = processor.prepare(plan.todo)
    if not work or options.stop.requested:
        keep(writer.write(ready.values()))
        keep(writer.close())
        return Execution(tuple(results), len(work), stats)
    waves = wave_plan(config, plan.todo)
    started = time.perf_counter()
    begun: set[str] = set()
    try:
        with RayConnection(ray, config, quiet=not logger.isEnabledFor(logging.DEBUG)):
            keep(writer.write(ready.values()))  # only now: a cluster that cannot be reached leaves nothing written
            _warn_if_too_small(ray, config)
            for part, batch_articles, alone in ray_parts(waves, work, config.ray.batch_articles):
                if options.stop.requested:
                    break
                if alone:
                    logger.info(
                        "%d article(s) over runtime.wave_chars (%s): each done by itself, after the others",
                        len(part), f"{config.runtime.wave_chars:,}",
                    )
                begun.update(w.article.key for w in part)
                dataset = build_dataset(ray, config, plan.fingerprints, part, options, stages, batch_articles)
                spent = _stream(dataset, options, writer, keep, results)  # keeps what it writes meanwhile
                stats += spent
    finally:
        writing = stats.stage_seconds.get("write", 0.0)
        stats += RunStats.stage("ray", time.perf_counter() - started - writing)
    done = {result.key for result in results}
    missing = [item for item in work if item.article.key not in done]
    if options.stop.requested:
        for wave in (wave for wave in waves if wave.items[0].key in begun):
            message = left_alone(wave, done, config.runtime.wave_chars, None)
            if message:
                logger.warning("%s", message)
        return Execution(tuple(results), len(missing), stats)
    error = f"lost on a Ray worker (it crashed or failed {config.ray.max_retries + 1} times); see the Ray logs"
    keep(writer.write(processor.failed(item, error) for item in missing))
    keep(writer.close())
    return Execution(tuple(results), 0, stats)
