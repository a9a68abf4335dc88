"""``summarizer status``: how the last run ended, for a person or a monitoring check.

Exit 0 when the last run ended 0; 1 when it finished with failed articles; 2
when it did not complete (a stop, a run-level failure) or when no run ended in
the last ``--max-age`` hours (or none is recorded): the usual codes of a
monitoring check (ok, warning, critical).
"""

from __future__ import annotations

import argparse
import logging
from datetime import datetime, timezone
from typing import Any

from ..config import load_config
from ..errors import EXIT_ARTICLES_FAILED, EXIT_OK, ConfigError
from ..flags import untrusted
from ..reporting.history import last_run_of

logger = logging.getLogger("summarizer")

STATUS_OK, STATUS_WARNING, STATUS_CRITICAL = 0, 1, 2


#: How far in the future a run may seem to have ended before the clock is suspected.
_CLOCK_SLACK_HOURS = 0.1


def status_command(args: argparse.Namespace) -> int:
    """``summarizer status``."""
    try:
        config = load_config(args.config)
    except ConfigError as exc:  # the nights cannot run as configured: critical, not "unknown"
        print(f"config          INVALID: {exc}")
        logger.error("%s", exc)
        return STATUS_CRITICAL
    print(f"config          {config.source}")
    if config.reports.dir is None:
        logger.error("%s: reports.dir is not set, so runs leave no report to read; set it", config.source)
        return STATUS_CRITICAL
    last = last_run_of(config.reports.dir, str(config.source))
    if last is None:
        print(f"last run        none recorded in {config.reports.dir}")
        return STATUS_CRITICAL
    ended = last.finished_at or last.started_at
    hours = (datetime.now(timezone.utc) - ended).total_seconds() / 3600
    print(f"last run        ended {ended.strftime('%Y-%m-%d %H:%M UTC')} ({hours:.1f} h ago); {last.report_file}")
    print(f"outcome         {last.outcome}")
    data = last.report() or {}
    articles: list[dict[str, Any]] = [a for a in data.get("articles", []) if isinstance(a, dict)]
    for article in articles:
        if article.get("status") == "failed":
            print(f"failed          {article.get('key')}: {article.get('error', '')}")
    for article in articles:
        flags = untrusted(article.get("flags") or []) if article.get("status") == "ok" else []
        if flags:
            print(f"flagged         {article.get('key')}: {', '.join(flags)}")
    counts = data.get("counts")
    if not isinstance(counts, dict):
        print("waiting         unknown: the run failed before it looked at the inputs")
    else:
        print(
            f"waiting         {counts.get('left', 0)} left unfinished (a stop or a run-level failure), "
            f"{counts.get('deferred', 0)} deferred by --limit (failed articles are tried again by every run)"
        )
    if hours > args.max_age:
        logger.error("no run ended in the last %g hours (--max-age)", args.max_age)
        return STATUS_CRITICAL
    if hours < -_CLOCK_SLACK_HOURS:
        logger.error(
            "the last run is recorded as ending %.1f h in the future: the clock was wrong then or is now; "
            "check the machine's time (runs are ordered by their sequence, not their time)",
            -hours,
        )
        return STATUS_CRITICAL
    code = last.exit_code
    return STATUS_OK if code == EXIT_OK else STATUS_WARNING if code == EXIT_ARTICLES_FAILED else STATUS_CRITICAL

