"""What every executor takes and returns, and how it cuts the night's work into waves."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Collection, Sequence

from ..config import JobConfig
from ..options import RunOptions
from ..planning import Plan, WorkItem
from ..records import Article, ArticleResult, RunStats
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


@dataclass(frozen=True)
class Wave:
    """Articles processed together (by the local executor: their results are written when it ends)."""

    items: tuple[WorkItem, ...]
    alone: bool = False
    """One article longer than the waves' character budget, done by itself after the others."""


def model_chars(item: WorkItem) -> int:
    """What an item costs the models, in characters: an article's title and text; 0 for
    an input that failed to read or an article no model takes (its language has none)."""
    if not isinstance(item, Article) or getattr(item.route, "skip_reason", None):
        return 0
    return len(item.title or "") + len(item.text)


def plan_waves(items: Sequence[WorkItem], max_articles: int, max_chars: int) -> list[Wave]:
    """``items`` in waves of at most ``max_articles`` items and ``max_chars`` characters
    (``model_chars``), in their order; each item longer than ``max_chars`` is a wave of its
    own, after all the others, the shortest first. 0: no such limit."""
    costs = [model_chars(item) for item in items]
    long_ones = sorted((i for i, cost in enumerate(costs) if max_chars and cost > max_chars), key=costs.__getitem__)
    waves: list[Wave] = []
    current: list[WorkItem] = []
    chars = 0
    for index in sorted(set(range(len(items))) - set(long_ones)):
        item, cost = items[index], costs[index]
        if current and ((max_articles and len(current) >= max_articles) or (max_chars and chars + cost > max_chars)):
            waves.append(Wave(tuple(current)))
            current, chars = [], 0
        current.append(item)
        chars += cost
    if current:
        waves.append(Wave(tuple(current)))
    return waves + [Wave((items[index],), alone=True) for index in long_ones]


def wave_plan(config: JobConfig, todo: Sequence[WorkItem]) -> list[Wave]:
    """The night's waves, as ``runtime.wave_articles`` and ``runtime.wave_chars`` cut them."""
    return plan_waves(todo, config.runtime.wave_articles, config.runtime.wave_chars)


def left_alone(wave: Wave, finished: Collection[str], max_chars: int, seconds: float | None) -> str | None:
    """What to say when a stop left the article of a wave of its own unfinished, ``seconds``
    after it began (None: not known); None for a wave of several or a finished article."""
    if not wave.alone or wave.items[0].key in finished:
        return None
    item = wave.items[0]
    into = "" if seconds is None else f" {seconds:.0f} s into it" if seconds < 120 else f" {seconds / 60:.0f} min into it"
    return (
        f"{item.key}: {model_chars(item):,} characters, over runtime.wave_chars ({max_chars:,}), so done by "
        f"itself after every shorter article; the run stopped{into}: left for the next run, which again "
        "does it after the others. If this repeats every night, the article needs more time than a night "
        "leaves it: raise runtime.time_budget_minutes, or lower inputs.max_article_chars to refuse such articles"
    )
