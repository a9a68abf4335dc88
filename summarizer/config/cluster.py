"""The ``ray`` section: running the job on a Ray cluster (``runtime.executor: ray``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .checks import at_least_one, at_most, check, not_negative


def _ray_address(value: Any) -> str | None:
    if value is None or value in ("auto", "local") or value.startswith("ray://") or ":" in value:
        return None
    return "must be 'auto', 'local', 'HOST:PORT' or 'ray://HOST:PORT'"


@dataclass(frozen=True)
class RayConfig:
    """How the job runs on Ray (needs the ``ray`` extra). None of these settings
    changes what is written: a Ray run and a local run produce the same files."""

    address: str | None = field(default=None, metadata=check(_ray_address))
    """The cluster to join: ``auto`` (the cluster this machine belongs to, started
    with ``ray start``, or ``$RAY_ADDRESS``), ``HOST:PORT``, or ``ray://HOST:10001``
    (Ray Client), or ``local`` (a private Ray on this machine for the length of
    the run). Empty: ``$RAY_ADDRESS`` if set, else ``local``. ``--ray-address``
    replaces it."""

    summarization_actors: int = field(default=1, metadata=check(at_least_one, at_most(10_000)))
    """Workers (Ray actors) that summarise; each loads the summarisation models once."""

    translation_actors: int = field(default=1, metadata=check(at_least_one, at_most(10_000)))
    """Workers (Ray actors) that translate; each loads the translation models once."""

    cpus_per_actor: float = field(default=1.0, metadata=check(not_negative, at_most(1024)))
    """CPU cores reserved by each worker; also its torch thread count when
    ``runtime.threads`` is empty."""

    gpus_per_actor: float = field(default=0.0, metadata=check(not_negative, at_most(64)))
    """GPUs reserved by each worker (e.g. 1, or 0.5 to put two workers on one GPU);
    the cluster needs (summarization_actors + translation_actors) x this many. With
    ``runtime.device: auto`` a worker that reserved a GPU uses it; one that
    reserved none sees no GPU."""

    batch_articles: int = field(default=8, metadata=check(at_least_one, at_most(100_000)))
    """Articles a worker takes at a time. Larger batches sort more segments by
    length together; smaller ones spread a small night across more workers."""

    max_retries: int = field(default=3, metadata=check(not_negative, at_most(100)))
    """Times a crashed worker is restarted and its batch retried. Articles of a batch
    that still fails are recorded as failed (and retried by the next run)."""
