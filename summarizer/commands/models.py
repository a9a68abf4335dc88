"""``summarizer fetch``, ``inspect``, ``bench`` and ``eval``: the commands about models."""

from __future__ import annotations

import argparse
import importlib.util
import logging
import sys
from pathlib import Path

from ..config import load_config
from ..errors import EXIT_CONFIG, EXIT_OK, EXIT_UNAVAILABLE, ConfigError, UsageError
from ..hub import fetch_models
from ..io.readers import require_input_paths
from ..models.loading import ModelSpec
from ..routing import route
from .common import offline

logger = logging.getLogger("summarizer")


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
            print(f"  {result.used} {result.path}" if result.used and result.path != result.model else f"  local folder {result.path}: nothing to fetch")
        else:
            for note in result.notes:
                print(f"  {note}")
            if result.notes:
                print(f"  used {result.used} = commit {result.commit}")
            else:
                print(f"  revision {result.revision or 'main'} = commit {result.commit}")
            print(f"  files in {Path(result.path or '')}")
            if result.pin:
                print(f"  pin it: set {result.pin}")
        if result.ctranslate2:
            print(f"  {result.ctranslate2}")
    return code


def inspect_command(args: argparse.Namespace) -> int:
    """``summarizer inspect``: what the job would feed the models for one article."""
    from ..inspection import inspect_file

    offline()
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

    from ..bench.inputs import bench_segments
    from ..bench.runner import ROWS, BenchOptions, run_bench
    from ..bench.table import render
    from ..bench.shapes import RANDOM_LIKE, build_random_like
    from ..config import JobConfig, RuntimeConfig
    from ..models.factory import build_engine
    from ..models.families import Direction
    from ..models.loading import FramingChoice

    offline()
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
        spec, framing, role = use.spec, use.framing, use.role
        runtime = config.runtime
    else:
        name = args.random_like or "opus-mt-fr-en"
        config = load_config(args.config) if args.config else JobConfig()
        task = args.task or ("translation" if RANDOM_LIKE[name][0] == "marian" else "summarization")
        logger.info("random-weight model shaped like %s", RANDOM_LIKE[name][2])
        spec = ModelSpec(str(build_random_like(name)), config_key=f"bench {name}")
        runtime, framing = RuntimeConfig(), FramingChoice()
        role = "translation" if task == "translation" else "summarization"
    if args.device == "cuda":
        runtime = with_changes(runtime, device="cuda", dtype="auto", threads=args.threads or runtime.threads)
    else:
        runtime = with_changes(runtime, device="cpu", dtype="float32", threads=args.threads or runtime.threads)
    target = config.target_language if task == "translation" else config.language
    direction = Direction(config.language, target, framing)
    segments = bench_segments(
        args.segments or (128 if task == "translation" else 16),
        build_engine(spec, runtime, role=role, backend="transformers"),
        direction,
        config,
        [p.absolute() for p in args.input or []],
    )
    options = BenchOptions(
        spec=spec,
        segments=segments,
        direction=direction,
        role=role,
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
    from ..evaluation.runner import evaluate, read_references, render

    missing = [name for name in ("sacrebleu", "rouge_score") if importlib.util.find_spec(name) is None]
    if missing:
        raise UsageError(
            f"summarizer eval needs {', '.join(missing)}: install the eval extra "
            "(`pip install 'summarizer[eval]'`, or `make install EXTRAS=eval`)"
        )
    offline()
    configs = [load_config(path) for path in args.configs]
    references = read_references(args.refs.absolute())
    evaluation = evaluate(configs, references, args.samples, show_progress=sys.stderr.isatty() and not args.quiet)
    print(render(evaluation, args.format))
    return EXIT_OK
