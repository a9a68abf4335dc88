"""What ``fetch`` used for a hub model it could not use as configured.

When a configured revision is gone from the hub, or holds only pickle weights,
``fetch`` falls back (the hub's safetensors conversion pull request, the main
branch, or weights converted locally) and records its choice in
``<cache>/summarizer/resolutions.json``. Every later run, ``check``, meta file
and fingerprint then use what fetch used, and say so, until the config pins it
(fetch prints the line to pin).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

from ..io.files import read_json_object
from ..io.folders import atomic_write_json
from .loading import ModelSpec, summarizer_cache

RESOLUTIONS_FILE = "resolutions.json"


@dataclass(frozen=True)
class Resolution:
    """What to load instead of ``model@revision``."""

    origin: str
    """Where the weights come from, for people (meta files, ``check``, the report)."""
    revision: str | None = None
    """A hub commit of the same model."""
    folder: str | None = None
    """A local folder (weights converted to safetensors)."""


def resolution_key(name: str, revision: str | None) -> str:
    return f"{name}@{revision or 'main'}"


_cache: dict[Path, tuple[tuple[int, int], dict[str, Resolution]]] = {}


def read_resolutions(root: Path) -> dict[str, Resolution]:
    """The recorded resolutions (read once per change of the file)."""
    path = root / RESOLUTIONS_FILE
    try:
        info = path.stat()
    except OSError:
        return {}
    stamp = (info.st_mtime_ns, info.st_size)
    cached = _cache.get(path)
    if cached and cached[0] == stamp:
        return cached[1]
    found: dict[str, Resolution] = {}
    for key, value in (read_json_object(path) or {}).items():
        if isinstance(value, dict) and isinstance(value.get("origin"), str):
            found[key] = Resolution(value["origin"], value.get("revision"), value.get("folder"))
    _cache[path] = (stamp, found)
    return found


def record_resolution(root: Path, key: str, resolution: Resolution | None) -> None:
    """Record (or, with None, forget) what to use for ``key``."""
    current: dict[str, Any] = {k: asdict(v) for k, v in read_resolutions(root).items()}
    if resolution is None:
        if key not in current:
            return
        del current[key]
    else:
        current[key] = asdict(resolution)
    atomic_write_json(root / RESOLUTIONS_FILE, current)


def effective_spec(spec: ModelSpec) -> ModelSpec:
    """``spec``, or what ``fetch`` recorded to use instead of it."""
    if spec.is_local:
        return spec
    found = read_resolutions(summarizer_cache(spec.cache_dir)).get(resolution_key(spec.name, spec.revision))
    if found is None:
        return spec
    if found.folder:
        return replace(spec, name=found.folder, revision=None, origin=found.origin)
    return replace(spec, revision=found.revision, origin=found.origin)
