"""Executors: what does a plan's work. ``local`` (this process, in waves) and
``ray`` (workers on a Ray cluster) write the same files through the same writer."""

from __future__ import annotations

from ..config import JobConfig
from .execution import Execution, Executor

__all__ = ["Execution", "Executor", "configured_executor"]


def configured_executor(config: JobConfig) -> Executor:
    """The executor ``runtime.executor`` names (Ray is imported only when chosen)."""
    if config.runtime.executor == "ray":
        from .ray import process_on_ray

        return process_on_ray
    from .local import process_waves

    return process_waves
