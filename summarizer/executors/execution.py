"""What every executor takes and returns."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from ..config import JobConfig
from ..options import RunOptions
from ..planning import Plan
from ..records import ArticleResult, RunStats
from ..writing import ResultWriter


@dataclass(frozen=True)
class Execution:
    """What an executor did."""

    results: tuple[ArticleResult, ...]
    """One result per article processed, as written."""
    left: int
    """Planned articles not finished because the run was stopped."""
    stats: RunStats


Executor = Callable[[JobConfig, Plan, RunOptions, ResultWriter], Execution]
"""Does a plan's work and writes each result with the writer."""
