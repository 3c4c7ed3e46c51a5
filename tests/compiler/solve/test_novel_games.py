"""Games written fresh, the way a new user writes them, with values derived by hand: each test is a
regression test for a defect such games exposed (roles sharing an action name, bounds that bind,
group sizes that are parameters, several preference parameters, utilities that are not finite
numbers, parameter settings outside their domains) or for a capability they need (strategy-level
mixing under the Kantian term, symmetric mixed equilibria of larger groups, mixed regimes in
``prefc explain``)."""

from __future__ import annotations

import json
import math
import re
import shutil
from fractions import Fraction as F
from pathlib import Path

import pytest

from prefc.cli import main
from prefc.compiler.check import PreferencePoint, check_file
from prefc.compiler.ir import lower_spec
from prefc.compiler.solve import GameSolver, SolveError
from prefc.compiler.solve.explain import explain

SPECS = Path(__file__).resolve().parents[3] / "specs"


def write(tmp_path: Path, text: str, name: str = "novel.pref") -> Path:
    shutil.copy(SPECS / "preferences.pref", tmp_path / "preferences.pref")
    path = tmp_path / name
    path.write_text('spec novel\nuse "preferences.pref"\n' + text)
    return path


def solve(path: Path, game: str, pref: str = "economicus", params: dict | None = None, **values):
    ir = lower_spec(check_file(str(path)))
    point = PreferencePoint(pref, tuple((k, F(v)) for k, v in values.items()))
    return GameSolver(ir.games[game], ir.preference(point)).solve({k: F(v) for k, v in (params or {}).items()})


def cli(args: list, capsys) -> tuple[int, str, str]:
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


PD_ROLES = """
game pd {
    players row, col
    param T = 5, R = 3, P = 1, S = 0
    each player chooses move in {cooperate, defect}
    payoff row = table(row.move, col.move) {
        cooperate, cooperate: R;  cooperate, defect: S
        defect,    cooperate: T;  defect,    defect: P
    }
    payoff col = table(row.move, col.move) {
        cooperate, cooperate: R;  cooperate, defect: T
        defect,    cooperate: S;  defect,    defect: P
    }
}
game pennies {
    players row, col
    each player chooses side in {heads, tails}
    payoff row = table(row.side, col.side) { heads, heads: 1; heads, tails: -1; tails, heads: -1; tails, tails: 1 }
    payoff col = table(row.side, col.side) { heads, heads: -1; heads, tails: 1; tails, heads: 1; tails, tails: -1 }
}
game stackelberg {
    players leader, follower
    param a = 12, c = 0
    leader chooses q in [0, a]
    then follower sees leader.q and chooses q in [0, a]
    payoff leader = leader.q * (a - leader.q - follower.q) - c * leader.q
    payoff follower = follower.q * (a - leader.q - follower.q) - c * follower.q
}
"""


def test_roles_sharing_an_action_name_are_distinct_players(tmp_path: Path):
    path = write(tmp_path, PD_ROLES)
    pd = solve(path, "pd")
    assert [e.path for e in pd.equilibria] == [{"row": {"move": "defect"}, "col": {"move": "defect"}}]
    pennies = solve(path, "pennies")
    assert len(pennies.equilibria) == 1 and not pennies.equilibria[0].path
    assert pennies.equilibria[0].probabilities == {
        "row": {"side": {"heads": 0.5, "tails": 0.5}},
        "col": {"side": {"heads": 0.5, "tails": 0.5}},
    }
    st = solve(path, "stackelberg")
    # the leader anticipates q_f = (a - q_l) / 2: q_l = a / 2, q_f = a / 4
    assert st.equilibria[0].path == {"leader": {"q": 6}, "follower": {"q": 3}}
    assert st.verified is not None and "subgame" in st.verified.method or "one-shot" in st.verified.method


COURNOT = """
game cournot {
    players firm[1..2] symmetric
    param a = 10, c = 12
    each firm chooses q in [0, 10]
    payoff firm[i] = firm[i].q * (a - sum(firm.q)) - c * firm[i].q
}
game capacity {
    players firm[1..2] symmetric
    param a = 10, c = 1, cap = 2
    each firm chooses q in [0, cap]
    payoff firm[i] = firm[i].q * (a - sum(firm.q)) - c * firm[i].q
}
"""


