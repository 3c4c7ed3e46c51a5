"""An OpenAI-compatible HTTP server over any agent (``prefc serve``), on Starlette and uvicorn.

Endpoints (loopback by default):

``POST /v1/chat/completions``
    ``{"model": NAME, "messages": [...], "max_tokens": N, "stream": BOOL, "stop": ...}`` -> a
    ``chat.completion`` with one choice and ``usage``, or with ``"stream": true`` server-sent events
    in the OpenAI chunk format (``chat.completion.chunk``: the role, the answer in pieces, the
    ``finish_reason``, a ``usage`` chunk when ``stream_options.include_usage`` is set, then
    ``data: [DONE]``). The agent answers whole, so the chunks follow once the answer is ready.
    Every field is checked (see :mod:`.request`).
``GET /v1/models``, ``GET /v1/models/NAME``
    The one served model (its id is the agent's name unless ``model_name`` is given).
``GET /health``
    ``{"status": "ok"}``, without the API key.

Every failure is an OpenAI-shaped ``{"error": {"message", "type", "param", "code"}}`` body: 400 for
malformed JSON or a wrong type anywhere, 401 without the key, 404 for another model or path, 405,
408 for a request not sent within ``read_timeout``, 413 for a body over ``max_body_bytes``, 422 for
a prompt a rubric agent cannot answer, 500 when the agent fails (the details go to the server's log
under an error id, never to the client), 503 when ``max_pending`` requests wait or
``max_connections`` are open (with ``Retry-After``) or the server is stopping, 504 after
``request_timeout``. Requests arriving together are answered in one ``agent.respond`` call
(requests that queue while the agent is busy form the next batch); the agent is only ever called
from one thread. Token counts: see :mod:`.worker`.
"""

from __future__ import annotations

from .options import API_KEY_ENV, MAX_TOKENS, ServeOptions, ServeOptionsError, api_key_from_env
from .rubric import CHAT_KINDS, RUBRIC_KINDS, RubricChatAgent, ServeRefused, check_servable, serving_agent
from .server import ServeError, ServerHandle, bind_socket, serve, start_server

__all__ = [
    "API_KEY_ENV",
    "CHAT_KINDS",
    "MAX_TOKENS",
    "RUBRIC_KINDS",
    "RubricChatAgent",
    "ServeError",
    "ServeOptions",
    "ServeOptionsError",
    "ServeRefused",
    "ServerHandle",
    "api_key_from_env",
    "bind_socket",
    "check_servable",
    "serve",
    "serving_agent",
    "start_server",
]
