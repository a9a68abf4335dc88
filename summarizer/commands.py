"""The commands behind the CLI: ``run``, ``check``, ``fetch``.

Each takes the parsed arguments, calls the library and returns an exit code;
errors that stop a command are raised and turned into exit codes by ``cli``.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path

from .config import JobConfig, load_config, revision_warnings
from .errors import (
    EXIT_ARTICLES_FAILED,
    EXIT_CONFIG,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_TEMPFAIL,
    EXIT_UNAVAILABLE,
    exit_code_for,
    ConfigError,
    LockHeldError,
    ModelLoadError,
    OutputWriteError,
    SummarizerError,
    UsageError,
)
from .hub import fetch_models, revision_key
from .models.loading import ModelSpec, from_pretrained, locate_model
from .io.files import printable, unicode_problem
from .io.readers import reader_library_problems, require_input_paths
from .options import RunOptions
from .pipeline import run_job
from .planning import make_plan
from .reporting.publish import publish
from .reporting.report import JobReport
from .routing import configured_uses, route
from .stopping import SignalHandlers, StopSignal

logger = logging.getLogger("summarizer")


def _load(args: argparse.Namespace) -> JobConfig:
    config = load_config(args.config)
    inputs = getattr(args, "input", None)
    output_dir = getattr(args, "output_dir", None)
    if output_dir is not None and unicode_problem(str(output_dir)):
        raise UsageError(f"--output-dir {printable(str(output_dir))}: the path is not valid UTF-8; rename it")
    config = config.with_overrides(
        input_paths=[p.absolute() for p in inputs] if inputs else None,
        output_dir=output_dir.absolute() if output_dir else None,
        executor=getattr(args, "executor", None),
        ray_address=getattr(args, "ray_address", None),
    )
    if getattr(args, "ray_address", None) and config.runtime.executor != "ray":
        logger.warning("--ray-address is ignored: the executor is local (add --executor ray)")
    return config


def _require_inputs(config: JobConfig, args: argparse.Namespace) -> None:
    if not config.inputs.paths:
        raise ConfigError(f"{args.config}: inputs.paths: no inputs; set it or pass --input")


def _offline() -> None:
    """Runs never download: set before transformers is first imported."""
    os.environ["HF_HUB_OFFLINE"] = "1"


def run_command(args: argparse.Namespace) -> int:
    """``summarizer run``."""
    if not args.download:
        _offline()
    config = _load(args)
    _require_inputs(config, args)
    for warning in revision_warnings(config):
        logger.info("%s", warning)
    stop = StopSignal()
    options = RunOptions(
        force=args.force,
        dry_run=args.dry_run,
        limit=args.limit,
        show_progress=sys.stderr.isatty() and not args.quiet,
        allow_download=args.download,
        stop=stop,
    )
    with SignalHandlers(stop):
        try:
            report = run_job(config, options)
        except LockHeldError:
            raise
        except SummarizerError as exc:
            if not args.dry_run:
                _publish_quietly(config, None, exit_code_for(exc), str(exc))
            raise
        except KeyboardInterrupt as exc:
            if not args.dry_run:
                code = getattr(exc, "exit_code", EXIT_INTERRUPTED)
                _publish_quietly(config, None, code, "stopped at once by a second signal")
            raise
    if args.dry_run:
        _print_plan(report)
        return EXIT_OK
    if report.stopped:
        code = stop.exit_code or EXIT_TEMPFAIL
    else:
        code = EXIT_ARTICLES_FAILED if report.failed else EXIT_OK
    try:
        publish(config.reports, report, code, config_path=config.source)
    except OutputWriteError as exc:
        logger.error("%s", exc)
        code = code or EXIT_TEMPFAIL
    logger.log(logging.INFO if code == EXIT_OK else logging.WARNING, "%s", report.summary_line())
    return code


def _publish_quietly(config: JobConfig, report: JobReport | None, code: int, error: str) -> None:
    try:
        publish(config.reports, report, code, config_path=config.source, error=error)
    except OutputWriteError as exc:
        logger.debug("could not write the failure report: %s", exc)


def _print_plan(report: JobReport) -> None:
    for key in report.planned:
        print(f"would process  {key}")
    for key in report.skipped:
        print(f"already done   {key}")
    print(f"dry run: {len(report.planned)} to process, {len(report.skipped)} already done")


def check_command(args: argparse.Namespace) -> int:
    """``summarizer check``: validate, resolve models locally, print the plan."""
    _offline()
    config = _load(args)
    _require_inputs(config, args)
    for warning in revision_warnings(config):
        logger.warning("%s", warning)
    require_input_paths(config.inputs.paths, config.inputs.extensions)
    plan = make_plan(config)
    print(f"config          {config.source}")
    print(f"fingerprint     {plan.fingerprint[:16]}")
    for path in config.inputs.paths:
        print(f"input           {path}")
    print(
        f"articles        {plan.found} found, {len(plan.todo)} new or changed, "
        f"{len(plan.skipped)} already done"
    )
    print(f"outputs         {config.outputs.dir or 'next to each article'}")
    print(f"reports         {config.reports.dir or 'none'}")
    print(f"languages       {_describe_languages(config)}")
    problems = reader_library_problems()
    print(f"readers         {'BROKEN: see below' if problems else 'text, Markdown, JSONL, HTML'}")
    for key, use in configured_uses(config):
        try:
            print(f"{key}\n                {_describe_local_model(use.spec)}")
        except (ModelLoadError, ConfigError) as exc:
            print(f"{key}\n                NOT AVAILABLE")
            problems.append(str(exc))
    try:
        print(f"device          {_describe_device(config)}")
    except ConfigError as exc:
        problems.append(str(exc))
    print(f"executor        {_describe_executor(config)}")
    if config.runtime.executor == "ray":
        from .executors.ray_cluster import require_ray

        try:
            require_ray(config)
        except ConfigError as exc:
            problems.append(str(exc))
    for problem in problems:
        logger.error("%s", problem)
    return EXIT_CONFIG if problems else EXIT_OK


def _describe_executor(config: JobConfig) -> str:
    if config.runtime.executor == "local":
        return "local (this process)"
    settings = config.ray
    environment = os.environ.get("RAY_ADDRESS")
    address = settings.address or (f"$RAY_ADDRESS ({environment})" if environment else "a private local Ray")
    return (
        f"ray at {address}; {settings.summarization_actors} summarisation + "
        f"{settings.translation_actors} translation workers, {settings.cpus_per_actor:g} CPU and "
        f"{settings.gpus_per_actor:g} GPU each, {settings.batch_articles} articles per batch"
    )


def _describe_languages(config: JobConfig) -> str:
    if config.languages.force:
        return f"every article is {config.languages.force} (languages.force)"
    sources = sorted(set(config.summarizers()) - {"default"} | set(config.translators()))
    default = " (+ any language for the default summariser)" if "default" in config.summarizers() else ""
    return f"detected; models for {', '.join(sources)}{default}; target {config.target_language}"


def _describe_local_model(spec: ModelSpec) -> str:
    from transformers import AutoTokenizer

    folder, commit = locate_model(spec)
    from_pretrained(spec, AutoTokenizer.from_pretrained)
    if spec.is_local:
        return f"{spec.name} (local folder)"
    return f"{spec.name} revision {spec.revision or 'main'} = commit {commit} (in {folder})"


def _describe_device(config: JobConfig) -> str:
    import torch

    from .models.loading import resolve_device, resolve_dtype

    device = resolve_device(config.runtime.device)
    dtype = str(resolve_dtype(config.runtime.dtype, device)).replace("torch.", "")
    threads = config.runtime.threads or torch.get_num_threads()
    return f"{device} ({dtype}), {threads} CPU threads"


def fetch_command(args: argparse.Namespace) -> int:
    """``summarizer fetch``: download the configured models and print their commits."""
    config = load_config(args.config)
    code = EXIT_OK
    for result in fetch_models(config):
        print(f"{result.config_key}: {result.model}")
        if result.problem:
            logger.error("%s: %s", result.config_key, result.problem)
            worse = EXIT_UNAVAILABLE if result.unreachable else EXIT_CONFIG
            code = max(code, worse)
            continue
        if result.commit is None:
            print(f"  local folder {result.path}: nothing to fetch")
            continue
        print(f"  revision {result.revision or 'main'} = commit {result.commit}")
        print(f"  files in {Path(result.path or '')}")
        if result.revision != result.commit:
            print(f"  pin it: set {revision_key(result.config_key)}: {result.commit}")
    return code


def inspect_command(args: argparse.Namespace) -> int:
    """``summarizer inspect``: what the job would feed the models for one article."""
    from .inspection import inspect_file

    _offline()
    config = load_config(args.config)
    require_input_paths([args.file], config.inputs.extensions)
    if args.file.is_dir():
        raise UsageError(f"{args.file}: inspect takes one article file, not a folder")
    for line in inspect_file(config, args.file.absolute(), args.record_id):
        print(line)
    return EXIT_OK


def bench_command(args: argparse.Namespace) -> int:
    """``summarizer bench``: measure the ways of running one model, side by side."""
    from dataclasses import replace as with_changes

    from .bench.inputs import bench_segments
    from .bench.runner import ROWS, BenchOptions, render, run_bench
    from .bench.shapes import RANDOM_LIKE, build_random_like
    from .config import JobConfig, RuntimeConfig
    from .models.seq2seq import Seq2SeqEngine

    _offline()
    rows = tuple(row.strip() for row in args.rows.split(",") if row.strip())
    unknown = [row for row in rows if row not in ROWS]
    if unknown:
        raise UsageError(f"--rows: unknown row {unknown[0]!r}; known: {', '.join(ROWS)}")
    if args.config is not None and args.random_like is None:
        config = load_config(args.config)
        task = args.task or "translation"
        routed = route(config, config.language)
        use = routed.translator if task == "translation" else routed.summarizer
        if use is None:
            raise ConfigError(f"{args.config}: no {task} model for language {config.language!r}")
        spec = use.spec
        runtime = config.runtime
    else:
        name = args.random_like or "opus-mt-fr-en"
        config = load_config(args.config) if args.config else JobConfig()
        task = args.task or ("translation" if RANDOM_LIKE[name][0] == "marian" else "summarization")
        logger.info("random-weight model shaped like %s", RANDOM_LIKE[name][2])
        spec = ModelSpec(str(build_random_like(name)), config_key=f"bench {name}")
        runtime = RuntimeConfig()
    if args.device == "cuda":
        runtime = with_changes(runtime, device="cuda", dtype="auto", threads=args.threads or runtime.threads)
    else:
        runtime = with_changes(runtime, device="cpu", dtype="float32", threads=args.threads or runtime.threads)
    segments = bench_segments(
        task,
        args.segments or (128 if task == "translation" else 16),
        Seq2SeqEngine(spec, runtime),
        config,
        [p.absolute() for p in args.input or []],
    )
    options = BenchOptions(
        spec=spec,
        segments=segments,
        runtime=runtime,
        new_tokens=args.new_tokens,
        naive_segments=min(args.naive_segments, len(segments)),
        rows=rows,
    )
    result = run_bench(options, progress=lambda step: logger.info("%s", step))
    print(render(result, args.format))
    return EXIT_OK


def eval_command(args: argparse.Namespace) -> int:
    """``summarizer eval``: scores and costs of configs on reference articles."""
    from .evaluation.runner import evaluate, read_references, render

    _offline()
    configs = [load_config(path) for path in args.configs]
    references = read_references(args.refs.absolute())
    evaluation = evaluate(configs, references, args.samples, show_progress=sys.stderr.isatty() and not args.quiet)
    print(render(evaluation, args.format))
    return EXIT_OK
