"""What a run did: counts, per-article outcomes, tokens and time.

A JobReport is assembled once, by ``pipeline.run_job``, from the plan and
what the executor returned; nothing adds to it afterwards.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Mapping

from .._version import __version__
from ..errors import exit_meaning
from ..records import ArticleResult, RunStats


@dataclass(frozen=True)
class JobReport:
    """The outcome of ``run_job``."""

    config_path: str | None
    started_at: datetime
    finished_at: datetime
    seconds: float
    dry_run: bool = False
    target_language: str = "en"
    fingerprint: str = ""
    found: int = 0
    """Articles (and unreadable inputs) found."""
    skipped: tuple[str, ...] = ()
    """Keys already done with the same input and fingerprint."""
    planned: tuple[str, ...] = ()
    """Keys this run set out to process."""
    deferred: int = 0
    """New articles left for later by ``--limit``."""
    left: int = 0
    """Planned articles not finished because the run was stopped."""
    stopped: str | None = None
    """Why the run stopped early (signal, time budget), if it did."""
    results: tuple[ArticleResult, ...] = ()
    """One result per processed article, in processing order."""
    stats: RunStats = field(default_factory=RunStats)
    """Wall time per stage and usage per configured model (``summarization.model``...)."""
    export: tuple[dict[str, Any], ...] = ()
    """The night's dataset: a row per final result (``reporting.export``); written
    beside the report, never into it."""

    @property
    def done(self) -> list[ArticleResult]:
        """Articles completed in this run."""
        return [r for r in self.results if r.status == "ok"]

    @property
    def failed(self) -> list[ArticleResult]:
        """Articles that failed in this run."""
        return [r for r in self.results if r.status == "failed"]

    @property
    def unsupported(self) -> list[ArticleResult]:
        """Articles skipped because no model handles their language."""
        return [r for r in self.results if r.status == "skipped"]

    @property
    def counts(self) -> dict[str, int]:
        """found / new / done / skipped (already done) / unsupported / failed / deferred / left."""
        return {
            "found": self.found,
            "new": len(self.planned),
            "done": len(self.done),
            "skipped": len(self.skipped),
            "unsupported": len(self.unsupported),
            "failed": len(self.failed),
            "deferred": self.deferred,
            "left": self.left,
        }

    def summary_line(self) -> str:
        """The one line printed at the end of a run."""
        counts = self.counts
        parts = [
            f"{counts['found']} found",
            f"{counts['done']} done",
            f"{counts['skipped']} skipped",
            f"{counts['failed']} failed",
        ]
        if counts["unsupported"]:
            parts.append(f"{counts['unsupported']} in a language without models")
        if counts["deferred"]:
            parts.append(f"{counts['deferred']} left for the next run (--limit)")
        if self.stopped:
            parts.append(f"{counts['left']} left for the next run (stopped: {self.stopped})")
        line = ", ".join(parts)
        if self.stats.generated_tokens:
            line += f"; {self.stats.generated_tokens} tokens generated at {self.stats.tokens_per_second:.1f} tokens/s"
        return f"{line}; {self.seconds:.1f}s"

    def to_dict(self, exit_code: int | None = None) -> dict[str, Any]:
        """The content of ``report.json``."""
        return {
            "summarizer_version": __version__,
            "started_at": self.started_at.isoformat(timespec="seconds"),
            "finished_at": self.finished_at.isoformat(timespec="seconds"),
            "seconds": round(self.seconds, 3),
            "exit_code": exit_code,
            "config": {"path": self.config_path, "fingerprint": self.fingerprint},
            "target_language": self.target_language,
            "stopped": self.stopped,
            "counts": self.counts,
            "models": {
                task: {
                    **usage.description,
                    "loads": usage.stats.loads,
                    "load_seconds": round(usage.stats.load_seconds, 3),
                    "generate_seconds": round(usage.stats.generate_seconds, 3),
                    "segments": usage.stats.segments,
                    "batches": usage.stats.batches,
                    "input_tokens": usage.stats.input_tokens,
                    "generated_tokens": usage.stats.generated_tokens,
                    "tokens_per_second": round(
                        usage.stats.generated_tokens / usage.stats.generate_seconds, 1
                    )
                    if usage.stats.generate_seconds
                    else 0.0,
                }
                for task, usage in self.stats.models.items()
            },
            "stage_seconds": {k: round(v, 3) for k, v in self.stats.stage_seconds.items()},
            "generated_tokens": self.stats.generated_tokens,
            "tokens_per_second": round(self.stats.tokens_per_second, 1),
            "articles": [_article_entry(result) for result in self.results],
        }


def _article_entry(result: ArticleResult) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "key": result.key,
        "status": result.status,
        "language": result.language,
        "language_confidence": result.language_confidence,
        "title": result.title,
        "title_translation": result.title_translation,
        "summary": result.summary,
        "summary_translation": result.summary_translation,
        "flags": list(result.flags),
        "findings": result.findings_dict(),
        "outputs": list(result.outputs),
        "tasks": {name: stats.to_dict() for name, stats in result.tasks.items()},
    }
    if result.error:
        entry["error"] = result.error
    if result.reason:
        entry["reason"] = result.reason
    return entry


def outcome(data: Mapping[str, Any]) -> str:
    """How a run ended, in one line, from its report.json content: the exit code and
    its meaning, then the error of a run that failed as a whole, what a stop left
    for the next run, or what was done."""
    code = data.get("exit_code")
    head = f"exit {code} ({exit_meaning(code)})"
    counts = data.get("counts") or {}
    if data.get("error"):
        if not counts.get("new"):
            return f"{head}: {data['error']}"
        return (
            f"{head}: {data['error']}; {counts.get('done', 0)} done, {counts.get('failed', 0)} failed, "
            f"{counts.get('left', 0)} left for the next run"
        )
    if data.get("stopped"):
        return (
            f"{head}: stopped: {counts.get('left', 0)} left for the next run "
            f"({data['stopped']}); {counts.get('done', 0)} done, {counts.get('failed', 0)} failed"
        )
    if is_idle(data):
        return f"{head}: nothing new to do ({counts.get('skipped', 0)} already done)"
    parts = [f"{counts.get('done', 0)} done", f"{counts.get('failed', 0)} failed"]
    if counts.get("unsupported"):
        parts.append(f"{counts['unsupported']} in a language without models")
    if counts.get("deferred"):
        parts.append(f"{counts['deferred']} left for the next run (--limit)")
    return f"{head}: {', '.join(parts)}"


def is_idle(data: Mapping[str, Any]) -> bool:
    """The run found nothing to do (and did not fail): it records the night, no more."""
    counts = data.get("counts") or {}
    return data.get("exit_code") == 0 and not data.get("error") and not counts.get("new") and not data.get("stopped")
