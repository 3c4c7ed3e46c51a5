"""Gambit `.nfg`/`.efg` files: reading and writing them exactly, and `prefc import` turning them into
specs whose solutions agree with independent solvers (pygambit, nashpy, plain enumeration and
backward induction) and with the closed forms of the literature."""

from __future__ import annotations

import importlib.util
import itertools
import json
import random
from fractions import Fraction
from pathlib import Path

import pytest

import prefc
from prefc.cli import main
from prefc.interop.gambit import (
    ExtensiveGame,
    GambitFormatError,
    Node,
    StrategicGame,
    parse_efg,
    parse_game,
    parse_nfg,
    to_strategic,
    write_efg,
    write_nfg,
)

PD = """NFG 1 R "Prisoner's dilemma" { "Row" "Column" } { { "Cooperate" "Defect" } { "Cooperate" "Defect" } }
""

3 3 5 0 0 5 1 1
"""

PD_OUTCOMES = """NFG 1 R "PD, outcome version" { "Row" "Column" } { 2 2 }
{ { "both cooperate" 3, 3 } { "row defects" 5, 0 } { "column defects" 0, 5 } { "both defect" 1, 1 } }
1 2 3 4
"""

ULTIMATUM = """EFG 2 R "Mini ultimatum" { "Proposer" "Responder" }
"a proposer offers fair or greedy splits of 10"
p "" 1 1 "" { "fair" "greedy" } 0
p "" 2 1 "" { "yes" "no" } 0
t "" 1 "" { 5, 5 }
t "" 2 "" { 0, 0 }
p "" 2 2 "" { "yes" "no" } 0
t "" 3 "" { 8, 2 }
t "" 4 "" { 0, 0 }
"""

SIMULTANEOUS_TREE = """EFG 2 R "Matching as a tree" { "One" "Two" }
""
p "" 1 1 "" { "H" "T" } 0
p "" 2 1 "" { "h" "t" } 0
t "" 1 "HH" { 2, 1 }
t "" 2 "HT" { 0, 0 }
p "" 2 1 "" { "h" "t" } 0
t "" 3 "TH" { 0, 0 }
t "" 4 "TT" { 1, 2 }
"""


def catalog() -> list[Path]:
    spec = importlib.util.find_spec("pygambit")
    if spec is None:
        return []
    return sorted((Path(spec.submodule_search_locations[0]) / "catalog_data").rglob("*.[ne]fg"))


def test_both_nfg_versions_read_to_the_same_game():
    a, b = parse_nfg(PD), parse_nfg(PD_OUTCOMES)
    assert a.payoffs == b.payoffs
    assert a.payoffs[(1, 0)] == (5, 0) and a.payoffs[(0, 1)] == (0, 5)  # the first player's strategy runs fastest
    assert a.pure_equilibria() == [(1, 1)]


def test_written_files_read_back_to_the_same_game():
    game = parse_efg(ULTIMATUM)
    again = parse_efg(write_efg(game))
    assert [(n.kind, n.player, n.actions, n.payoffs) for n in again.nodes()] == [
        (n.kind, n.player, n.actions, n.payoffs) for n in game.nodes()
    ]
    strategic = parse_nfg(PD)
    assert parse_nfg(write_nfg(strategic)).payoffs == strategic.payoffs
    exact = StrategicGame("t", ["a", "b"], [["x"], ["y"]], {(0, 0): (Fraction(1, 3), Fraction(-7, 4))})
    assert parse_nfg(write_nfg(exact)).payoffs == exact.payoffs


@pytest.mark.parametrize("path", catalog(), ids=lambda p: p.name)
def test_catalog_games_written_elsewhere_read_and_write_exactly(path: Path):
    game = parse_game(path.read_text(), source=str(path))
    text = write_efg(game) if isinstance(game, ExtensiveGame) else write_nfg(game)
    again = parse_game(text, source="again")
    if isinstance(game, ExtensiveGame):
        assert to_strategic(again, max_strategies=5000).payoffs == to_strategic(game, max_strategies=5000).payoffs
    else:
        assert again.payoffs == game.payoffs


