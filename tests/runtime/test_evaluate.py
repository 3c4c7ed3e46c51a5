"""Evaluation end to end: rubric files on disk, real agents, results.jsonl, summary.json, plots."""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from score_rubrics import GRID, KAPPA_OF, LABELS, build_items, write_rubric

from prefc.runtime import evaluate as E
from prefc.runtime.agents import LogitAgent, ScriptedAgent, TheoryAgent
from prefc.runtime.answers import parse_answer
from prefc.runtime.protocol import Prompt
from prefc.runtime.rubric import stratified
from prefc.runtime.score import Summary

PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def rubric_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_rubric(tmp_path_factory.mktemp("rubric"), build_items(120, seed=21))


# -- loading ------------------------------------------------------------------------------------


def test_load_rubric_reads_header_and_items(rubric_path: Path) -> None:
    rub = E.load_rubric(rubric_path, expect_sha256="f" * 64)
    assert len(rub.items) == 120 and rub.preferences == LABELS and rub.tolerance == 0.05
    assert rub.family is not None and rub.family["grid"] == GRID
    assert E.load_rubric(rubric_path.with_suffix(".json")).items == rub.items  # header path works too


def test_load_rubric_errors_name_the_file_and_line(tmp_path: Path) -> None:
    items = build_items(5, seed=0)
    path = write_rubric(tmp_path, items)
    lines = path.read_text().splitlines()
    path.write_text("\n".join([lines[0], lines[1][:50], *lines[2:]]) + "\n")
    with pytest.raises(E.RubricError, match=rf"{path.name}:2: invalid JSON"):
        E.load_rubric(path)

    other = dict(items[2], meta={"spec_sha256": "0" * 64})
    path = write_rubric(tmp_path, [items[0], items[1], other])
    with pytest.raises(E.RubricError, match=rf"{path.name}:3: item 'eval-0002' comes from spec 000000000000"):
        E.load_rubric(path)

    path = write_rubric(tmp_path, items)
    with pytest.raises(E.RubricError, match="expected 111111111111"):
        E.load_rubric(path, expect_sha256="1" * 64)

    path = write_rubric(tmp_path, [items[0], items[0]])
    with pytest.raises(E.RubricError, match=r":2: duplicate item id 'eval-0000' \(first on line 1\)"):
        E.load_rubric(path)

    path = write_rubric(tmp_path, [{k: v for k, v in items[0].items() if k != "schema"}])
    with pytest.raises(E.RubricError, match=r":1: item lacks schema"):
        E.load_rubric(path)

    bad_family = json.loads(json.dumps(items[0]))
    bad_family["family"]["utilities"] = bad_family["family"]["utilities"][:-1]
    path = write_rubric(tmp_path, [bad_family])
    with pytest.raises(E.RubricError, match=r":1: family has 20 utility rows for a grid of 21"):
        E.load_rubric(path)

    # null marks a grid value without a solution; anything else that is not a finite number is refused
    holes = json.loads(json.dumps(items[0]))
    holes["family"]["utilities"][3] = [None for _ in holes["family"]["utilities"][3]]
    assert E.load_rubric(write_rubric(tmp_path, [holes])).items[0]["family"]["utilities"][3][0] is None
    holes["family"]["utilities"][3][0] = "NaN"
    with pytest.raises(E.RubricError, match=r":1: family utilities must be finite numbers"):
        E.load_rubric(write_rubric(tmp_path, [holes]))

    (tmp_path / "eval.json").unlink()
    with pytest.raises(E.RubricError, match="missing rubric header"):
        E.load_rubric(path)
    with pytest.raises(E.RubricError, match="no such rubric file"):
        E.load_rubric(tmp_path / "nothing.jsonl")


# -- subsets


def test_stratified_takes_every_game_and_role_round_robin() -> None:
    items = [
        {"game": g, "role": r, "id": i}
        for i, (g, r) in enumerate([("a", "x")] * 5 + [("b", "y")] * 2 + [("a", "z")] * 3)
    ]
    picked = stratified(items, 5)
    assert [it["id"] for it in picked] == [0, 5, 7, 1, 6]
    assert stratified(items, None) == items and stratified(items, 50) == items


# -- theory and logit agents ----------------------------------------------------------------------


