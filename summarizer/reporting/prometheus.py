"""Prometheus textfile metrics, for node_exporter's textfile collector.

Alert on ``summarizer_last_run_exit_code != 0`` (a failed night) and on
``time() - summarizer_last_completed_timestamp_seconds > 26*3600`` (a missing night).
"""

from __future__ import annotations

import re
from typing import Mapping

_COMPLETED = re.compile(
    r'^summarizer_last_completed_timestamp_seconds\{config="(?P<config>(?:[^"\\]|\\.)*)"\} (?P<value>\S+)$',
    re.MULTILINE,
)


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _number(value: float) -> str:
    """Full precision (timestamps need it), no exponent, no needless decimals."""
    value = round(float(value), 3)
    return str(int(value)) if value.is_integer() else repr(value)


def previous_completed(text: str, config_name: str) -> float | None:
    """The last-completed timestamp stored in an earlier metrics file, if any."""
    for match in _COMPLETED.finditer(text):
        if match["config"] == _escape(config_name):
            try:
                return float(match["value"])
            except ValueError:
                return None
    return None


def render_metrics(
    *,
    config_name: str,
    finished_at: float,
    duration_seconds: float,
    exit_code: int,
    articles: Mapping[str, int],
    tokens_per_second: float,
    last_completed: float | None,
) -> str:
    """The metrics file. ``last_completed``: when a run last ran to its end (exit 0 or 1)."""
    label = f'config="{_escape(config_name)}"'
    rows = [
        ("summarizer_last_run_timestamp_seconds", "Unix time the last run ended.", [(label, finished_at)]),
        ("summarizer_last_run_duration_seconds", "Duration of the last run.", [(label, duration_seconds)]),
        ("summarizer_last_run_exit_code", "Exit code of the last run (0 = all good).", [(label, exit_code)]),
        (
            "summarizer_last_run_articles",
            "Articles of the last run by status.",
            [(f'{label},status="{status}"', count) for status, count in sorted(articles.items())],
        ),
        (
            "summarizer_last_run_generated_tokens_per_second",
            "Generated tokens per second of generation in the last run.",
            [(label, tokens_per_second)],
        ),
    ]
    if last_completed is not None:
        rows.append(
            (
                "summarizer_last_completed_timestamp_seconds",
                "Unix time a run last ran to its end (exit code 0 or 1).",
                [(label, last_completed)],
            )
        )
    lines = []
    for name, help_text, samples in rows:
        lines += [f"# HELP {name} {help_text}", f"# TYPE {name} gauge"]
        lines += [f"{name}{{{labels}}} {_number(value)}" for labels, value in samples]
    return "\n".join(lines) + "\n"


_SAMPLE = re.compile(r'^(?P<name>[a-zA-Z_:][a-zA-Z0-9_:]*)\{config="(?P<config>(?:[^"\\]|\\.)*)"')


def merge_metrics(existing: str, rendered: str, config_name: str) -> str:
    """``rendered`` plus the other configs' samples from ``existing``, so that several
    jobs can share one textfile without erasing each other's series."""
    own = _escape(config_name)
    others: dict[str, list[str]] = {}
    for line in existing.splitlines():
        match = _SAMPLE.match(line)
        if match and match["config"] != own:
            others.setdefault(match["name"], []).append(line)
    if not others:
        return rendered
    merged: list[str] = []
    for line in rendered.splitlines():
        merged.append(line)
        if line.startswith("# TYPE "):
            merged.extend(others.pop(line.split()[2], []))
    for lines in others.values():  # metrics this version no longer writes
        merged.extend(lines)
    return "\n".join(merged) + "\n"
