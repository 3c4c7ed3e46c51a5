"""An OpenAI-compatible HTTP server over any agent (``prefc serve``).

Endpoints (standard library ``http.server.ThreadingHTTPServer``, loopback by default):

``POST /v1/chat/completions``
    ``{"model": NAME, "messages": [...], "max_tokens": N}`` -> a ``chat.completion`` object whose
    single choice holds the agent's answer. ``messages`` is a non-empty list of
    ``{"role": "system"|"developer"|"user"|"assistant", "content": TEXT}`` ending with a user
    message (content may also be a list of ``{"type": "text", "text": ...}`` parts);
    ``max_tokens`` (or ``max_completion_tokens``) is 1..:data:`MAX_TOKENS`, default 256.
    ``temperature``, ``top_p`` and other sampling fields are accepted and ignored: the agent decides
    how it decodes (local models decode greedily). ``stream: true`` and ``n`` other than 1 are
    refused. Unknown fields are ignored.
``GET /v1/models``
    The one served model (its id is the agent's name unless ``model_name`` is given).
``GET /health``
    ``{"status": "ok"}``.

Invalid requests get HTTP 400 (404 for another model name, 401 for a missing or wrong key when
the server was given one, 413 for bodies over :data:`MAX_BODY_BYTES`) with an OpenAI-style
``{"error": {"message", "type", "param", "code"}}`` body. Requests arriving together are answered
in one ``agent.respond`` call (requests that queue while the agent is busy form the next batch),
and the agent is only ever called from one thread.
"""

from __future__ import annotations

import hmac
import json
import logging
import queue
import sys
import threading
import time
import uuid
from concurrent.futures import Future
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from .files import is_loopback
from .protocol import Agent, Prompt

__all__ = ["MAX_BODY_BYTES", "MAX_TOKENS", "AgentServer", "serve", "start_server"]

MAX_BODY_BYTES = 1 << 20
"""Largest request body accepted."""

MAX_TOKENS = 4096
"""Largest ``max_tokens`` accepted."""

_ROLES = {"system": "system", "developer": "system", "user": "user", "assistant": "assistant"}
_log = logging.getLogger(__name__)


class _BadRequest(Exception):
    def __init__(self, status: HTTPStatus, message: str, *, param: str | None = None, code: str | None = None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.param = param
        self.code = code


@dataclass
class _Job:
    prompt: Prompt
    max_new_tokens: int
    future: Future[str] = field(default_factory=Future)


class _Batcher:
    """Runs the agent on one thread, answering jobs that arrive together in one call."""

    def __init__(self, agent: Agent, *, max_batch: int, window: float) -> None:
        self._agent = agent
        self._max_batch = max_batch
        self._window = window
        self._jobs: queue.Queue[_Job | None] = queue.Queue()
        self._thread = threading.Thread(target=self._run, name="prefc-serve-agent", daemon=True)
        self._thread.start()

    def submit(self, prompt: Prompt, max_new_tokens: int) -> Future[str]:
        job = _Job(prompt, max_new_tokens)
        self._jobs.put(job)
        return job.future

    def close(self) -> None:
        self._jobs.put(None)
        self._thread.join(timeout=10)

    def _run(self) -> None:
        while True:
            first = self._jobs.get()
            if first is None:
                return
            batch = [first]
            deadline = time.monotonic() + self._window
            stop = False
            while len(batch) < self._max_batch:
                remaining = deadline - time.monotonic()
                try:
                    job = self._jobs.get(timeout=remaining) if remaining > 0 else self._jobs.get_nowait()
                except queue.Empty:
                    break
                if job is None:
                    stop = True
                    break
                batch.append(job)
            for tokens in sorted({j.max_new_tokens for j in batch}):
                group = [j for j in batch if j.max_new_tokens == tokens]
                try:
                    texts = self._agent.respond([j.prompt for j in group], max_new_tokens=tokens)
                    if len(texts) != len(group):
                        raise RuntimeError(f"agent returned {len(texts)} answers for {len(group)} prompts")
                except BaseException as exc:  # handed to the waiting request, which answers 500
                    for j in group:
                        j.future.set_exception(exc)
                else:
                    for j, text in zip(group, texts, strict=True):
                        j.future.set_result(text)
            if stop:
                return


class AgentServer(ThreadingHTTPServer):
    """A threading HTTP server holding the agent being served.

    Args:
        address: ``(host, port)``; port 0 picks a free port.
        agent: The agent answering requests.
        model_name: The model id clients must send (default: the agent's name).
        api_key: If given, requests must carry ``Authorization: Bearer <api_key>``.
        max_batch: Most requests answered in one ``agent.respond`` call.
        batch_window: Seconds to wait for more requests to join a batch. The default 0 takes the
            requests already waiting: while the agent works on one batch, the next one gathers.
    """

    daemon_threads = True
    allow_reuse_address = True

    def __init__(
        self,
        address: tuple[str, int],
        agent: Agent,
        *,
        model_name: str | None = None,
        api_key: str | None = None,
        max_batch: int = 8,
        batch_window: float = 0.0,
    ) -> None:
        self.agent = agent
        self.model_name = model_name or agent.name
        self.api_key = api_key
        self.created = int(time.time())
        self.batcher = _Batcher(agent, max_batch=max_batch, window=batch_window)
        try:
            super().__init__(address, _Handler)
        except BaseException:
            self.batcher.close()
            raise

    @property
    def base_url(self) -> str:
        """The API base URL, e.g. ``http://127.0.0.1:8000/v1``."""
        host, port = self.server_address[:2]
        shown = f"[{host}]" if ":" in str(host) else str(host)
        return f"http://{shown}:{port}/v1"

    def server_close(self) -> None:
        """Close the socket and stop the agent thread."""
        super().server_close()
        self.batcher.close()


def _text_content(content: object, index: int) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list) and all(isinstance(p, dict) for p in content):
        texts = []
        for part in content:
            if part.get("type") != "text" or not isinstance(part.get("text"), str):
                raise _BadRequest(HTTPStatus.BAD_REQUEST, f"messages[{index}].content: only text parts are supported", param=f"messages[{index}].content")
            texts.append(part["text"])
        return "".join(texts)
    raise _BadRequest(HTTPStatus.BAD_REQUEST, f"messages[{index}].content must be a string", param=f"messages[{index}].content")