@pytest.mark.parametrize("path", catalog(), ids=lambda p: p.name)
def test_catalog_games_agree_with_pygambit(path: Path):
    """Every profile's payoffs and every pure equilibrium's payoffs are pygambit's (Gambit strategies
    of trees are reduced, so the comparison is over payoff vectors)."""
    gbt = pytest.importorskip("pygambit")
    import numpy as np

    theirs = gbt.read_efg(str(path)) if path.suffix == ".efg" else gbt.read_nfg(str(path))
    ours = parse_game(path.read_text(), source=str(path))
    if isinstance(ours, ExtensiveGame):
        ours = to_strategic(ours, max_strategies=5000)
    arrays = theirs.to_arrays(dtype=Fraction)
    assert {tuple(Fraction(a[i]) for a in arrays) for i in np.ndindex(arrays[0].shape)} == set(ours.payoffs.values())
    if path.suffix == ".nfg":
        assert all(tuple(Fraction(a[p]) for a in arrays) == ours.payoffs[p] for p in ours.profiles())
    try:
        equilibria = gbt.nash.enumpure_solve(theirs).equilibria
    except RuntimeError:  # Gambit refuses imperfect-recall trees
        return
    assert {tuple(Fraction(e.payoffs[p]) for p in theirs.players) for e in equilibria} == {
        ours.payoffs[p] for p in ours.pure_equilibria()
    }


@pytest.mark.parametrize(
    "text, where, message",
    [
        ('NFG 1 R "x" { "a" } { { "s" } }\n1 2\n', ":2:3", "unexpected '2' after the game"),
        ('NFG 1 R "x" { "a" "b" } { { "s" } }\n', ":1:", "2 players but 1 strategy lists"),
        ('NFG 2 R "x"', ":1:5", "NFG version 2 is not supported"),
        ('EFG 2 R "x" { "a" }\np "" 2 1 "" { "L" } 0\n', ":2:6", "player 2 does not exist"),
        (
            'EFG 2 R "x" { "a" }\nc "" 1 "" { "L" 1/2 "R" 1/3 } 0\nt "" 1 "" { 1 }\nt "" 2 "" { 2 }\n',
            ":2:1",
            "chance probabilities must be non-negative and sum to 1",
        ),
        ('EFG 2 R "x" { "a" }\np "" 1 1 "" { "L" } 0\nt "" 3\n', ":3:", "outcome 3 is used before"),
        ('EFG 2 R "x" { "a" }\np "" 1 1 "" { "L" "R" } 0\nt "" 1 "" { 1 }\n', ":3:", "expected a node"),
        ("hello", ":1:1", "starts with neither NFG nor EFG"),
    ],
)
def test_malformed_files_are_located_errors(text: str, where: str, message: str):
    with pytest.raises(GambitFormatError) as info:
        parse_game(text, source="g")
    assert f"g{where}" in str(info.value) and message in str(info.value)


# --- prefc import ------------------------------------------------------------------------------------


def imported(tmp_path: Path, text: str, suffix: str, *extra: str) -> Path:
    tmp_path.mkdir(parents=True, exist_ok=True)
    src = tmp_path / f"g{suffix}"
    src.write_text(text)
    out = tmp_path / "g.pref"
    assert main(["import", str(src), "-o", str(out), *extra]) == 0
    return out


def test_prisoners_dilemma_imports_symmetric_with_the_homo_moralis_thresholds(tmp_path: Path):
    """Alger & Weibull: with (T, R, P, S) = (5, 3, 1, 0) mutual cooperation is a homo moralis
    equilibrium iff kappa >= 1/2, mutual defection iff kappa <= 1/3."""
    spec = prefc.load(imported(tmp_path, PD, ".nfg"))

    def mutual(kappa: str) -> set[str]:
        sol = spec.solve("g", f"moralis(kappa={kappa})").model_dump(mode="json")
        return {
            e["path"]["Row"]["move"]
            for e in sol["equilibria"]
            if not e["probabilities"] and e["path"]["Row"]["move"] == e["path"]["Column"]["move"]
        }

    assert mutual("0.5") == mutual("0.9") == mutual("1") == {"Cooperate"}
    assert mutual("0.3") == mutual("0.1") == mutual("0") == {"Defect"}
    assert mutual("0.34") == mutual("0.49") == set()


