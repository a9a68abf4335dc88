"""Naming, placing and loading models: specs, device and dtype, load errors that say what to do."""

from __future__ import annotations

import logging
import os
import re
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Callable, Literal

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
    allow_pickle: bool = False
    """Accept pickle weights when there are no safetensors."""
    convert_pickle: bool = False
    """``fetch`` may convert pickle weights to safetensors when the hub has none."""
    cache_dir: str | None = None
    """Hub cache folder; None: the Hugging Face default."""
    origin: str | None = None
    """Where the weights come from when ``fetch`` had to fall back from the configured
    revision (a conversion pull request, the main branch, a local conversion)."""

    @property
    def is_local(self) -> bool:
        """True for a local folder."""
        return Path(self.name).is_absolute()

    def label(self) -> str:
        """``name@revision`` for messages."""
        return self.name if self.is_local or not self.revision else f"{self.name}@{self.revision}"


def is_gguf_spec(spec: ModelSpec) -> bool:
    """Whether ``spec`` names a local GGUF file (``models.gguf``)."""
    from ..config import is_gguf_model

    return spec.is_local and is_gguf_model(spec.name)


Role = Literal["summarization", "translation"]


@dataclass(frozen=True)
class FramingChoice:
    """What the config says about how inputs are framed for one model entry; None: what
    the model's family calls for (``models.families`` decides, and checks these)."""

    source_code: str | None = None
    """The model's token for the source language (e.g. ``fra_Latn``)."""
    target_code: str | None = None
    """The model's token for the target language (e.g. ``eng_Latn``, ``<2en>``, ``>>eng<<``)."""
    prefix: str | None = None
    """Text put before every input (a T5 task prefix); ``""``: none."""
    entry: str | None = None
    """The config key of the model entry these come from (``translation.models.de``), which
    messages about its framing name (one engine may serve several entries)."""
    system: str | None = None
    """An instruct model's system message (``<section>.prompt.system``; ``""``: none)."""
    user: str | None = None
    """An instruct model's user message, with ``{text}`` (``<section>.prompt.user``)."""
    template: str | None = None
    """A plain prompt, with ``{text}``, fed instead of any chat template."""

    def settings(self) -> dict[str, str]:
        """The values the config gives (for fingerprints and messages)."""
        values = {
            "source_code": self.source_code,
            "target_code": self.target_code,
            "prefix": self.prefix,
            "system": self.system,
            "user": self.user,
            "template": self.template,
        }
        return {key: value for key, value in values.items() if value is not None}


@dataclass(frozen=True)
class ModelUse:
    """A model in a role, with the generation settings it runs with (``routing`` decides which)."""

    role: Role
    spec: ModelSpec
    generation: tuple[tuple[str, Any], ...] = ()
    """Section settings merged with the model's own, as sorted pairs (hashable)."""
    framing: FramingChoice = FramingChoice()
    """The config entry's framing overrides (they travel with each request)."""

    def label(self) -> str:
        """``name@revision``."""
        return self.spec.label()

    @property
    def engine_key(self) -> tuple[Any, ...]:
        """What makes an engine: uses that differ only in the config entry naming them (one
        model for ``fr``, ``de`` and ``it``) or in their framing share one loaded engine."""
        return (self.role, replace(self.spec, config_key=""), self.generation)


def setting_key(model_key: str, name: str) -> str:
    """The config key of a model entry's setting ``name``: ``summarization.model`` ->
    ``summarization.<name>``; ``translation.models.de`` -> ``translation.models.de.<name>``."""
    prefix = model_key[: -len("model")] if model_key.endswith(".model") else f"{model_key}."
    return prefix + name


def hub_cache(cache_dir: str | os.PathLike[str] | None) -> Path:
    """The folder hub models are cached in (``hub.cache_dir``, else HF_HUB_CACHE)."""
    if cache_dir:
        return Path(cache_dir)
    from huggingface_hub import constants

    return Path(constants.HF_HUB_CACHE)


def summarizer_cache(cache_dir: str | os.PathLike[str] | None) -> Path:
    """The job's own cache folder: ``summarizer`` in ``hub.cache_dir``, else in HF_HOME."""
    if cache_dir:
        return Path(cache_dir) / "summarizer"
    from huggingface_hub import constants

    return Path(constants.HF_HOME) / "summarizer"