def _validate(body: object, model_name: str) -> tuple[Prompt, int]:
    if not isinstance(body, dict):
        raise _BadRequest(HTTPStatus.BAD_REQUEST, "the request body must be a JSON object")
    model = body.get("model")
    if not isinstance(model, str) or not model:
        raise _BadRequest(HTTPStatus.BAD_REQUEST, "'model' (a string) is required", param="model")
    if model != model_name:
        raise _BadRequest(
            HTTPStatus.NOT_FOUND, f"model {model[:100]!r} is not served here; this server serves {model_name!r}",
            param="model", code="model_not_found",
        )
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise _BadRequest(HTTPStatus.BAD_REQUEST, "'messages' must be a non-empty list", param="messages")
    prompt: Prompt = []
    for i, message in enumerate(messages):
        if not isinstance(message, dict):
            raise _BadRequest(HTTPStatus.BAD_REQUEST, f"messages[{i}] must be an object", param=f"messages[{i}]")
        role = message.get("role")
        if role not in _ROLES:
            raise _BadRequest(
                HTTPStatus.BAD_REQUEST, f"messages[{i}].role must be one of {sorted(_ROLES)}", param=f"messages[{i}].role"
            )
        prompt.append({"role": _ROLES[role], "content": _text_content(message.get("content"), i)})
    if prompt[-1]["role"] != "user":
        raise _BadRequest(HTTPStatus.BAD_REQUEST, "the last message must come from the user", param="messages")
    if body.get("stream"):
        raise _BadRequest(HTTPStatus.BAD_REQUEST, "streaming is not supported", param="stream")
    n = body.get("n", 1)
    if n is not None and (isinstance(n, bool) or n != 1):
        raise _BadRequest(HTTPStatus.BAD_REQUEST, "only n = 1 is supported", param="n")
    tokens = body.get("max_completion_tokens", body.get("max_tokens"))
    if tokens is None:
        tokens = 256
    if isinstance(tokens, bool) or not isinstance(tokens, int) or not 1 <= tokens <= MAX_TOKENS:
        raise _BadRequest(HTTPStatus.BAD_REQUEST, f"max_tokens must be an integer in [1, {MAX_TOKENS}]", param="max_tokens")
    return prompt, tokens


