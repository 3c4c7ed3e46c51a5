"""``prefc serve``: the OpenAI-compatible server, through the official ``openai`` client and raw sockets.

(Over 600 lines: one server's behaviours, from request fields to signals, share these fixtures and helpers.)

Every server binds 127.0.0.1 on a free port and is stopped by its test; every socket has a timeout,
every loop a bound, and no test talks to anything but 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import http.client
import json
import logging
import math
import os
import random
import select
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

openai = pytest.importorskip("openai")
pytest.importorskip("uvicorn")

import prefc  # noqa: E402
from prefc.runtime.agents import AgentError, LogitAgent, ScriptedAgent, TheoryAgent, make_agent  # noqa: E402
from prefc.runtime.answers import parse_answer  # noqa: E402
from prefc.runtime.evaluate import evaluate, load_rubric  # noqa: E402
from prefc.runtime.http_agent import OpenAIChatAgent  # noqa: E402
from prefc.runtime.protocol import Agent, Prompt  # noqa: E402
from prefc.runtime.serve import RubricChatAgent, ServeOptions, ServeRefused, serving_agent, start_server  # noqa: E402

try:
    from spec_blocks import PRISONERS_DILEMMA
except ImportError:  # tests/ is a package: import it by path
    from tests.spec_blocks import PRISONERS_DILEMMA

MAX_BODY_BYTES = ServeOptions().max_body_bytes
SECRET = "sk-test-7f3a9c1e-do-not-leak"
SYSTEM = {"role": "system", "content": "Reply with your reasoning, then one line ANSWER: {json}."}
ROOT = Path(__file__).resolve().parents[3]
PREFC = [sys.executable, "-m", "prefc.cli"]


def _prompt(text: str) -> Prompt:
    return [SYSTEM, {"role": "user", "content": text}]


def _echo(prompt: Prompt) -> str:
    return f'You said: {prompt[-1]["content"]}\nANSWER: {{"give": {len(prompt[-1]["content"]) % 11}}}'


@pytest.fixture
def no_key(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("PREFC_API_KEY", "OPENAI_API_KEY", "PREFC_SERVE_API_KEY"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def served_echo(no_key: None) -> Iterator[str]:
    with start_server(ScriptedAgent("echo", _echo)) as handle:
        yield handle.url


def _split(url: str) -> tuple[str, int, str]:
    host_port, _, path = url.split("//", 1)[1].partition("/")
    host, port = host_port.rsplit(":", 1)
    assert host == "127.0.0.1"
    return host, int(port), "/" + path


def _post(url: str, body: bytes, headers: dict[str, str] | None = None) -> tuple[int, dict]:
    host, port, path = _split(url)
    conn = http.client.HTTPConnection(host, port, timeout=10)
    try:
        conn.request("POST", path, body=body, headers=headers or {"Content-Type": "application/json"})
        response = conn.getresponse()
        return response.status, json.loads(response.read() or b"{}")
    finally:
        conn.close()


def _get(url: str, headers: dict[str, str] | None = None) -> tuple[int, dict]:
    host, port, path = _split(url)
    conn = http.client.HTTPConnection(host, port, timeout=10)
    try:
        conn.request("GET", path, headers=headers or {})
        response = conn.getresponse()
        return response.status, json.loads(response.read())
    finally:
        conn.close()


def _raw(port: int, data: bytes, *, timeout: float = 10) -> tuple[float, bytes]:
    """Send bytes on a fresh connection and read until the server closes it: (seconds, reply)."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        start = time.monotonic()
        if data:
            s.sendall(data)
        out = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                return time.monotonic() - start, out
            out += chunk