@pytest.mark.parametrize("label", ["economicus", "moralis(kappa=0.65)"])
def test_theory_agent_is_fully_accurate_and_nearest(rubric_path: Path, tmp_path: Path, label: str) -> None:
    result = E.evaluate(rubric_path, TheoryAgent("theory", preference_label=label), tmp_path, progress=False)
    s = result.summary
    acc = {p.label: p.accuracy for p in s.preferences}
    assert acc[label] == 1.0 and s.parse_rate == 1.0
    assert s.nearest is not None and s.nearest.label == label and (s.nearest.margin or 0) > 0
    assert s.kappa is not None and s.kappa.ci_low - 1e-6 <= KAPPA_OF[label] <= s.kappa.ci_high + 1e-6
    # Files: one result line per item, a summary that validates, and real PNGs.
    lines = result.results_path.read_text().splitlines()
    assert len(lines) == 120
    first = json.loads(lines[0])
    assert first["correct"][label] is True and first["parse_error"] is None and "ANSWER:" in first["raw"]
    assert Summary.model_validate_json(result.summary_path.read_text()) == s
    assert E.summarize_results(rubric_path, tmp_path, write=False) == s  # results.jsonl holds it all
    assert {p.name for p in result.plots} == {"accuracy.png", "kappa_profile.png", "incentives.png"}
    for p in result.plots:
        assert p.read_bytes()[:8] == PNG and p.stat().st_size > 5000


@pytest.mark.parametrize(("kappa", "seed"), [(0.2, 1), (0.5, 2), (0.8, 3)])
def test_logit_agent_kappa_is_recovered(tmp_path: Path, kappa: float, seed: int) -> None:
    path = write_rubric(tmp_path, build_items(300, seed=100 + seed))
    agent = LogitAgent("logit", kappa=kappa, temperature=0.4, seed=seed)
    result = E.evaluate(path, agent, tmp_path / "out", progress=False, plots=False, batch_size=64)
    k = result.summary.kappa
    assert k is not None and k.n_used == 300
    assert k.ci_low <= kappa <= k.ci_high
    assert abs(k.estimate - kappa) <= 0.1
    assert k.precision == pytest.approx(1 / 0.4, rel=0.35)


# -- robustness ---------------------------------------------------------------------------------


