"""``summarizer fetch``: get the configured models for offline runs, whatever state the hub is in.

Only safetensors weights, tokenizer and config files are downloaded, into the
Hugging Face cache (or ``hub.cache_dir``). The configured revision is tried
first; when the hub says it does not exist, or it holds only pickle weights,
``fetch`` says so and falls back, in order, to: the open safetensors conversion
pull request; the main branch, if it now has safetensors; a local conversion of
the pickle weights (only when ``convert_pickle_weights`` allows it). What it
used is recorded (``models.resolution``) so that runs use it too, and the line
to pin in the config is printed. The hub is reached through a small client
interface so tests can use a fake one.
"""

from __future__ import annotations

import logging
import socket
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Protocol
from urllib.parse import urlparse

from .config import JobConfig
from .models.conversion import convert_pickle_weights, converted_folder
from .errors import ConfigError, ModelLoadError
from .models.loading import (
    ModelSpec,
    foreign_revision_message,
    gguf_conversion,
    is_gguf_spec,
    locate_model,
    revision_owner,
    setting_key,
)
from .models.resolution import Resolution, effective_spec, record_resolution, resolution_key, summarizer_cache

logger = logging.getLogger(__name__)

SAFETENSORS_PATTERNS = ["*.safetensors", "*.safetensors.index.json"]
PICKLE_PATTERNS = ["pytorch_model*.bin", "pytorch_model.bin.index.json"]
SUPPORT_PATTERNS = ["*.json", "*.model", "*.spm", "*.txt", "*.tiktoken"]
"""Config, generation config and tokenizer files (vocab, merges, sentencepiece)."""


class HubClient(Protocol):
    """The part of ``huggingface_hub.HfApi`` that ``fetch`` uses."""

    def list_repo_files(self, repo_id: str, *, revision: str | None = None) -> list[str]: ...

    def model_info(self, repo_id: str, *, revision: str | None = None) -> Any: ...

    def get_repo_discussions(
        self, repo_id: str, *, discussion_type: str, discussion_status: str
    ) -> Iterable[Any]: ...

    def snapshot_download(self, repo_id: str, **kwargs: Any) -> str: ...


@dataclass
class FetchResult:
    """What ``fetch`` did for one configured model."""

    config_key: str
    model: str
    revision: str | None
    """The configured revision."""
    commit: str | None = None
    """The commit whose files were used."""
    path: str | None = None
    """Where the files are (cache snapshot, converted folder, or local folder)."""
    used: str | None = None
    """What was used, in words."""
    pin: str | None = None
    """The config line that makes the config name what was used, when it does not yet."""
    notes: list[str] = field(default_factory=list)
    """Why the configured revision could not be used as it is."""
    problem: str | None = None
    """Why the model could not be fetched."""
    unreachable: bool = False
    """The problem is the hub itself (network, outage), not the configuration."""
    ctranslate2: str | None = None
    """Where its CTranslate2 conversion is (or why there is none), when the runs give it to CTranslate2."""

    @property
    def ok(self) -> bool:
        return self.problem is None


class HubUnreachable(Exception):
    """The hub cannot be reached at all (offline mode, no network)."""


def default_client() -> HubClient:
    """The real hub client, after a quick check that the hub can be reached at all
    (otherwise every call would spend most of a minute on retries)."""
    from huggingface_hub import HfApi, constants

    if constants.is_offline_mode():
        raise HubUnreachable("offline mode is on (HF_HUB_OFFLINE); unset it to fetch")
    endpoint = urlparse(constants.ENDPOINT)
    host, port = endpoint.hostname or "huggingface.co", endpoint.port or 443
    try:
        socket.create_connection((host, port), timeout=10).close()
    except OSError as exc:
        raise HubUnreachable(f"cannot connect to {host}:{port} ({exc})") from None
    return HfApi()


