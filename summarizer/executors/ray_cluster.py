"""Joining a Ray cluster for a run: checks, quiet logs, signal handlers kept."""

from __future__ import annotations

import logging
import os
import signal
import socket
import threading
from typing import Any

from ..config import JobConfig
from ..errors import ConfigError, ServiceUnavailableError

logger = logging.getLogger(__name__)


def require_ray(config: JobConfig) -> Any:
    """The ``ray`` module, or ConfigError saying how to install it."""
    # Ray joins or starts a cluster by itself when any of its APIs is called without
    # one (a stopped run's abandoned threads would start a new one): only explicitly.
    os.environ.setdefault("RAY_ENABLE_AUTO_CONNECT", "0")
    try:
        import ray
        import ray.data  # noqa: F401
    except ImportError as exc:
        raise ConfigError(
            f"{config.source or 'config'}: runtime.executor: 'ray' needs Ray Data, which is not "
            f"installed ({exc}); install it with: pip install 'summarizer[ray]'"
        ) from None
    return ray


class RayConnection:
    """Joins the configured cluster (or starts a private Ray) for the length of the run.

    Unless debug logging is on, Ray is kept quiet on the console (cron mails
    whatever is printed): its warnings about itself go to its own log files
    (``/tmp/ray/session_*/logs``), and workers' output is not forwarded.
    """

    def __init__(self, ray: Any, config: JobConfig, quiet: bool) -> None:
        self.ray = ray
        self.config = config
        self.quiet = quiet
        self.owned = False

    def __enter__(self) -> RayConnection:
        if self.quiet:
            set_ray_data_console_level(logging.ERROR)
        if self.ray.is_initialized():
            return self
        address = self.config.ray.address
        _require_reachable(address or os.environ.get("RAY_ADDRESS"), self.config)
        saved = _signal_handlers()
        try:
            self.ray.init(
                address=address,
                include_dashboard=False,
                logging_level=logging.ERROR if self.quiet else logging.INFO,
                log_to_driver=not self.quiet,
            )
        except Exception as exc:  # noqa: BLE001 - Ray raises many kinds; all mean "no cluster"
            where = f"at {address!r}" if address else "locally"
            raise ServiceUnavailableError(
                f"{self.config.source or 'config'}: ray.address: cannot start or join Ray {where} "
                f"({first_line(exc)}); start the cluster (ray start --head) or fix the address"
            ) from None
        finally:
            _restore(saved)  # ray.init replaces the SIGTERM handler with an immediate exit
        self.owned = True
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self.owned:
            self.ray.shutdown()


def _require_reachable(address: str | None, config: JobConfig, timeout: float = 5.0) -> None:
    """ServiceUnavailableError at once when a HOST:PORT address does not answer
    (Ray itself keeps retrying for minutes)."""
    if not address or address in ("auto", "local"):
        return
    host, _, port = address.split("://")[-1].rpartition(":")
    host = host.strip("[]")  # [::1]:6379
    if not host or not port.isdigit():
        return
    try:
        socket.create_connection((host, int(port)), timeout=timeout).close()
    except OSError as exc:
        raise ServiceUnavailableError(
            f"{config.source or 'config'}: ray.address: no Ray cluster answers at {address!r} ({exc}); "
            "start it (ray start --head) or fix the address"
        ) from None


def set_ray_data_console_level(level: int) -> None:
    """What Ray Data shows on the console (its log file keeps everything)."""
    for handler in logging.getLogger("ray.data").handlers:
        if not isinstance(handler, logging.FileHandler) and "File" not in type(handler).__name__:
            handler.setLevel(level)


def first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text.splitlines()[0]}" if text else type(exc).__name__


def _signal_handlers() -> dict[int, Any]:
    if threading.current_thread() is not threading.main_thread():
        return {}
    return {signum: signal.getsignal(signum) for signum in (signal.SIGTERM, signal.SIGINT)}


def _restore(saved: dict[int, Any]) -> None:
    for signum, handler in saved.items():
        if handler is not None:
            signal.signal(signum, handler)
