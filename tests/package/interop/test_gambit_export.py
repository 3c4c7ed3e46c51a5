"""`prefc export nfg|efg`: finite games written as Gambit files that OpenSpiel and pygambit read into
the same game, with the same equilibria as prefc's solver (material payoffs and a preference's
utilities), and that `prefc import` reads back."""

from __future__ import annotations

import json
from fractions import Fraction
from pathlib import Path

import pytest

import prefc
from prefc.cli import main
from prefc.interop.gambit import parse_efg, parse_nfg

SPEC = Path(__file__).resolve().parents[3] / "specs" / "paper.pref"


def export(tmp_path: Path, fmt: str, game: str, *extra: str) -> Path:
    out = tmp_path / f"{game}.{fmt}"
    assert main(["export", fmt, str(SPEC), "--game", game, "-o", str(out), *extra]) == 0
    return out


def solved(game: str, preference: str, **params):
    return prefc.load(SPEC).solve(game, preference, **params).model_dump(mode="json")


def test_the_prisoners_dilemma_exports_its_payoffs_and_a_preferences_utilities(tmp_path: Path):
    material = parse_nfg(export(tmp_path, "nfg", "prisoners_dilemma").read_text())
    assert material.players == ["row", "col"] and material.strategies == [["cooperate", "defect"]] * 2
    assert material.payoffs == {(0, 0): (3, 3), (1, 0): (5, 0), (0, 1): (0, 5), (1, 1): (1, 1)}
    moralis = parse_nfg(
        export(
            tmp_path / "m", "nfg", "prisoners_dilemma", "--preference", "moralis(kappa=0.75)", "--set", "T=6"
        ).read_text()
    )
    # u(x, y) = (1 - kappa) * pi(x, y) + kappa * pi(x, x), T = 6, R = 3, P = 1, S = 0
    k = Fraction(3, 4)
    assert moralis.payoffs[(1, 0)] == ((1 - k) * 6 + k * 1, (1 - k) * 0 + k * 3)
    assert moralis.payoffs[(0, 0)] == (3, 3) and moralis.payoffs[(1, 1)] == (1, 1)


@pytest.mark.parametrize(
    "preference, params",
    [
        ("economicus", {}),
        ("moralis(kappa=0.75)", {}),
        ("moralis(kappa=0.4)", {"T": 5}),
        ("moralis(kappa=0.25)", {"T": 8}),
    ],
)
def test_pygambit_finds_prefcs_equilibria_in_the_exported_game(tmp_path: Path, preference: str, params: dict):
    gbt = pytest.importorskip("pygambit")
    sets = [f"--set={k}={v}" for k, v in params.items()]
    extra = [] if preference == "economicus" else ["--preference", preference]
    path = export(tmp_path, "nfg", "prisoners_dilemma", *extra, *sets)
    game = gbt.read_nfg(str(path))
    theirs = {
        tuple(round(float(e.payoffs[p]), 6) for p in game.players)
        for e in gbt.nash.enummixed_solve(game, rational=True).equilibria
    }
    # the file holds the utilities of pure profiles, which mix linearly: its mixed equilibria are
    # those of the action-level shortcut, so only the pure ones (and, without a Kantian term, every
    # one) are prefc's too; prefc mixes under the Kantian term at the strategy level
    kantian = preference.startswith("moralis")
    ours = {
        tuple(round(e["utilities"][p], 6) for p in ("row", "col"))
        for e in solved("prisoners_dilemma", preference, **params)["equilibria"]
        if e["symmetric"] and (not kantian or not e["probabilities"])
    }
    assert ours <= theirs
    pure_theirs = {tuple(int(e[p]["defect"]) for p in game.players) for e in gbt.nash.enumpure_solve(game).equilibria}
    pure_ours = {
        tuple(int(e["path"][p]["move"] == "defect") for p in ("row", "col"))
        for e in solved("prisoners_dilemma", preference, **params)["equilibria"]
        if not e["probabilities"]
    }
    assert pure_ours == pure_theirs


def _openspiel_tree(game, state=None, history=()):
    """Terminal history (action labels) -> returns, read from OpenSpiel's own game."""
    state = state or game.new_initial_state()
    if state.is_terminal():
        return {history: tuple(state.returns())}
    out = {}
    for action in state.legal_actions():
        child = state.child(action)
        out.update(_openspiel_tree(game, child, history + (state.action_to_string(state.current_player(), action),)))
    return out


def test_openspiel_loads_the_exported_tree_with_the_same_payoffs_and_solution(tmp_path: Path):
    pyspiel = pytest.importorskip("pyspiel")
    path = export(tmp_path, "efg", "ultimatum", "--set", "E=6")
    game = pyspiel.load_efg_game(path.read_text())
    assert game.num_players() == 2
    assert game.get_type().information == pyspiel.GameType.Information.PERFECT_INFORMATION
    leaves = _openspiel_tree(game)
    tree = parse_efg(path.read_text())
    ours = {}

    def walk(node, history):
        if node.kind == "t":
            ours[history] = tuple(float(v) for v in node.payoffs)
        for label, child in zip(node.actions, node.children, strict=False):
            walk(child, history + (label,))

    walk(tree.root, ())
    assert leaves == ours and len(leaves) == 14

    # backward induction on OpenSpiel's tree gives prefc's subgame-perfect play
    def backward(state):
        if state.is_terminal():
            return tuple(state.returns()), ()
        player = state.current_player()
        best = None
        for action in state.legal_actions():
            value, path = backward(state.child(action))
            if best is None or value[player] > best[0][player]:
                best = (value, (state.action_to_string(player, action),) + path)
        return best

    value, path = backward(game.new_initial_state())
    sol = solved("ultimatum", "economicus", E=6)
    eq = sol["equilibria"][sol["selected"]]
    assert value == (eq["utilities"]["proposer"], eq["utilities"]["responder"])
    assert path[0] == str(eq["path"]["proposer"]["offer"])