def fetch_models(config: JobConfig, client: HubClient | None = None) -> list[FetchResult]:
    """Get every configured hub model (as configured, not as an earlier fetch resolved
    it); local folders are only reported. A model the runs give to CTranslate2 is then
    converted for it."""
    from .routing import configured_uses

    results = []
    uses = list(configured_uses(config, resolved=False))
    for key, use in uses:
        spec = use.spec
        if is_gguf_spec(spec):
            results.append(_convert_gguf(key, spec))
            continue
        if spec.is_local:
            results.append(FetchResult(key, spec.name, None, path=spec.name, used="a local folder"))
            continue
        owner = revision_owner(spec)
        if owner is not None:
            results.append(FetchResult(key, spec.name, spec.revision, problem=foreign_revision_message(spec, owner)))
            continue
        try:
            client = client or default_client()
        except HubUnreachable as exc:
            problem = unreachable_message(key, str(exc))
            results.append(FetchResult(key, spec.name, spec.revision, problem=problem, unreachable=True))
            continue
        results.append(_fetch_one(client, key, spec))
    for result, (_, use) in zip(results, uses):
        if result.ok:
            _convert_for_ctranslate2(config, result, use.spec)
    return results


def _convert_for_ctranslate2(config: JobConfig, result: FetchResult, spec: ModelSpec) -> None:
    """A model the runs give to CTranslate2 (``runtime.engine``), converted now, so that
    ``check`` can say it loads and the first night does not convert it."""
    from .models.ct2_conversion import ensure_converted, quantization_of
    from .models.factory import engine_backend

    resolved = effective_spec(spec)
    try:
        if engine_backend(resolved, config.runtime) != "ctranslate2":
            return
        folder, _ = locate_model(resolved)
        converted = ensure_converted(folder, resolved.name, resolved.revision, quantization_of(config.runtime), result.config_key)
    except (ModelLoadError, ConfigError) as exc:
        message = str(exc).removeprefix(f"{result.config_key}: ")
        if config.runtime.engine == "auto":  # the runs give it to transformers instead
            result.ctranslate2 = f"not converted for CTranslate2 ({message}); runtime.engine: auto runs it on transformers"
        else:
            result.problem = message
        return
    result.ctranslate2 = f"converted for CTranslate2 in {converted}"


def _convert_gguf(key: str, spec: ModelSpec) -> FetchResult:
    """A GGUF file, converted to safetensors once (no network needed)."""
    try:
        folder = gguf_conversion(spec, convert=True)
    except ModelLoadError as exc:
        # the message names the key first, as a run's would; fetch prints the key itself
        return FetchResult(key, spec.name, None, problem=str(exc).removeprefix(f"{key}: "))
    return FetchResult(key, spec.name, None, path=str(folder), used="a GGUF file, converted to safetensors")


def unreachable_message(key: str, detail: str) -> str:
    """Why a model cannot be fetched when the hub cannot be reached, and both ways forward."""
    return (
        f"cannot reach the hub ({detail}). Either connect this machine and run `summarizer fetch` "
        f"again, or point {key} at a local folder holding the model (`make demo` shows the job "
        "working with small local models, no network needed)"
    )


def _fetch_one(client: HubClient, key: str, spec: ModelSpec) -> FetchResult:
    result = FetchResult(key, spec.name, spec.revision)
    root = summarizer_cache(spec.cache_dir)
    try:
        resolution = _resolve(client, spec, result)
    except Exception as exc:  # noqa: BLE001 - hub and network errors, reported per model
        result.problem, result.unreachable = _describe_hub_error(key, exc)
        return result
    if result.ok:
        record_resolution(root, resolution_key(spec.name, spec.revision), resolution)
    return result


def _files(client: HubClient, model: str, revision: str | None) -> list[str] | None:
    """The files at ``revision``; None when the hub says the revision does not exist."""
    try:
        return list(client.list_repo_files(model, revision=revision))
    except Exception as exc:
        if type(exc).__name__ == "RevisionNotFoundError":
            return None
        raise


def _has(files: Iterable[str] | None, suffix: str) -> bool:
    return any(name.endswith(suffix) for name in files or ())


def _download(client: HubClient, spec: ModelSpec, revision: str | None, patterns: list[str]) -> tuple[str, str]:
    """(commit, snapshot folder) of ``revision``'s files matching ``patterns`` (downloaded
    by the revision's name, so that the cache knows the name too)."""
    commit = client.model_info(spec.name, revision=revision).sha
    path = client.snapshot_download(
        spec.name, revision=revision, allow_patterns=SUPPORT_PATTERNS + patterns, cache_dir=spec.cache_dir
    )
    return commit, path