class _Handler(BaseHTTPRequestHandler):
    server: AgentServer
    protocol_version = "HTTP/1.1"
    server_version = "prefc-serve"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        _log.debug("%s - %s", self.address_string(), format % args)

    def _send(self, status: HTTPStatus, payload: dict[str, Any]) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(data)

    def _error(self, err: _BadRequest) -> None:
        kind = {
            HTTPStatus.UNAUTHORIZED: "authentication_error",
            HTTPStatus.NOT_FOUND: "invalid_request_error",
            HTTPStatus.INTERNAL_SERVER_ERROR: "server_error",
        }.get(err.status, "invalid_request_error")
        self.close_connection = True  # the request body may be unread: do not reuse the connection
        self._send(err.status, {"error": {"message": err.message, "type": kind, "param": err.param, "code": err.code}})

    def _path(self) -> str:
        return self.path.split("?", 1)[0].rstrip("/") or "/"

    def _check_key(self) -> None:
        key = self.server.api_key
        if key is None:
            return
        given = self.headers.get("Authorization", "")
        if not given.startswith("Bearer ") or not hmac.compare_digest(given[7:].encode(), key.encode()):
            raise _BadRequest(HTTPStatus.UNAUTHORIZED, "missing or invalid API key", code="invalid_api_key")

    def do_GET(self) -> None:  # noqa: N802 - stdlib name
        """Serve the model list and the health check."""
        try:
            path = self._path()
            if path == "/health":
                self._send(HTTPStatus.OK, {"status": "ok"})
                return
            if path != "/v1/models":
                raise _BadRequest(HTTPStatus.NOT_FOUND, f"no such endpoint: GET {path[:100]}")
            self._check_key()
            model = {"id": self.server.model_name, "object": "model", "created": self.server.created, "owned_by": "prefc"}
            self._send(HTTPStatus.OK, {"object": "list", "data": [model]})
        except _BadRequest as err:
            self._error(err)

    def do_POST(self) -> None:  # noqa: N802 - stdlib name
        """Answer a chat completion request."""
        try:
            path = self._path()
            if path != "/v1/chat/completions":
                raise _BadRequest(HTTPStatus.NOT_FOUND, f"no such endpoint: POST {path[:100]}")
            self._check_key()
            body = self._read_json()
            prompt, tokens = _validate(body, self.server.model_name)
            try:
                text = self.server.batcher.submit(prompt, tokens).result()
            except Exception as exc:
                _log.warning("agent %s failed: %s", self.server.model_name, exc)
                raise _BadRequest(
                    HTTPStatus.INTERNAL_SERVER_ERROR, f"the agent failed: {exc.__class__.__name__}: {str(exc)[:300]}"
                ) from None
            self._send(
                HTTPStatus.OK,
                {
                    "id": f"chatcmpl-{uuid.uuid4().hex}",
                    "object": "chat.completion",
                    "created": int(time.time()),
                    "model": self.server.model_name,
                    "choices": [
                        {"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}
                    ],
                },
            )
        except _BadRequest as err:
            self._error(err)

    def _read_json(self) -> object:
        length_header = self.headers.get("Content-Length")
        if length_header is None:
            self.close_connection = True
            raise _BadRequest(HTTPStatus.LENGTH_REQUIRED, "a Content-Length header is required")
        try:
            length = int(length_header)
        except ValueError:
            self.close_connection = True
            raise _BadRequest(HTTPStatus.BAD_REQUEST, "invalid Content-Length") from None
        if length < 0 or length > MAX_BODY_BYTES:
            self.close_connection = True
            if 0 < length <= 16 * MAX_BODY_BYTES:  # drain it, so the client reads the 413 (not a reset)
                remaining = length
                while remaining > 0:
                    chunk = self.rfile.read(min(remaining, 1 << 16))
                    if not chunk:
                        break
                    remaining -= len(chunk)
            raise _BadRequest(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, f"request body over {MAX_BODY_BYTES} bytes")
        raw = self.rfile.read(length)
        try:
            return json.loads(raw)
        except (ValueError, RecursionError):
            raise _BadRequest(HTTPStatus.BAD_REQUEST, "the request body is not valid JSON") from None


def start_server(
    agent: Agent,
    port: int = 0,
    *,
    host: str = "127.0.0.1",
    model_name: str | None = None,
    api_key: str | None = None,
    max_batch: int = 8,
) -> tuple[AgentServer, threading.Thread, str]:
    """Start serving an agent on a background thread (for tests and embedding).

    Stop it with ``server.shutdown(); server.server_close()``.

    Args:
        agent: The agent answering requests.
        port: TCP port; 0 picks a free one.
        host: Interface to bind (loopback by default).
        model_name: The model id clients must send (default: the agent's name).
        api_key: If given, requests must carry it as a Bearer token.
        max_batch: Most requests answered in one ``agent.respond`` call.

    Returns:
        The server, the thread running it, and the base URL (``http://127.0.0.1:PORT/v1``).
    """
    server = AgentServer((host, port), agent, model_name=model_name, api_key=api_key, max_batch=max_batch)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="prefc-serve", daemon=True)
    thread.start()
    return server, thread, server.base_url


def serve(
    agent: Agent,
    *,
    host: str = "127.0.0.1",
    port: int = 8000,
    model_name: str | None = None,
    api_key: str | None = None,
    max_batch: int = 8,
) -> None:
    """Serve an agent over an OpenAI-compatible API until interrupted (Ctrl-C).

    Args:
        agent: The agent answering requests (a local model, a scripted agent, ...).
        host: Interface to bind; loopback by default. Other interfaces expose the agent to the
            network, so a warning is printed unless ``api_key`` is set.
        port: TCP port.
        model_name: The model id clients must send (default: the agent's name).
        api_key: If given, requests must carry ``Authorization: Bearer <api_key>``.
        max_batch: Most requests answered in one ``agent.respond`` call.
    """
    if not is_loopback(host) and api_key is None:
        print(f"warning: serving on {host} without an API key exposes the agent to the network", file=sys.stderr)
    server = AgentServer((host, port), agent, model_name=model_name, api_key=api_key, max_batch=max_batch)
    print(f"Serving {server.model_name!r} on {server.base_url} (Ctrl-C to stop)", file=sys.stderr)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