def test_a_simultaneous_game_as_a_tree_has_an_information_set(tmp_path: Path):
    pyspiel = pytest.importorskip("pyspiel")
    path = export(tmp_path, "efg", "prisoners_dilemma")
    game = pyspiel.load_efg_game(path.read_text())
    assert game.get_type().information == pyspiel.GameType.Information.IMPERFECT_INFORMATION
    leaves = _openspiel_tree(game)
    assert leaves[("defect", "cooperate")] == (5.0, 0.0) and leaves[("cooperate", "cooperate")] == (3.0, 3.0)
    gbt = pytest.importorskip("pygambit")
    tree = gbt.read_efg(str(path))
    assert {tuple(float(e.payoffs[p]) for p in tree.players) for e in gbt.nash.enumpure_solve(tree).equilibria} == {
        (1.0, 1.0)
    }


def test_exported_games_import_back_to_the_same_solutions(tmp_path: Path):
    for fmt, game in (("nfg", "prisoners_dilemma"), ("efg", "ultimatum")):
        path = export(tmp_path, fmt, game, "--set", "E=4") if game == "ultimatum" else export(tmp_path, fmt, game)
        spec = tmp_path / f"{game}.pref"
        assert main(["import", str(path), "-o", str(spec), "--name", "back", "--game-only"]) == 0
        again = prefc.load(spec).solve("back", "economicus").model_dump(mode="json")
        original = solved(game, "economicus", **({"E": 4} if game == "ultimatum" else {}))
        assert sorted(tuple(sorted(e["utilities"].values())) for e in again["equilibria"]) == sorted(
            tuple(sorted(e["utilities"].values())) for e in original["equilibria"]
        )


@pytest.mark.parametrize(
    "args, message",
    [
        (["nfg", "--game", "trust"], "continuous actions (send, back)"),
        (["nfg", "--game", "ultimatum"], "has 2 stages"),
        (["efg", "--game", "ultimatum", "--preference", "moralis(kappa=0.5)"], "a game of distinct roles"),
        (["nfg", "--game", "nope"], "no game `nope`"),
        (["nfg", "--game", "prisoners_dilemma", "--set", "Q=1"], "--set 'Q=1'"),
        (["nfg", "--game", "prisoners_dilemma", "--preference", "moralsi"], "unknown preference"),
    ],
)
def test_what_cannot_be_exported_is_a_clear_error(tmp_path: Path, capsys, args: list[str], message: str):
    fmt, rest = args[0], args[1:]
    out = tmp_path / f"x.{fmt}"
    assert main(["export", fmt, str(SPEC), *rest, "-o", str(out)]) == 1
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err and not out.exists()


def test_export_json_and_help_list_the_targets(tmp_path: Path, capsys):
    assert (
        main(["export", "nfg", str(SPEC), "--game", "prisoners_dilemma", "-o", str(tmp_path / "p.nfg"), "--json"]) == 0
    )
    assert json.loads(capsys.readouterr().out)["profiles"] == 4
    with pytest.raises(SystemExit):
        main(["export", "--help"])
    text = capsys.readouterr().out
    for target in ("openai", "lm-eval", "nfg", "efg"):
        assert target in text


def test_a_kantian_role_game_exports_its_plan_game(tmp_path: Path):
    """Matching pennies of distinct roles under homo moralis is solved as a plan game: the export
    says so and holds the ex-ante utilities of every pair of plans."""
    spec = tmp_path / "mp.pref"
    import shutil

    shutil.copy(Path(__file__).resolve().parents[3] / "specs" / "preferences.pref", tmp_path / "preferences.pref")
    spec.write_text(
        'spec mp\nuse "preferences.pref"\ngame mp {\n    players row, col\n'
        "    each player chooses side in {heads, tails}\n"
        "    payoff row = table(row.side, col.side) { heads, heads: 1; heads, tails: -1; tails, heads: -1; "
        "tails, tails: 1 }\n"
        "    payoff col = table(row.side, col.side) { heads, heads: -1; heads, tails: 1; tails, heads: 1; "
        "tails, tails: -1 }\n}\n"
    )
    from prefc.cli import main as cli

    out = tmp_path / "mp.nfg"
    assert cli(["export", "nfg", str(spec), "--game", "mp", "--preference", "moralis(kappa=0.5)", "-o", str(out)]) == 0
    game = parse_nfg(out.read_text())
    assert game.players == ["plan", "plan'"] and len(game.strategies[0]) == 4
    # plan (heads as row, heads as col) against itself: Pi = (1 + -1)/2 = 0 and the Kantian term 0
    assert game.payoffs[(0, 0)] == (0, 0)
