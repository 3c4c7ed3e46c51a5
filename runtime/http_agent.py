"""An agent behind an OpenAI-compatible chat endpoint (``POST {base_url}/chat/completions``).

Uses only the standard library (``urllib.request``). Requests are greedy (``temperature`` 0), sent in
parallel by a small thread pool, and retried with exponential backoff on connection errors,
timeouts, HTTP 429 and 5xx. The API key is read from the environment, sent as a Bearer header, and
never written into names, reprs, results or error messages.
"""

from __future__ import annotations

import http.client
import json
import os
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from .files import is_loopback
from .protocol import AgentError, Prompt

__all__ = ["DEFAULT_KEY_ENV", "OpenAIChatAgent"]

DEFAULT_KEY_ENV: tuple[str, ...] = ("PREFC_API_KEY", "OPENAI_API_KEY")
"""Environment variables searched, in order, for the API key."""

_MAX_RESPONSE_BYTES = 16 * 1024 * 1024
_RETRY_STATUS = frozenset({408, 429, 500, 502, 503, 504})


class OpenAIChatAgent:
    """An agent answering through an OpenAI-compatible ``/chat/completions`` endpoint.

    Args:
        base_url: The API base, e.g. ``http://127.0.0.1:8000/v1`` (``/chat/completions`` is appended).
        model: The model name sent with each request.
        api_key_env: Environment variable(s) holding the API key, searched in order; no key means
            no ``Authorization`` header.
        timeout: Seconds to wait for each HTTP response.
        max_retries: Retries after the first attempt on connection errors, timeouts, 429 and 5xx.
        backoff: Seconds before the first retry; doubled for each further retry (a server's
            ``Retry-After`` of at most 30 s is honoured when longer).
        concurrency: Requests in flight at once.
        name: Label used in results (default ``openai:<base_url>?model=<model>``).
    """

    def __init__(
        self,
        base_url: str,
        model: str,
        *,
        api_key_env: str | Sequence[str] = DEFAULT_KEY_ENV,
        timeout: float = 30,
        max_retries: int = 3,
        backoff: float = 0.5,
        concurrency: int = 4,
        name: str | None = None,
    ) -> None:
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise AgentError(f"expected an http(s) base URL such as http://127.0.0.1:8000/v1, got {base_url!r}")
        if timeout <= 0 or max_retries < 0 or backoff < 0 or concurrency < 1:
            raise AgentError("timeout must be > 0, max_retries >= 0, backoff >= 0 and concurrency >= 1")
        host = parts.hostname if parts.port is None else f"{parts.hostname}:{parts.port}"
        self.base_url = urlunsplit((parts.scheme, host, parts.path.rstrip("/"), "", ""))
        self.url = f"{self.base_url}/chat/completions"
        self.model = model
        self.timeout = float(timeout)
        self.max_retries = int(max_retries)
        self.backoff = float(backoff)
        self.concurrency = int(concurrency)
        self.name = name or f"openai:{self.base_url}?model={model}"
        envs = [api_key_env] if isinstance(api_key_env, str) else list(api_key_env)
        self._api_key = next((os.environ[e] for e in envs if os.environ.get(e)), None)
        handlers: list[urllib.request.BaseHandler] = []
        if is_loopback(parts.hostname):
            handlers.append(urllib.request.ProxyHandler({}))  # never send loopback traffic to a proxy
        self._opener = urllib.request.build_opener(*handlers)

    def __repr__(self) -> str:
        return f"OpenAIChatAgent(url={self.url!r}, model={self.model!r}, key={'set' if self._api_key else 'unset'})"

    def _redact(self, text: str) -> str:
        return text.replace(self._api_key, "***") if self._api_key else text

    def respond(self, prompts: Sequence[Prompt], *, max_new_tokens: int = 256) -> list[str]:
        """Send each prompt as one chat completion request (in parallel) and return the texts.

        Args:
            prompts: Conversations ending with a user message.
            max_new_tokens: Sent as ``max_tokens``.

        Raises:
            AgentError: If the endpoint stays unreachable or failing after the retries, or answers
                with a client error or a malformed body.
        """
        prompts = list(prompts)
        if not prompts:
            return []
        if len(prompts) == 1 or self.concurrency == 1:
            return [self._complete(p, max_new_tokens) for p in prompts]
        pool = ThreadPoolExecutor(max_workers=min(self.concurrency, len(prompts)), thread_name_prefix="prefc-http")
        try:
            futures = [pool.submit(self._complete, p, max_new_tokens) for p in prompts]
            return [f.result() for f in futures]
        finally:
            pool.shutdown(wait=True, cancel_futures=True)

    def _complete(self, prompt: Prompt, max_new_tokens: int) -> str:
        body = json.dumps(
            {
                "model": self.model,
                "messages": [{"role": m["role"], "content": m["content"]} for m in prompt],
                "temperature": 0,
                "max_tokens": int(max_new_tokens),
            }
        ).encode()
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if self._api_key:
            headers["Authorization"] = f"Bearer {self._api_key}"
        problem = ""
        for attempt in range(self.max_retries + 1):
            delay = self.backoff * (2**attempt)
            request = urllib.request.Request(self.url, data=body, headers=headers, method="POST")
            try:
                with self._opener.open(request, timeout=self.timeout) as response:
                    payload = response.read(_MAX_RESPONSE_BYTES + 1)
                return self._content(payload)
            except urllib.error.HTTPError as err:
                detail = self._error_detail(err)
                if err.code not in _RETRY_STATUS:
                    raise AgentError(f"{self.url} answered HTTP {err.code}: {detail}") from None
                problem = f"HTTP {err.code}: {detail}"
                delay = max(delay, self._retry_after(err))
            except urllib.error.URLError as err:
                problem = f"cannot connect ({self._redact(str(err.reason))})"
            except (TimeoutError, ConnectionError, http.client.HTTPException, OSError) as err:
                problem = f"{err.__class__.__name__}: {self._redact(str(err))[:200]}"
            if attempt < self.max_retries:
                time.sleep(delay)
        tries = self.max_retries + 1
        raise AgentError(f"{self.url} unreachable or failing after {tries} attempt(s): {problem}")

    def _content(self, payload: bytes) -> str:
        if len(payload) > _MAX_RESPONSE_BYTES:
            raise AgentError(f"{self.url} sent a response over {_MAX_RESPONSE_BYTES} bytes")
        try:
            data: Any = json.loads(payload)
            content = data["choices"][0]["message"]["content"]
        except (ValueError, KeyError, IndexError, TypeError):
            raise AgentError(f"{self.url} sent a body that is not a chat completion: {payload[:200]!r}") from None
        if content is None:
            return ""
        if not isinstance(content, str):
            raise AgentError(f"{self.url} sent a non-text message content")
        return content

    def _error_detail(self, err: urllib.error.HTTPError) -> str:
        try:
            raw = err.read(4096).decode("utf-8", "replace")
        except OSError:
            raw = ""
        try:
            message = json.loads(raw)["error"]["message"]
            text = str(message)
        except (ValueError, KeyError, TypeError):
            text = raw.strip() or str(err.reason)
        return self._redact(text)[:300]

    @staticmethod
    def _retry_after(err: urllib.error.HTTPError) -> float:
        value = err.headers.get("Retry-After") if err.headers else None
        try:
            seconds = float(value) if value is not None else 0.0
        except ValueError:
            return 0.0
        return min(max(seconds, 0.0), 30.0)
