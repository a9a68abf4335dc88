"""Converting a model's pickle weights to safetensors, once, for ``fetch``.

The pickle (``pytorch_model.bin``) is read with torch's restricted loader
(``weights_only=True``: tensors and plain containers only, no code runs; safe
on torch 2.10 and later, which the package requires), the model is saved as
``model.safetensors`` with its config, generation config and tokenizer files
into a folder of the job's cache, and ``summarizer-source.json`` there says
which repository and commit the weights came from. Runs only ever load the
safetensors.
"""

from __future__ import annotations

import json
import os
import shutil
from datetime import datetime, timezone
from pathlib import Path

from .._version import __version__
from ..errors import ModelLoadError

SOURCE_FILE = "summarizer-source.json"
_WEIGHT_SUFFIXES = (".bin", ".safetensors", ".h5", ".msgpack", ".ckpt", ".pt", ".pth")


def converted_folder(root: Path, model: str, commit: str) -> Path:
    """Where the conversion of ``model@commit`` lives under the job's cache ``root``."""
    slug = "".join(ch if ch.isalnum() or ch in "-_." else "-" for ch in model)
    return root / "converted" / f"{slug}-{commit[:12]}"


def convert_pickle_weights(snapshot: Path, target: Path, model: str, commit: str) -> Path:
    """The safetensors conversion of the pickle checkpoint in ``snapshot``, made once
    into ``target`` (atomically: a half-made folder is never left under that name)."""
    if (target / "model.safetensors").is_file() and (target / SOURCE_FILE).is_file():
        return target
    from transformers import AutoModelForSeq2SeqLM

    staging = target.with_name(f".{target.name}.{os.getpid()}.converting")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    try:
        for entry in snapshot.iterdir():  # tokenizer and config files, not the weights
            if entry.is_file() and not entry.name.endswith(_WEIGHT_SUFFIXES) and "pytorch_model" not in entry.name:
                shutil.copyfile(entry, staging / entry.name)
        model_object = AutoModelForSeq2SeqLM.from_pretrained(
            str(snapshot), use_safetensors=False, weights_only=True, trust_remote_code=False
        )
        model_object.save_pretrained(str(staging), safe_serialization=True)
        source = {
            "repo": model,
            "commit": commit,
            "converted_from": sorted(p.name for p in snapshot.iterdir() if p.name.startswith("pytorch_model")),
            "converted_by": f"summarizer {__version__}",
            "converted_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        }
        (staging / SOURCE_FILE).write_text(json.dumps(source, indent=2) + "\n", encoding="utf-8")
        shutil.rmtree(target, ignore_errors=True)
        os.replace(staging, target)
    except Exception as exc:  # noqa: BLE001 - unpickling refused, a broken checkpoint, disk full
        shutil.rmtree(staging, ignore_errors=True)
        raise ModelLoadError(
            f"{model}@{commit}: its pickle weights could not be converted to safetensors "
            f"({type(exc).__name__}: {' '.join(str(exc).split())[:300]})"
        ) from None
    return target
