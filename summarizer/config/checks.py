"""Value checks shared by the config sections: each returns a problem or None.

A field opts in with ``metadata=check(...)``; ``loader.StrictLoader`` runs its
checks in order and reports the first problem. Every number has bounds: a value
the job cannot use is refused when the config loads, not in the middle of a night.
"""

from __future__ import annotations

import os
from typing import Any, Callable

Check = Callable[[Any], "str | None"]


def check(*functions: Check) -> dict[str, Any]:
    """Field metadata that makes the loader run ``functions`` on the value, in order."""

    def combined(value: Any) -> str | None:
        return next((p for p in (f(value) for f in functions) if p), None)

    return {"check": combined}


def positive(value: Any) -> str | None:
    """Empty, or greater than 0."""
    return None if value is None or value > 0 else "must be greater than 0"


def not_negative(value: Any) -> str | None:
    """Empty, or 0 or more."""
    return None if value is None or value >= 0 else "must be 0 or more"


def at_least_one(value: Any) -> str | None:
    """A count of 1 or more."""
    return None if value >= 1 else "must be 1 or more"


def at_most(limit: float) -> Check:
    """Empty, or at most ``limit``."""

    def within(value: Any) -> str | None:
        return None if value is None or value <= limit else f"must be at most {limit:g}"

    return within


def fraction(value: Any) -> str | None:
    """Empty, or in (0, 1]."""
    return None if value is None or 0 < value <= 1 else "must be greater than 0 and at most 1"


def machine_cpus() -> int:
    """CPU cores of this machine."""
    return os.cpu_count() or 1


def at_most_cpus(value: Any) -> str | None:
    """Empty, or no more threads than this machine has cores."""
    cores = machine_cpus()
    return None if value is None or value <= cores else f"must be at most {cores} (the CPU cores of this machine)"


def parquet_unavailable() -> str | None:
    """Why Parquet cannot be written here (pyarrow missing), or None."""
    import importlib.util

    if importlib.util.find_spec("pyarrow") is None:
        return "parquet needs pyarrow, which is not installed; `pip install 'summarizer[parquet]'`"
    return None
