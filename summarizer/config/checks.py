"""Value checks shared by the config sections: each returns a problem or None.

A field opts in with ``metadata=check(...)``; ``loader.StrictLoader`` runs it.
"""

from __future__ import annotations

from typing import Any


def check(function: Any) -> dict[str, Any]:
    """Field metadata that makes the loader run ``function`` on the value."""
    return {"check": function}


def positive(value: Any) -> str | None:
    """Empty, or greater than 0."""
    return None if value is None or value > 0 else "must be greater than 0"


def not_negative(value: Any) -> str | None:
    """Empty, or 0 or more."""
    return None if value is None or value >= 0 else "must be 0 or more"


def at_least_one(value: Any) -> str | None:
    """A count of 1 or more."""
    return None if value >= 1 else "must be 1 or more"
