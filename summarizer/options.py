"""Per-run choices that are not configuration (from the command line, or a library caller)."""

from __future__ import annotations

from dataclasses import dataclass, field

from .stopping import StopSignal


@dataclass(frozen=True)
class RunOptions:
    """Per-run choices that are not configuration."""

    force: bool = False
    """Redo articles even when they are already done."""
    dry_run: bool = False
    """Only plan: read inputs and report what would be done; load no model, write nothing."""
    limit: int | None = None
    """Process at most this many new articles; the rest wait for the next run."""
    show_progress: bool = False
    """Show progress bars (the CLI turns them on when stderr is a terminal)."""
    allow_download: bool = False
    """Let hub models missing from the local cache be downloaded (normally only ``fetch`` does)."""
    stop: StopSignal = field(default_factory=StopSignal)
    """Set it (from a signal handler, say) to stop the run cleanly."""
