"""Repeated datasets (``repeat N rounds``): rows whose prompt is the simulation's prompt for the
same history and whose completion is the preference's best response to the rival's last price.

The best responses are checked against a logit Bertrand market written out by hand (Calvano et
al. 2020 at a = 2, a0 = 0, mu = 0.25, c = 1: Nash price 1.4729, joint-profit price 1.9250, homo
moralis at kappa 0.5 1.7106), maximised on a dense grid apart from the compiler's solver.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import numpy as np
import pytest

from prefc.artefacts import AgentMove, DatasetHeader, DatasetRow, RoundRecord, read_document, read_rows
from prefc.cli import main
from prefc.compiler import pretty
from prefc.compiler.check import check_file
from prefc.compiler.emit.build import compile_spec
from prefc.compiler.ir import lower_spec
from prefc.compiler.parse import parse_text
from prefc.runtime.simulate import PricePrompter, PricingMarket

SPECS = Path(__file__).resolve().parents[3] / "specs"
NASH, JOINT, MORALIS_HALF = 1.4729, 1.9250, 1.7106

SPEC = """spec rounds "Repeated Bertrand rows"

use "preferences.pref"

game bertrand "Logit Bertrand duopoly" {
    players firm[1..2] symmetric
    param a = 2, a0 = 0, mu = 0.25 vary {0.2, 0.25}, c = 1
    each firm chooses price in [c, 2 * a]
    let attraction(j) = exp((a - firm[j].price) / mu)
    let share(i) = attraction(i) / (sum(j in firm: attraction(j)) + exp(a0 / mu))
    payoff firm[i] = (firm[i].price - c) * share(i)
    repeat 300 rounds
}

