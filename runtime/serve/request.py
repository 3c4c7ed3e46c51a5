"""Reading a chat completion request: JSON, every field's type and range, OpenAI-shaped errors.

A request body is untrusted. :func:`parse_chat_request` either returns a :class:`ChatRequest` or
raises :class:`ApiError` naming the offending field (``messages[2].content``); it never raises
anything else, whatever the JSON's shape. Fields the server cannot honour (tools, log-probabilities,
other response formats, ``n`` > 1) are refused rather than ignored; sampling settings
(``temperature``, ``top_p``, penalties, ``seed``) are checked and then left to the agent, which
decodes as it does (local models greedily). Unknown fields are ignored, as OpenAI clients send
new ones.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any

from ..protocol import Prompt

__all__ = ["ApiError", "ChatRequest", "error_body", "parse_chat_request", "parse_json"]

_ROLES = {"system": "system", "developer": "system", "user": "user", "assistant": "assistant"}
_TYPES = {401: "authentication_error", 500: "server_error", 503: "server_error", 504: "server_error"}


class ApiError(Exception):
    """A request answered with an error status and an OpenAI-shaped body.

    Args:
        status: The HTTP status.
        message: What went wrong, for the client (never internals or secrets).
        param: The request field at fault, if any (``messages[0].role``).
        code: A machine-readable code (``invalid_api_key``, ``model_not_found``), if any.
        close: Close the connection after answering (the request may be half read).
        headers: Extra response headers (``Retry-After``).
    """

    def __init__(
        self,
        status: int,
        message: str,
        *,
        param: str | None = None,
        code: str | None = None,
        close: bool = False,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.param = param
        self.code = code
        self.close = close
        self.headers = dict(headers or {})


def error_body(status: int, message: str, *, param: str | None = None, code: str | None = None) -> dict[str, Any]:
    """The OpenAI error object ``{"error": {"message", "type", "param", "code"}}``.

    Args:
        status: The HTTP status (decides ``type``).
        message: The message.
        param: The field at fault.
        code: The machine-readable code.
    """
    kind = _TYPES.get(status, "server_error" if status >= 500 else "invalid_request_error")
    return {"error": {"message": message, "type": kind, "param": param, "code": code}}


@dataclass(frozen=True)
class ChatRequest:
    """A checked chat completion request.

    Attributes:
        prompt: The conversation (``developer`` messages become ``system``), ending with a user message.
        max_tokens: Upper bound on the answer's tokens.
        stream: Answer with server-sent events.
        include_usage: Send a last chunk with ``usage`` (``stream_options.include_usage``).
        stop: Strings that end the answer (cut before the first one found).
    """

    prompt: Prompt
    max_tokens: int
    stream: bool
    include_usage: bool
    stop: tuple[str, ...]


def _reject_constant(name: str) -> float:
    raise ValueError(f"{name} is not a JSON number")


def parse_json(raw: bytes) -> object:
    """The JSON value of a request body.

    Args:
        raw: The body bytes (UTF-8, UTF-16 or UTF-32 JSON, as RFC 8259 allows).

    Raises:
        ApiError: 400 for anything that is not valid JSON (including ``NaN``, ``Infinity``,
            integers over 4,300 digits and nesting too deep to parse).
    """
    if not raw.strip():
        raise ApiError(400, "the request body is empty; send a JSON object")
    try:
        return json.loads(raw, parse_constant=_reject_constant)
    except (ValueError, RecursionError) as exc:  # UnicodeDecodeError and JSONDecodeError are ValueErrors
        where = f" (line {exc.lineno}, column {exc.colno})" if isinstance(exc, json.JSONDecodeError) else ""
        raise ApiError(400, f"the request body is not valid JSON{where}") from None


def _kind(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    return "an object"


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _bad(param: str, expected: str, value: object) -> ApiError:
    return ApiError(400, f"{param} must be {expected}, got {_kind(value)}", param=param)


def _text(content: object, param: str, *, role: str) -> str:
    if isinstance(content, str):
        return content
    if content is None and role == "assistant":
        return ""
    if not isinstance(content, list):
        raise _bad(param, "a string or a list of text parts", content)
    texts = []
    for j, part in enumerate(content):
        where = f"{param}[{j}]"
        if not isinstance(part, dict):
            raise _bad(where, 'an object {"type": "text", "text": ...}', part)
        kind = part.get("type")
        if not isinstance(kind, str):
            raise _bad(f"{where}.type", "a string", kind)
        if kind != "text":
            raise ApiError(
                400, f"{where}.type: only text parts are supported, got {kind[:40]!r}", param=f"{where}.type"
            )
        if not isinstance(part.get("text"), str):
            raise _bad(f"{where}.text", "a string", part.get("text"))
        texts.append(part["text"])
    return "".join(texts)


def _messages(value: object) -> Prompt:
    if not isinstance(value, list):
        raise _bad("messages", "a non-empty array of messages", value)
    if not value:
        raise ApiError(400, "messages must be a non-empty list", param="messages")
    prompt: Prompt = []
    for i, message in enumerate(value):
        where = f"messages[{i}]"
        if not isinstance(message, dict):
            raise _bad(where, "an object with role and content", message)
        role = message.get("role")
        if not isinstance(role, str):
            raise _bad(f"{where}.role", f"one of {sorted(_ROLES)}", role)
        if role not in _ROLES:
            raise ApiError(
                400,
                f"{where}.role must be one of {sorted(_ROLES)} (this endpoint has no tools), got {role[:40]!r}",
                param=f"{where}.role",
            )
        if "content" not in message:
            raise ApiError(400, f"{where}.content is required", param=f"{where}.content")
        name = message.get("name")
        if name is not None and not isinstance(name, str):
            raise _bad(f"{where}.name", "a string", name)
        for unsupported in ("tool_calls", "function_call", "audio"):
            if message.get(unsupported) not in (None, []):
                raise ApiError(
                    400, f"{where}.{unsupported} is not supported by this server", param=f"{where}.{unsupported}"
                )
        prompt.append({"role": _ROLES[role], "content": _text(message["content"], f"{where}.content", role=role)})
    if prompt[-1]["role"] != "user":
        raise ApiError(400, "the last message must come from the user", param="messages")
    return prompt


def _optional_number(body: dict[str, Any], name: str, low: float, high: float) -> None:
    value = body.get(name)
    if value is not None and (not _is_number(value) or not low <= value <= high):
        raise ApiError(
            400,
            f"{name} must be a number in [{low:g}, {high:g}]" + ("" if _is_number(value) else f", got {_kind(value)}"),
            param=name,
        )


def _optional_bool(body: dict[str, Any], name: str) -> bool:
    value = body.get(name)
    if value is not None and not isinstance(value, bool):
        raise _bad(name, "a boolean", value)
    return bool(value)


def _max_tokens(body: dict[str, Any], limit: int) -> int:
    chosen: int | None = None
    for name in ("max_tokens", "max_completion_tokens"):  # the newer name wins when both are given
        value = body.get(name)
        if value is None:
            continue
        if not _is_int(value) or not 1 <= value <= limit:
            raise ApiError(
                400,
                f"{name} must be an integer in [1, {limit}]" + ("" if _is_int(value) else f", got {_kind(value)}"),
                param=name,
            )
        chosen = value
    return 256 if chosen is None else min(chosen, limit)


def _stop(value: object) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or len(value) > 4:
        raise _bad("stop", "a string or an array of at most 4 strings", value)
    for j, s in enumerate(value):
        if not isinstance(s, str) or not s:
            raise _bad(f"stop[{j}]", "a non-empty string", s)
    return tuple(value)


def _refuse_unsupported(body: dict[str, Any]) -> None:
    if body.get("tools") not in (None, []):
        raise ApiError(400, "tools are not supported by this server", param="tools")
    if body.get("functions") not in (None, []):
        raise ApiError(400, "functions are not supported by this server", param="functions")
    choice = body.get("tool_choice")
    if choice not in (None, "none", "auto"):
        raise ApiError(400, "tool_choice must be 'none' (this server has no tools)", param="tool_choice")
    if body.get("logprobs") not in (None, False):
        raise ApiError(400, "logprobs are not supported by this server", param="logprobs")
    top = body.get("top_logprobs")
    if top is not None and not (_is_int(top) and top == 0):
        raise ApiError(400, "top_logprobs are not supported by this server", param="top_logprobs")
    bias = body.get("logit_bias")
    if bias is not None and not isinstance(bias, dict):
        raise _bad("logit_bias", "an object", bias)
    if bias:
        raise ApiError(400, "logit_bias is not supported by this server", param="logit_bias")
    fmt = body.get("response_format")
    if fmt is not None:
        if not isinstance(fmt, dict):
            raise _bad("response_format", 'an object such as {"type": "text"}', fmt)
        if fmt.get("type") != "text":
            raise ApiError(400, 'response_format: only {"type": "text"} is supported', param="response_format")
    modalities = body.get("modalities")
    if modalities is not None and modalities != ["text"]:
        raise ApiError(400, 'modalities: only ["text"] is supported', param="modalities")
    if body.get("audio") is not None:
        raise ApiError(400, "audio output is not supported by this server", param="audio")


def parse_chat_request(body: object, *, model_name: str, max_tokens: int) -> ChatRequest:
    """Check a decoded chat completion request.

    Args:
        body: The decoded JSON body.
        model_name: The one model id this server answers for.
        max_tokens: The largest ``max_tokens`` accepted.

    Returns:
        The request.

    Raises:
        ApiError: 400 for a wrong shape, type or range anywhere (the message and ``param`` name
            the field), 404 (``model_not_found``) for another model.
    """
    if not isinstance(body, dict):
        raise ApiError(400, f"the request body must be a JSON object, got {_kind(body)}")
    model = body.get("model")
    if not isinstance(model, str) or not model:
        got = "" if model is None else ", got an empty string" if model == "" else f", got {_kind(model)}"
        raise ApiError(400, f"'model' (a non-empty string) is required{got}", param="model")
    if model != model_name:
        raise ApiError(
            404,
            f"model {model[:100]!r} is not served here; this server serves {model_name!r}",
            param="model",
            code="model_not_found",
        )
    prompt = _messages(body.get("messages"))
    stream = _optional_bool(body, "stream")
    options = body.get("stream_options")
    include_usage = False
    if options is not None:
        if not isinstance(options, dict):
            raise _bad("stream_options", "an object", options)
        if not stream:
            raise ApiError(400, "stream_options is only allowed with stream: true", param="stream_options")
        usage = options.get("include_usage")
        if usage is not None and not isinstance(usage, bool):
            raise _bad("stream_options.include_usage", "a boolean", usage)
        include_usage = bool(usage)
    n = body.get("n")
    if n is not None and (not _is_int(n) or n != 1):
        raise ApiError(400, "only n = 1 is supported", param="n")
    _optional_number(body, "temperature", 0.0, 2.0)
    _optional_number(body, "top_p", 0.0, 1.0)
    _optional_number(body, "presence_penalty", -2.0, 2.0)
    _optional_number(body, "frequency_penalty", -2.0, 2.0)
    seed = body.get("seed")
    if seed is not None and not _is_int(seed):
        raise _bad("seed", "an integer", seed)
    for name in ("user", "safety_identifier", "prompt_cache_key", "service_tier", "reasoning_effort"):
        value = body.get(name)
        if value is not None and not isinstance(value, str):
            raise _bad(name, "a string", value)
    for name in ("metadata",):
        value = body.get(name)
        if value is not None and not isinstance(value, dict):
            raise _bad(name, "an object", value)
    _optional_bool(body, "store")
    _optional_bool(body, "parallel_tool_calls")
    _refuse_unsupported(body)
    return ChatRequest(
        prompt=prompt,
        max_tokens=_max_tokens(body, max_tokens),
        stream=stream,
        include_usage=include_usage,
        stop=_stop(body.get("stop")),
    )