def test_imported_specs_compile_into_a_dataset_and_a_rubric(tmp_path: Path):
    for text, suffix in ((PD, ".nfg"), (ULTIMATUM, ".efg")):
        out = tmp_path / suffix[1:]
        out.mkdir()
        spec = imported(out, text, suffix)
        assert main(["compile", str(spec), "-o", str(out / "build"), "--quiet"]) == 0
        rows = [json.loads(line) for line in (out / "build" / "g" / "sft" / "train.jsonl").read_text().splitlines()]
        items = [json.loads(line) for line in (out / "build" / "g" / "eval.jsonl").read_text().splitlines()]
        assert rows and items and {r["meta"]["preference"] for r in rows} == {"economicus", "moralis(kappa=0.5)"}
    ultimatum = {(r["role"], json.dumps(r.get("seen"))): r["targets"]["economicus"] for r in items}
    # backward induction: the responder accepts both offers, so the proposer is greedy
    assert ultimatum[("Proposer", "null")] == {"Proposer_move": "greedy"}
    assert ultimatum[("Responder", json.dumps({"Proposer_move": "fair"}))] == {"Responder_move": "yes"}


def _random_strategic(rng: random.Random, shape: tuple[int, ...]) -> StrategicGame:
    players = [f"P{i + 1}" for i in range(len(shape))]
    strategies = [[f"s{i + 1}{k}" for k in range(n)] for i, n in enumerate(shape)]
    values = {
        i: rng.sample(range(-40, 40), len(list(itertools.product(*map(range, shape))))) for i in range(len(shape))
    }
    profiles = list(itertools.product(*map(range, shape)))
    payoffs = {p: tuple(Fraction(values[i][j]) for i in range(len(shape))) for j, p in enumerate(profiles)}
    return StrategicGame("random", players, strategies, payoffs)


def test_random_bimatrix_games_agree_with_nashpy_and_enumeration(tmp_path: Path):
    nash = pytest.importorskip("nashpy")
    import numpy as np

    rng = random.Random(11)
    for k in range(12):
        game = _random_strategic(rng, (rng.randint(2, 4), rng.randint(2, 4)))
        spec = prefc.load(imported(tmp_path / f"g{k}", write_nfg(game), ".nfg"))
        sol = spec.solve("g", "economicus").model_dump(mode="json")
        labels = [dict((s, i) for i, s in enumerate(row)) for row in game.strategies]
        pure = {
            tuple(labels[i][e["path"][p][f"{p}_strategy"]] for i, p in enumerate(game.players))
            for e in sol["equilibria"]
            if not e["probabilities"]
        }
        assert pure == set(game.pure_equilibria())
        a = np.array(
            [
                [float(game.payoffs[(i, j)][0]) for j in range(len(game.strategies[1]))]
                for i in range(len(game.strategies[0]))
            ]
        )
        b = np.array(
            [
                [float(game.payoffs[(i, j)][1]) for j in range(len(game.strategies[1]))]
                for i in range(len(game.strategies[0]))
            ]
        )
        theirs = {
            tuple(round(float(v), 6) for v in (x @ a @ y, x @ b @ y)) for x, y in nash.Game(a, b).vertex_enumeration()
        }
        ours = {tuple(round(e["utilities"][p], 6) for p in game.players) for e in sol["equilibria"]}
        assert ours == theirs


def _backward(node: Node) -> tuple[Fraction, ...]:
    if node.kind == "t":
        return node.payoffs
    values = [_backward(c) for c in node.children]
    return max(values, key=lambda v: v[node.player - 1])


