"""Prometheus textfile metrics, for node_exporter's textfile collector.

One file per config, written whole (and atomically) by ``prometheus_client``
after every run, so no series outlives the run that wrote it. Alert on
``summarizer_last_run_exit_code != 0`` (a failed night) and on
``time() - summarizer_last_completed_timestamp_seconds > 26*3600`` (a missing
night): the last-completed time is always there, 0 until a run completes.
"""

from __future__ import annotations

from pathlib import Path
from typing import Mapping

from ..config import ReportsConfig
from ..errors import OutputWriteError
from ..io.files import read_regular_file

LAST_COMPLETED = "summarizer_last_completed_timestamp_seconds"
_MAX_BYTES = 1024 * 1024


def metrics_path(reports: ReportsConfig, config_name: str) -> Path | None:
    """Where this config's textfile goes: ``reports.prometheus_file``, else
    ``summarizer-<config>.prom`` in ``reports.dir``; None when neither is set."""
    if reports.prometheus_file is not None:
        return reports.prometheus_file
    return reports.dir / f"summarizer-{config_name}.prom" if reports.dir is not None else None


def previous_completed(path: Path, config_name: str) -> float:
    """The last-completed time the file holds for ``config_name`` (0 when none)."""
    from prometheus_client.parser import text_string_to_metric_families

    try:
        text = read_regular_file(path, _MAX_BYTES).decode("utf-8")
        for family in text_string_to_metric_families(text):
            for sample in family.samples:
                if sample.name == LAST_COMPLETED and sample.labels.get("config") == config_name:
                    return float(sample.value)
    except ValueError:  # missing, unreadable or not a metrics file: start again from 0
        return 0.0
    return 0.0


def write_metrics(
    path: Path,
    *,
    config_name: str,
    finished_at: float,
    duration_seconds: float,
    exit_code: int,
    articles: Mapping[str, int],
    tokens_per_second: float,
    completed: bool,
) -> None:
    """Write the textfile. ``completed``: the run ran to its end (exit 0 or 1).
    OutputWriteError if it cannot be written."""
    from prometheus_client import CollectorRegistry, Gauge, write_to_textfile

    registry = CollectorRegistry()

    def gauge(name: str, documentation: str, value: float, **labels: str) -> None:
        metric = Gauge(name, documentation, ["config", *labels], registry=registry)
        metric.labels(config=config_name, **labels).set(value)

    last_completed = finished_at if completed else previous_completed(path, config_name)
    gauge("summarizer_last_run_timestamp_seconds", "Unix time the last run ended.", finished_at)
    gauge("summarizer_last_run_duration_seconds", "Duration of the last run.", duration_seconds)
    gauge("summarizer_last_run_exit_code", "Exit code of the last run (0 = all good).", exit_code)
    articles_gauge = Gauge(
        "summarizer_last_run_articles", "Articles of the last run by status.", ["config", "status"], registry=registry
    )
    for status, count in sorted(articles.items()):
        articles_gauge.labels(config=config_name, status=status).set(count)
    gauge(
        "summarizer_last_run_generated_tokens_per_second",
        "Generated tokens per second of generation in the last run.",
        tokens_per_second,
    )
    gauge(LAST_COMPLETED, "Unix time a run last ran to its end (exit code 0 or 1); 0: never.", last_completed)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_to_textfile(str(path), registry)
    except OSError as exc:
        raise OutputWriteError(
            f"cannot write the metrics file {path}: {exc.strerror or exc}; check reports.prometheus_file"
        ) from exc