@pytest.mark.parametrize("pref,values", [("economicus", {}), ("moralis", {"kappa": "1/2"})])
def test_a_bound_that_binds_is_the_answer(tmp_path: Path, pref, values):
    path = write(tmp_path, COURNOT)
    sol = solve(path, "cournot", pref, **values)
    assert all(v == {"q": 0} for v in sol.equilibria[0].path.values())
    # with capacity 2 the interior optimum (a - c)/(3 + kappa) = 3 or 9/3.5 is clipped to 2
    cap = solve(path, "capacity", pref, **values)
    assert all(v == {"q": 2} for v in cap.equilibria[0].path.values())
    # outside the default point too
    wide = solve(path, "capacity", pref, params={"cap": 5}, **values)
    assert all(
        v["q"] == pytest.approx(18 / 7 if pref == "moralis" else 3, abs=1e-12) for v in wide.equilibria[0].path.values()
    )


def test_explain_states_where_the_bound_binds(tmp_path: Path):
    path = write(tmp_path, COURNOT)
    ir = lower_spec(check_file(str(path)))
    exp = explain(ir.games["cournot"], ir.spec.preferences["moralis"])
    outcomes = {r.outcome: r.condition for r in exp.regimes}
    assert "q = 0" in outcomes and outcomes["q = 0"] != "always"
    interior = next(c for o, c in outcomes.items() if "kappa + 3" in o)
    assert "a" in interior and "c" in interior
    exp = explain(ir.games["capacity"], ir.spec.preferences["moralis"])  # used to crash: no value given for a, c
    assert any(r.outcome == "q = cap" for r in exp.regimes)


VOLUNTEER = """
game volunteer {
    players member[1..n] symmetric
    param n in 2..10 = 3, b = 4, c = 1
    each member chooses v in 0..1
    payoff member[i] = (if sum(member.v) >= 1 then b else 0) - c * member[i].v
}
"""


@pytest.mark.parametrize("n", [2, 3, 5, 8])
def test_volunteers_dilemma_with_a_parametric_group(tmp_path: Path, n: int):
    path = write(tmp_path, VOLUNTEER)
    sol = solve(path, "volunteer", params={"n": n})
    pure = [e for e in sol.equilibria if e.is_pure]
    # exactly one volunteer (up to who it is: a group of two lists both of its equilibria)
    assert {tuple(sorted(v["v"] for v in e.path.values())) for e in pure} == {tuple([0] * (n - 1) + [1])}
    mixed = [e for e in sol.equilibria if not e.is_pure]
    assert len(mixed) == 1 and mixed[0].symmetric
    p = next(iter(mixed[0].probabilities.values()))["v"]["1"]
    # indifference: c = b (1 - p)^(n - 1)
    assert p == pytest.approx(1 - (1 / 4) ** (1 / (n - 1)), abs=1e-12)
    assert sol.selected is None  # no symmetric pure equilibrium to teach


def test_stag_hunt_mixing_is_strategy_level(tmp_path: Path):
    """At kappa = 1/2 the action-level shortcut mixes stag with probability 1/2; under the
    strategy-level definition u(x, y) = x'Ay/2 + x'Ax/2 that point is a minimum of the own utility,
    so the only equilibria are the two pure ones."""
    path = write(
        tmp_path,
        """
game stag {
    players a, b symmetric
    each player chooses hunt in {stag, hare}
    payoff a = table(a.hunt, b.hunt) { stag, stag: 4; stag, hare: 0; hare, stag: 3; hare, hare: 3 }
}
""",
    )
    sol = solve(path, "stag", "moralis", kappa="1/2")
    assert [e.path["a"]["hunt"] for e in sol.equilibria] == ["stag", "hare"]
    assert sol.mixing and sol.mixing.startswith("strategy-level")
    econ = solve(path, "stag")
    mixed = [e for e in econ.equilibria if not e.is_pure]
    assert mixed[0].probabilities["a"]["hunt"] == {"stag": 0.75, "hare": 0.25}
    assert econ.mixing is None


