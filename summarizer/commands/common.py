"""What the commands share: loading the config with the command line's overrides."""

from __future__ import annotations

import argparse
import logging
import os
from pathlib import Path

from ..config import JobConfig, check_own_folders, load_config
from ..errors import ConfigError, UsageError
from ..io.files import printable, unicode_problem

logger = logging.getLogger("summarizer")


def load_job_config(args: argparse.Namespace) -> JobConfig:
    """The config of ``-c``, with ``--input``, ``--output-dir``, ``--executor`` and
    ``--ray-address`` applied."""
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
    if inputs or output_dir is not None:  # the command line's folders obey the same rule
        check_own_folders(config, Path(args.config))
    if getattr(args, "ray_address", None) and config.runtime.executor != "ray":
        logger.warning("--ray-address is ignored: the executor is local (add --executor ray)")
    return config


def require_inputs(config: JobConfig, args: argparse.Namespace) -> None:
    """ConfigError when neither the config nor the command line names inputs."""
    if not config.inputs.paths:
        raise ConfigError(f"{args.config}: inputs.paths: no inputs; set it or pass --input")


def offline() -> None:
    """Runs never download: set before transformers is first imported."""
    os.environ["HF_HUB_OFFLINE"] = "1"
