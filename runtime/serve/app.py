"""The Starlette application: routes, the API key, bounded body reads, answers and server-sent events.

Every response, errors included, is JSON (or an event stream); nothing a client sends makes a
handler raise. The agent is reached only through :class:`~.worker.AgentWorker`, so the event loop
never waits on it.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import re
import time
import uuid
from collections.abc import AsyncIterator, Callable, Collection
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from ..protocol import Prompt
from .options import MAX_TOKENS, ServeOptions
from .request import ApiError, ChatRequest, error_body, parse_chat_request, parse_json
from .worker import AgentWorker, Answer, ShuttingDown

__all__ = ["AppState", "build_app"]

_log = logging.getLogger("prefc.serve")
_PIECES = re.compile(r"\S+\s*|\s+")


@dataclass(eq=False)
class AppState:
    """What the handlers share.

    Attributes:
        worker: The agent's thread.
        options: The server settings.
        model_name: The served model id.
        refusal: Says why a prompt cannot be answered (rubric agents), or None.
        connections: The server's open connections (set once the server exists).
        created: When the server started (the model's ``created``).
    """

    worker: AgentWorker
    options: ServeOptions
    model_name: str
    refusal: Callable[[Prompt], str | None] | None = None
    connections: Collection[Any] = field(default_factory=tuple)
    created: int = field(default_factory=lambda: int(time.time()))

    def __post_init__(self) -> None:
        key = self.options.api_key
        self._key_digest = hashlib.sha256(key.encode()).digest() if key else None

    def check_key(self, request: Request) -> None:
        """Refuse a request without the right ``Authorization: Bearer`` key (constant time).

        Args:
            request: The request.

        Raises:
            ApiError: 401.
        """
        if self._key_digest is None:
            return
        given = request.headers.get("authorization", "")
        scheme, _, token = given.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise ApiError(401, "missing API key: send the header 'Authorization: Bearer KEY'", code="invalid_api_key")
        digest = hashlib.sha256(token.strip().encode("utf-8", "surrogateescape")).digest()
        if not hmac.compare_digest(digest, self._key_digest):
            raise ApiError(401, "invalid API key", code="invalid_api_key")


def _error(err: ApiError) -> JSONResponse:
    headers = dict(err.headers)
    if err.close:
        headers["connection"] = "close"
    return JSONResponse(
        error_body(err.status, err.message, param=err.param, code=err.code), status_code=err.status, headers=headers
    )


def _internal(where: str, exc: BaseException) -> JSONResponse:
    ref = uuid.uuid4().hex[:12]
    tb = exc.__traceback__
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    line = f"{tb.tb_frame.f_code.co_filename}:{tb.tb_lineno}" if tb is not None else "?"
    _log.error(
        "internal error, please report (error id %s): %s in %s: %s: %s",
        ref,
        where,
        line,
        exc.__class__.__name__,
        str(exc)[:300],
    )
    return JSONResponse(
        error_body(500, f"internal server error (error id {ref}); the server log has the details"), status_code=500
    )


async def _read_body(request: Request, options: ServeOptions) -> bytes:
    limit = options.max_body_bytes
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise ApiError(
            413, f"the request body ({declared} bytes) is over the limit of {limit} bytes", code="request_too_large"
        )
    chunks: list[bytes] = []
    size = 0
    try:
        async with asyncio.timeout(options.read_timeout):
            async for chunk in request.stream():
                size += len(chunk)
                if size > limit:
                    raise ApiError(
                        413, f"the request body is over the limit of {limit} bytes", code="request_too_large"
                    )
                chunks.append(chunk)
    except TimeoutError:
        raise ApiError(408, f"the request body did not arrive within {options.read_timeout:g} s", close=True) from None
    return b"".join(chunks)


async def _until_disconnect(request: Request) -> None:
    while True:
        message = await request.receive()
        if message["type"] == "http.disconnect":
            return


async def _answer(state: AppState, request: Request, chat: ChatRequest) -> Answer | None:
    worker = state.worker
    if worker.pending >= state.options.max_pending:
        raise ApiError(
            503,
            f"the server is busy ({worker.pending} requests waiting); retry shortly",
            code="server_busy",
            headers={"retry-after": "1"},
        )
    try:
        future, handle = worker.submit(chat.prompt, max_tokens=chat.max_tokens, stop=chat.stop)
    except ShuttingDown:
        raise ApiError(503, "the server is shutting down", code="shutting_down", close=True) from None
    gone = asyncio.ensure_future(_until_disconnect(request))
    waiting: set[asyncio.Future[Any]] = {future, gone}
    try:
        done, _ = await asyncio.wait(
            waiting, timeout=state.options.request_timeout, return_when=asyncio.FIRST_COMPLETED
        )
    finally:
        gone.cancel()
    if future in done:
        try:
            return future.result()
        except ShuttingDown:
            raise ApiError(503, "the server is shutting down", code="shutting_down", close=True) from None
        except Exception as exc:
            ref = uuid.uuid4().hex[:12]
            _log.warning("the agent failed (error id %s): %s: %s", ref, exc.__class__.__name__, str(exc)[:500])
            raise ApiError(
                500, f"the agent failed to answer (error id {ref}); the server log has the details", code="agent_error"
            ) from None
    worker.abandon(handle)
    future.cancel()
    if gone in done:
        return None
    raise ApiError(504, f"the agent did not answer within {state.options.request_timeout:g} s", code="timeout")


def _usage(answer: Answer) -> dict[str, int]:
    return {
        "prompt_tokens": answer.prompt_tokens,
        "completion_tokens": answer.completion_tokens,
        "total_tokens": answer.prompt_tokens + answer.completion_tokens,
    }


def _completion(state: AppState, answer: Answer) -> dict[str, Any]:
    return {
        "id": f"chatcmpl-{uuid.uuid4().hex}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": state.model_name,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": answer.text},
                "finish_reason": answer.finish_reason,
            }
        ],
        "usage": _usage(answer),
    }


def _events(state: AppState, answer: Answer, *, include_usage: bool) -> AsyncIterator[bytes]:
    base = {
        "id": f"chatcmpl-{uuid.uuid4().hex}",
        "object": "chat.completion.chunk",
        "created": int(time.time()),
        "model": state.model_name,
    }
    extra = {"usage": None} if include_usage else {}

    def event(payload: object) -> bytes:
        return b"data: " + json.dumps(payload, ensure_ascii=False).encode() + b"\n\n"

    def chunk(delta: dict[str, str], finish: str | None) -> bytes:
        return event({**base, "choices": [{"index": 0, "delta": delta, "finish_reason": finish}], **extra})

    async def stream() -> AsyncIterator[bytes]:
        yield chunk({"role": "assistant", "content": ""}, None)
        for piece in _PIECES.findall(answer.text):
            yield chunk({"content": piece}, None)
        yield chunk({}, answer.finish_reason)
        if include_usage:
            yield event({**base, "choices": [], "usage": _usage(answer)})
        yield b"data: [DONE]\n\n"

    return stream()


def build_app(state: AppState) -> Starlette:
    """The ASGI application serving ``state``'s agent.

    Args:
        state: The worker, settings and model id.
    """

    def guard(request: Request) -> None:
        if len(state.connections) > state.options.max_connections:
            raise ApiError(
                503,
                f"too many open connections (over {state.options.max_connections}); retry shortly",
                code="server_busy",
                close=True,
                headers={"retry-after": "1"},
            )
        state.check_key(request)

    async def chat(request: Request) -> Response:
        try:
            guard(request)
            try:
                raw = await _read_body(request, state.options)
            except ClientDisconnect:
                return Response(status_code=400)  # nobody is listening
            chat = parse_chat_request(parse_json(raw), model_name=state.model_name, max_tokens=MAX_TOKENS)
            if state.refusal is not None:
                reason = state.refusal(chat.prompt)
                if reason is not None:
                    raise ApiError(422, reason, param="messages", code="prompt_not_answerable")
            answer = await _answer(state, request, chat)
            if answer is None:
                return Response(status_code=499)  # the client went away; this is never sent
            if chat.stream:
                return StreamingResponse(
                    _events(state, answer, include_usage=chat.include_usage),
                    media_type="text/event-stream",
                    headers={"cache-control": "no-cache", "x-accel-buffering": "no"},
                )
            return JSONResponse(_completion(state, answer))
        except ApiError as err:
            return _error(err)
        except Exception as exc:
            return _internal("POST /v1/chat/completions", exc)

    def model_object() -> dict[str, Any]:
        return {"id": state.model_name, "object": "model", "created": state.created, "owned_by": "prefc"}

    async def models(request: Request) -> Response:
        try:
            guard(request)
            return JSONResponse({"object": "list", "data": [model_object()]})
        except ApiError as err:
            return _error(err)

    async def model(request: Request) -> Response:
        try:
            guard(request)
            name = request.path_params["name"]
            if name != state.model_name:
                raise ApiError(
                    404,
                    f"model {name[:100]!r} is not served here; this server serves {state.model_name!r}",
                    param="model",
                    code="model_not_found",
                )
            return JSONResponse(model_object())
        except ApiError as err:
            return _error(err)

    async def health(request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def http_error(request: Request, exc: Exception) -> Response:
        status = exc.status_code if isinstance(exc, HTTPException) else 500
        path = request.url.path[:100]
        if status == 404:
            message = f"no such endpoint: {request.method} {path}"
        elif status == 405:
            message = f"{request.method} is not allowed on {path}"
        else:
            message = exc.detail if isinstance(exc, HTTPException) else "internal server error"
        headers = dict(exc.headers or {}) if isinstance(exc, HTTPException) else {}
        return JSONResponse(error_body(status, message), status_code=status, headers=headers)

    async def crashed(request: Request, exc: Exception) -> Response:
        return _internal(f"{request.method} {request.url.path[:100]}", exc)

    routes = [
        Route("/v1/chat/completions", chat, methods=["POST"]),
        Route("/v1/models", models, methods=["GET"]),
        Route("/v1/models/{name:path}", model, methods=["GET"]),
        Route("/health", health, methods=["GET"]),
    ]
    app = Starlette(routes=routes, exception_handlers={HTTPException: http_error, Exception: crashed})
    app.router.redirect_slashes = False
    return app