def test_random_game_trees_agree_with_backward_induction(tmp_path: Path):
    rng = random.Random(5)
    for k in range(8):
        movers = [rng.randint(1, 2) for _ in range(rng.randint(2, 3))]
        width = [rng.randint(2, 3) for _ in movers]
        values = iter(rng.sample(range(-50, 50), 2 * 27))
        infoset = itertools.count(1)

        def build(depth: int, movers=movers, width=width, values=values, infoset=infoset) -> Node:
            if depth == len(movers):
                return Node(kind="t", payoffs=(Fraction(next(values)), Fraction(next(values))), outcome_name="o")
            return Node(
                kind="p",
                player=movers[depth],
                infoset=next(infoset),
                actions=[f"a{depth}{j}" for j in range(width[depth])],
                children=[build(depth + 1) for _ in range(width[depth])],
            )

        tree = ExtensiveGame("tree", ["First", "Second"], build(0))
        spec = prefc.load(imported(tmp_path / f"t{k}", write_efg(tree), ".efg"))
        sol = spec.solve("g", "economicus").model_dump(mode="json")
        (eq,) = sol["equilibria"]
        assert tuple(Fraction(eq["utilities"][p]).limit_denominator(1000) for p in ("First", "Second")) == _backward(
            tree.root
        )


def test_a_tree_with_one_simultaneous_stage_imports_as_a_strategic_game(tmp_path: Path):
    spec_path = imported(tmp_path, SIMULTANEOUS_TREE, ".efg")
    text = spec_path.read_text()
    assert "then" not in text.split("game g ")[1].split("dataset")[0]
    sol = prefc.load(spec_path).solve("g", "economicus").model_dump(mode="json")
    pure = {
        (e["path"]["One"]["One_move"], e["path"]["Two"]["Two_move"])
        for e in sol["equilibria"]
        if not e["probabilities"]
    }
    assert pure == {("H", "h"), ("T", "t")}  # battle of the sexes as a tree


def test_chance_needs_the_normal_form_and_gets_expected_payoffs(tmp_path: Path, capsys):
    text = (
        'EFG 2 R "coin" { "a" "b" }\n""\nc "" 1 "" { "h" 1/4 "t" 3/4 } 0\n'
        'p "" 1 1 "" { "L" "R" } 0\nt "" 1 "" { 4, 0 }\nt "" 2 "" { 0, 4 }\n'
        'p "" 1 1 "" { "L" "R" } 0\nt "" 3 "" { 0, 0 }\nt "" 4 "" { 8, 8 }\n'
    )
    src = tmp_path / "coin.efg"
    src.write_text(text)
    assert main(["import", str(src), "-o", str(tmp_path / "coin.pref")]) == 1
    err = capsys.readouterr().err
    assert f"{src}:3:1: a chance move" in err and "--normal-form" in err and not (tmp_path / "coin.pref").exists()
    assert main(["import", str(src), "-o", str(tmp_path / "coin.pref"), "--normal-form"]) == 0
    strategic = to_strategic(parse_efg(text))
    assert strategic.payoffs[(0, 0)] == (1, 0) and strategic.payoffs[(1, 0)] == (6, 7)  # 1/4*(0, 4) + 3/4*(8, 8)
    sol = prefc.load(tmp_path / "coin.pref").solve("coin", "economicus").model_dump(mode="json")
    assert {e["path"]["a"]["a_strategy"] for e in sol["equilibria"]} == {"R"}


def test_import_refuses_bad_files_without_writing(tmp_path: Path, capsys):
    src = tmp_path / "bad.nfg"
    src.write_text('NFG 1 R "x" { "a" } { { "s" "t" } }\n1\n')
    assert main(["import", str(src), "-o", str(tmp_path / "bad.pref")]) == 1
    assert "payoffs end before profile 2 of 2" in capsys.readouterr().err
    assert main(["import", str(tmp_path / "none.nfg"), "-o", str(tmp_path / "x.pref")]) == 1
    assert "No such file" in capsys.readouterr().err
    assert main(["import", str(src), "-o", str(tmp_path / "x.txt")]) == 1
    assert not list(tmp_path.glob("*.pref")) and not list(tmp_path.glob(".*.pref"))


def test_every_catalog_game_imports_and_checks(tmp_path: Path):
    paths = catalog()
    if not paths:
        pytest.skip("pygambit (its catalog of published games) is not installed")
    forms = []
    for k, path in enumerate(paths):
        out = tmp_path / f"g{k}.pref"
        if main(["import", str(path), "-o", str(out), "--name", "g", "--game-only"]) != 0:
            assert main(["import", str(path), "-o", str(out), "--name", "g", "--game-only", "--normal-form"]) == 0
        forms.append(out.read_text().count("then "))
    assert len(forms) == len(paths) and any(forms)  # some import as trees in stages
