"""Agents, the OpenAI-compatible HTTP client, and ``make_agent`` (the server: tests/runtime/serve/test_serve.py).

All servers bind to 127.0.0.1 on a free port; every loop and wait is bounded.
"""

from __future__ import annotations

import json
import math
import socket
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

from prefc.runtime.agents import (
    AgentError,
    FixedAgent,
    LogitAgent,
    ScriptedAgent,
    TheoryAgent,
    logit_probabilities,
    make_agent,
)
from prefc.runtime.answers import parse_answer
from prefc.runtime.http_agent import OpenAIChatAgent
from prefc.runtime.protocol import Agent, Prompt

SECRET = "sk-test-7f3a9c1e-do-not-leak"
SYSTEM = {"role": "system", "content": "Reply with your reasoning, then one line ANSWER: {json}."}


def _prompt(text: str) -> Prompt:
    return [SYSTEM, {"role": "user", "content": text}]


def _echo(prompt: Prompt) -> str:
    return f'You said: {prompt[-1]["content"]}\nANSWER: {{"give": {len(prompt[-1]["content"]) % 11}}}'


@pytest.fixture
def no_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PREFC_API_KEY", raising=False)
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)


@pytest.fixture
def served_echo(no_key: None) -> Iterator[str]:
    pytest.importorskip("uvicorn")  # the serve extra
    from prefc.runtime.serve import start_server

    with start_server(ScriptedAgent("echo", _echo)) as handle:
        yield handle.url


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# ---- the HTTP agent against stand-in servers ----------------------------------------------------


class _FlakyHandler(BaseHTTPRequestHandler):
    """Fails the first ``server.failures`` requests with ``server.fail_status``, then answers."""

    server: _FlakyServer

    def log_message(self, *args: object) -> None:
        pass

    def do_POST(self) -> None:  # noqa: N802
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        with self.server.lock:
            self.server.seen.append({"auth": self.headers.get("Authorization"), "body": body})
            count = len(self.server.seen)
        if count <= self.server.failures:
            status, payload = (
                self.server.fail_status,
                {"error": {"message": f"echo {self.headers.get('Authorization')}"}},
            )
        else:
            status, payload = (
                200,
                {"choices": [{"message": {"role": "assistant", "content": "ok " + body["messages"][-1]["content"]}}]},
            )
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


class _FlakyServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, failures: int, fail_status: int) -> None:
        super().__init__(("127.0.0.1", 0), _FlakyHandler)
        self.failures = failures
        self.fail_status = fail_status
        self.seen: list[dict] = []
        self.lock = threading.Lock()


@pytest.fixture
def flaky() -> Iterator[Callable[..., tuple[_FlakyServer, str]]]:
    servers: list[tuple[_FlakyServer, threading.Thread]] = []

    def start(failures: int, fail_status: int = 503) -> tuple[_FlakyServer, str]:
        server = _FlakyServer(failures, fail_status)
        thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        thread.start()
        servers.append((server, thread))
        return server, f"http://127.0.0.1:{server.server_address[1]}/v1"

    yield start
    for server, thread in servers:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.mark.parametrize("status", [503, 429, 502])
def test_retries_until_the_server_recovers(flaky, no_key: None, status: int) -> None:
    server, url = flaky(failures=2, fail_status=status)
    agent = OpenAIChatAgent(url, "m", max_retries=3, backoff=0.01, concurrency=1)
    assert agent.respond([_prompt("hello")]) == ["ok hello"]
    assert len(server.seen) == 3
    body = server.seen[-1]["body"]
    assert body["model"] == "m" and body["temperature"] == 0 and body["max_tokens"] == 256
    assert body["messages"] == _prompt("hello")


def test_gives_up_after_bounded_retries(flaky, no_key: None) -> None:
    server, url = flaky(failures=100)
    agent = OpenAIChatAgent(url, "m", max_retries=2, backoff=0.05)
    start = time.perf_counter()
    with pytest.raises(AgentError) as info:
        agent.respond([_prompt("hello")])
    elapsed = time.perf_counter() - start
    assert len(server.seen) == 3
    assert 0.05 + 0.1 <= elapsed < 5  # backoff 0.05 then 0.1
    assert url in str(info.value) and "HTTP 503" in str(info.value)


def test_client_errors_are_not_retried(flaky, no_key: None) -> None:
    server, url = flaky(failures=100, fail_status=400)
    agent = OpenAIChatAgent(url, "m", max_retries=3, backoff=0.01)
    with pytest.raises(AgentError, match="HTTP 400"):
        agent.respond([_prompt("hello")])
    assert len(server.seen) == 1


