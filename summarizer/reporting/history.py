"""The reports folder's history of runs: one folder per run, found and pruned cheaply.

Each run folder holds the night's export when there is one (written first),
``report.json`` (everything the run did, which grows with the night) and then ``run.json``, a few hundred bytes: when the run started
and ended, its exit code, its outcome line, whether it found nothing to do and
which config it ran. Listing, pruning and finding a config's last run read
only ``run.json``; a full report is read only when its articles are needed.
"""

from __future__ import annotations

import contextlib
import logging
import shutil
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Mapping

from ..errors import OutputWriteError
from ..io.files import read_json_object
from ..io.folders import atomic_write_json

logger = logging.getLogger(__name__)

RUN_FOLDER_FORMAT = "%Y-%m-%dT%H-%M-%SZ"
#: Largest report.json read back (for the digest and ``status``).
MAX_REPORT_BYTES = 256 * 1024 * 1024
_MAX_SUMMARY_BYTES = 64 * 1024


@dataclass(frozen=True)
class RunEntry:
    """One recorded run: its folder and the few facts ``run.json`` holds."""

    folder: Path
    started_at: datetime
    finished_at: datetime | None
    exit_code: Any
    outcome: str
    idle: bool
    config: str | None
    """The config file's path as the run was given it (tells configs sharing a folder apart)."""
    sequence: int = 0
    """The run's number in this folder, counting up whatever the clock says (0: recorded by
    an older version): what orders runs, so a clock moved back cannot hide later runs."""

    @property
    def report_file(self) -> Path:
        return self.folder / "report.json"

    def report(self) -> dict[str, Any] | None:
        """The full report.json, or None when it cannot be read."""
        return read_json_object(self.report_file, MAX_REPORT_BYTES)


def record_run(
    root: Path, data: Mapping[str, Any], first: Callable[[Path], Mapping[str, Any]] | None = None
) -> Path:
    """Write a run's report into a new folder under ``root``, its summary last (``first``
    writes what else the folder holds, before both, and returns what the report says of
    it); returns the report's path. OutputWriteError if it cannot be written."""
    started = _time(data.get("started_at")) or datetime.now(timezone.utc)
    name = started.strftime(RUN_FOLDER_FORMAT)
    folder, number = root / name, 1
    try:
        root.mkdir(parents=True, exist_ok=True)
        sequence = max((entry.sequence for entry in recorded_runs(root)), default=0) + 1
        while True:
            try:
                folder.mkdir()  # never shared: two configs may start in the same second
                break
            except FileExistsError:
                number += 1
                folder = root / f"{name}-{number}"
    except OSError as exc:
        raise OutputWriteError(f"cannot create the run folder {folder}: {exc.strerror or exc}; check reports.dir") from None
    extra = first(folder) if first is not None else {}
    recorded = {**data, **extra, "sequence": sequence}  # in both: a run.json rebuilt from report.json keeps it
    atomic_write_json(folder / "report.json", recorded)
    atomic_write_json(folder / "run.json", _summary(recorded))
    return folder / "report.json"


def recorded_runs(root: Path, remember: bool = False) -> list[RunEntry]:
    """Every readable run under ``root``, oldest first (by sequence, then name). A folder without ``run.json``
    (written by an older version) is read from its report.json, and with ``remember``
    given its ``run.json``; unreadable ones are left out."""
    entries = []
    for folder in sorted(path for path in root.glob("*") if path.is_dir() and not path.is_symlink()):
        data = read_json_object(folder / "run.json", _MAX_SUMMARY_BYTES)
        if data is None and (folder / "report.json").exists():  # from an older version: once
            data = read_json_object(folder / "report.json", MAX_REPORT_BYTES)
            data = _summary(data) if data is not None else None
            if remember and data is not None and _entry(folder, data) is not None:
                with contextlib.suppress(OutputWriteError):
                    atomic_write_json(folder / "run.json", data)
        entry = _entry(folder, data) if data is not None else None
        if entry is None:
            logger.debug("unreadable run record in %s", folder)
        else:
            entries.append(entry)
    return sorted(entries, key=lambda entry: (entry.sequence, entry.folder.name))


def last_run_of(root: Path, config: str | None) -> RunEntry | None:
    """The latest recorded run of ``config`` (its path as given to the run)."""
    ours = [entry for entry in recorded_runs(root) if entry.config == config]
    return ours[-1] if ours else None


def prune(root: Path, keep: int, config: str | None) -> None:
    """Keep the ``keep`` latest runs of ``config`` that did something and its ``keep``
    latest runs that found nothing to do (they record the nights without pushing work out
    of the history). Another config's runs are never touched: its own ``keep_runs`` decides
    for them. Folders of an older version get their ``run.json`` here, once."""
    groups: dict[bool, list[RunEntry]] = {}
    for entry in recorded_runs(root, remember=True):
        if entry.config == config:
            groups.setdefault(entry.idle, []).append(entry)
    for entries in groups.values():
        for entry in entries[:-keep]:
            shutil.rmtree(entry.folder, ignore_errors=True)


def _summary(data: Mapping[str, Any]) -> dict[str, Any]:
    config = data.get("config")
    return {
        "started_at": data.get("started_at"),
        "finished_at": data.get("finished_at"),
        "exit_code": data.get("exit_code"),
        "outcome": data.get("outcome"),
        "idle": data.get("idle"),
        "config": config.get("path") if isinstance(config, dict) else None,
        "sequence": data.get("sequence"),
    }


def _entry(folder: Path, data: Mapping[str, Any]) -> RunEntry | None:
    started = _time(data.get("started_at"))
    config = data.get("config")
    if started is None or not (config is None or isinstance(config, str)):
        return None
    outcome = data.get("outcome")
    sequence = data.get("sequence")
    return RunEntry(
        folder=folder,
        started_at=started,
        finished_at=_time(data.get("finished_at")),
        exit_code=data.get("exit_code"),
        outcome=outcome if isinstance(outcome, str) else f"exit {data.get('exit_code')}",
        idle=data.get("idle") is True,
        config=config,
        sequence=sequence if isinstance(sequence, int) and not isinstance(sequence, bool) else 0,
    )


def _time(text: Any) -> datetime | None:
    """An ISO time as UTC, or None for anything else (a damaged record)."""
    if not isinstance(text, str):
        return None
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        return None
    return when.astimezone(timezone.utc) if when.tzinfo else when.replace(tzinfo=timezone.utc)