def test_pure_equilibria_a_mixture_beats_are_marked(tmp_path: Path):
    """PD (5, 3, 1, 0) at kappa = 1/2: mutual cooperation is an equilibrium of the game in actions,
    but the mixture cooperating with probability 1/2 gains 1/8 under the strategy-level term."""
    sol = solve(SPECS / "paper.pref", "prisoners_dilemma", "moralis", kappa="1/2")
    coop = next(
        e for e in sol.equilibria if e.is_pure and e.path["row"]["move"] == "cooperate" == e.path["col"]["move"]
    )
    assert coop.mixture_gain == pytest.approx(1 / 8)
    # and the explanation gives the thresholds against mixtures: 2/3 and 1/4
    ir = lower_spec(check_file(str(SPECS / "paper.pref")))
    exp = explain(ir.games["prisoners_dilemma"], ir.spec.preferences["moralis"], fixed=None)
    assert any("against mixed strategies" in r.outcome for r in exp.regimes)
    assert any(r.note == "symmetric mixed equilibrium" for r in exp.regimes)


def test_several_preference_parameters(tmp_path: Path, capsys):
    code, out, err = cli(
        [
            "solve",
            SPECS / "paper.pref",
            "--game",
            "prisoners_dilemma",
            "--preference",
            "inequity(alpha=0.8, beta=0.3)",
            "--json",
        ],
        capsys,
    )
    assert code == 0, err
    data = json.loads(out)
    assert data["preference_params"] == {"alpha": 0.8, "beta": 0.3}
    path = write(
        tmp_path,
        """
game dictator {
    players dictator, recipient
    param E = 10
    dictator chooses give in 0..E
    payoff dictator = E - give
    payoff recipient = give
}
rubric eval for inequity(alpha = 0.8, beta = 0.3, 0.6), economicus {
    games dictator
    items 4
}
""",
    )
    code, out, err = cli(["check", path], capsys)
    assert code == 0, err
    # beta = 0.6 > 1/2: inequity aversion gives half the endowment (Fehr & Schmidt 1999)
    sol = solve(path, "dictator", "inequity", alpha="4/5", beta="3/5")
    assert sol.equilibria[0].path["dictator"]["give"] == 5
    sol = solve(path, "dictator", "inequity", alpha="4/5", beta="3/10")
    assert sol.equilibria[0].path["dictator"]["give"] == 0


def test_library_preferences_on_library_games_give_a_located_error_or_an_answer(capsys):
    # log(0): the payoff S = 0 of cooperating against defection
    code, out, err = cli(
        ["solve", SPECS / "paper.pref", "--game", "prisoners_dilemma", "--preference", "moralis_log"], capsys
    )
    assert code == 1 and "Traceback" not in err
    assert "not a finite real number" in err and "row" in err and "cooperate" in err
    # with positive payoffs the same form solves
    code, out, err = cli(
        [
            "solve",
            SPECS / "paper.pref",
            "--game",
            "prisoners_dilemma",
            "--preference",
            "moralis_log",
            "--set",
            "S=1/2",
            "--set",
            "P=1",
            "--json",
        ],
        capsys,
    )
    assert code == 0, err
    assert json.loads(out)["equilibria"]
    code, out, err = cli(
        ["solve", SPECS / "av_dilemma.pref", "--game", "av_purchase", "--preference", "moralis_log"], capsys
    )
    assert code == 1 and "Traceback" not in err and "not a finite real number" in err


@pytest.mark.parametrize(
    "payoff,what",
    [
        ("log(0 * row.x)", "-inf"),
        ("sqrt(-1 - row.x)", "nan"),
        ("1 / (row.x - row.x)", "inf"),
        ("exp(1000 * (row.x + 1))", "inf"),
    ],
)
def test_non_finite_payoffs_are_located_errors(tmp_path: Path, capsys, payoff, what):
    path = write(
        tmp_path,
        f"""
game g {{
    players row, col
    row chooses x in 0..1
    col chooses y in 0..1
    payoff row = {payoff}
    payoff col = col.y
}}
""",
    )
    code, out, err = cli(["solve", path, "--game", "g", "--preference", "economicus"], capsys)
    assert code == 1 and "Traceback" not in err
    assert "not a finite real number" in err or "not a real number" in err


