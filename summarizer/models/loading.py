"""Naming, placing and loading models: specs, device and dtype, load errors that say what to do."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from ..errors import ConfigError, ModelLoadError

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ModelSpec:
    """Which model to load and the config key that named it (for messages)."""

    name: str
    """Hub id, or absolute path of a local folder."""
    revision: str | None = None
    """Hub revision; not used for local folders."""
    max_input_tokens: int | None = None
    """Overrides the model's own input limit."""
    config_key: str = "model"
    """Dotted config key, e.g. ``translation.model``, used in error messages."""

    @property
    def is_local(self) -> bool:
        """True for a local folder."""
        return Path(self.name).is_absolute()

    def label(self) -> str:
        """``name@revision`` for messages."""
        return self.name if self.is_local or not self.revision else f"{self.name}@{self.revision}"


def from_pretrained(spec: ModelSpec, loader: Callable[..., Any], **extra: Any) -> Any:
    """Call a transformers ``from_pretrained`` for ``spec``: remote code never trusted,
    the local cache tried before the hub; failures become a ModelLoadError that says what to do."""
    kwargs: dict[str, Any] = {"trust_remote_code": False, **extra}
    if not spec.is_local and spec.revision:
        kwargs["revision"] = spec.revision
    try:
        if not spec.is_local:
            try:
                return loader(spec.name, **kwargs, local_files_only=True)
            except OSError:
                logger.debug("%s is not complete in the local cache", spec.label())
        return loader(spec.name, **kwargs)
    except (OSError, ValueError, ImportError, KeyError) as exc:
        raise ModelLoadError(explain_load_error(spec, exc)) from exc


def resolve_device(requested: str) -> Any:
    """The torch device for ``auto|cpu|cuda``; ConfigError if CUDA is asked for but absent."""
    import torch

    if requested == "cuda" and not torch.cuda.is_available():
        raise ConfigError("runtime.device: 'cuda' was requested but torch sees no CUDA device")
    if requested == "auto":
        requested = "cuda" if torch.cuda.is_available() else "cpu"
    return torch.device(requested)


def resolve_dtype(requested: str, device: Any) -> Any:
    """The torch dtype: ``auto`` is float32 on CPU, bfloat16 on CUDA where supported, else float16."""
    import torch

    if requested == "auto":
        if device.type != "cuda":
            return torch.float32
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    return getattr(torch, requested)


def explain_load_error(spec: ModelSpec, exc: BaseException) -> str:
    """A one-line message saying why ``spec`` could not be loaded and what to do."""
    detail = " ".join(str(exc).split())
    lowered = detail.lower()
    where = f"{spec.config_key}: {spec.label()}"
    if "safetensors" in lowered and ("no file named" in lowered or "does not appear" in lowered):
        return (
            f"{where}: no safetensors weights at this revision (pickle .bin weights are refused). "
            "Many hub models keep only .bin on their main branch while the hub's safetensors "
            "conversion waits in a pull request: open the model page's 'Community' tab, find the "
            "'Adding `safetensors` variant' PR and pin `revision: refs/pr/N` (or its commit hash); "
            "or convert the weights yourself and point the config at that local folder"
        )
    if "couldn't connect" in lowered or "offline" in lowered or "connection" in lowered:
        return (
            f"{where}: not in the local Hugging Face cache and the hub cannot be reached. "
            "Run once with network access to download it, or point the config at a local folder "
            "holding the model"
        )
    if "revision" in lowered and ("not found" in lowered or "invalid" in lowered):
        return f"{where}: revision not found on the hub; check the revision value ({detail[:200]})"
    if "not a valid model identifier" in lowered or "repository not found" in lowered:
        return f"{where}: no such model on the hub (check the name, or log in for a private model)"
    if "unrecognized configuration class" in lowered:
        return f"{where}: not a sequence-to-sequence (encoder-decoder) model"
    if isinstance(exc, ImportError) or "sentencepiece" in lowered or "protobuf" in lowered:
        return f"{where}: tokenizer needs a missing package ({detail[:200]}); reinstall summarizer"
    return f"{where}: cannot load model ({detail[:300]})"