dataset rows for economicus, moralis(kappa = 0.5) {
    games bertrand
    samples 120 per preference   seed 5
    split train 0.75, val 0.25
    paraphrases 2
    repeat 300 rounds history 4
}
"""


def profit(p: np.ndarray | float, q: np.ndarray | float, mu: float = 0.25) -> np.ndarray | float:
    own = np.exp((2.0 - p) / mu)
    return (p - 1.0) * own / (own + np.exp((2.0 - q) / mu) + 1.0)


GRID = np.linspace(1.0, 4.0, 300_001)


def best_response(kappa: float, rival: float) -> float:
    """argmax_p (1 - kappa) pi(p, rival) + kappa pi(p, p), on a grid of step 1e-5."""
    u = (1 - kappa) * profit(GRID, rival) + kappa * profit(GRID, GRID)
    return float(GRID[int(np.argmax(u))])


@pytest.fixture(scope="module")
def build(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("repeated")
    (root / "rounds.pref").write_text(SPEC, encoding="utf-8")
    shutil.copy(SPECS / "preferences.pref", root / "preferences.pref")
    return compile_spec(check_file(str(root / "rounds.pref")), root / "out").directory / "rows"


@pytest.fixture(scope="module")
def rows(build: Path) -> list[DatasetRow]:
    out = []
    for split in ("train", "val"):
        out += [row for _, _, _, row in read_rows(build / f"{split}.jsonl", DatasetRow)]
    return out


def kappa_of(row: DatasetRow) -> float:
    return float(row.meta.preference_params.get("kappa", 0))


def test_every_completion_is_the_best_response_to_the_rival_price_the_prompt_shows(rows) -> None:
    assert len(rows) == 240
    answered = 0
    for row in rows:
        assert row.completion is not None and row.prompt is not None
        text = row.completion[0].content
        m = re.fullmatch(r'ANSWER: \{"price": ([0-9.]+)\}', text)
        assert m, text
        price = float(m.group(1))
        assert row.meta.answer == {"price": price}
        context = row.meta.repeated
        assert context is not None
        if not context.history:
            continue
        table = [line for line in row.prompt[1].content.splitlines() if re.match(r"^\d+ \| ", line)]
        shown_rival = float(table[-1].split(" | ")[2])
        assert shown_rival == context.history[-1].rival  # the price answered is the one shown
        assert abs(price - best_response(kappa_of(row), shown_rival)) <= 0.005 + 1e-9, (text, shown_rival)
        answered += 1
    assert answered >= 200


def test_a_first_round_row_answers_the_symmetric_equilibrium(rows) -> None:
    first = [r for r in rows if r.meta.repeated is not None and r.meta.repeated.round == 1]
    assert first, "some rows ask round 1"
    for row in first:
        assert "there is no history yet" in row.prompt[1].content
        expected = NASH if kappa_of(row) == 0 else MORALIS_HALF
        assert abs(row.meta.answer["price"] - expected) <= 0.006


def test_the_prompt_is_the_simulations_prompt_for_the_same_history(build: Path, rows) -> None:
    ir = lower_spec(check_file(str(build.parent.parent.parent / "rounds.pref")))
    market = PricingMarket(ir, "bertrand")
    prompters = {p: PricePrompter(market, history=4, paraphrase=p) for p in (0, 1)}
    assert prompters[0].messages(1, 0, [])[1]["content"] != prompters[1].messages(1, 0, [])[1]["content"]
    for row in rows:
        context = row.meta.repeated
        assert context is not None and len(context.history) == min(4, context.round - 1)
        records = []
        for r in context.history:
            moves = [
                AgentMove(
                    agent=name,
                    price=x,
                    held=False,
                    raw=None,
                    error=None,
                    share=market.share(x, y),
                    profit=market.profit(x, y),
                )
                for name, x, y in (("me", r.own, r.rival), ("rival", r.rival, r.own))
            ]
            records.append(RoundRecord(round=r.round, agents=moves))
        # the rival at position 1 and the player at 0 read the rounds the other way round
        flipped = [RoundRecord(round=r.round, agents=list(reversed(r.agents))) for r in records]
        shown = prompters[row.meta.paraphrase].messages(context.round, 0, records)
        assert [m.model_dump() for m in row.prompt] == shown
        assert prompters[row.meta.paraphrase].messages(context.round, 1, flipped) == shown


def test_rows_cover_the_prices_play_reaches(rows) -> None:
    rivals = [r.meta.repeated.history[-1].rival for r in rows if r.meta.repeated and r.meta.repeated.history]
    for level in (1.0, NASH, MORALIS_HALF, JOINT):
        assert sum(abs(x - level) <= 0.05 for x in rivals) >= 5, level
    assert min(rivals) <= 1.05 and max(rivals) >= 2.1
    # every preference answers the same prompts; the two answers part where the types do
    by_prompt: dict[str, dict[str, float]] = {}
    for r in rows:
        by_prompt.setdefault(json.dumps([m.model_dump() for m in r.prompt]), {})[r.meta.preference] = r.meta.answer[
            "price"
        ]
    assert all(len(v) == 2 for v in by_prompt.values())
    assert all(v["moralis(kappa=0.5)"] > v["economicus"] for v in by_prompt.values())


def test_rows_are_at_the_defaults_split_per_prompt_and_reproducible(build: Path, rows, tmp_path: Path) -> None:
    assert {json.dumps(r.meta.params, sort_keys=True) for r in rows} == {
        json.dumps({"a": 2, "a0": 0, "c": 1, "mu": 0.25}, sort_keys=True)
    }
    header = read_document(build / "dataset.json", DatasetHeader)
    assert header.repeat is not None and (header.repeat.rounds, header.repeat.history) == (300, 4)
    assert header.counts == {"train": 180, "val": 60}
    splits: dict[str, set[str]] = {}
    for r in rows:
        splits.setdefault(json.dumps([m.model_dump() for m in r.prompt]), set()).add(r.meta.split)
    assert all(len(s) == 1 for s in splits.values())
    shutil.copy(SPECS / "preferences.pref", tmp_path / "preferences.pref")
    (tmp_path / "rounds.pref").write_text(SPEC, encoding="utf-8")
    again = compile_spec(check_file(str(tmp_path / "rounds.pref")), tmp_path / "out").directory / "rows"
    assert (again / "train.jsonl").read_bytes() == (build / "train.jsonl").read_bytes()


def test_the_setting_prints_back_as_written() -> None:
    spec = parse_text(SPEC, "rounds.pref")
    printed = pretty.file(spec)
    assert "repeat 300 rounds history 4" in printed
    assert pretty.file(parse_text(printed, "again.pref")) == printed


@pytest.mark.parametrize(
    "body, code, needle",
    [
        (
            "rubric r for economicus {\n    games bertrand\n    repeat 10 rounds\n}",
            "E0308",
            "`repeat` belongs to datasets",
        ),
        ("dataset d for economicus {\n    games bertrand\n    repeat 1 rounds\n}", "E0310", "at least 2 rounds"),
        (
            "dataset d for economicus {\n    games bertrand\n    repeat 10 rounds history 0\n}",
            "E0310",
            "between 1 and 20",
        ),
        (
            "dataset d for economicus {\n    games bertrand\n    repeat 10 rounds history 10\n}",
            "E0308",
            "as many rounds",
        ),
        (
            "dataset d for economicus {\n    games bertrand\n    repeat 10 rounds\n    holdout where mu > 0.2\n}",
            "E0308",
            "`holdout` settings do not apply",
        ),
        ("dataset d for economicus {\n    games trio\n    repeat 10 rounds\n}", "E0312", "it has 3 players"),
        ("dataset d for economicus {\n    games pd\n    repeat 10 rounds\n}", "E0312", "not continuous"),
    ],
)
def test_misuse_is_a_located_diagnostic(body: str, code: str, needle: str, tmp_path: Path, capsys, monkeypatch) -> None:
    games = SPEC.split("dataset rows")[0] + (
        "game trio {\n    players firm[1..3] symmetric\n    each firm chooses price in [0, 1]\n"
        "    payoff firm[i] = firm[i].price\n}\n\n"
        "game pd {\n    players row, col symmetric\n    each player chooses move in {c, d}\n"
        "    payoff row = if row.move == c then 1 else 2\n}\n\n"
    )
    shutil.copy(SPECS / "preferences.pref", tmp_path / "preferences.pref")
    (tmp_path / "bad.pref").write_text(games + body + "\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    assert main(["check", "bad.pref"]) == 1
    err = capsys.readouterr().err
    assert f"error[{code}]" in err and needle in err
    assert "bad.pref:" in err and "Traceback" not in err


def test_a_group_sized_by_a_parameter_is_refused_when_the_rows_are_drawn(tmp_path: Path, capsys, monkeypatch) -> None:
    body = (
        'spec n "n"\n\nuse "preferences.pref"\n\n'
        "game market {\n    players firm[1..n] symmetric\n    param n in 2..5 = 3\n"
        "    each firm chooses price in [0, 1]\n    payoff firm[i] = firm[i].price * (1 - firm[i].price)\n}\n\n"
        "dataset d for economicus {\n    games market\n    repeat 10 rounds\n}\n"
    )
    shutil.copy(SPECS / "preferences.pref", tmp_path / "preferences.pref")
    (tmp_path / "n.pref").write_text(body, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    assert main(["compile", "n.pref", "-o", "out", "--quiet"]) == 1
    err = capsys.readouterr().err
    assert "error[E0312]" in err and "it has 3 players" in err and "n.pref:14:5" in err
    assert not (tmp_path / "out" / "n").exists()


def test_the_shipped_pricing_spec_has_a_repeated_dataset_for_both_types() -> None:
    spec = check_file(str(SPECS / "pricing.pref"))
    build = spec.builds["pricing_repeat"]
    assert build.ast.repeat_rounds == 300 and build.games == ["bertrand"]
    assert [p.label for p in build.preferences] == ["economicus", "moralis(kappa=0.5)"]