@pytest.mark.parametrize(
    "setting,fragment",
    [
        ("n=30", "outside its domain"),
        ("n=1", "outside its domain"),
        ("m=0", "outside its domain"),
        ("e=-5", "empty"),
        ("n=3/0", "not a finite number"),
        ("n=5/2", "whole number"),
    ],
)
def test_settings_are_checked_like_the_spec(capsys, setting, fragment):
    code, out, err = cli(
        ["solve", SPECS / "paper.pref", "--game", "public_goods", "--preference", "economicus", "--set", setting],
        capsys,
    )
    assert code == 1 and "Traceback" not in err
    assert fragment in err


def test_group_size_past_the_cap_is_refused(tmp_path: Path, capsys):
    path = write(tmp_path, VOLUNTEER.replace("n in 2..10 = 3", "n = 3"))
    code, out, err = cli(["solve", path, "--game", "volunteer", "--preference", "economicus", "--set", "n=100"], capsys)
    assert code == 1 and "Traceback" not in err and "members" in err


def test_mixed_equilibria_show_the_mixture_in_json(capsys):
    # between the thresholds 1/3 and 1/2 only mixing is symmetric
    code, out, err = cli(
        ["solve", SPECS / "paper.pref", "--game", "prisoners_dilemma", "--preference", "moralis(kappa=0.4)", "--json"],
        capsys,
    )
    assert code == 0, err
    data = json.loads(out)
    mixed = [e for e in data["equilibria"] if e["probabilities"]]
    assert mixed and all(e["path"] == {} for e in mixed)
    assert data["mixing"].startswith("strategy-level")
    assert data["verified"]["deviations"] > 0


def test_explain_gives_mixed_regimes_of_2x2_games(tmp_path: Path):
    path = write(
        tmp_path,
        """
game chicken {
    players a, b symmetric
    param V = 4, C = 6
    each player chooses move in {hawk, dove}
    payoff a = table(a.move, b.move) { hawk, hawk: (V - C) / 2; hawk, dove: V; dove, hawk: 0; dove, dove: V / 2 }
}
""",
    )
    ir = lower_spec(check_file(str(path)))
    exp = explain(ir.games["chicken"], ir.spec.preferences["economicus"])
    mixed = next(r for r in exp.regimes if r.note == "symmetric mixed equilibrium")
    # hawk with probability V / C (Maynard Smith)
    assert "V/C" in mixed.outcome.replace(" ", "")
    sol = solve(path, "chicken")
    p = next(e for e in sol.equilibria if not e.is_pure).probabilities["a"]["move"]["hawk"]
    assert math.isclose(p, 4 / 6)


def test_unsupported_shapes_are_refused_with_the_game_named(tmp_path: Path):
    path = write(
        tmp_path,
        """
game twomoves {
    players a, b
    a chooses x in [0, 1]
    then b sees x and chooses y in [0, 1]
    b chooses z in [0, 1]
    payoff a = x
    payoff b = y + z
}
""",
    )
    ir = lower_spec(check_file(str(path)))
    with pytest.raises(SolveError, match="twomoves"):
        GameSolver(ir.games["twomoves"], ir.preference(PreferencePoint("economicus")))


def test_payoff_tables_for_other_tools():
    from prefc.compiler.solve.tables import game_tree, material, normal_form

    ir = lower_spec(check_file(str(SPECS / "paper.pref")))
    pd = ir.games["prisoners_dilemma"]
    nf = normal_form(pd, pd.defaults())
    assert nf.players == ["row", "col"] and not nf.plan_game
    assert nf.payoffs == {(0, 0): (3, 3), (0, 1): (0, 5), (1, 0): (5, 0), (1, 1): (1, 1)}
    moral = normal_form(pd, pd.defaults(), ir.preference(PreferencePoint("moralis", (("kappa", F(1, 2)),))))
    assert moral.payoffs[(1, 0)] == (F(5, 2) + F(1, 2), F(3, 2))  # defect against cooperate: (T + P) / 2
    ult = ir.games["ultimatum"]
    tree = game_tree(ult, ult.defaults())
    assert len(tree.payoffs) == 11 * 2 and tree.payoffs[(4, 0)] == (6, 4) and tree.payoffs[(4, 1)] == (0, 0)
    assert material().label == "material"


