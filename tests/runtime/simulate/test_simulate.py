"""Repeated logit Bertrand play against published prices and an independently written market.

Reference values: Calvano, Calzolari, Denicolo & Pastorello (2020, AER), Nash price 1.4729 and
joint-profit price 1.9250 at a = 2, a0 = 0, mu = 0.25, c = 1; homo moralis symmetric prices
1.5829 / 1.7106 / 1.8293 at kappa 0.25 / 0.5 / 0.75. The market below (``logit_profit``) is
written out by hand, apart from the spec, to check shares, profits and best responses.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from scipy import optimize

from prefc.cli import main
from prefc.compiler.check import check_file
from prefc.compiler.ir import lower_spec
from prefc.runtime.agents import FixedAgent, ScriptedAgent
from prefc.runtime.simulate import SimulationError, simulate

SPECS = Path(__file__).resolve().parents[3] / "specs"
PRICING = str(SPECS / "pricing.pref")
NASH, JOINT = 1.4729, 1.9250
MORALIS = {"0.25": 1.5829, "0.5": 1.7106, "0.75": 1.8293}


def logit_share(p: float, q: float) -> float:
    a, a0, mu = 2.0, 0.0, 0.25
    own = math.exp((a - p) / mu)
    return own / (own + math.exp((a - q) / mu) + math.exp(a0 / mu))


def logit_profit(p: float, q: float) -> float:
    return (p - 1.0) * logit_share(p, q)


def argmax(f) -> float:
    grid = np.linspace(1.0, 4.0, 3001)
    i = int(np.argmax([f(x) for x in grid]))
    res = optimize.minimize_scalar(
        lambda x: -f(x),
        bounds=(grid[max(i - 1, 0)], grid[min(i + 1, 3000)]),
        method="bounded",
        options={"xatol": 1e-10},
    )
    return float(res.x)


@pytest.fixture(scope="module")
def ir():
    return lower_spec(check_file(PRICING))


def run(ir, agents, tmp_path, **kw):
    kw.setdefault("rounds", 30)
    kw.setdefault("last", 10)
    return simulate(ir, agents, out_dir=tmp_path, progress=False, plot=kw.pop("plot", False), **kw)


# --------------------------------------------------------------------------- theory players


def test_economicus_pair_converges_to_nash(ir, tmp_path):
    res = run(ir, ["theory:economicus", "theory:economicus"], tmp_path)
    s = res.summary
    assert [a.name for a in s.agents] == ["theory:economicus#1", "theory:economicus#2"]
    for a in s.agents:
        assert abs(a.mean_price_last - NASH) < 0.01
        assert a.benchmark_price == pytest.approx(NASH, abs=5e-5) and a.failures == 0
    assert s.benchmarks.nash_price == pytest.approx(NASH, abs=5e-5)
    assert s.benchmarks.nash_profit == pytest.approx(logit_profit(NASH, NASH), abs=1e-4)
    assert abs(s.collusion_index.joint) < 0.01
    # the path starts at marginal cost: round 1 is the best reply to a rival at p = 1
    assert res.rounds[0].agents[0].price == pytest.approx(argmax(lambda p: logit_profit(p, 1.0)), abs=1e-6)


def test_moralis_pairs_and_benchmarks(ir, tmp_path):
    res = run(ir, ["theory:moralis(kappa=0.5)", "theory:moralis(kappa = 0.50)"], tmp_path / "half")
    s = res.summary
    for a in s.agents:
        assert abs(a.mean_price_last - 1.7106) < 0.01 and a.preference == "moralis(kappa=0.5)"
    assert {k: round(v, 4) for k, v in s.benchmarks.moralis.items()} == MORALIS
    assert round(s.benchmarks.monopoly_price, 4) == JOINT
    full = run(ir, ["theory:moralis(kappa=1)", "theory:moralis(kappa=1)"], tmp_path / "one").summary
    assert abs(full.agents[0].mean_price_last - JOINT) < 0.01
    assert full.collusion_index.joint == pytest.approx(1.0, abs=0.01)
    # the joint-profit benchmark is homo moralis at kappa = 1
    assert full.agents[0].benchmark_price == pytest.approx(full.benchmarks.monopoly_price, abs=1e-6)
    assert full.benchmarks.moralis["1"] == pytest.approx(full.benchmarks.monopoly_price, abs=1e-6)


def test_mixed_pair_reaches_the_asymmetric_fixed_point(ir, tmp_path):
    res = run(ir, ["theory:economicus", "theory:moralis(kappa=0.5)"], tmp_path, initial="mid")
    p1, p2 = (m.price for m in res.rounds[-1].agents)
    assert p1 < p2  # the economicus firm undercuts the moralis one
    best1 = argmax(lambda p: logit_profit(p, p2))
    best2 = argmax(lambda p: 0.5 * logit_profit(p, p1) + 0.5 * logit_profit(p, p))
    assert p1 == pytest.approx(best1, abs=1e-5) and p2 == pytest.approx(best2, abs=1e-5)
    # shares and profits are those of the logit market
    m1, m2 = res.rounds[-1].agents
    assert m1.share == pytest.approx(logit_share(p1, p2), rel=1e-9)
    assert m2.profit == pytest.approx(logit_profit(p2, p1), rel=1e-9)
    idx = res.summary.collusion_index
    nash, mono = res.summary.benchmarks.nash_profit, res.summary.benchmarks.monopoly_profit
    assert idx.per_agent[0] == pytest.approx((logit_profit(p1, p2) - nash) / (mono - nash), abs=1e-6)


# --------------------------------------------------------------------------- answering agents


def test_garbage_is_held_and_recorded(ir, tmp_path):
    answers = ['Easy.\nANSWER: {"price": 1.8}', "no idea", 'ANSWER: {"price": 9}', 'ANSWER: {"price": "1.6"}']
    res = run(ir, [FixedAgent("fixed", answers), "theory:economicus"], tmp_path, rounds=8, initial=2.5)
    moves = [r.agents[0] for r in res.rounds]
    assert [m.held for m in moves] == [False, True, True, False] * 2
    assert [m.price for m in moves] == [1.8, 1.8, 1.8, 1.6] * 2
    assert moves[1].raw == "no idea" and "no line starting with ANSWER" in moves[1].error
    assert "outside [1, 4]" in moves[2].error
    assert res.summary.agents[0].failures == 4 and res.summary.agents[0].parse_rate == 0.5
    assert res.summary.agents[0].benchmark_price is None and res.summary.agents[0].preference is None
    for r in res.rounds:
        a, b = r.agents
        assert a.profit == pytest.approx(logit_profit(a.price, b.price), rel=1e-9)

    never = run(
        ir, [ScriptedAgent("mute", lambda prompt: ""), "theory:economicus"], tmp_path / "mute", rounds=3, initial="mid"
    )
    assert [r.agents[0].price for r in never.rounds] == [2.5, 2.5, 2.5]
    assert all(r.agents[0].held and r.agents[0].error == "empty output" for r in never.rounds)


def test_kept_prices_are_noted_in_words_not_next_to_the_number(ir, tmp_path):
    seen: list[str] = []
    answers = iter(['ANSWER: {"price": 1.8}', "no idea", "no idea", 'ANSWER: {"price": 1.6}', "x", "x", "x"])

    def answer(prompt):
        seen.append(prompt[-1]["content"])
        return next(answers)

    run(ir, [ScriptedAgent("script", answer), "theory:economicus"], tmp_path, rounds=5, initial=2.5, history=3)
    rows = [line for line in seen[3].splitlines() if line[:1].isdigit()]
    assert [r.split(" | ")[0] for r in rows] == ["1", "2", "3"]
    assert [r.split(" | ")[-1] for r in rows] == ["valid", "not valid, price kept", "not valid, price kept"]
    assert [r.split(" | ")[1] for r in rows] == ["1.80"] * 3  # the kept price is shown as it is
    assert "*" not in "".join(seen) and seen[3].endswith("Your price for this round? Reply with the ANSWER line.")


class Counting:
    """An agent that records the batches it is asked and answers with a fixed price."""

    def __init__(self) -> None:
        self.name = "counting"
        self.batches: list[list] = []

    def respond(self, prompts, *, max_new_tokens=256):
        self.batches.append(list(prompts))
        return ['ANSWER: {"price": 1.7}'] * len(prompts)


def test_one_model_answers_both_firms_in_one_batch(ir, tmp_path):
    agent = Counting()
    res = run(ir, [agent, agent], tmp_path, rounds=5, history=2)
    assert [len(b) for b in agent.batches] == [2] * 5
    system, user = agent.batches[-1][0]
    assert system["role"] == "system" and "ANSWER" in system["content"]
    text = user["content"]
    assert "logit scale is 0.25" in text and 'ANSWER: {"price": <a number from 1 to 4>}' in text
    assert "This is round 5; the last 2 rounds:" in text
    assert "\n3 | 1.70 | 1.70 | " in text and "\n4 | 1.70 | 1.70 | " in text and "\n2 | " not in text
    assert [a.name for a in res.summary.agents] == ["counting#1", "counting#2"]


def test_interrupt_keeps_the_rounds(ir, tmp_path):
    calls = []

    def answer(prompt):
        calls.append(1)
        if len(calls) == 4:
            raise KeyboardInterrupt
        return 'ANSWER: {"price": 2}'

    with pytest.raises(KeyboardInterrupt):
        run(ir, [ScriptedAgent("s", answer), "theory:economicus"], tmp_path, rounds=10)
    lines = (tmp_path / "rounds.jsonl").read_text().splitlines()
    assert len(lines) == 3
    summary = json.loads((tmp_path / "simulation.json").read_text())
    assert summary["rounds"] == 3 and summary["interrupted"] is True and summary["rounds_requested"] == 10


def test_bad_input_raises(ir, tmp_path):
    with pytest.raises(SimulationError, match="unknown game `nope`"):
        run(ir, ["theory:economicus"] * 2, tmp_path, game="nope")
    with pytest.raises(SimulationError, match="has no parameter `kk`"):
        run(ir, ["theory:economicus"] * 2, tmp_path, params={"kk": 1})
    with pytest.raises(SimulationError, match="exactly two agents"):
        run(ir, ["theory:economicus"], tmp_path)
    with pytest.raises(SimulationError, match="outside"):
        run(ir, ["theory:economicus"] * 2, tmp_path, initial=7)
    with pytest.raises(SimulationError, match="answers rubric items only"):
        run(ir, ["logit:kappa=0.5", "theory:economicus"], tmp_path)
    with pytest.raises(SimulationError, match="reply must be one of direct, free"):
        run(ir, ["theory:economicus"] * 2, tmp_path, reply="think")


# --------------------------------------------------------------------------- files and CLI


def test_cli_writes_the_outputs(tmp_path, capsys):
    out = tmp_path / "run"
    code = main(
        [
            "simulate",
            PRICING,
            "--agent",
            "theory:economicus",
            "--agent",
            "theory:moralis(kappa=0.75)",
            "--rounds",
            "25",
            "--last",
            "5",
            "-o",
            str(out),
        ]
    )
    assert code == 0
    printed = capsys.readouterr().out
    assert "collusion" in printed and "1.4729" in printed
    rounds = [json.loads(line) for line in (out / "rounds.jsonl").read_text().splitlines()]
    assert [r["round"] for r in rounds] == list(range(1, 26))
    assert set(rounds[0]) == {"round", "agents"}
    assert set(rounds[0]["agents"][0]) == {"agent", "price", "held", "raw", "error", "share", "profit"}
    data = json.loads((out / "simulation.json").read_text())
    assert {
        "spec",
        "spec_sha256",
        "game",
        "rounds",
        "last",
        "params",
        "agents",
        "benchmarks",
        "collusion_index",
    } <= set(data)
    assert data["game"] == "bertrand" and data["rounds"] == 25 and data["last"] == 5
    assert data["spec_sha256"] == check_file(PRICING).sha256
    assert data["agents"][1]["benchmark_price"] == pytest.approx(1.8293, abs=5e-5)
    assert set(data["benchmarks"]["moralis"]) == {"0.25", "0.5", "0.75"}
    assert len(data["collusion_index"]["per_agent"]) == 2
    png = (out / "prices.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 5000


@pytest.mark.parametrize(
    "argv,message",
    [
        (["--game", "bertrnd"], "unknown game `bertrnd`"),
        (["--agent", "foo:bar"], "unknown agent 'foo'"),
        (["--agent", "theory:moralis(kapa=0.5)"], "did you mean `kappa`?"),
        (["--agent", "theory:selfish"], "unknown preference `selfish`"),
        (["--set", "mu=-"], "cannot read the setting"),
        (["--initial", "cheap"], "expected a number or one of low, mid"),
        (["--agent", "openai:http://127.0.0.1:9/v1?model=m&max_retries=0&timeout=2"], "unreachable"),
    ],
)
def test_cli_bad_input(tmp_path, capsys, argv, message):
    agents = ["--agent", "theory:economicus"]
    if "--agent" not in argv:
        agents += ["--agent", "theory:economicus"]
    code = main(["simulate", PRICING, *agents, *argv, "--rounds", "3", "--no-plot", "-o", str(tmp_path)])
    err = capsys.readouterr().err
    assert code == 1 and message in err and "Traceback" not in err


def test_cli_game_that_is_not_a_pricing_game(tmp_path, capsys):
    code = main(
        [
            "simulate",
            str(SPECS / "paper.pref"),
            "--game",
            "prisoners_dilemma",
            "--agent",
            "theory:economicus",
            "--agent",
            "theory:economicus",
            "-o",
            str(tmp_path),
        ]
    )
    err = capsys.readouterr().err
    assert code == 1 and err.startswith("error: game `prisoners_dilemma` cannot be simulated")
    code = main(
        [
            "simulate",
            str(SPECS / "paper.pref"),
            "--game",
            "public_goods",
            "--agent",
            "theory:economicus",
            "--agent",
            "theory:economicus",
            "-o",
            str(tmp_path),
        ]
    )
    assert code == 1 and "it has 4 players" in capsys.readouterr().err
    code = main(["simulate", PRICING, "--agent", "theory:economicus", "-o", str(tmp_path)])
    assert code == 1 and "exactly two agents" in capsys.readouterr().err


# --------------------------------------------------------------------------- a local model


def test_local_model_plays_and_failures_are_recorded(tiny_model_dir, ir, tmp_path):
    from prefc.runtime.agents import make_agent

    agent = make_agent(f"local:{tiny_model_dir}")
    res = run(ir, [agent, agent], tmp_path, rounds=3, max_new_tokens=6, initial="mid")
    for r in res.rounds:
        for m in r.agents:
            assert isinstance(m.raw, str)
            assert m.held == (m.error is not None)
            assert 1 <= m.price <= 4
    s = res.summary
    assert s.rounds == 3 and all(
        a.failures == sum(r.agents[i].held for r in res.rounds) for i, a in enumerate(s.agents)
    )
    # the cached prompt prefix changes nothing in the answers
    plain = run(ir, [agent, agent], tmp_path / "plain", rounds=3, max_new_tokens=6, initial="mid", prefix_cache=False)
    assert [[m.raw for m in r.agents] for r in plain.rounds] == [[m.raw for m in r.agents] for r in res.rounds]
    # direct replies (the default) continue the answer line's opening
    assert s.params["reply"] == "direct"
    opening = 'ANSWER: {{"{}": '.format(s.params["action"])
    assert all(m.raw.startswith(opening) for r in res.rounds for m in r.agents)
    free = run(ir, [agent, agent], tmp_path / "free", rounds=2, max_new_tokens=6, initial="mid", reply="free")
    assert free.summary.params["reply"] == "free"
    assert not any(m.raw.startswith(opening) for r in free.rounds for m in r.agents)


def test_reply_prefix_and_stop_strings_shape_a_local_answer(tiny_model_dir):
    from prefc.runtime.generate import LocalAgent

    agent = LocalAgent(tiny_model_dir)
    prompt = [{"role": "user", "content": "Set a price."}]
    free = agent.respond([prompt], max_new_tokens=12)[0]
    opened = agent.respond([prompt], max_new_tokens=12, reply_prefix='ANSWER: {"p": ')[0]
    assert opened.startswith('ANSWER: {"p": ')
    assert opened != free
    # a stop string ends the answer where it first appears (kept), before max_new_tokens
    import re

    words = [m for m in re.finditer(r"[A-Za-z]{2,}", free) if m.end() < len(free) - 2]
    assert words, free  # the tiny model's greedy text is fixed: it has a word before its end
    stop = words[0].group()
    stopped = agent.respond([prompt], max_new_tokens=12, stop=[stop])[0]
    assert stop in stopped and len(stopped) < len(free) and free.startswith(stopped)
