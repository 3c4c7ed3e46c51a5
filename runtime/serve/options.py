"""The server's settings and limits, checked once before anything starts."""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, fields

__all__ = ["API_KEY_ENV", "MAX_TOKENS", "ServeOptions", "ServeOptionsError", "api_key_from_env"]

API_KEY_ENV = "PREFC_SERVE_API_KEY"
"""Environment variable holding the API key clients must send (``--api-key`` overrides it)."""

MAX_TOKENS = 4096
"""Largest ``max_tokens`` a request may ask for."""


class ServeOptionsError(ValueError):
    """A setting out of its range (the message names the setting and the range)."""


@dataclass(frozen=True, kw_only=True)
class ServeOptions:
    """How ``prefc serve`` listens, batches and protects itself.

    Attributes:
        host: Interface to bind (loopback by default).
        port: TCP port; 0 picks a free one.
        model_name: The model id clients must send (default: the agent's name).
        api_key: If set, every ``/v1`` request must carry ``Authorization: Bearer <api_key>``.
            Never logged or echoed.
        max_batch: Most requests answered in one ``agent.respond`` call.
        batch_window: Seconds the agent thread waits for more requests to join a batch; 0 takes
            the requests already waiting (while the agent works, the next batch gathers).
        max_pending: Requests accepted but not yet answered (queued or being answered); more get
            HTTP 503 with ``Retry-After``.
        max_connections: Open connections; a request arriving on a connection beyond this gets
            HTTP 503 and the connection is closed.
        max_body_bytes: Largest request body; larger ones get HTTP 413.
        read_timeout: Seconds a client has to send a request's headers (from the moment the
            connection opens or the previous response ends) and, separately, its body. A late
            request gets HTTP 408 and the connection is closed.
        keep_alive: Seconds an idle keep-alive connection stays open.
        request_timeout: Seconds a request may wait for the agent's answer; then HTTP 504.
        shutdown_timeout: Seconds requests in flight get to finish on SIGINT/SIGTERM; then HTTP 503.
        backlog: Listen backlog (the kernel caps it at ``net.core.somaxconn``).
    """

    host: str = "127.0.0.1"
    port: int = 8000
    model_name: str | None = None
    api_key: str | None = None
    max_batch: int = 8
    batch_window: float = 0.0
    max_pending: int = 512
    max_connections: int = 1024
    max_body_bytes: int = 1 << 20
    read_timeout: float = 10.0
    keep_alive: float = 5.0
    request_timeout: float = 300.0
    shutdown_timeout: float = 10.0
    backlog: int = 2048

    def __post_init__(self) -> None:
        ints = {
            "max_batch": (1, 4096),
            "max_pending": (1, 1_000_000),
            "max_connections": (1, 1_000_000),
            "max_body_bytes": (1024, 1 << 30),
            "backlog": (1, 65535),
            "port": (0, 65535),
        }
        for name, (low, high) in ints.items():
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
                raise ServeOptionsError(f"{name} must be an integer in [{low}, {high}], got {value!r}")
        floats = {
            "batch_window": (0.0, 10.0),
            "read_timeout": (0.05, 3600.0),
            "keep_alive": (0.05, 3600.0),
            "request_timeout": (0.05, 86400.0),
            "shutdown_timeout": (0.0, 3600.0),
        }
        for name, (lowest, highest) in floats.items():
            value = getattr(self, name)
            if (
                isinstance(value, bool)
                or not isinstance(value, int | float)
                or not math.isfinite(value)
                or not lowest <= value <= highest
            ):
                raise ServeOptionsError(
                    f"{name} must be a number of seconds in [{lowest:g}, {highest:g}], got {value!r}"
                )
        if not isinstance(self.host, str) or not self.host:
            raise ServeOptionsError("host must be a non-empty host name or address")
        if self.model_name is not None and (not isinstance(self.model_name, str) or not self.model_name.strip()):
            raise ServeOptionsError("model_name must be a non-empty string")
        if self.api_key is not None and (
            not isinstance(self.api_key, str)
            or not self.api_key
            or any(c.isspace() or not c.isprintable() for c in self.api_key)
        ):
            raise ServeOptionsError("the API key must be a non-empty string of printable characters without spaces")

    def __repr__(self) -> str:  # the key never appears in reprs or logs
        shown = ", ".join(
            f"{f.name}={'***' if f.name == 'api_key' and self.api_key else repr(getattr(self, f.name))}"
            for f in fields(self)
        )
        return f"ServeOptions({shown})"


def api_key_from_env() -> str | None:
    """The API key in :data:`API_KEY_ENV`, or None when unset or empty."""
    return os.environ.get(API_KEY_ENV) or None