def test_table_keys_are_resolved_by_owner(tmp_path: Path, capsys):
    path = write(
        tmp_path,
        """
game entry {
    players entrant, incumbent
    entrant chooses move in {enter, stay_out}
    then incumbent sees entrant.move and chooses move in {fight, accommodate}
    payoff entrant = table(entrant.move, incumbent.move) {
        enter, fight: -1; enter, accommodate: 2; stay_out, fight: 0; stay_out, accommodate: 0 }
    payoff incumbent = table(entrant.move, incumbent.move) {
        enter, fight: -1; enter, accommodate: 1; stay_out, fight: 3; stay_out, accommodate: 3 }
}
""",
    )
    code, out, err = cli(["check", path], capsys)
    assert code == 0, err
    sol = solve(path, "entry")
    # the incumbent accommodates entry (1 > -1), so the entrant enters (2 > 0)
    assert sol.equilibria[0].path == {"entrant": {"move": "enter"}, "incumbent": {"move": "accommodate"}}
    bad = write(
        tmp_path,
        """
game g {
    players a, b
    a chooses move in {x, y}
    b chooses move in {y, x}
    payoff a = table(a.move, b.move) { x, x: 1; x, y: 0; y, x: 0; y, y: 1 }
    payoff b = 0
}
""",
        "bad.pref",
    )
    code, out, err = cli(["check", bad], capsys)
    assert code == 1 and "E0208" in err and "position" in err


def test_an_action_enumerates_its_own_options_where_a_dropped_one_lived():
    """An action built where a dropped action lived (Python hands the freed memory, and so the same
    ``id()``, to the next object of its size) enumerates its own options, not the dropped one's:
    games built and dropped one after another (a differential run, a server, a notebook) must
    never share bounds."""
    import sympy as sp

    from prefc.compiler.ir import ActionIR

    def action(hi: int) -> ActionIR:
        return ActionIR("follower", "m", "integers", (), sp.Integer(0), sp.Integer(hi), sp.Integer(1), 1, ())

    for _ in range(20):
        dropped = action(2)
        assert len(dropped.options({})) == 3
        del dropped
        fresh = action(1)
        assert fresh.options({}) == [0, 1]
        del fresh


CONTESTS = """
game commons {
    players herder[1..2] symmetric
    param X = 12
    each herder chooses goats in [0, X]
    payoff herder[i] = herder[i].goats * (X - sum(herder.goats))
}
game tullock {
    players bidder[1..2] symmetric
    param V = 8
    each bidder chooses effort in [0, V]
    payoff bidder[i] = V * bidder[i].effort / (sum(bidder.effort) + 1) - bidder[i].effort
}
game team {
    players worker[1..3] symmetric
    param b = 2, w = 10
    each worker chooses effort in [0, w]
    payoff worker[i] = b * sum(worker.effort) / 3 - worker[i].effort ^ 2 / 2
}
game bertrand_lin {
    players firm[1..2] symmetric
    param a = 10, c = 1
    each firm chooses price in [c, a]
    payoff firm[i] = (firm[i].price - c) * (a - 3 * firm[i].price + sum(firm.price))
}
game stackelberg {
    players leader, follower
    param a = 10, c = 1
    leader chooses q in [0, a]
    then follower sees q and chooses r in [0, a]
    payoff leader = leader.q * (a - leader.q - follower.r - c)
    payoff follower = follower.r * (a - leader.q - follower.r - c)
}
"""


