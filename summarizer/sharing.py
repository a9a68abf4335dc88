"""Outputs shared between configs: who else wrote them, and why that must not go on.

Two configs writing the same outputs with different settings would redo each other's
articles every night; every meta file and result names the config that wrote it.
"""

from __future__ import annotations

import os
from typing import Any, Mapping

from .config import JobConfig


def foreign_writer(record: dict[str, Any] | None, config: JobConfig) -> str | None:
    """The other config file that wrote ``record`` (a meta file or result), when it still
    exists: two configs writing the same outputs with different settings would redo each
    other's articles every night. A config moved or renamed since is not "other"."""
    other = record.get("config") if isinstance(record, dict) else None
    if not isinstance(other, str) or config.source is None or other == str(config.source):
        return None
    try:
        return None if os.path.samefile(other, config.source) else other
    except OSError:  # gone (renamed, deleted): its outputs are this config's to redo
        return None


def foreign_writers_problem(foreign: Mapping[str, int], config: JobConfig) -> str | None:
    """Why this config must not run over outputs another config wrote with other settings
    (``foreign``: the other config files, with how many of their articles' outputs it would
    overwrite; the two would redo each other's articles every night), or None."""
    if not foreign:
        return None
    other, count = max(foreign.items(), key=lambda item: item[1])
    where = f"outputs.dir {config.outputs.dir}" if config.outputs.dir else "the outputs next to the articles"
    return (
        f"{config.source}: {where}: the outputs of {count} article(s) were written by {other} with "
        "other settings; run both and each night one would redo the other's articles. Give each "
        "config its own outputs.dir (or the same settings)"
    )