def gguf_conversion(spec: ModelSpec, *, convert: bool = False) -> Path:
    """The folder holding the conversion of ``spec``'s GGUF file, checked against its
    manifest; with ``convert``, made now when missing or not matching it (``fetch``), else
    ModelLoadError saying to run ``fetch``. Staging folders killed conversions left in the
    cache are removed either way."""
    from .conversion import conversion_problem, remove_stale_staging
    from .gguf import conversion_folder, converted

    path, root = Path(spec.name), summarizer_cache(spec.cache_dir)
    where = f"{spec.config_key}: {spec.name}"
    if convert:
        return converted(path, root, where)
    if not path.is_file():
        raise ModelLoadError(f"{where}: the GGUF file does not exist (or is not a file)")
    folder = conversion_folder(path, root)
    remove_stale_staging(folder.parent)
    if not folder.is_dir():
        raise ModelLoadError(
            f"{where}: not converted from GGUF yet; run `summarizer fetch -c CONFIG` once (it "
            "converts the file to safetensors in the job's cache; no network needed)"
        )
    problem = conversion_problem(folder)
    if problem is not None:
        raise ModelLoadError(
            f"{where}: its conversion {folder} {problem}; run `summarizer fetch -c CONFIG`, which "
            "converts the file again (no network needed)"
        )
    return folder


def conversion_sha256(spec: ModelSpec) -> str | None:
    """The digest of the conversion ``spec`` loads (its manifest's SHA-256: every file's name,
    size and hash), for meta files: a GGUF file's conversion, or a local folder ``fetch``
    converted; None for other models, or when it cannot be found."""
    from .conversion import conversion_digest

    if not spec.is_local:
        return None
    try:
        return conversion_digest(gguf_conversion(spec) if is_gguf_spec(spec) else Path(spec.name))
    except ModelLoadError:
        return None


def revision_owner(spec: ModelSpec) -> str | None:
    """The other model ``spec.revision`` belongs to, when it provably belongs to another:
    the revision pinned for that model (``KNOWN_SAFETENSORS_REVISIONS``), or a commit the
    local cache holds for that model and not for this one. A commit hash names one
    repository's commit, so a model left with its predecessor's ``revision:`` line is found."""
    from ..config.defaults import KNOWN_SAFETENSORS_REVISIONS

    revision = spec.revision
    if spec.is_local or not revision:
        return None
    for model, pinned in KNOWN_SAFETENSORS_REVISIONS.items():
        if pinned == revision and model != spec.name:
            return model
    if not re.fullmatch(r"[0-9a-f]{40}", revision):
        return None  # a branch or tag name can exist in many repositories
    cache = hub_cache(spec.cache_dir)
    own = cache / f"models--{spec.name.replace('/', '--')}" / "snapshots" / revision
    if own.is_dir():
        return None
    try:
        holders = [folder for folder in cache.glob(f"models--*/snapshots/{revision}") if folder.is_dir()]
    except OSError:
        return None
    return holders[0].parents[1].name[len("models--") :].replace("--", "/") if holders else None


def foreign_revision_message(spec: ModelSpec, owner: str) -> str:
    """What to change when ``spec.revision`` is ``owner``'s."""
    key = setting_key(spec.config_key, "revision")
    return (
        f"{key}: {spec.revision} is a revision of {owner}, not of {spec.name} (the line was left "
        f"from an earlier model?); delete the {key} line, or set it to a commit of {spec.name}, "
        "then run `summarizer fetch`"
    )


def from_pretrained(
    spec: ModelSpec, loader: Callable[..., Any], *, allow_download: bool = False, **extra: Any
) -> Any:
    """Call a transformers ``from_pretrained`` for ``spec``.

    Remote code is never trusted. Hub models come from the local cache; only
    with ``allow_download`` is the hub asked for what the cache lacks. Failures
    become a ModelLoadError that says what to do.
    """
    kwargs: dict[str, Any] = {"trust_remote_code": False, **extra}
    if is_gguf_spec(spec):
        return from_pretrained(replace(spec, name=str(gguf_conversion(spec))), loader, **extra)
    if not spec.is_local:
        if spec.revision:
            kwargs["revision"] = spec.revision
        if spec.cache_dir:
            kwargs["cache_dir"] = spec.cache_dir
    try:
        if spec.is_local:
            return loader(spec.name, **kwargs)
        try:
            return loader(spec.name, **kwargs, local_files_only=True)
        except OSError as exc:
            if not allow_download or _is_missing_safetensors(exc):
                raise ModelLoadError(explain_load_error(spec, exc, offline=True)) from exc
            logger.info("downloading %s", spec.label())
        return loader(spec.name, **kwargs)
    except ModelLoadError:
        raise
    except Exception as exc:  # noqa: BLE001 - transformers raises many kinds for a bad folder
        raise ModelLoadError(explain_load_error(spec, exc)) from exc


def _is_missing_safetensors(exc: BaseException) -> bool:
    text = " ".join(str(exc).split()).lower()
    return "safetensors" in text and ("no file named" in text or "does not appear" in text)


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


