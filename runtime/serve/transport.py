"""uvicorn's h11 protocol with a read deadline and JSON error bodies.

uvicorn bounds an idle keep-alive connection (``timeout_keep_alive``) but not a client that opens a
connection and sends nothing, or half a request line, or the rest of a body it has already been
answered about: such a connection would be held forever. :func:`protocol_class` adds one deadline:
whenever the server is waiting for the client — a connection just opened, a response just sent — the
client has ``read_timeout`` seconds to deliver the next request's headers (the deadline does not move
when bytes trickle in). Then a request begun is answered ``408`` and the connection is closed; one
not begun is closed. Reading the body is bounded by the application (it answers 408 itself).
Malformed HTTP is answered with an OpenAI-shaped JSON 400 (431 for oversized headers) instead of
uvicorn's plain text.
"""

from __future__ import annotations

import asyncio
import json
import sys
from typing import Any

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

from .request import error_body

__all__ = ["protocol_class", "raw_error_response"]


def raw_error_response(status: int, message: str) -> bytes:
    """A complete ``Connection: close`` HTTP/1.1 response with an OpenAI-shaped JSON body.

    Args:
        status: The HTTP status.
        message: The error message.
    """
    from http import HTTPStatus

    body = json.dumps(error_body(status, message)).encode()
    head = (
        f"HTTP/1.1 {status} {HTTPStatus(status).phrase}\r\ncontent-type: application/json\r\n"
        f"content-length: {len(body)}\r\nconnection: close\r\n\r\n"
    )
    return head.encode("ascii") + body


class _DeadlineProtocol(H11Protocol):
    read_timeout: float = 10.0

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._deadline: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._watch()

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        self._watch()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        self._watch()

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel()
        super().connection_lost(exc)

    def _waiting_for_client(self) -> bool:
        return self.cycle is None or self.cycle.response_complete

    def _cancel(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _watch(self) -> None:
        if self.transport is None or self.transport.is_closing() or not self._waiting_for_client():
            self._cancel()
        elif self._deadline is None:
            self._deadline = self.loop.call_later(self.read_timeout, self._expire)

    def _expire(self) -> None:
        self._deadline = None
        if self.transport.is_closing() or not self._waiting_for_client():
            return
        begun = self.conn.their_state is h11.IDLE and bool(self.conn.trailing_data[0])
        if begun:
            self.transport.write(
                raw_error_response(408, f"the request's headers did not arrive within {self.read_timeout:g} s")
            )
        self.transport.close()

    def send_400_response(self, msg: str) -> None:
        exc = sys.exc_info()[1]
        status = getattr(exc, "error_status_hint", 400) if isinstance(exc, h11.RemoteProtocolError) else 400
        status = status if status in (400, 414, 431) else 400
        detail = str(exc)[:200] if exc is not None else msg
        self._cancel()
        self.transport.write(raw_error_response(status, f"invalid HTTP request: {detail}"))
        self.transport.close()


def protocol_class(*, read_timeout: float) -> type[H11Protocol]:
    """The h11 protocol class for uvicorn's ``http`` setting, with this read deadline.

    Args:
        read_timeout: Seconds the client has to send a request's headers.
    """
    return type("PrefcH11Protocol", (_DeadlineProtocol,), {"read_timeout": float(read_timeout)})