def _read_response(s: socket.socket) -> bytes:
    """One response (headers and a Content-Length body) from a socket, without waiting for the close."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = s.recv(65536)
        assert chunk, data
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = int(
        next(line.split(b":", 1)[1] for line in head.split(b"\r\n") if line.lower().startswith(b"content-length"))
    )
    while len(body) < length:
        chunk = s.recv(65536)
        assert chunk, data
        body += chunk
    return head + b"\r\n\r\n" + body


def _status(reply: bytes) -> int:
    return int(reply.split(b" ", 2)[1])


def _json_body(reply: bytes) -> dict:
    return json.loads(reply.split(b"\r\n\r\n", 1)[1])


def _client(url: str, **kwargs: Any) -> Any:
    return openai.OpenAI(base_url=url, api_key=kwargs.pop("api_key", "unused"), max_retries=0, timeout=30, **kwargs)


def _estimate(prompt: Prompt, text: str) -> tuple[int, int]:
    """The documented estimate: ceil(chars / 4) per content, plus 4 per prompt message."""
    return sum(math.ceil(len(m["content"]) / 4) + 4 for m in prompt), math.ceil(len(text) / 4)


# ---- the moved server tests: the HTTP agent and the stdlib client against the server ------------


def test_http_agent_against_served_scripted_agent(served_echo: str) -> None:
    agent = OpenAIChatAgent(served_echo, "echo", concurrency=4)
    prompts = [_prompt(f"question number {i} " + "x" * i) for i in range(9)]
    texts = agent.respond(prompts, max_new_tokens=32)
    assert texts == [_echo(p) for p in prompts]  # same order, exact content
    assert agent.respond([]) == []
    parsed = parse_answer(texts[3], {"give": {"kind": "integer", "min": 0, "max": 10, "step": 1}})
    assert parsed.ok and parsed.value == {"give": len(prompts[3][-1]["content"]) % 11}


def test_models_and_health(served_echo: str) -> None:
    status, body = _get(served_echo + "/models")
    assert status == 200 and body["object"] == "list"
    assert [m["id"] for m in body["data"]] == ["echo"]
    status, body = _get(served_echo.removesuffix("/v1") + "/health")
    assert (status, body) == (200, {"status": "ok"})
    status, body = _get(served_echo + "/models/echo")
    assert status == 200 and body["id"] == "echo" and body["object"] == "model"
    status, body = _get(served_echo + "/models/gpt-9")
    assert status == 404 and body["error"]["code"] == "model_not_found"


def test_completion_shape(served_echo: str) -> None:
    body = json.dumps({"model": "echo", "messages": [{"role": "user", "content": "hi"}], "temperature": 0.7}).encode()
    status, data = _post(served_echo + "/chat/completions", body)
    assert status == 200
    assert data["object"] == "chat.completion" and data["model"] == "echo" and data["id"].startswith("chatcmpl-")
    assert data["choices"] == [
        {
            "index": 0,
            "message": {"role": "assistant", "content": _echo([{"role": "user", "content": "hi"}])},
            "finish_reason": "stop",
        }
    ]
    prompt_tokens, completion_tokens = _estimate(
        [{"role": "user", "content": "hi"}], data["choices"][0]["message"]["content"]
    )
    assert data["usage"] == {
        "prompt_tokens": prompt_tokens,
        "completion_tokens": completion_tokens,
        "total_tokens": prompt_tokens + completion_tokens,
    }
    parts = {
        "model": "echo",
        "messages": [{"role": "user", "content": [{"type": "text", "text": "h"}, {"type": "text", "text": "i"}]}],
    }
    status, data = _post(served_echo + "/chat/completions", json.dumps(parts).encode())
    assert status == 200 and data["choices"][0]["message"]["content"].startswith("You said: hi")


GOOD = {"model": "echo", "messages": [{"role": "user", "content": "hi"}]}


@pytest.mark.parametrize(
    ("body", "status", "fragment"),
    [
        (b"{not json", 400, "not valid JSON"),
        (b"[1, 2]", 400, "JSON object"),
        (json.dumps({"messages": GOOD["messages"]}).encode(), 400, "'model'"),
        (json.dumps({**GOOD, "model": "gpt-9"}).encode(), 404, "not served here"),
        (json.dumps({**GOOD, "messages": []}).encode(), 400, "non-empty list"),
        (json.dumps({**GOOD, "messages": [{"role": "wizard", "content": "x"}]}).encode(), 400, "role"),
        (json.dumps({**GOOD, "messages": [{"role": ["user"], "content": "x"}]}).encode(), 400, "role"),
        (json.dumps({**GOOD, "messages": [{"role": "user", "content": 5}]}).encode(), 400, "content"),
        (
            json.dumps(
                {**GOOD, "messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}]}
            ).encode(),
            400,
            "last message",
        ),
        (json.dumps({**GOOD, "stream": "yes"}).encode(), 400, "stream"),
        (json.dumps({**GOOD, "n": 2}).encode(), 400, "n = 1"),
        (json.dumps({**GOOD, "max_tokens": 0}).encode(), 400, "max_tokens"),
        (json.dumps({**GOOD, "max_tokens": "many"}).encode(), 400, "max_tokens"),
        (json.dumps({**GOOD, "max_tokens": True}).encode(), 400, "max_tokens"),
        (json.dumps({**GOOD, "tools": [{"type": "function"}]}).encode(), 400, "tools"),
        (
            b'{"model": "echo", "messages": [{"role": "user", "content": "x"}], "temperature": NaN}',
            400,
            "not valid JSON",
        ),
        (b"", 400, "empty"),
        (b"\xff\xfe\x00garbage", 400, "not valid JSON"),
        (b"[" * 100000 + b"]" * 100000, 400, "not valid JSON"),
    ],
)
def test_request_validation(served_echo: str, body: bytes, status: int, fragment: str) -> None:
    got, data = _post(served_echo + "/chat/completions", body)
    assert got == status
    assert fragment in data["error"]["message"]
    assert data["error"]["type"] == "invalid_request_error"


def test_unknown_endpoint_and_oversized_body(served_echo: str) -> None:
    status, data = _post(served_echo + "/completions", json.dumps(GOOD).encode())
    assert status == 404 and "no such endpoint" in data["error"]["message"]
    status, data = _post(served_echo + "/chat/completions", b" " * (MAX_BODY_BYTES + 1))
    assert status == 413
    assert data["error"]["code"] == "request_too_large"
    status, data = _get(served_echo + "/chat/completions")
    assert status == 405 and data["error"]["type"] == "invalid_request_error"


def test_agent_failure_is_a_500_that_names_no_internals(no_key: None, caplog: pytest.LogCaptureFixture) -> None:
    def broken(prompt: Prompt) -> str:
        raise RuntimeError("model exploded at /secret/path/model.bin")

    with (
        caplog.at_level(logging.WARNING, logger="prefc.serve"),
        start_server(ScriptedAgent("broken", broken)) as handle,
    ):
        status, data = _post(handle.url + "/chat/completions", json.dumps({**GOOD, "model": "broken"}).encode())
        assert status == 500 and data["error"]["type"] == "server_error" and data["error"]["code"] == "agent_error"
        assert "exploded" not in data["error"]["message"] and "/secret" not in data["error"]["message"]
        ref = data["error"]["message"].split("error id ", 1)[1].split(")", 1)[0]
        logged = [r.getMessage() for r in caplog.records if ref in r.getMessage()]
        assert logged and "model exploded" in logged[0]  # the details are in the server's log
        agent = OpenAIChatAgent(handle.url, "broken", max_retries=1, backoff=0.01)
        with pytest.raises(AgentError, match="HTTP 500"):
            agent.respond([_prompt("x")])
        assert _post(handle.url + "/chat/completions", json.dumps({**GOOD, "model": "broken"}).encode())[0] == 500


class _BatchRecorder:
    """An agent that records its calls and checks it is never called from two threads at once."""

    def __init__(self, *, first_sleep: float = 0.3) -> None:
        self.name = "recorder"
        self.calls: list[int] = []
        self.seen: list[str] = []
        self.threads: set[int] = set()
        self.overlap = False
        self.first_sleep = first_sleep
        self._busy = threading.Lock()

    def respond(self, prompts: Sequence[Prompt], *, max_new_tokens: int = 256) -> list[str]:
        if not self._busy.acquire(blocking=False):
            self.overlap = True
            self._busy.acquire()
        try:
            self.threads.add(threading.get_ident())
            self.calls.append(len(prompts))
            self.seen.extend(p[-1]["content"] for p in prompts)
            time.sleep(self.first_sleep if len(self.calls) == 1 else 0.0)
            return [f"{p[-1]['content']}|{max_new_tokens}" for p in prompts]
        finally:
            self._busy.release()


def test_concurrent_requests_are_batched_on_one_thread(no_key: None) -> None:
    recorder = _BatchRecorder()
    with start_server(recorder) as handle:
        agent = OpenAIChatAgent(handle.url, "recorder", concurrency=6)
        prompts = [_prompt(f"p{i}") for i in range(6)]
        assert agent.respond(prompts, max_new_tokens=17) == [f"p{i}|17" for i in range(6)]
    assert isinstance(recorder, Agent)
    assert sum(recorder.calls) == 6 and not recorder.overlap
    assert max(recorder.calls) > 1  # requests that waited behind the slow first call went together
    assert len(recorder.threads) == 1 and threading.get_ident() not in recorder.threads


def test_openai_key_fallback_and_served_key_check(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.delenv("PREFC_API_KEY", raising=False)
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    with caplog.at_level(logging.DEBUG), start_server(ScriptedAgent("echo", _echo), api_key=SECRET) as handle:
        url = handle.url
        assert OpenAIChatAgent(url, "echo").respond([_prompt("hi")]) == [_echo(_prompt("hi"))]
        monkeypatch.setenv("OPENAI_API_KEY", "wrong")
        with pytest.raises(AgentError, match="HTTP 401") as info:
            OpenAIChatAgent(url, "echo").respond([_prompt("hi")])
        assert SECRET not in str(info.value)
        monkeypatch.delenv("OPENAI_API_KEY")
        status, data = _post(url + "/chat/completions", json.dumps(GOOD).encode())
        assert status == 401 and data["error"]["code"] == "invalid_api_key"
        assert data["error"]["type"] == "authentication_error"
        # the official client too; a key of another length, another scheme, no key; /health needs none
        with pytest.raises(openai.AuthenticationError):
            _client(url, api_key=SECRET + "x").chat.completions.create(model="echo", messages=GOOD["messages"])
        assert (
            _post(url + "/chat/completions", json.dumps(GOOD).encode(), {"Authorization": f"Basic {SECRET}"})[0] == 401
        )
        assert _get(url + "/models")[0] == 401
        assert _get(url + "/models", {"Authorization": f"Bearer {SECRET}"})[0] == 200
        assert _get(url.removesuffix("/v1") + "/health")[0] == 200
        reply = _client(url, api_key=SECRET).chat.completions.create(model="echo", messages=GOOD["messages"])
        assert reply.choices[0].message.content == _echo(GOOD["messages"])
        assert SECRET not in repr(ServeOptions(api_key=SECRET))
    assert not any(SECRET in r.getMessage() for r in caplog.records)


# ---- the official client: scripted agent, streaming, usage --------------------------------------


def test_official_client_answers_streams_and_counts(served_echo: str) -> None:
    client = _client(served_echo)
    assert [m.id for m in client.models.list().data] == ["echo"]
    messages = [{"role": "developer", "content": "be brief"}, {"role": "user", "content": "stream me a reply, please"}]
    expected = _echo([{"role": "system", "content": "be brief"}, messages[1]])
    reply = client.chat.completions.create(model="echo", messages=messages, max_completion_tokens=50, temperature=0)
    assert reply.object == "chat.completion" and reply.choices[0].message.content == expected
    assert reply.choices[0].finish_reason == "stop" and reply.model == "echo"
    prompt_tokens, completion_tokens = _estimate([{"role": "system", "content": "be brief"}, messages[1]], expected)
    assert (reply.usage.prompt_tokens, reply.usage.completion_tokens, reply.usage.total_tokens) == (
        prompt_tokens,
        completion_tokens,
        prompt_tokens + completion_tokens,
    )

    chunks = list(
        client.chat.completions.create(
            model="echo", messages=messages, stream=True, stream_options={"include_usage": True}
        )
    )
    assert all(c.object == "chat.completion.chunk" and c.id == chunks[0].id for c in chunks)
    assert chunks[0].choices[0].delta.role == "assistant"
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == expected
    assert len([c for c in chunks if c.choices and c.choices[0].delta.content]) > 3  # in pieces
    assert [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason] == ["stop"]
    assert chunks[-1].choices == [] and chunks[-1].usage.total_tokens == prompt_tokens + completion_tokens
    assert all(c.usage is None for c in chunks[:-1])

    plain = list(client.chat.completions.create(model="echo", messages=messages, stream=True))
    assert all(c.usage is None for c in plain) and all(c.choices for c in plain)
    assert "".join(c.choices[0].delta.content or "" for c in plain) == expected

    # the wire format: server-sent events ending with [DONE]
    host, port, _ = _split(served_echo)
    conn = http.client.HTTPConnection(host, port, timeout=10)
    conn.request(
        "POST",
        "/v1/chat/completions",
        body=json.dumps({**GOOD, "stream": True}),
        headers={"Content-Type": "application/json"},
    )
    response = conn.getresponse()
    text = response.read().decode()
    conn.close()
    assert response.status == 200 and response.getheader("content-type").startswith("text/event-stream")
    events = [e for e in text.split("\n\n") if e]
    assert all(e.startswith("data: ") for e in events) and events[-1] == "data: [DONE]"
    assert json.loads(events[0][6:])["object"] == "chat.completion.chunk"


def test_stop_strings_cut_the_answer(served_echo: str) -> None:
    client = _client(served_echo)
    reply = client.chat.completions.create(
        model="echo", messages=[{"role": "user", "content": "one two three"}], stop=["three", "\n"]
    )
    assert reply.choices[0].message.content == "You said: one two " and reply.choices[0].finish_reason == "stop"
    streamed = client.chat.completions.create(
        model="echo", messages=[{"role": "user", "content": "one two three"}], stop="two", stream=True
    )
    assert "".join(c.choices[0].delta.content or "" for c in streamed) == "You said: one "


def test_official_client_errors_are_typed(served_echo: str) -> None:
    client = _client(served_echo)
    with pytest.raises(openai.NotFoundError):
        client.chat.completions.create(model="gpt-9", messages=GOOD["messages"])
    with pytest.raises(openai.BadRequestError) as info:
        client.chat.completions.create(
            model="echo", messages=[{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "x"}}]}]
        )
    assert "only text parts" in str(info.value)
    with pytest.raises(openai.BadRequestError):
        client.chat.completions.create(model="echo", messages=GOOD["messages"], logprobs=True)


# ---- the tiny local model ---------------------------------------------------------------------


def test_official_client_against_the_tiny_model(tiny_model_dir: Path, no_key: None) -> None:
    from prefc.runtime.generate import LocalAgent

    agent = LocalAgent(str(tiny_model_dir), device="cpu", name="tiny", batch_size=4)
    prompts = [_prompt("How many coins do you give?"), _prompt("Cooperate or defect?")]
    direct = [agent.respond([p], max_new_tokens=12)[0] for p in prompts]
    tok = agent.tokenizer
    with start_server(agent) as handle:
        assert handle.exact_usage
        client = _client(handle.url)
        for prompt, expected in zip(prompts, direct, strict=True):
            reply = client.chat.completions.create(model="tiny", messages=prompt, max_tokens=12)
            content = reply.choices[0].message.content
            assert content == expected  # greedy: the same answer as the agent called directly
            ids = tok.apply_chat_template(prompt, tokenize=True, add_generation_prompt=True)
            ids = ids["input_ids"] if hasattr(ids, "keys") else ids
            assert reply.usage.prompt_tokens == len(ids)  # what the model reads, from its tokenizer
            assert reply.usage.completion_tokens == len(tok(content, add_special_tokens=False)["input_ids"])
            assert reply.choices[0].finish_reason == ("length" if reply.usage.completion_tokens >= 12 else "stop")
            chunks = list(
                client.chat.completions.create(
                    model="tiny", messages=prompt, max_tokens=12, stream=True, stream_options={"include_usage": True}
                )
            )
            assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == expected
            assert chunks[-1].usage.prompt_tokens == len(ids)
        # concurrent requests are batched; each still gets its own answer
        http_agent = OpenAIChatAgent(handle.url, "tiny", concurrency=2)
        assert http_agent.respond(prompts, max_new_tokens=12) == agent.respond(prompts, max_new_tokens=12)


def test_make_agent_local_and_serve_it(tiny_model_dir: Path, no_key: None) -> None:
    pytest.importorskip("prefc.runtime.generate")
    local = make_agent(f"local:{tiny_model_dir}")
    prompts = [_prompt("You are the dictator. How many do you give?"), _prompt("Cooperate or defect?")]
    direct = local.respond(prompts, max_new_tokens=12)
    assert len(direct) == 2 and all(isinstance(t, str) for t in direct)
    with start_server(local, model_name="tiny") as handle:
        remote = OpenAIChatAgent(handle.url, "tiny", concurrency=2).respond(prompts, max_new_tokens=12)
    assert remote == direct  # greedy decoding: the server adds nothing and loses nothing


# ---- malformed bodies -------------------------------------------------------------------------

WRONG = {"null": None, "bool": True, "int": 3, "float": 0.5, "str": "x", "list": [1], "dict": {"a": 1}}
# (path in the body, the JSON types the field accepts); a value of any other type must get a 400 naming the path
FIELDS: list[tuple[tuple[Any, ...], set[str]]] = [
    (("model",), {"str"}),
    (("messages",), {"list"}),
    (("messages", 0), {"dict"}),
    (("messages", 0, "role"), {"str"}),
    (("messages", 0, "content"), {"str", "list"}),
    (("messages", 0, "content", 0), {"dict"}),
    (("messages", 0, "content", 0, "type"), {"str"}),
    (("messages", 0, "content", 0, "text"), {"str"}),
    (("messages", 0, "name"), {"str", "null"}),
    (("max_tokens",), {"int", "null"}),
    (("max_completion_tokens",), {"int", "null"}),
    (("stream",), {"bool", "null"}),
    (("stream_options",), {"dict", "null"}),
    (("stream_options", "include_usage"), {"bool", "null"}),
    (("n",), {"int", "null"}),
    (("temperature",), {"int", "float", "null"}),
    (("top_p",), {"int", "float", "null"}),
    (("presence_penalty",), {"int", "float", "null"}),
    (("frequency_penalty",), {"int", "float", "null"}),
    (("seed",), {"int", "null"}),
    (("stop",), {"str", "list", "null"}),
    (("stop", 0), {"str"}),
    (("user",), {"str", "null"}),
    (("metadata",), {"dict", "null"}),
    (("response_format",), {"dict", "null"}),
    (("logit_bias",), {"dict", "null"}),
]
_BASE: dict[str, Any] = {
    "model": "echo",
    "messages": [{"role": "user", "content": [{"type": "text", "text": "hi"}], "name": "u"}],
    "max_tokens": 5,
    "max_completion_tokens": 5,
    "stream": True,
    "stream_options": {"include_usage": True},
    "n": 1,
    "temperature": 0,
    "top_p": 1,
    "presence_penalty": 0,
    "frequency_penalty": 0,
    "seed": 1,
    "stop": ["zz"],
    "user": "me",
    "metadata": {},
    "response_format": {"type": "text"},
    "logit_bias": {},
}


def _with(path: tuple[Any, ...], value: Any) -> dict[str, Any]:
    body = json.loads(json.dumps(_BASE))
    node = body
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    return body


def _param(path: tuple[Any, ...]) -> str:
    out = ""
    for key in path:
        out += f"[{key}]" if isinstance(key, int) else (f".{key}" if out else key)
    return out


class _Connection:
    """One keep-alive connection sending many requests (the server must keep it usable)."""

    def __init__(self, port: int) -> None:
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)

    def post(self, body: bytes) -> tuple[int, Any, str]:
        self.conn.request("POST", "/v1/chat/completions", body=body, headers={"Content-Type": "application/json"})
        response = self.conn.getresponse()
        raw = response.read()
        kind = response.getheader("content-type", "")
        if response.getheader("connection", "").lower() == "close":
            self.conn.close()
        return response.status, raw, kind

    def close(self) -> None:
        self.conn.close()


def test_every_field_of_the_wrong_type_is_a_located_400(served_echo: str) -> None:
    _, port, _ = _split(served_echo)
    conn = _Connection(port)
    try:
        status, raw, kind = conn.post(json.dumps(_BASE).encode())
        assert status == 200 and kind.startswith("text/event-stream")  # the base request is valid
        checked = 0
        for path, accepted in FIELDS:
            for kind_name, value in WRONG.items():
                if kind_name in accepted:
                    continue
                status, raw, kind = conn.post(json.dumps(_with(path, value)).encode())
                error = json.loads(raw)["error"]
                assert status == 400, (path, value, error)
                assert error["param"] == _param(path) or (
                    path[0] == "messages" and error["param"].startswith("messages")
                ), (path, value, error)
                assert error["type"] == "invalid_request_error" and error["message"]
                checked += 1
        assert checked > 120
    finally:
        conn.close()


def _random_json(rng: random.Random, depth: int = 0) -> Any:
    pick = rng.randrange(9 if depth < 3 else 6)
    if pick == 0:
        return None
    if pick == 1:
        return rng.choice([True, False])
    if pick == 2:
        return rng.choice([0, -1, 1, 7, 4097, 10**30, -(10**18)])
    if pick == 3:
        return rng.choice([0.0, -0.5, 1e308, 3.5, 2.0000001])
    if pick == 4:
        return rng.choice(["", "user", "system", "tool", "x" * 300, "\u202e", "\x00", "echo", "text"])
    if pick == 5:
        return rng.choice([[], {}, "assistant"])
    if pick == 6:
        return [_random_json(rng, depth + 1) for _ in range(rng.randrange(4))]
    keys = ["role", "content", "type", "text", "model", "messages", "include_usage", "name", "stream", "zz"]
    return {rng.choice(keys): _random_json(rng, depth + 1) for _ in range(rng.randrange(4))}


def test_a_fuzz_of_odd_shapes_never_drops_a_connection(served_echo: str) -> None:
    """Seeded: random JSON at random places, truncations and byte noise; every reply is JSON or SSE."""
    rng = random.Random(20240611)
    _, port, _ = _split(served_echo)
    conn = _Connection(port)
    statuses: dict[int, int] = {}
    try:
        for i in range(400):
            body = json.loads(json.dumps(_BASE))
            if i % 4 == 0:  # a random top-level value, or the valid body with random keys mixed in
                extra = _random_json(rng, 2)
                value = {**body, **extra} if i % 8 and isinstance(extra, dict) else _random_json(rng)
                raw = json.dumps(value).encode()
            elif i % 4 == 1:  # a random value at a random known path
                path, _ = rng.choice(FIELDS)
                raw = json.dumps(_with(path, _random_json(rng))).encode()
            elif i % 4 == 2:  # the valid body cut short, or with a byte flipped
                data = bytearray(json.dumps(body).encode())
                if rng.random() < 0.5:
                    data = data[: rng.randrange(len(data))]
                else:
                    data[rng.randrange(len(data))] = rng.randrange(256)
                raw = bytes(data)
            else:  # a random message list
                body["messages"] = [_random_json(rng, 1) for _ in range(rng.randrange(1, 4))]
                raw = json.dumps(body).encode()
            status, reply, kind = conn.post(raw)
            statuses[status] = statuses.get(status, 0) + 1
            assert status in (200, 400, 404), (raw[:200], status, reply[:200])
            if status == 200:
                assert kind.startswith(("application/json", "text/event-stream"))
            else:
                error = json.loads(reply)["error"]
                assert set(error) == {"message", "type", "param", "code"} and error["message"]
            if conn.conn.sock is None:
                conn = _Connection(port)
    finally:
        conn.close()
    assert statuses.get(400, 0) > 100 and sum(statuses.values()) == 400
    assert _post(served_echo + "/chat/completions", json.dumps(GOOD).encode())[0] == 200


# ---- oversized, slow and half-sent requests ---------------------------------------------------


@pytest.fixture
def strict_server(no_key: None) -> Iterator[Any]:
    with start_server(ScriptedAgent("echo", _echo), read_timeout=1.0, keep_alive=1.0) as handle:
        yield handle


def _request(body: bytes, *, length: int | None = None, extra: bytes = b"") -> bytes:
    size = len(body) if length is None else length
    return (
        b"POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        b"Content-Length: %d\r\n" % size + extra + b"\r\n" + body
    )


def test_oversized_bodies_are_answered_413(strict_server: Any) -> None:
    port = strict_server.port
    # declared too large and never sent: answered at once, not after a timeout
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        start = time.monotonic()
        s.sendall(_request(b"{", length=10_000_000))
        reply = _read_response(s)
        assert _status(reply) == 413 and time.monotonic() - start < 0.9
        assert "over the limit" in _json_body(reply)["error"]["message"]
    # declared too large and sent in full: the 413 arrives and the connection stays usable
    conn = _Connection(port)
    try:
        status, raw, _ = conn.post(b" " * (4 * MAX_BODY_BYTES))
        assert status == 413 and json.loads(raw)["error"]["code"] == "request_too_large"
        status, raw, _ = conn.post(json.dumps(GOOD).encode())
        assert status == 200
    finally:
        conn.close()
    # chunked, no length: cut at the limit
    chunk = b" " * 65536
    body = b"".join(b"%x\r\n%s\r\n" % (len(chunk), chunk) for _ in range(20)) + b"0\r\n\r\n"
    seconds, reply = _raw(
        port, b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n" + body
    )
    assert _status(reply) == 413


@pytest.mark.parametrize(
    ("name", "data", "status"),
    [
        ("nothing sent", b"", None),
        ("half a request line", b"POST /v1/chat/comp", 408),
        ("headers never finished", b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\n", 408),
        ("half a body", _request(b'{"model": "echo"', length=200), 408),
        ("malformed HTTP", b"GARBAGE\r\n\r\n", 400),
    ],
)
def test_slow_and_half_sent_requests_are_answered_or_closed_in_time(
    strict_server: Any, name: str, data: bytes, status: int | None
) -> None:
    seconds, reply = _raw(strict_server.port, data)
    assert seconds < 3.0, name  # read_timeout is 1 s
    if status is None:
        assert reply == b""
    else:
        assert _status(reply) == status and set(_json_body(reply)["error"]) == {"message", "type", "param", "code"}


def test_a_trickle_does_not_move_the_deadline(strict_server: Any) -> None:
    """One byte every 0.1 s keeps data coming, yet the headers are late after 1 s: 408, then closed."""
    reply = b""
    with socket.create_connection(("127.0.0.1", strict_server.port), timeout=5) as s:
        start = time.monotonic()
        for byte in b"POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: " + b"a" * 100:
            if select.select([s], [], [], 0.1)[0]:  # the server answered: stop sending, read
                break
            s.sendall(bytes([byte]))
        while chunk := s.recv(65536):
            reply += chunk
        seconds = time.monotonic() - start
    assert _status(reply) == 408 and seconds < 3.0


def test_a_hundred_half_sent_requests_hold_no_threads(strict_server: Any) -> None:
    before = threading.active_count()
    sockets = []
    try:
        for i in range(100):
            s = socket.create_connection(("127.0.0.1", strict_server.port), timeout=5)
            s.sendall(_request(b'{"model": "echo", "messages": [', length=500) if i % 2 else b"POST /v1/chat/com")
            sockets.append(s)
        assert threading.active_count() - before < 3  # the old server held one thread per connection
        start = time.monotonic()
        # the server still answers at once while they wait
        assert _post(strict_server.url + "/chat/completions", json.dumps(GOOD).encode())[0] == 200
        assert time.monotonic() - start < 1.0
        answered = 0
        for s in sockets:
            reply = b""
            while chunk := s.recv(65536):
                reply += chunk
            answered += _status(reply) == 408
        assert answered == 100 and time.monotonic() - start < 4.0
    finally:
        for s in sockets:
            s.close()


# ---- load: concurrency, overload, timeouts, disconnects, shutdown ------------------------------


async def _burst(port: int, n: int) -> tuple[list[Any], float]:
    """n connections opened at once, one request each; the results and the seconds they took."""
    go = asyncio.Event()

    async def one(i: int) -> Any:
        await go.wait()
        body = json.dumps({"model": "echo", "messages": [{"role": "user", "content": f"q{i}"}]}).encode()
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(_request(body, extra=b"Connection: close\r\n"))
            await writer.drain()
            data = await asyncio.wait_for(reader.read(), 30)
            writer.close()
            return _status(data), _json_body(data)["choices"][0]["message"]["content"] == _echo(
                [{"role": "user", "content": f"q{i}"}]
            )
        except (TimeoutError, OSError, IndexError, ValueError) as exc:
            return repr(exc), False

    tasks = [asyncio.create_task(one(i)) for i in range(n)]
    await asyncio.sleep(0.2)
    start = time.perf_counter()
    go.set()
    results = await asyncio.gather(*tasks)
    return results, time.perf_counter() - start


def test_two_hundred_concurrent_connections_none_reset(served_echo: str, capsys: pytest.CaptureFixture) -> None:
    _, port, _ = _split(served_echo)
    results, seconds = asyncio.run(asyncio.wait_for(_burst(port, 200), 60))
    ok = sum(1 for status, right in results if status == 200 and right)
    with capsys.disabled():
        print(
            f"\n200 concurrent connections: {ok} answered correctly, "
            f"{sum(1 for r in results if isinstance(r[0], str))} failed, in {seconds:.2f} s"
        )
    assert ok == 200, [r for r in results if r[0] != 200][:5]


def test_two_hundred_concurrent_official_client_requests(served_echo: str, capsys: pytest.CaptureFixture) -> None:
    async def main() -> tuple[list[str], float]:
        async with openai.AsyncOpenAI(base_url=served_echo, api_key="unused", max_retries=0, timeout=30) as client:
            start = time.perf_counter()
            replies = await asyncio.gather(
                *(
                    client.chat.completions.create(model="echo", messages=[{"role": "user", "content": f"r{i}"}])
                    for i in range(200)
                )
            )
            return [r.choices[0].message.content for r in replies], time.perf_counter() - start

    texts, seconds = asyncio.run(asyncio.wait_for(main(), 60))
    with capsys.disabled():
        print(f"\n200 concurrent openai client requests: {len(texts)} answered in {seconds:.2f} s")
    assert texts == [_echo([{"role": "user", "content": f"r{i}"}]) for i in range(200)]


def test_overload_is_a_503_with_retry_after_and_retrying_clients_finish(no_key: None) -> None:
    recorder = _BatchRecorder(first_sleep=1.0)
    with start_server(recorder, max_pending=2, max_batch=1) as handle:
        results: list[tuple[int, dict[str, str], dict]] = []

        def call(i: int) -> None:
            host, port, _ = _split(handle.url)
            conn = http.client.HTTPConnection(host, port, timeout=10)
            body = json.dumps({"model": "recorder", "messages": [{"role": "user", "content": f"o{i}"}]})
            conn.request("POST", "/v1/chat/completions", body=body, headers={"Content-Type": "application/json"})
            response = conn.getresponse()
            results.append((response.status, dict(response.getheaders()), json.loads(response.read())))
            conn.close()

        threads = [threading.Thread(target=call, args=(i,)) for i in range(6)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=15)
        busy = [r for r in results if r[0] == 503]
        assert len(results) == 6 and busy and len([r for r in results if r[0] == 200]) >= 2
        assert all(r[1].get("retry-after") == "1" and r[2]["error"]["code"] == "server_busy" for r in busy)
        retrying = OpenAIChatAgent(handle.url, "recorder", concurrency=6, max_retries=8, backoff=0.05)
        assert retrying.respond([_prompt(f"z{i}") for i in range(6)]) == [f"z{i}|256" for i in range(6)]


def test_too_many_connections_is_a_503(no_key: None) -> None:
    with start_server(ScriptedAgent("echo", _echo), max_connections=2) as handle:
        held = [socket.create_connection(("127.0.0.1", handle.port), timeout=5) for _ in range(2)]
        try:
            time.sleep(0.2)
            seconds, reply = _raw(handle.port, _request(json.dumps(GOOD).encode()))
            assert _status(reply) == 503 and _json_body(reply)["error"]["code"] == "server_busy"
        finally:
            for s in held:
                s.close()
        time.sleep(0.2)
        assert _post(handle.url + "/chat/completions", json.dumps(GOOD).encode())[0] == 200


def test_an_agent_slower_than_request_timeout_is_a_504(no_key: None) -> None:
    def slow(prompt: Prompt) -> str:
        time.sleep(1.0 if prompt[-1]["content"] == "slow" else 0.0)
        return "done"

    with start_server(ScriptedAgent("slow", slow), request_timeout=0.3) as handle:
        body = {"model": "slow", "messages": [{"role": "user", "content": "slow"}]}
        start = time.monotonic()
        status, data = _post(handle.url + "/chat/completions", json.dumps(body).encode())
        assert status == 504 and data["error"]["code"] == "timeout" and time.monotonic() - start < 0.9
        time.sleep(1.0)
        body["messages"][0]["content"] = "fast"
        assert _post(handle.url + "/chat/completions", json.dumps(body).encode())[0] == 200


def test_a_request_whose_client_left_is_not_answered(no_key: None) -> None:
    recorder = _BatchRecorder(first_sleep=1.0)
    with start_server(recorder) as handle:
        first = threading.Thread(
            target=_post,
            args=(
                handle.url + "/chat/completions",
                json.dumps({"model": "recorder", "messages": [{"role": "user", "content": "first"}]}).encode(),
            ),
        )
        first.start()
        time.sleep(0.3)  # the agent is busy with "first"
        s = socket.create_connection(("127.0.0.1", handle.port), timeout=5)
        s.sendall(
            _request(json.dumps({"model": "recorder", "messages": [{"role": "user", "content": "gone"}]}).encode())
        )
        time.sleep(0.2)
        s.close()  # the client leaves while its request waits
        first.join(timeout=10)
        assert (
            _post(
                handle.url + "/chat/completions",
                json.dumps({"model": "recorder", "messages": [{"role": "user", "content": "third"}]}).encode(),
            )[0]
            == 200
        )
    assert recorder.seen == ["first", "third"]


def test_stop_lets_requests_in_flight_finish(no_key: None) -> None:
    def slow(prompt: Prompt) -> str:
        time.sleep(0.8)
        return "finished"

    handle = start_server(ScriptedAgent("slow", slow), shutdown_timeout=5)
    results: list[tuple[int, dict]] = []
    caller = threading.Thread(
        target=lambda: results.append(
            _post(
                handle.url + "/chat/completions",
                json.dumps({"model": "slow", "messages": [{"role": "user", "content": "x"}]}).encode(),
            )
        )
    )
    caller.start()
    time.sleep(0.3)
    handle.stop()
    caller.join(timeout=10)
    assert results and results[0][0] == 200 and results[0][1]["choices"][0]["message"]["content"] == "finished"
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", handle.port), timeout=2).close()


def test_stop_answers_503_when_the_agent_outlasts_the_grace(no_key: None) -> None:
    def slow(prompt: Prompt) -> str:
        time.sleep(3.0)
        return "too late"

    handle = start_server(ScriptedAgent("slow", slow), shutdown_timeout=0.3)
    results: list[tuple[int, dict]] = []
    caller = threading.Thread(
        target=lambda: results.append(
            _post(
                handle.url + "/chat/completions",
                json.dumps({"model": "slow", "messages": [{"role": "user", "content": "x"}]}).encode(),
            )
        )
    )
    caller.start()
    time.sleep(0.3)
    start = time.monotonic()
    handle.stop()
    caller.join(timeout=10)
    assert time.monotonic() - start < 2.5
    assert results and results[0][0] == 503 and results[0][1]["error"]["code"] == "shutting_down"


def test_serve_runs_until_interrupted(no_key: None) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    code = (
        "import logging; logging.basicConfig(level=logging.INFO); "
        "from prefc.runtime.agents import FixedAgent; from prefc.runtime.serve import ServeOptions, serve; "
        f"serve(FixedAgent('fixed', 'ANSWER: {{\"move\": \"defect\"}}'), options=ServeOptions(port={port}))"
    )
    proc = subprocess.Popen([sys.executable, "-c", code], stderr=subprocess.PIPE, text=True)
    try:
        agent = OpenAIChatAgent(f"http://127.0.0.1:{port}/v1", "fixed", max_retries=8, backoff=0.1)
        assert agent.respond([_prompt("x")]) == ['ANSWER: {"move": "defect"}']
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            _, err = proc.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            raise
    assert proc.returncode == 0
    assert f"http://127.0.0.1:{port}/v1" in err


# ---- rubric agents: theory and logit answer a rubric's prompts -----------------------------------

SPEC = (
    """spec served "A small rubric"