@pytest.mark.parametrize(
    "game,params,k,expected",
    [
        # commons: X / (3 + kappa)
        ("commons", {"X": 12}, 0, 4.0),
        ("commons", {"X": 18}, 0.5, 18 / 3.5),
        # Tullock with a unit of noise: V (x + 1) = (2x + 1)^2; under moralis V (x + 1 + k) = (2x + 1)^2
        ("tullock", {"V": 8}, 0, (4 + math.sqrt(128)) / 8),
        ("tullock", {"V": 16}, 0.5, 2.5),
        # team effort, three workers: b (1 + 2k) / 3
        ("team", {"b": 2}, 0, 2 / 3),
        ("team", {"b": 3}, 0.75, 3 * 2.5 / 3),
        # linear Bertrand, demand a - 2p + p': (a + (2 - k) c) / (3 - k); the price's bounds [c, a]
        # make both bound conditions of the interior regime the same condition a > c
        ("bertrand_lin", {"a": 10, "c": 1}, 0, 4.0),
        ("bertrand_lin", {"a": 12, "c": 2}, 0.5, 6.0),
    ],
)
def test_symmetric_contests_and_commons_match_their_closed_forms(tmp_path: Path, game, params, k, expected):
    path = write(tmp_path, CONTESTS)
    pref, values = ("economicus", {}) if k == 0 else ("moralis", {"kappa": str(F(k))})
    sol = solve(path, game, pref, params=params, **values)
    (action,) = {a for acts in sol.answer.path.values() for a in acts}
    assert all(acts[action] == pytest.approx(expected, rel=1e-9) for acts in sol.answer.path.values())


def test_stackelberg_leader_and_follower_and_the_derivation_in_numbers_people_read(tmp_path: Path, capsys):
    path = write(tmp_path, CONTESTS)
    sol = solve(path, "stackelberg", params={"a": 12})
    # the follower replies (a - c - q) / 2, so the leader sets (a - c) / 2 and the follower (a - c) / 4
    assert sol.answer.path["leader"]["q"] == pytest.approx(5.5, rel=1e-9)
    assert sol.answer.path["follower"]["r"] == pytest.approx(2.75, rel=1e-9)
    code, out, _ = cli(["solve", path, "--game", "stackelberg", "--preference", "economicus"], capsys)
    assert code == 0 and "follower chooses r given q = 4.5" in out
    code, out, _ = cli(["explain", path, "--game", "stackelberg", "--preference", "economicus"], capsys)
    assert code == 0 and "leader.q = 4.5, follower.r = 2.25" in out
    # a numeric optimum found by search is shown as people read it, not with the search's noise
    code, out, _ = cli(["explain", path, "--game", "stackelberg", "--preference", "moralis(kappa=0.5)"], capsys)
    assert code == 0 and "leader.q = " in out and not re.search(r"\d\.\d{7,}", out)


INEQUITY_GAMES = """
game kinked {
    players firm[1..2] symmetric
    param a = 10, c = 1
    each firm chooses price in [c, a]
    payoff firm[i] = (firm[i].price - c) * max(a - 3 * firm[i].price + sum(firm.price), 0)
}
game club {
    players member[1..3] symmetric
    param m = 1.8, e = 10
    each member chooses give in [0, e]
    payoff member[i] = e - member[i].give + m / 3 * sum(member.give)
}
"""


