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
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

from ..io.files import read_json_object, read_jsonl_objects
from ..io.folders import atomic_write_bytes, atomic_write_json, atomic_write_text, jsonl_text

SCHEMA_VERSION = 1
#: The texts of an article, as its row names them.
TEXT_FIELDS = ("summary", "summary_translation", "translation")
#: Fields held as JSON objects (in Parquet: as JSON text, their keys vary from row to row).
_OBJECT_FIELDS = ("findings", "models", "metadata")
_FLOAT_FIELDS = ("language_confidence",)
_LIST_FIELDS = ("flags",)
EXPORT_FILE = {"jsonl": "export.jsonl", "parquet": "export.parquet"}


def export_row(record: Mapping[str, Any], texts: Mapping[str, str | None] | None = None) -> dict[str, Any]:
    """The row of one article: ``record`` is its meta file or result record (``io.meta.
    article_meta``), ``texts`` its texts by ``TEXT_FIELDS`` name (default: the record's own,
    as a JSONL result holds them). An article that did not finish ``ok`` has no texts."""
    done = record.get("status") == "ok"
    texts = record if texts is None else texts
    return {
        "schema_version": SCHEMA_VERSION,
        "key": record.get("key"),
        "source": record.get("source"),
        "record_id": record.get("id"),
        "status": record.get("status"),
        "language": record.get("language"),
        "detected_language": record.get("detected_language"),
        "language_confidence": record.get("language_confidence"),
        "target_language": record.get("target_language"),
        "title": record.get("title"),
        "title_translation": record.get("title_translation") if done else None,
        **{name: (texts.get(name) if done else None) for name in TEXT_FIELDS},
        "flags": list(record.get("flags") or ()),
        "findings": record.get("findings") or {},
        "models": record.get("models") or {},
        "metadata": record.get("metadata") or {},
        "fingerprint": record.get("fingerprint"),
        "input_sha256": record.get("input_sha256"),
        "finished_at": record.get("finished_at"),
        "error": record.get("error"),
        "reason": record.get("reason"),
        "config": record.get("config"),
        "summarizer_version": record.get("summarizer_version"),
    }


def write_export(path: Path, rows: Sequence[Mapping[str, Any]], export_format: str) -> Path:
    """Write ``rows`` to ``path`` as JSONL or Parquet, atomically; returns ``path``."""
    if export_format == "parquet":
        atomic_write_bytes(path, _parquet_bytes(rows))
    else:
        atomic_write_text(path, jsonl_text(rows))
    return path


def latest_pointer(root: Path, config_name: str) -> Path:
    """``latest-export-<config>.json`` in the reports folder: names the config's last export."""
    return root / f"latest-export-{config_name}.json"


def write_latest_pointer(root: Path, config_name: str, export: Path, rows: int) -> Path:
    """Point ``latest_pointer`` at ``export`` (a small JSON file, never a link)."""
    pointer = latest_pointer(root, config_name)
    atomic_write_json(
        pointer,
        {
            "schema_version": SCHEMA_VERSION,
            "file": export.relative_to(root).as_posix(),
            "format": export.suffix.lstrip("."),
            "rows": rows,
            "written_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        },
    )
    return pointer


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
    return root / name if isinstance(name, str) and ".." not in Path(name).parts else None


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
            columns[name].append(json.dumps(value, ensure_ascii=False) if name in _OBJECT_FIELDS else value)
    buffer = io.BytesIO()
    parquet.write_table(arrow.table(columns, schema=schema), buffer)
    return buffer.getvalue()