use "preferences.pref"

"""
    + PRISONERS_DILEMMA
    + """
rubric eval for economicus, moralis(kappa = 0.25, 0.75) {
    games prisoners_dilemma
    items 10   tolerance 5%
    seed 4
}
"""
)


@pytest.fixture(scope="module")
def rubric_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("served_spec")
    shutil.copy(ROOT / "specs" / "preferences.pref", root / "preferences.pref")
    (root / "served.pref").write_text(SPEC, encoding="utf-8")
    return prefc.load(root / "served.pref").compile(root / "build").rubric("eval")


def _results(out: Path) -> list[dict]:
    return [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines()]


def test_a_served_theory_agent_scores_as_the_agent_itself(rubric_path: Path, tmp_path: Path, no_key: None) -> None:
    rubric = load_rubric(rubric_path)
    theory = TheoryAgent("theory:moralis(kappa=0.75)", preference_label="moralis(kappa=0.75)")
    served = serving_agent(theory, rubric.items, grid=rubric.family["grid"], source=str(rubric_path))
    assert isinstance(served, RubricChatAgent) and served.prompts == len(rubric.items)
    with start_server(served, refusal=served.refusal) as handle:
        direct = evaluate(rubric, theory, tmp_path / "direct", progress=False, plots=False)
        http = evaluate(
            rubric, OpenAIChatAgent(handle.url, theory.name), tmp_path / "http", progress=False, plots=False
        )
        assert [r["raw"] for r in _results(tmp_path / "http")] == [r["raw"] for r in _results(tmp_path / "direct")]
        assert http.summary.model_dump()["preferences"] == direct.summary.model_dump()["preferences"]
        with pytest.raises(openai.UnprocessableEntityError) as info:
            _client(handle.url).chat.completions.create(model=theory.name, messages=_prompt("Cooperate?"))
        assert "answers only the prompts of" in str(info.value)


def test_a_served_logit_agent_draws_as_the_agent_itself(rubric_path: Path, tmp_path: Path, no_key: None) -> None:
    rubric = load_rubric(rubric_path)
    grid = rubric.family["grid"]
    direct_agent = LogitAgent("logit", kappa=0.5, temperature=0.5, seed=3)
    served = serving_agent(LogitAgent("logit", kappa=0.5, temperature=0.5, seed=3), rubric.items, grid=grid)
    with start_server(served, refusal=served.refusal) as handle:
        evaluate(rubric, direct_agent, tmp_path / "direct", progress=False, plots=False)
        evaluate(
            rubric, OpenAIChatAgent(handle.url, "logit", concurrency=1), tmp_path / "http", progress=False, plots=False
        )
    assert [r["raw"] for r in _results(tmp_path / "http")] == [r["raw"] for r in _results(tmp_path / "direct")]


def test_rubric_agents_are_refused_without_a_fitting_rubric(rubric_path: Path) -> None:
    rubric = load_rubric(rubric_path)
    with pytest.raises(ServeRefused, match="--rubric"):
        serving_agent(make_agent("theory:economicus"), None)
    with pytest.raises(ServeRefused, match="no target for 'altruist'"):
        serving_agent(make_agent("theory:altruist"), rubric.items)
    with pytest.raises(ServeRefused, match="outside the family grid"):
        serving_agent(make_agent("logit:kappa=3"), rubric.items, grid=rubric.family["grid"])
    with pytest.raises(ServeRefused, match="only for"):
        serving_agent(ScriptedAgent("echo", _echo), rubric.items)


# ---- the command line -------------------------------------------------------------------------


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PREFC_API_KEY", "OPENAI_API_KEY", "PREFC_SERVE_API_KEY")}
    return {**env, "HF_HUB_OFFLINE": "1", **extra}


def _start_cli(args: list[str], env: dict[str, str]) -> tuple[subprocess.Popen, dict]:
    proc = subprocess.Popen(
        [*PREFC, "serve", *args, "--port", "0", "--json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=ROOT,
    )
    line = ""
    deadline = time.monotonic() + 60
    while not line and time.monotonic() < deadline and proc.poll() is None:
        line = proc.stdout.readline()
    if not line:
        proc.kill()
        pytest.fail(f"prefc serve did not start: {proc.communicate(timeout=10)}")
    return proc, json.loads(line)


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_cli_serves_prints_its_url_and_stops_gracefully(rubric_path: Path, sig: signal.Signals) -> None:
    proc, info = _start_cli(
        ["--agent", "theory:economicus", "--rubric", str(rubric_path)], _env(PREFC_SERVE_API_KEY=SECRET)
    )
    try:
        assert info["event"] == "listening" and info["url"] == f"http://127.0.0.1:{info['port']}/v1"
        assert info["model"] == "theory:economicus" and info["api_key"] is True and info["usage"] == "estimate"
        item = load_rubric(rubric_path).items[0]
        reply = _client(info["url"], api_key=SECRET).chat.completions.create(
            model=info["model"], messages=item["prompt"]
        )
        assert parse_answer(reply.choices[0].message.content, item["schema"]).value == item["targets"]["economicus"]
        with pytest.raises(openai.AuthenticationError):
            _client(info["url"], api_key="nope").models.list()
    finally:
        proc.send_signal(sig)
        out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert json.loads(out.strip().splitlines()[-1]) == {"event": "stopped", "answered": 1, "batches": 1}
    assert SECRET not in err and SECRET not in out and "Traceback" not in err
    assert "serving 'theory:economicus'" in err and "stopped after 1 answers" in err


def test_cli_text_mode_prints_the_url(rubric_path: Path) -> None:
    proc = subprocess.Popen(
        [*PREFC, "serve", "--agent", "theory:economicus", "--rubric", str(rubric_path), "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=_env(),
        cwd=ROOT,
    )
    try:
        url = proc.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:") and url.endswith("/v1")
        assert _get(url + "/models")[1]["data"][0]["id"] == "theory:economicus"
    finally:
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0 and "Traceback" not in err


@pytest.mark.parametrize(
    ("args", "code", "fragment"),
    [
        (["--agent", "theory:economicus"], 2, "serve it with --rubric"),
        (["--agent", "logit:kappa=0.5"], 2, "local:, openai:"),
        (["--agent", "openai:http://127.0.0.1:9/v1?model=m", "--rubric", "x.jsonl"], 2, "--rubric is for"),
        (["--agent", "theory:economicus", "--rubric", "missing.jsonl"], 1, "no such rubric file"),
        (["--agent", "theory:economicus", "--port", "70000"], 2, "port must be"),
        (["--agent", "theory:economicus", "--read-timeout", "0"], 2, "read_timeout"),
        (["--agent", "theory:economicus", "--api-key", "has space"], 2, "API key"),
        (["--agent", "wizard:x"], 1, "unknown agent"),
    ],
)
def test_cli_refuses_at_start(args: list[str], code: int, fragment: str) -> None:
    done = subprocess.run([*PREFC, "serve", *args], capture_output=True, text=True, env=_env(), cwd=ROOT, timeout=60)
    assert done.returncode == code, done.stderr
    assert fragment in done.stderr and "Traceback" not in done.stderr


def test_cli_refuses_a_taken_port_before_loading(rubric_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        done = subprocess.run(
            [*PREFC, "serve", "--agent", "theory:altruist", "--rubric", str(rubric_path), "--port", str(port)],
            capture_output=True,
            text=True,
            env=_env(),
            cwd=ROOT,
            timeout=60,
        )
    assert done.returncode == 2 and f"cannot listen on 127.0.0.1:{port}" in done.stderr
    assert "loading" not in done.stderr  # refused before the agent was built


def test_cli_refuses_a_theory_agent_the_rubric_cannot_answer(rubric_path: Path) -> None:
    done = subprocess.run(
        [*PREFC, "serve", "--agent", "theory:altruist", "--rubric", str(rubric_path), "--port", "0"],
        capture_output=True,
        text=True,
        env=_env(),
        cwd=ROOT,
        timeout=60,
    )
    assert done.returncode == 2 and "no target for 'altruist'" in done.stderr and "Traceback" not in done.stderr