def explain_load_error(spec: ModelSpec, exc: BaseException, *, offline: bool = False) -> str:
    """A one-line message saying why ``spec`` could not be loaded and what to do.

    ``offline``: the load was limited to local files.
    """
    detail = " ".join(str(exc).split())
    lowered = detail.lower()
    where = f"{spec.config_key}: {spec.label()}"
    if _is_missing_safetensors(exc):
        return (
            f"{where}: no safetensors weights at this revision (pickle .bin weights are refused). "
            "Many hub models keep only .bin on their main branch while the hub's safetensors "
            "conversion waits in a pull request: `summarizer fetch` finds it and says which "
            "revision to pin (or open the model page's 'Community' tab, find the 'Adding "
            "`safetensors` variant' PR and pin `revision: refs/pr/N`); or convert the weights "
            "yourself and point the config at that local folder"
        )
    if offline:
        return (
            f"{where}: not available locally (runs never download). Run "
            "`summarizer fetch -c CONFIG` where the hub can be reached, or point "
            f"{spec.config_key} at a local folder holding the model"
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
    if isinstance(exc, ImportError):
        return f"{where}: a package the model needs is missing ({detail[:200]}); reinstall summarizer"
    return (
        f"{where}: cannot load the model or its tokenizer ({type(exc).__name__}: {detail[:300]}); "
        "check that the folder holds every file `save_pretrained` wrote (config.json, weights, "
        "tokenizer files such as tokenizer.json, spiece.model, source.spm/target.spm/vocab.json)"
    )


_SAFETENSORS_FILES = ("model.safetensors", "model.safetensors.index.json")
_PICKLE_FILES = ("pytorch_model.bin", "pytorch_model.bin.index.json")


def locate_model(spec: ModelSpec) -> tuple[Path, str | None]:
    """The local folder holding ``spec`` and, for hub models, the cached commit.

    Never downloads. ModelLoadError says what is missing and what to do.
    """
    where = f"{spec.config_key}: {spec.label()}"
    if is_gguf_spec(spec):
        folder, commit = gguf_conversion(spec), None
    elif spec.is_local:
        folder, commit = Path(spec.name), None
        _require_intact_conversion(folder, where)
    else:
        from huggingface_hub import snapshot_download

        try:
            folder = Path(
                snapshot_download(
                    spec.name,
                    revision=spec.revision,
                    cache_dir=spec.cache_dir,
                    local_files_only=True,
                )
            )
        except Exception as exc:  # noqa: BLE001 - any miss in the cache means "fetch it"
            owner = revision_owner(spec)
            if owner is not None:
                raise ModelLoadError(foreign_revision_message(spec, owner)) from None
            raise ModelLoadError(explain_load_error(spec, exc, offline=True)) from None
        commit = folder.name
    if not (folder / "config.json").is_file():
        raise ModelLoadError(f"{where}: no config.json in {folder}; not a transformers model folder")
    if not any((folder / name).is_file() for name in _SAFETENSORS_FILES):
        has_pickle = any((folder / name).is_file() for name in _PICKLE_FILES)
        if not (has_pickle and spec.allow_pickle):
            problem = OSError(f"no file named model.safetensors found in {folder}")
            raise ModelLoadError(
                explain_load_error(spec, problem)
                if has_pickle
                else f"{where}: no model weights in {folder}; run `summarizer fetch -c CONFIG`"
            )
    return folder, commit


def _require_intact_conversion(folder: Path, where: str) -> None:
    """ModelLoadError when ``folder`` is a conversion ``fetch`` made (it holds a manifest)
    whose files no longer match it."""
    from .conversion import MANIFEST_FILE, conversion_problem

    if not (folder / MANIFEST_FILE).is_file():
        return
    problem = conversion_problem(folder)
    if problem is not None:
        raise ModelLoadError(
            f"{where}: its conversion {folder} {problem}; run `summarizer fetch -c CONFIG`, which converts it again"
        )


def release_memory() -> None:
    """Give freed memory back to the system between stages.

    After a stage, PyTorch's freed tensors stay in the C allocator's arenas; the
    next stage (another model) would then peak on top of them. Where the C
    library is glibc, ``malloc_trim`` returns them (measured: -215 MB after a
    BART-base summarisation stage).
    """
    import ctypes
    import ctypes.util
    import gc

    gc.collect()
    name = ctypes.util.find_library("c")
    if not name:
        return
    try:
        trim = ctypes.CDLL(name).malloc_trim
    except (OSError, AttributeError):  # not glibc
        return
    trim(0)


def model_config_json(folder: Path) -> dict[str, Any]:
    """A model folder's ``config.json`` as a dict ({} when unreadable), read through the
    hub cache's links to its blobs."""
    from ..io.files import read_json_object

    return read_json_object(folder / "config.json", follow=True) or {}