def test_unreachable_port_is_a_clear_bounded_error(no_key: None) -> None:
    url = f"http://127.0.0.1:{_free_port()}/v1"
    agent = OpenAIChatAgent(url, "m", max_retries=2, backoff=0.01, timeout=2)
    start = time.perf_counter()
    with pytest.raises(AgentError) as info:
        agent.respond([_prompt("a"), _prompt("b")])
    assert time.perf_counter() - start < 5
    message = str(info.value)
    assert f"{url}/chat/completions" in message and "3 attempt" in message and "connect" in message


def test_api_key_is_sent_as_bearer_and_never_shown(flaky, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.setenv("PREFC_API_KEY", SECRET)
    server, url = flaky(failures=0)
    agent = OpenAIChatAgent(url, "m")
    assert agent.respond([_prompt("hi")]) == ["ok hi"]
    assert server.seen[0]["auth"] == f"Bearer {SECRET}"
    assert SECRET not in repr(agent) and SECRET not in agent.name

    # A server that echoes the header back in its error: the message is redacted.
    echo_server, echo_url = flaky(failures=100, fail_status=401)
    with pytest.raises(AgentError) as info:
        OpenAIChatAgent(echo_url, "m").respond([_prompt("hi")])
    assert "HTTP 401" in str(info.value) and "Bearer ***" in str(info.value)
    assert SECRET not in str(info.value) and SECRET not in repr(info.value)

    # Unreachable: the URL is named, the key is not.
    with pytest.raises(AgentError) as info:
        OpenAIChatAgent(f"http://127.0.0.1:{_free_port()}/v1", "m", max_retries=0).respond([_prompt("hi")])
    assert SECRET not in str(info.value)


def test_malformed_completion_body(no_key: None) -> None:
    class Bad(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def do_POST(self) -> None:  # noqa: N802
            self.rfile.read(int(self.headers["Content-Length"]))
            data = b'{"choices": []}'
            self.send_response(200)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Bad)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        with pytest.raises(AgentError, match="not a chat completion"):
            OpenAIChatAgent(f"http://127.0.0.1:{server.server_address[1]}/v1", "m").respond([_prompt("x")])
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def test_http_agent_rejects_bad_urls() -> None:
    for url in ("file:///etc/passwd", "127.0.0.1:8000/v1", "ftp://host/v1"):
        with pytest.raises(AgentError, match="http"):
            OpenAIChatAgent(url, "m")


# ---- rubric-driven agents ---------------------------------------------------------------------

GRID = [i / 20 for i in range(21)]
PD_MATRIX = {"cooperate": {"cooperate": 3.0, "defect": 0.0}, "defect": {"cooperate": 5.0, "defect": 1.0}}


def _pd_item(item_id: str, other: str = "cooperate", *, grid: Sequence[float] = GRID) -> dict:
    """A PD item against a fixed co-player move: u(a; kappa) = (1-kappa)*pi(a, other) + kappa*pi(a, a)."""
    options = ["cooperate", "defect"]
    utilities = [[(1 - k) * PD_MATRIX[a][other] + k * PD_MATRIX[a][a] for a in options] for k in grid]
    return {
        "id": item_id,
        "game": "prisoners_dilemma",
        "role": "row",
        "params": {"T": 5, "R": 3, "P": 1, "S": 0},
        "prompt": _prompt("Cooperate or defect?"),
        "schema": {"move": {"kind": "choice", "options": options}},
        "targets": {
            "economicus": {"move": "defect"},
            "moralis(kappa=0.75)": {"move": "cooperate"},
            "moralis(kappa=0.333)": {"move": "defect", "alternatives": [{"move": "cooperate"}]},
        },
        "tolerance": 0.05,
        "family": {"options": [{"move": o} for o in options], "utilities": utilities},
        "meta": {"rubric": "eval"},
    }


def _give_item(item_id: str) -> dict:
    """A three-option item whose utilities are linear in kappa: u(g; kappa) = (10 - g) + kappa * 1.2 * g."""
    gives = [0, 5, 10]
    return {
        "id": item_id,
        "game": "dictator",
        "role": "dictator",
        "params": {"E": 10},
        "prompt": _prompt("How many coins do you give?"),
        "schema": {"give": {"kind": "integer", "min": 0, "max": 10, "step": 1}},
        "targets": {"economicus": {"give": 0}},
        "tolerance": 0.05,
        "family": {
            "options": [{"give": g} for g in gives],
            "utilities": [[(10 - g) + k * 1.2 * g for g in gives] for k in GRID],
        },
    }


def test_logit_probabilities_match_the_closed_form() -> None:
    item = _give_item("g")
    for kappa, temperature in [(0.3, 0.5), (0.8, 2.0), (0.0, 1.0), (1.0, 0.25), (0.537, 1.3)]:
        u = np.array([(10 - g) + kappa * 1.2 * g for g in (0, 5, 10)])
        expected = np.exp((u - u.max()) / temperature)
        expected /= expected.sum()
        got = logit_probabilities(item, kappa=kappa, temperature=temperature)
        assert np.allclose(got, expected, atol=1e-12)
    assert logit_probabilities(item, kappa=0.9, temperature=0).tolist() == [0.0, 0.0, 1.0]
    with pytest.raises(AgentError, match="outside the family grid"):
        logit_probabilities(item, kappa=1.5, temperature=1)


def test_logit_agent_frequencies_match_probabilities() -> None:
    item = _give_item("g")
    agent = LogitAgent("logit", kappa=0.83, temperature=1.0, seed=7)
    probs = np.array(agent.probabilities(item))
    assert probs.min() > 0.05  # a non-degenerate distribution for the test
    n = 3000
    answers = agent.respond_items([item] * n)
    schema = item["schema"]
    counts = {0: 0, 5: 0, 10: 0}
    for text in answers:
        parsed = parse_answer(text, schema)
        assert parsed.ok, parsed.error
        counts[parsed.value["give"]] += 1
    observed = np.array([counts[0], counts[5], counts[10]])
    chi2, p_value = stats.chisquare(observed, probs * n)
    assert p_value > 0.001, (observed, probs * n, chi2)


def test_logit_agent_pd_frequencies_and_determinism() -> None:
    items = [_pd_item(f"pd-{i}") for i in range(2000)]
    kappa, temperature = 0.45, 0.5
    # closed form at kappa: u(C) = 3, u(D) = (1-k)*5 + k*1
    diff = (1 - kappa) * 5 + kappa * 1 - 3
    p_defect = 1 / (1 + math.exp(-diff / temperature))
    one = LogitAgent("a", kappa=kappa, temperature=temperature, seed=3).respond_items(items)
    defects = sum(parse_answer(t, items[0]["schema"]).value == {"move": "defect"} for t in one)
    sd = math.sqrt(len(items) * p_defect * (1 - p_defect))
    assert abs(defects - len(items) * p_defect) < 4 * sd
    # Same seed, different batching -> same answers; another seed -> different answers.
    chunked = LogitAgent("b", kappa=kappa, temperature=temperature, seed=3)
    again = [t for start in range(0, len(items), 7) for t in chunked.respond_items(items[start : start + 7])]
    assert again == one
    assert LogitAgent("c", kappa=kappa, temperature=temperature, seed=4).respond_items(items) != one


def test_logit_agent_at_zero_temperature_is_the_best_response() -> None:
    # Cooperation against a cooperator beats defection iff 3 > (1-k)*5 + k  <=>  k > 1/2.
    for kappa, move in [(0.2, "defect"), (0.45, "defect"), (0.55, "cooperate"), (0.9, "cooperate")]:
        text = LogitAgent("t0", kappa=kappa, temperature=0, seed=0).respond_items([_pd_item("x")])[0]
        assert parse_answer(text, _pd_item("x")["schema"]).value == {"move": move}


def test_logit_agent_uses_an_uneven_grid() -> None:
    grid = [0.0, 0.1, 0.5, 0.9, 1.0]
    item = _pd_item("x", grid=grid)
    item["family"]["grid"] = grid
    agent = LogitAgent("g", kappa=0.3, temperature=1.0)
    u_c, u_d = 3.0, 0.7 * 5 + 0.3 * 1
    assert agent.probabilities(item)[1] == pytest.approx(1 / (1 + math.exp(u_c - u_d)))
    with pytest.raises(AgentError, match="respond_items"):
        agent.respond([_prompt("x")])


def test_theory_agent_answers_the_targets() -> None:
    items = [_pd_item("a"), _give_item("b")]
    econ = TheoryAgent("theory:economicus", preference_label="economicus").respond_items(items)
    assert [parse_answer(t, i["schema"]).value for t, i in zip(econ, items, strict=True)] == [
        {"move": "defect"},
        {"give": 0},
    ]
    assert all(t.count("\n") == 1 and t.splitlines()[0] for t in econ)  # one reasoning line, then the answer
    moralis = TheoryAgent("m", preference_label="moralis( kappa = .75 )").respond_items(items[:1])
    assert parse_answer(moralis[0], items[0]["schema"]).value == {"move": "cooperate"}
    tie = TheoryAgent("m", preference_label="moralis(kappa=0.333)").respond_items(items[:1])
    assert tie[0].endswith('ANSWER: {"move": "defect"}')  # the primary target, alternatives dropped
    with pytest.raises(AgentError, match=r"no target for 'inequity'.*economicus"):
        TheoryAgent("i", preference_label="inequity").respond_items(items)
    with pytest.raises(AgentError, match="respond_items"):
        TheoryAgent("i", preference_label="economicus").respond([_prompt("x")])


def test_scripted_and_fixed_agents() -> None:
    scripted = ScriptedAgent("s", lambda p: p[-1]["content"].upper())
    assert scripted.respond([_prompt("ab"), _prompt("cd")]) == ["AB", "CD"]
    fixed = FixedAgent("f", ["one", "two", "three"])
    assert fixed.respond([_prompt("x")] * 2) == ["one", "two"]
    assert fixed.respond([_prompt("x")] * 2) == ["three", "one"]
    assert FixedAgent("g", "same").respond([_prompt("x")] * 3) == ["same"] * 3
    with pytest.raises(AgentError):
        FixedAgent("h", [])
    assert isinstance(scripted, Agent) and isinstance(fixed, Agent)


# ---- make_agent -------------------------------------------------------------------------------


def test_make_agent_theory_and_logit() -> None:
    theory = make_agent("theory:moralis(kappa=0.75)")
    assert isinstance(theory, TheoryAgent) and theory.name == "theory:moralis(kappa=0.75)"
    assert parse_answer(theory.respond_items([_pd_item("a")])[0], _pd_item("a")["schema"]).value == {
        "move": "cooperate"
    }
    logit = make_agent("logit:kappa=0.3,temperature=0.1,seed=1")
    assert isinstance(logit, LogitAgent)
    assert (logit.kappa, logit.temperature, logit.seed) == (0.3, 0.1, 1)
    assert logit.name == "logit:kappa=0.3,temperature=0.1,seed=1"
    defaults = make_agent("logit:kappa=0.5")
    assert (defaults.temperature, defaults.seed) == (1.0, 0)


def test_make_agent_openai(served_echo: str, monkeypatch: pytest.MonkeyPatch) -> None:
    agent = make_agent(f"openai:{served_echo}?model=echo&timeout=5&concurrency=2")
    assert isinstance(agent, OpenAIChatAgent) and agent.timeout == 5 and agent.concurrency == 2
    assert agent.name == f"openai:{served_echo}?model=echo"
    assert agent.respond([_prompt("hey")]) == [_echo(_prompt("hey"))]
    monkeypatch.setenv("PREFC_API_KEY", SECRET)
    with_creds = make_agent("openai:http://user:pw@127.0.0.1:9/v1?model=x")
    assert "pw" not in with_creds.name and SECRET not in with_creds.name and SECRET not in repr(with_creds)


@pytest.mark.parametrize(
    ("spec", "fragment"),
    [
        ("gemini:pro", "theory:LABEL"),
        ("moralis", "agent specs are"),
        ("theory:", "preference label"),
        ("logit:temperature=0.1", "needs kappa"),
        ("logit:kappa=abc", "not a valid float"),
        ("logit:kappa=0.3,colour=red", "KEY=VALUE"),
        ("logit:kappa=0.3,kappa=0.4", "given twice"),
        ("logit:kappa=0.3,temperature=-1", "temperature"),
        ("openai:http://127.0.0.1:8000/v1", "model=NAME"),
        ("openai:127.0.0.1:8000?model=x", "http(s) base URL"),
        ("local:", "model name or directory"),
        ("local:x?adaptor=y", "KEY=VALUE"),
    ],
)
def test_make_agent_errors(spec: str, fragment: str) -> None:
    with pytest.raises(AgentError, match=None) as info:
        make_agent(spec)
    assert fragment in str(info.value)
    if spec.startswith(("gemini", "moralis")):
        assert all(kind in str(info.value) for kind in ("theory:", "logit:", "local:", "openai:"))


def test_make_agent_does_not_import_torch_for_non_local_kinds() -> None:
    import subprocess
    import sys

    code = (
        "import sys; from prefc.runtime.agents import make_agent; "
        "make_agent('theory:economicus'); make_agent('logit:kappa=0.2'); "
        "make_agent('openai:http://127.0.0.1:9/v1?model=m'); "
        "print('torch' in sys.modules, 'transformers' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert out.stdout.strip() == "False False"


# ---- local models -----------------------------------------------------------------------------


def test_make_agent_local_errors(tmp_path: Path) -> None:
    pytest.importorskip("prefc.runtime.generate")
    with pytest.raises(AgentError, match="local:"):
        make_agent(f"local:{tmp_path / 'missing-model'}")
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(AgentError, match="local:"):
        make_agent(f"local:{empty}")


def test_make_agent_local_missing_adapter(tiny_model_dir: Path, tmp_path: Path) -> None:
    pytest.importorskip("prefc.runtime.generate")
    with pytest.raises(AgentError, match="local:"):
        make_agent(f"local:{tiny_model_dir}?adapter={tmp_path / 'no-adapter'}")