def test_garbage_outputs_are_recorded_as_unparsable(rubric_path: Path, tmp_path: Path) -> None:
    junk = [
        "",
        "I would rather not say.",
        'ANSWER: {"move": ',
        "x" * 1_000_000,
        "ANSWER: " + "[" * 10_000,
        "\x00\ud800?",
    ]

    def reply(prompt: Prompt) -> str:
        text = prompt[-1]["content"]
        n = sum(map(ord, text))
        if n % 3 == 0:  # a valid answer for a third of the items
            return 'Thinking...\nANSWER: {"move": "defect"}' if "T=" in text else 'ANSWER: {"give": 0}'
        return junk[(n // 3) % len(junk)]

    result = E.evaluate(rubric_path, ScriptedAgent("junk", reply), tmp_path, progress=False, batch_size=7)
    rub = E.load_rubric(rubric_path)
    expected_ok = sum(parse_answer(reply(it["prompt"]), it["schema"]).ok for it in rub.items)
    assert 0 < expected_ok < 120
    s = result.summary
    assert s.n_items == 120 and s.n_parsed == expected_ok and s.parse_rate == pytest.approx(expected_ok / 120)
    assert s.kappa is not None and s.kappa.n_unparsed == 120 - expected_ok
    records = [json.loads(line) for line in result.results_path.read_text().splitlines()]
    assert len(records) == 120
    bad = [r for r in records if r["parsed"] is None]
    assert len(bad) == 120 - expected_ok and all(r["parse_error"] for r in bad)
    assert all(not any(r["correct"].values()) for r in bad)
    huge = [r for r in records if r["raw_chars"] == 1_000_000]
    assert huge and all(len(r["raw"]) == E.RAW_LIMIT for r in huge)


class _InterruptedAgent:
    """Answers like the theory until its third call, where the user presses Ctrl-C."""

    name = "interrupted"

    def __init__(self) -> None:
        self.calls = 0
        self._theory = TheoryAgent("t", preference_label="economicus")

    def respond(self, prompts: Sequence[Prompt], *, max_new_tokens: int = 256) -> list[str]:
        raise AssertionError("respond_items is used when present")

    def respond_items(self, items: Sequence[dict[str, Any]]) -> list[str]:
        self.calls += 1
        if self.calls == 3:
            raise KeyboardInterrupt
        return self._theory.respond_items(items)


def test_interrupt_keeps_the_finished_batches(rubric_path: Path, tmp_path: Path) -> None:
    with pytest.raises(KeyboardInterrupt):
        E.evaluate(rubric_path, _InterruptedAgent(), tmp_path, progress=False, batch_size=10)
    lines = (tmp_path / "results.jsonl").read_text().splitlines()
    assert len(lines) == 20
    ids = [json.loads(line)["id"] for line in lines]
    assert ids == [it["id"] for it in E.load_rubric(rubric_path).items[:20]]
    assert not (tmp_path / "summary.json").exists()
    # The partial results can be summarised afterwards.
    partial = E.summarize_results(rubric_path, tmp_path)
    assert partial.n_items == 20 and partial.agent == "interrupted"
    assert {p.label: p.accuracy for p in partial.preferences}["economicus"] == 1.0
    assert Summary.model_validate_json((tmp_path / "summary.json").read_text()) == partial


def test_bad_agents_give_clear_errors(rubric_path: Path, tmp_path: Path) -> None:
    short = ScriptedAgent("short", lambda p: "x")
    short.respond = lambda prompts, max_new_tokens=256: ["x"]  # type: ignore[method-assign]
    with pytest.raises(E.EvalError, match="returned 1 answers for 16 prompts"):
        E.evaluate(rubric_path, short, tmp_path, progress=False)
    with pytest.raises(E.EvalError, match="cannot score options"):
        E.evaluate(rubric_path, ScriptedAgent("s", lambda p: "x"), tmp_path, scoring="logprob", progress=False)


def test_limit_and_table(rubric_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    agent = TheoryAgent("theory", preference_label="moralis(kappa=0.9)")
    result = E.evaluate(rubric_path, agent, tmp_path, limit=30, plots=False)
    assert result.summary.n_items == 30 and len(result.results_path.read_text().splitlines()) == 30
    out = capsys.readouterr().out
    assert "moralis(kappa=0.9) *" in out and "parse rate 1.000 (30/30)" in out and "kappa =" in out


def test_limit_is_a_stratified_subset_and_says_so(
    rubric_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from prefc.cli import main

    rub = E.load_rubric(rubric_path)
    assert main(["eval", str(rubric_path), "--agent", "theory:economicus", "-o", str(tmp_path), "--limit", "6"]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "6 of 120 items (stratified by game and role)" in out
    summary = Summary.model_validate_json((tmp_path / "summary.json").read_text())
    assert (summary.n_items, summary.n_rubric_items, summary.selection) == (6, 120, "stratified")
    assert summary.evaluated == "6 of 120 items"
    answered = [json.loads(line) for line in (tmp_path / "results.jsonl").read_text().splitlines()]
    assert [r["id"] for r in answered] == [it["id"] for it in stratified(rub.items, 6)]
    groups = {(it["game"], it["role"]) for it in rub.items}
    assert {(r["game"], r["role"]) for r in answered} == groups  # every game and role, not the first rows
    whole = E.evaluate(
        rub, TheoryAgent("t", preference_label="economicus"), tmp_path / "all", progress=False, plots=False
    ).summary
    assert (whole.n_rubric_items, whole.selection, whole.evaluated) == (120, "all", "all 120 items")
    with pytest.raises(E.EvalError, match="limit must be at least 1"):
        E.evaluate(rub, TheoryAgent("t", preference_label="economicus"), tmp_path / "none", limit=0, progress=False)


ENDS_SPEC = """spec ends "The paper's held-out games, homo moralis from kappa 0 to 1"

use "preferences.pref"

game trust "Trust game" {
    players investor, trustee
    param E = 10, k = 3 vary {2, 3, 4}
    investor chooses send in [0, E]
    then trustee sees send and chooses back in [0, k * send]
    payoff investor = E - send + back
    payoff trustee  = k * send - back
}

game prisoners_dilemma "Prisoner's dilemma" {
    players row, col symmetric
    param T = 5 vary {4, 5, 6, 7, 8}, R = 3, P = 1, S = 0 vary {0, -1, -2}
    each player chooses move in {cooperate, defect}
    payoff row = table(row.move, col.move) {
        cooperate, cooperate: R;  cooperate, defect: S
        defect,    cooperate: T;  defect,    defect: P
    }
}

rubric ends for moralis(kappa = 0, 0.1, 0.25, 0.5, 0.75, 0.9, 1) {
    games trust, prisoners_dilemma
    items 120   tolerance 5%
    seed 7
}
"""


@pytest.fixture(scope="module")
def ends_rubric(tmp_path_factory: pytest.TempPathFactory) -> E.Rubric:
    """A compiled rubric whose targets are homo moralis at seven kappas, the domain's ends included.
    Its items tie exactly at several of those kappas (the trust investor is indifferent at kappa =
    1/k, the prisoner's dilemma at its thresholds)."""
    import shutil

    from prefc.compiler.check import check_file
    from prefc.compiler.emit.build import compile_spec

    root = tmp_path_factory.mktemp("ends")
    shutil.copy(Path(__file__).resolve().parents[2] / "specs" / "preferences.pref", root / "preferences.pref")
    (root / "ends.pref").write_text(ENDS_SPEC, encoding="utf-8")
    built = compile_spec(check_file(str(root / "ends.pref")), root / "build")
    return E.load_rubric(built.directory / "ends.jsonl")


@pytest.mark.parametrize("kappa", ["0", "0.1", "0.25", "0.5", "0.75", "0.9", "1"])
def test_a_theory_agents_interval_holds_its_own_kappa(ends_rubric: E.Rubric, tmp_path: Path, kappa: str) -> None:
    # Deterministic answers that break exact ties: the likelihood at the tie point is below its
    # limit beside it, so only the closed likelihood-ratio set is sure to hold the agent's kappa.
    label = f"moralis(kappa={kappa})"
    summary = E.evaluate(
        ends_rubric, TheoryAgent("t", preference_label=label), tmp_path, progress=False, plots=False
    ).summary
    k = summary.kappa
    assert k is not None and k.n_used == 120 and k.precision_at_bound
    assert k.ci_low <= float(kappa) <= k.ci_high
    assert k.ci_low <= k.estimate <= k.ci_high
    assert {p.label: p.accuracy for p in summary.preferences}[label] == 1.0
    if kappa in ("0", "1"):
        assert k.ci_low_at_bound if kappa == "0" else k.ci_high_at_bound


# -- log-probability scoring on a real (tiny) model ----------------------------------------------


def test_logprob_scoring_through_a_local_model(rubric_path: Path, tmp_path: Path, tiny_model_dir: Path) -> None:
    from prefc.runtime.generate import LocalAgent

    agent = LocalAgent(tiny_model_dir, name="tiny", batch_size=8)
    result = E.evaluate(
        rubric_path, agent, tmp_path, scoring="logprob", limit=24, max_new_tokens=8, progress=False, plots=False
    )
    records = [json.loads(line) for line in result.results_path.read_text().splitlines()]
    assert len(records) == 24
    soft = [r for r in records if r["scoring"] == "logprob"]
    hard = [r for r in records if r["scoring"] == "generate"]
    assert soft and hard  # PD items are scored from log-probabilities, public goods by generation
    for r in soft:
        probs = r["option_probs"]
        assert len(probs) == len(r["option_texts"]) == 2
        assert sum(probs) == pytest.approx(1.0, abs=1e-9) and all(0 <= p <= 1 for p in probs)
        lp = r["option_logprobs"]
        assert all(x < 0 for x in lp)
        assert probs[0] == pytest.approx(1 / (1 + math.exp(lp[1] - lp[0])))
        assert r["parsed"] == {"move": ["cooperate", "defect"][r["option_index"]]}
        assert parse_answer(
            r["option_texts"][r["option_index"]], {"move": {"kind": "choice", "options": ["cooperate", "defect"]}}
        ).ok
    for r in hard:  # generated answers: kept raw, parsed or not, without a distribution
        assert "option_probs" not in r and isinstance(r["raw"], str)
        assert (r["parsed"] is None) == (r["parse_error"] is not None)
    k = result.summary.kappa
    assert k is not None and k.n_soft == len(soft)