def test_inequity_aversion_gives_a_continuum_of_symmetric_equilibria_not_one_root(tmp_path: Path):
    """Fehr-Schmidt utilities have a kink where payoffs are equal, so at the symmetric profile the
    first-order condition has no root and every common action in an interval is an equilibrium.

    Linear Bertrand (demand a - 2p + p', cost c = 1, a = 10), alpha = 0.8, beta = 0.3: raising
    the price from p puts a firm behind (p > 13/4), so no one raises it while
    (12 - 3p) - alpha (4p - 13) <= 0, i.e. p >= 22.4 / 6.2; no one lowers it while
    (12 - 3p) - beta (13 - 4p) >= 0, i.e. p <= 4.5. Public goods (Fehr & Schmidt 1999, three
    members): every common contribution is an equilibrium iff m/3 + beta >= 1."""
    path = write(tmp_path, INEQUITY_GAMES)
    fs = {"alpha": "4/5", "beta": "3/10"}
    sol = solve(path, "kinked", "inequity", **fs)
    prices = [e.path["firm[1]"]["price"] for e in sol.equilibria]
    assert prices == pytest.approx([22.4 / 6.2, 4.5], abs=1e-6)
    assert sol.answer.path["firm[1]"]["price"] == pytest.approx(4.5, abs=1e-6)  # payoff-dominant
    assert "payoff-dominant" in sol.selection and any("continuum" in n for n in sol.notes)
    club = solve(path, "club", "inequity", params={"m": "2.7"}, **fs)
    gives = [e.path["member[1]"]["give"] for e in club.equilibria]
    assert gives == pytest.approx([0, 10], abs=1e-9) and any("from 0 to 10" in n for n in club.notes)
    below = solve(path, "club", "inequity", params={"m": "1.8"}, **fs)
    assert [e.path["member[1]"]["give"] for e in below.equilibria] == [0]
    assert below.selection == "unique pure equilibrium" and not any("continuum" in n for n in below.notes)
    # a smooth game keeps its one root, and says nothing of continua
    econ = solve(path, "kinked")
    assert [e.path["firm[1]"]["price"] for e in econ.equilibria] == pytest.approx([4.0])
    assert not any("continuum" in n for n in econ.notes)


@pytest.mark.parametrize("beta,flat", [("1/2", True), ("3/10", False), ("3/5", False)])
def test_a_flat_top_is_not_called_a_unique_optimum(tmp_path: Path, beta, flat):
    """Fehr-Schmidt dictator (E = 10): below the equal split each unit given costs 1 - 2 beta, so at
    beta = 1/2 every gift from 0 to E/2 is optimal (the lowest is the answer, and the solution says
    so); below 1/2 the dictator gives nothing, above it half."""
    sol = solve(SPECS / "paper.pref", "dictator", "inequity", alpha="4/5", beta=beta)
    give = sol.answer.path["dictator"]["give"]
    assert give == (0 if F(beta) <= F(1, 2) else 5)
    if flat:
        assert sol.selection == "the lowest of several optima"
        assert any("every value from 0 to 5 is as good as 0" in n for n in sol.notes)
    else:
        assert sol.selection == "unique optimum" and not sol.notes


def test_a_dataset_of_a_game_without_any_answer_says_why_it_has_no_rows(tmp_path: Path, capsys):
    """Rock-paper-scissors has only a mixed equilibrium: no point of it can be taught, and the
    compile error names the game and the reason rather than a bare count of zero rows."""
    path = write(
        tmp_path,
        """
game rps {
    players p1, p2 symmetric
    each player chooses hand in {rock, paper, scissors}
    payoff p1 = table(p1.hand, p2.hand) {
        rock, rock: 0; rock, paper: -1; rock, scissors: 1
        paper, rock: 1; paper, paper: 0; paper, scissors: -1
        scissors, rock: -1; scissors, paper: 1; scissors, scissors: 0
    }
}
dataset d for economicus {
    games rps
    samples 2 per game   seed 1
    split train 1
}
""",
    )
    code, _, err = cli(["compile", path, "-o", tmp_path / "out", "--quiet"], capsys)
    assert code == 1
    assert "rps: no parameter point has an answer to teach" in err and "Traceback" not in err
    assert not (tmp_path / "out" / "novel" / "d").exists()


def test_a_later_move_whose_range_empties_is_a_located_error_in_plain_numbers(tmp_path: Path, capsys):
    path = write(
        tmp_path,
        """
game seq {
    players first, second
    param E = 10
    first chooses x in [0, E]
    then second sees x and chooses y in [x, E - x]
    payoff first = x + y
    payoff second = E - y
}
""",
    )
    code, _, err = cli(["solve", path, "--game", "seq", "--preference", "economicus"], capsys)
    assert code == 1 and "Traceback" not in err
    assert re.search(
        r"the bounds of `second\.y` are \[\d+(\.\d+)?, \d+(\.\d+)?\] after \(x = [\d.]+\), an empty range", err
    )
    assert "novel.pref:" in err  # located
