"""``summarizer fetch``: download the configured models for offline runs.

Only safetensors weights, tokenizer and config files are downloaded, at the
configured revision, into the Hugging Face cache (or ``hub.cache_dir``). When a
revision holds only pickle weights, the hub's safetensors conversion (an open
pull request by the conversion bot) is looked up and the revision to pin is
printed. The hub is reached through a small client interface so tests can use
a fake one.
"""

from __future__ import annotations

import logging
import socket
from dataclasses import dataclass
from typing import Any, Iterable, Protocol
from urllib.parse import urlparse

from .config import JobConfig

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
    commit: str | None = None
    """The commit the revision resolved to."""
    path: str | None = None
    """Where the files are (cache snapshot folder or local folder)."""
    problem: str | None = None
    """Why the model could not be fetched."""
    unreachable: bool = False
    """The problem is the hub itself (network, outage), not the configuration."""

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
    """Download every configured hub model; local folders are only reported."""
    from .routing import configured_uses

    results = []
    for key, use in configured_uses(config):
        spec = use.spec
        if spec.is_local:
            results.append(FetchResult(key, spec.name, None, path=spec.name))
            continue
        try:
            client = client or default_client()
        except HubUnreachable as exc:
            problem = f"cannot reach the hub: {exc}"
            results.append(FetchResult(key, spec.name, spec.revision, problem=problem, unreachable=True))
            continue
        results.append(_fetch_one(client, key, spec, config))
    return results


def _fetch_one(client: HubClient, key: str, spec: Any, config: JobConfig) -> FetchResult:
    model, revision = spec.name, spec.revision
    result = FetchResult(key, model, revision)
    try:
        files = client.list_repo_files(model, revision=revision)
        patterns = SUPPORT_PATTERNS + SAFETENSORS_PATTERNS
        if not any(name.endswith(".safetensors") for name in files):
            has_pickle = any(name.endswith(".bin") for name in files)
            if not (has_pickle and spec.allow_pickle):
                result.problem = _no_safetensors_message(client, key, model, revision)
                return result
            patterns = SUPPORT_PATTERNS + PICKLE_PATTERNS
        result.commit = client.model_info(model, revision=revision).sha
        result.path = client.snapshot_download(
            model,
            revision=revision,
            allow_patterns=patterns,
            cache_dir=str(config.hub.cache_dir) if config.hub.cache_dir else None,
        )
    except Exception as exc:  # noqa: BLE001 - hub and network errors, reported per model
        result.problem, result.unreachable = _describe_hub_error(exc)
    return result


def revision_key(model_key: str) -> str:
    """``summarization.model`` -> ``summarization.revision``; ``translation.models.de`` ->
    ``translation.models.de.revision``."""
    return model_key[: -len(".model")] + ".revision" if model_key.endswith(".model") else f"{model_key}.revision"


def _allow_pickle_key(model_key: str) -> str:
    return revision_key(model_key)[: -len("revision")] + "allow_pickle_weights"


def _no_safetensors_message(client: HubClient, key: str, model: str, revision: str | None) -> str:
    where = revision or "main"
    found = find_safetensors_conversion(client, model)
    if found is None:
        return (
            f"{model}@{where} has only pickle weights (.bin) and no safetensors conversion was "
            f"found on the hub; convert the weights yourself and use a local folder, or set "
            f"{_allow_pickle_key(key)}: true if you trust this model"
        )
    number, commit = found
    return (
        f"{model}@{where} has only pickle weights (.bin); the hub's safetensors conversion is "
        f"pull request #{number}: set {revision_key(key)}: {commit}  (refs/pr/{number})"
    )


def find_safetensors_conversion(client: HubClient, model: str) -> tuple[int, str] | None:
    """(PR number, commit) of an open pull request that adds safetensors weights, if any."""
    discussions = client.get_repo_discussions(
        model, discussion_type="pull_request", discussion_status="open"
    )
    for discussion in discussions:
        if "safetensors" not in discussion.title.lower():
            continue
        ref = f"refs/pr/{discussion.num}"
        if any(name.endswith(".safetensors") for name in client.list_repo_files(model, revision=ref)):
            return discussion.num, client.model_info(model, revision=ref).sha
    return None


def _describe_hub_error(exc: Exception) -> tuple[str, bool]:
    name = type(exc).__name__
    detail = " ".join(str(exc).split())[:200]
    if name == "RepositoryNotFoundError":
        return "no such model on the hub (check the name, or log in for a private model)", False
    if name == "RevisionNotFoundError":
        return "this revision does not exist on the hub", False
    if name == "GatedRepoError":
        return "the model is gated: accept its terms on the hub and log in", False
    return f"cannot reach the hub ({name}: {detail})", True
