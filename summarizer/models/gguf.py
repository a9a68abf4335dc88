"""Models named as a ``.gguf`` file: converted once to safetensors, then loaded like any folder.

transformers reads GGUF files (``gguf_file=``, with the ``gguf`` and
``accelerate`` packages), dequantised to float32, but slowly: about half a minute
for a 135M model here, minutes for bigger ones. ``converted`` does that once per
file into ``<job cache>/converted/gguf-<name>-<sha256[:12]>`` (tokenizer, config,
generation config, ``model.safetensors``) with ``summarizer-source.json`` naming
the file and its SHA-256, made like every conversion (``conversion.convert_once``: under
its lock, with a manifest checked at each load); every later load reads the conversion.
A file's digest is remembered by its stamp (size, times, inode), so a night with nothing
new hashes nothing. A GGUF file holds a decoder-only model: it runs on the instruct-model
engine.
"""

from __future__ import annotations

import json
import logging
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from .._version import __version__
from ..errors import ModelLoadError, OutputWriteError
from ..io.files import file_sha256, read_json_object
from ..io.folders import atomic_write_json
from .conversion import SOURCE_FILE, convert_once, file_stamp

logger = logging.getLogger(__name__)

_DIGESTS_FILE = "gguf-digests.json"


def gguf_digest(path: Path, cache_root: Path) -> str:
    """The SHA-256 of ``path``, hashed only when its stamp changed since the last time."""
    digests_file = cache_root / _DIGESTS_FILE
    known = read_json_object(digests_file) or {}
    try:
        stamp = file_stamp(path.stat())
    except OSError as exc:
        raise ModelLoadError(f"{path}: cannot read the GGUF file ({exc.strerror or exc})") from None
    entry = known.get(str(path))
    if isinstance(entry, dict) and entry.get("stamp") == stamp and isinstance(entry.get("sha256"), str):
        return entry["sha256"]
    try:
        sha256 = file_sha256(path)
    except OSError as exc:
        raise ModelLoadError(f"{path}: cannot read the GGUF file ({exc.strerror or exc})") from None
    known[str(path)] = {"stamp": stamp, "sha256": sha256}
    try:
        cache_root.mkdir(parents=True, exist_ok=True)
        atomic_write_json(digests_file, known)
    except (OSError, OutputWriteError) as exc:  # a read-only cache: hashed again next time, nothing lost
        logger.debug("cannot remember the digest of %s: %s", path, exc)
    return sha256


def conversion_folder(path: Path, cache_root: Path) -> Path:
    """Where the conversion of the GGUF file ``path`` lives (whether it exists or not)."""
    slug = "".join(ch if ch.isalnum() or ch in "-_." else "-" for ch in path.stem)[:80]
    return cache_root / "converted" / f"gguf-{slug}-{gguf_digest(path, cache_root)[:12]}"


def converted(path: Path, cache_root: Path, where: str) -> Path:
    """The safetensors conversion of the GGUF file ``path``, made now if missing or not
    matching its manifest (``convert_once``). ``where`` names the config key in errors."""
    if not path.is_file():
        raise ModelLoadError(f"{where}: {path} does not exist (or is not a file)")
    started = time.perf_counter()

    def make(staging: Path) -> None:
        _require_packages(where)
        logger.info("converting %s to safetensors, once (this takes a while)", path.name)
        _convert(path, staging)
        source = {
            "gguf": str(path),
            "sha256": gguf_digest(path, cache_root),
            "size": path.stat().st_size,
            "converted_by": f"summarizer {__version__}",
            "converted_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        }
        (staging / SOURCE_FILE).write_text(json.dumps(source, indent=2) + "\n", encoding="utf-8")
        logger.info("converted %s in %.0fs", path.name, time.perf_counter() - started)

    try:
        return convert_once(conversion_folder(path, cache_root), make)
    except ModelLoadError:
        raise
    except Exception as exc:  # noqa: BLE001 - a broken or unsupported file, disk full
        raise ModelLoadError(
            f"{where}: {path.name} could not be converted from GGUF "
            f"({type(exc).__name__}: {' '.join(str(exc).split())[:300]})"
        ) from None


def missing_packages() -> list[str]:
    """The packages reading a GGUF file needs that are not installed."""
    import importlib.util

    return [name for name in ("gguf", "accelerate") if importlib.util.find_spec(name) is None]


def _require_packages(where: str) -> None:
    missing = missing_packages()
    if missing:
        raise ModelLoadError(
            f"{where}: reading a GGUF file needs the {' and '.join(missing)} package(s); "
            "install them with `pip install 'summarizer[gguf]'`"
        )


def _convert(path: Path, staging: Path) -> None:
    """Tokenizer and model from the GGUF, saved as a plain transformers folder."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    folder, name = str(path.parent), path.name
    tokenizer = AutoTokenizer.from_pretrained(folder, gguf_file=name, trust_remote_code=False)
    model: Any = AutoModelForCausalLM.from_pretrained(folder, gguf_file=name, trust_remote_code=False)
    # The weights are dequantised already; the GGUF "quantizer" only stops save_pretrained.
    model.hf_quantizer = None
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    model.save_pretrained(str(staging), safe_serialization=True)
    tokenizer.save_pretrained(str(staging))
