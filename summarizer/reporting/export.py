"""The night as a dataset: one row per article a run did, in one file per run.

Rows come from ``export_row``, from what the job writes for an article (its meta file or
result record, and its texts), so that ``summarizer export`` rebuilds the same rows from
the files on disk (``reporting.rebuild``). The schema is in docs/operations.md ("The
night as a dataset"); ``SCHEMA_VERSION`` is in every row and changes when a field
changes meaning or goes away (new fields may be added without a new version).
"""

from __future__ import annotations

import io
import json
import logging
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

from ..io.files import read_json_object, read_jsonl_objects
from ..io.folders import atomic_write_bytes, atomic_write_json, atomic_write_text, jsonl_text, write_error
from .history import recorded_runs

logger = logging.getLogger(__name__)

SCHEMA_VERSION = 1
#: The texts of an article, as its row names them.
TEXT_FIELDS = ("summary", "summary_translation", "translation")
#: Fields held as JSON objects (in Parquet: as JSON text, their keys vary from row to row).
_OBJECT_FIELDS = ("findings", "models", "metadata")
_FLOAT_FIELDS = ("language_confidence",)
_LIST_FIELDS = ("flags",)
EXPORT_FILE = {"jsonl": "export.jsonl", "parquet": "export.parquet"}


def export_row(record: Mapping[str, Any], texts: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The row of one article: ``record`` is its meta file or result record (``io.meta.
    article_meta``), ``texts`` its texts by ``TEXT_FIELDS`` name (default: the record's own,
    as a JSONL result holds them). An article that did not finish ``ok`` has no texts, one
    already in the target language only its summary. A value of the wrong type (a damaged
    or edited record) becomes null (or empty)."""
    done = record.get("status") == "ok"
    translated = done and record.get("language") != record.get("target_language")
    texts = record if texts is None else texts
    confidence, flags = record.get("language_confidence"), record.get("flags")
    return {
        "schema_version": SCHEMA_VERSION,
        **{name: _text(record.get(name)) for name in ("key", "source")},
        "record_id": _text(record.get("id")),
        **{name: _text(record.get(name)) for name in ("status", "language", "detected_language", "target_language")},
        "language_confidence": (
            float(confidence) if isinstance(confidence, (int, float)) and not isinstance(confidence, bool) else None
        ),
        "title": _text(record.get("title")),
        "title_translation": _text(record.get("title_translation")) if done else None,
        "summary": _text(texts.get("summary")) if done else None,
        **{name: _text(texts.get(name)) if translated else None for name in ("summary_translation", "translation")},
        "flags": [flag for flag in flags if isinstance(flag, str)] if isinstance(flags, list) else [],
        **{name: value if isinstance(value := record.get(name), dict) else {} for name in _OBJECT_FIELDS},
        **{name: _text(record.get(name)) for name in _TRAILING_TEXTS},
    }


#: The last fields of a row, text as in the record.
_TRAILING_TEXTS = ("fingerprint", "input_sha256", "finished_at", "error", "reason", "config", "summarizer_version")


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def write_export(path: Path, rows: Sequence[Mapping[str, Any]], export_format: str) -> Path:
    """Write ``rows`` to ``path`` as JSONL or Parquet, atomically; returns ``path``."""
    if export_format == "parquet":
        atomic_write_bytes(path, _parquet_bytes(rows))
    else:
        atomic_write_text(path, jsonl_text(rows))
    return path


def export_night(folder: Path, rows: Sequence[Mapping[str, Any]], export_format: str) -> dict[str, Any]:
    """Write the night's rows into its run folder; returns what its report says of it. An
    export that cannot be written is logged and reported, never a reason to lose the report
    (the outputs are the record: ``summarizer export`` rebuilds it)."""
    path = folder / EXPORT_FILE[export_format]
    try:
        write_export(path, rows, export_format)
    except Exception as exc:  # noqa: BLE001 - a full disk, or a value the format refuses
        message = f"the night's export could not be written ({type(exc).__name__}: {exc}); rebuild it with summarizer export"
        logger.error("%s", message)
        return {"export_error": message}
    return {"export": {"file": path.name, "format": export_format, "rows": len(rows)}}


def latest_pointer(root: Path, config_name: str) -> Path:
    """``latest-export-<config>.json`` in the reports folder: names the config's last export."""
    return root / f"latest-export-{config_name}.json"


def point_latest(root: Path, config_name: str, config: str | None) -> Path | None:
    """Point ``latest_pointer`` (a small JSON file, never a link) at the newest export of
    ``config`` still kept (runs are pruned), or remove it when none is; returns it if it
    is written."""
    pointer = latest_pointer(root, config_name)
    for entry in reversed(recorded_runs(root)):
        found = [entry.folder / name for name in EXPORT_FILE.values() if (entry.folder / name).is_file()]
        if entry.config == config and found:
            target = found[0].relative_to(root).as_posix()
            current = read_json_object(pointer)
            if current is None or current.get("file") != target:
                atomic_write_json(
                    pointer,
                    {
                        "schema_version": SCHEMA_VERSION,
                        "file": target,
                        "format": found[0].suffix.lstrip("."),
                        "run_started_at": entry.started_at.isoformat(timespec="seconds"),
                        "written_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                    },
                )
            return pointer
    try:
        pointer.unlink()
    except FileNotFoundError:
        pass
    except OSError as exc:
        raise write_error(pointer, exc, stops=True) from None
    return None


def read_export(path: Path) -> list[dict[str, Any]]:
    """The rows of an export file (JSONL or Parquet), as ``export_row`` made them."""
    if path.suffix == ".parquet":
        import pyarrow.parquet as parquet

        rows = parquet.read_table(path).to_pylist()
        for row in rows:
            for name in _OBJECT_FIELDS:
                row[name] = json.loads(row[name]) if row[name] is not None else {}
        return rows
    return read_jsonl_objects(path, 256 * 1024 * 1024)


def latest_export(root: Path, config_name: str) -> Path | None:
    """The export ``latest_pointer`` names, or None."""
    data = read_json_object(latest_pointer(root, config_name))
    name = data.get("file") if data else None
    if not isinstance(name, str) or Path(name).is_absolute() or ".." in Path(name).parts or not (root / name).is_file():
        return None
    return root / name


def _utf8(text: str) -> str:
    """``text`` as Parquet can hold it: a lone surrogate (a file name's undecodable byte)
    as a backslash escape, as the text files write it."""
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def _parquet_bytes(rows: Iterable[Mapping[str, Any]]) -> bytes:
    import pyarrow as arrow
    import pyarrow.parquet as parquet

    def kind(name: str) -> Any:
        if name in _FLOAT_FIELDS:
            return arrow.float64()
        if name in _LIST_FIELDS:
            return arrow.list_(arrow.string())
        return arrow.int64() if name == "schema_version" else arrow.string()

    names = list(export_row({}))
    schema = arrow.schema([(name, kind(name)) for name in names], metadata={"summarizer_export_schema": str(SCHEMA_VERSION)})
    columns: dict[str, list[Any]] = {name: [] for name in names}
    for row in rows:
        for name in names:
            value = row.get(name)
            if name in _OBJECT_FIELDS:
                value = _utf8(json.dumps(value, ensure_ascii=False))
            elif isinstance(value, str):
                value = _utf8(value)
            elif isinstance(value, list):
                value = [_utf8(item) for item in value]
            columns[name].append(value)
    buffer = io.BytesIO()
    parquet.write_table(arrow.table(columns, schema=schema), buffer)
    return buffer.getvalue()