def _resolve(client: HubClient, spec: ModelSpec, result: FetchResult) -> Resolution | None:
    """Fill ``result``; the Resolution runs must use instead of the configured revision, if any."""
    model, revision, where = spec.name, spec.revision, spec.revision or "main"
    files = _files(client, model, revision)
    if _has(files, ".safetensors") or (_has(files, ".bin") and spec.allow_pickle):
        patterns = SAFETENSORS_PATTERNS if _has(files, ".safetensors") else PICKLE_PATTERNS
        result.commit, result.path = _download(client, spec, revision, patterns)
        result.used = f"the configured revision {where}"
        if revision != result.commit:
            result.pin = f"{revision_key(result.config_key)}: {result.commit}"
        return None
    if files is None:
        result.notes.append(f"revision {where} does not exist on the hub")
    else:
        result.notes.append(f"{model}@{where} has only pickle weights (.bin), which runs never load")
    found = find_safetensors_conversion(client, model)
    if found is not None:
        number, commit = found
        result.commit, result.path = _download(client, spec, commit, SAFETENSORS_PATTERNS)
        result.used = f"the hub's safetensors conversion, pull request #{number} (refs/pr/{number})"
    else:
        main = files if where == "main" else _files(client, model, "main")
        if where != "main" and _has(main, ".safetensors"):
            result.commit, result.path = _download(client, spec, "main", SAFETENSORS_PATTERNS)
            result.used = "the main branch, which has safetensors weights"
        else:
            source = revision if _has(files, ".bin") else "main"
            if not _has(files if source == revision else main, ".bin"):
                result.problem = f"{model} has no safetensors or pickle weights on the hub ({where} nor main)"
                return None
            if not spec.convert_pickle:
                result.problem = _conversion_refused(result.config_key, model)
                return None
            return _converted(client, spec, source, result)
    result.pin = f"{revision_key(result.config_key)}: {result.commit}"
    return Resolution(f"{result.used} = commit {result.commit}", revision=result.commit)


def _converted(client: HubClient, spec: ModelSpec, source: str | None, result: FetchResult) -> Resolution:
    commit = client.model_info(spec.name, revision=source).sha
    _, snapshot = _download(client, spec, commit, PICKLE_PATTERNS)
    target = converted_folder(summarizer_cache(spec.cache_dir), spec.name, commit)
    folder = convert_pickle_weights(Path(snapshot), target, spec.name, commit)
    result.commit, result.path = commit, str(folder)
    result.used = f"its pickle weights at commit {commit}, converted to safetensors here"
    result.pin = f"{result.config_key}: {folder} (and remove {revision_key(result.config_key)}: a folder has no revisions)"
    return Resolution(f"converted from the pickle weights of {spec.name}@{commit}", folder=str(folder))


def _conversion_refused(key: str, model: str) -> str:
    return (
        f"{model}: the hub has no safetensors weights for it (no conversion pull request, none on "
        f"the main branch), only pickle weights. Set {setting_key(key, 'convert_pickle_weights')}: "
        "true to let fetch convert them (they are read with torch's restricted loader, which runs "
        "no code), or convert them yourself and point the config at that local folder"
    )


def revision_key(model_key: str) -> str:
    """``summarization.model`` -> ``summarization.revision``; ``translation.models.de`` ->
    ``translation.models.de.revision``."""
    return setting_key(model_key, "revision")


def find_safetensors_conversion(client: HubClient, model: str) -> tuple[int, str] | None:
    """(PR number, commit) of an open pull request that adds safetensors weights, if any."""
    discussions = client.get_repo_discussions(
        model, discussion_type="pull_request", discussion_status="open"
    )
    for discussion in discussions:
        if "safetensors" not in discussion.title.lower():
            continue
        ref = f"refs/pr/{discussion.num}"
        if _has(_files(client, model, ref), ".safetensors"):
            return discussion.num, client.model_info(model, revision=ref).sha
    return None


def _describe_hub_error(key: str, exc: Exception) -> tuple[str, bool]:
    name = type(exc).__name__
    detail = " ".join(str(exc).split())[:200]
    if name == "ModelLoadError":
        return detail, False
    if name == "RepositoryNotFoundError":
        return "no such model on the hub (check the name, or log in for a private model)", False
    if name == "GatedRepoError":
        return "the model is gated: accept its terms on the hub and log in", False
    return unreachable_message(key, f"{name}: {detail}"), True
