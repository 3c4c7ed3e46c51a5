"""Solutions of the library specs against closed forms and published values from the literature.

Every expected value here comes from outside the project: Alger & Weibull (2013) for homo moralis
thresholds, Calvano et al. (2020) for the logit duopoly, textbook Cournot algebra, and nashpy as an
independent equilibrium solver.
"""

from __future__ import annotations

import json
from fractions import Fraction as F
from pathlib import Path

import nashpy
import numpy as np
import pytest

from prefc.cli import main
from prefc.compiler.check import PreferencePoint, check_file
from prefc.compiler.ir import lower_spec
from prefc.compiler.solve import GameSolver
from prefc.compiler.solve.explain import explain

SPECS = Path(__file__).resolve().parents[3] / "specs"


@pytest.fixture(scope="module")
def paper():
    return lower_spec(check_file(str(SPECS / "paper.pref")))


@pytest.fixture(scope="module")
def pricing():
    return lower_spec(check_file(str(SPECS / "pricing.pref")))


@pytest.fixture(scope="module")
def av():
    return lower_spec(check_file(str(SPECS / "av_dilemma.pref")))


def solve(ir, game, name, kappa=None, **params):
    values = (("kappa", F(kappa)),) if kappa is not None else ()
    pref = ir.preference(PreferencePoint(name, values))
    return GameSolver(ir.games[game], pref).solve({k: F(v) for k, v in params.items()})


def pure_profiles(sol):
    return {tuple(acts[a] for acts in eq.path.values() for a in acts) for eq in sol.equilibria if eq.is_pure}


# --- prisoner's dilemma (T, R, P, S) = (5, 3, 1, 0): Alger & Weibull (2013) -----------------------


@pytest.mark.parametrize("kappa", ["0", "1/4", "1/3", "1/3 + 1/1000", "1/2 - 1/1000", "1/2", "3/4", "1"])
def test_pd_moralis_thresholds(paper, kappa):
    k = (
        sum(F(t) for t in kappa.split(" + "))
        if "+" in kappa
        else (F(kappa.split(" - ")[0]) - F(kappa.split(" - ")[1]) if " - " in kappa else F(kappa))
    )
    profiles = pure_profiles(solve(paper, "prisoners_dilemma", "moralis", k))
    assert (("cooperate", "cooperate") in profiles) == (k >= F(1, 2))
    assert (("defect", "defect") in profiles) == (k <= F(1, 3))


def test_pd_equilibria_agree_with_nashpy(paper):
    """Pure equilibria of the game in actions are those of the action-level matrix (nashpy); mixed
    equilibria follow the strategy-level Kantian term (Alger & Weibull 2013: u(x, y) = (1 - k) x'Ay +
    k x'Ax), whose symmetric one solves (A + k A') x = lambda 1 and must be a best reply over mixtures."""
    A0 = np.array([[3, 0], [5, 1]], dtype=float)
    for k in [F(0), F(2, 5), F(3, 4)]:
        sol = solve(paper, "prisoners_dilemma", "moralis", k)
        kf = float(k)
        A = np.array([[3, kf * 3], [(1 - kf) * 5 + kf * 1, 1]], dtype=float)
        pure_expected = {
            (tuple(np.round(x, 9)), tuple(np.round(y, 9)))
            for x, y in nashpy.Game(A, A.T).vertex_enumeration()
            if max(x) == 1 and max(y) == 1
        }
        pure = {
            tuple(1.0 if eq.path[r]["move"] == o else 0.0 for r in ("row", "col") for o in ("cooperate", "defect"))
            for eq in sol.equilibria
            if eq.is_pure
        }
        assert pure == {x + y for x, y in pure_expected}
        mixed = [eq for eq in sol.equilibria if not eq.is_pure and eq.symmetric]
        H = A0 + kf * A0.T
        p = (H[1, 1] - H[0, 1]) / (H[0, 0] - H[0, 1] - H[1, 0] + H[1, 1])
        exists = 0 < p < 1 and kf * (3 - 0 - 5 + 1) <= 0
        if k == 0:  # homo economicus: defection is strictly dominant
            assert not mixed
            continue
        assert len(mixed) == int(exists)
        if not exists:
            continue
        got = mixed[0].probabilities["row"]["move"]["cooperate"]
        assert got == pytest.approx(p, abs=1e-12)
        # a best reply to itself over every mixture (brute force on a fine grid)
        y = np.array([p, 1 - p])
        qs = np.linspace(0, 1, 10001)
        u = [
            (1 - kf) * np.array([q, 1 - q]) @ A0 @ y + kf * np.array([q, 1 - q]) @ A0 @ np.array([q, 1 - q]) for q in qs
        ]
        mine = (1 - kf) * y @ A0 @ y + kf * y @ A0 @ y
        assert max(u) <= mine + 1e-12


def test_pd_explain_gives_the_closed_form(paper):
    exp = explain(paper.games["prisoners_dilemma"], paper.spec.preferences["moralis"])
    conditions = {r.outcome: r.condition for r in exp.regimes}
    assert conditions["both move = cooperate is an equilibrium"] == "kappa >= (R - T)/(P - T)"
    assert conditions["both move = defect is an equilibrium"] == "kappa <= (P - S)/(R - S)"


# --- linear public goods: full contribution iff kappa > (n - m)/(m(n - 1)) ------------------------


@pytest.mark.parametrize("n,m", [(4, "1.6"), (2, "1.2"), (5, "2.4"), (8, "1.6")])
def test_public_goods_threshold(paper, n, m):
    m = F(m)
    threshold = (n - m) / (m * (n - 1))
    for k, expected in [(threshold - F(1, 100), 0), (threshold + F(1, 100), 20)]:
        if not 0 <= k <= 1:
            continue
        sol = solve(paper, "public_goods", "moralis", k, n=n, m=m)
        assert {a["give"] for a in sol.answer.path.values()} == {expected}
        assert len(sol.answer.path) == n
    assert solve(paper, "public_goods", "economicus", n=n, m=m).answer.path["member[1]"]["give"] == 0


def test_public_goods_explain(paper):
    exp = explain(paper.games["public_goods"], paper.spec.preferences["moralis"])
    assert exp.regimes[0].condition == "kappa > (-m + n)/(m*(n - 1))" and exp.regimes[0].outcome == "give = e"


# --- trust game: the moralis investor sends everything iff kappa > 1/k ------------------------------


@pytest.mark.parametrize("k", [2, 3, 4])
def test_trust_threshold(paper, k):
    for kappa, sent in [(F(1, k) - F(1, 50), 0), (F(1, k) + F(1, 50), 10)]:
        sol = solve(paper, "trust", "moralis", kappa, k=k)
        assert sol.answer.path["investor"]["send"] == sent
        assert sol.answer.path["trustee"]["back"] == 0
    assert solve(paper, "trust", "economicus", k=k).answer.path["investor"]["send"] == 0


def test_trust_explain_threshold_is_one_over_k(paper):
    exp = explain(paper.games["trust"], paper.spec.preferences["moralis"])
    assert any("kappa > 1/k" in r.condition and "investor.send = E" in r.outcome for r in exp.regimes)


# --- dictator: 0 with linear payoffs; kappa E / (1 + kappa) with log material utility --------------


@pytest.mark.parametrize("kappa", ["0", "0.25", "0.5", "0.9"])
def test_dictator(paper, kappa):
    k = F(kappa)
    assert solve(paper, "dictator", "moralis", k).answer.path["dictator"]["give"] == 0
    for E in (10, 20):
        give = solve(paper, "dictator", "moralis_log", k, E=E).answer.path["dictator"]["give"]
        assert give == pytest.approx(float(k * E / (1 + k)), abs=1e-9)


# --- Cournot duopoly: q = (a - c)/(3 + kappa) ------------------------------------------------------


@pytest.mark.parametrize("kappa", ["0", "0.25", "0.5", "1"])
def test_cournot(pricing, kappa):
    k = F(kappa)
    for a, c in [(10, 1), (12, 2)]:
        sol = solve(pricing, "cournot", "moralis", k, a=a, c=c)
        q = sol.answer.path["firm[1]"]["quantity"]
        assert q == pytest.approx(float((a - c) / (3 + k)), abs=1e-12)


# --- logit Bertrand (Calvano et al. 2020) ----------------------------------------------------------


@pytest.mark.parametrize("kappa,price", [(0, 1.4729), (0.25, 1.5829), (0.5, 1.7106), (0.75, 1.8293), (1, 1.9250)])
def test_calvano_prices(pricing, kappa, price):
    sol = solve(pricing, "bertrand", "moralis", F(kappa).limit_denominator(100))
    assert round(sol.answer.path["firm[1]"]["price"], 4) == price
    assert sol.exact is False


def test_calvano_nash_is_economicus(pricing):
    sol = solve(pricing, "bertrand", "economicus")
    assert round(sol.answer.path["firm[2]"]["price"], 4) == 1.4729


# --- autonomous-vehicle dilemmas ------------------------------------------------------------------


@pytest.mark.parametrize("h", ["1.5", "3", "5"])
def test_av_purchase_threshold(av, h):
    h = F(h)
    for k, car in [(1 / h - F(1, 50), "protective"), (1 / h + F(1, 50), "utilitarian")]:
        sol = solve(av, "av_purchase", "moralis", k, h=h)
        assert sol.answer.path["rider[1]"]["car"] == car
    assert solve(av, "av_purchase", "economicus", h=h).answer.path["rider[1]"]["car"] == "protective"


@pytest.mark.parametrize("passengers,pedestrians", [(1, 5), (2, 5), (1, 2), (3, 10)])
def test_swerve_threshold(av, passengers, pedestrians):
    threshold = F(passengers, pedestrians)
    for k, car in [(threshold - F(1, 100), "stay"), (threshold + F(1, 100), "swerve")]:
        sol = solve(av, "swerve", "moralis", k, passengers=passengers, pedestrians=pedestrians)
        assert sol.answer.path["rider"]["car"] == car
    assert (
        solve(av, "swerve", "economicus", passengers=passengers, pedestrians=pedestrians).answer.path["rider"]["car"]
        == "stay"
    )


# --- the command line -------------------------------------------------------------------------------


def test_solve_json_shape(capsys):
    code = main(["solve", str(SPECS / "paper.pref"), "--game", "ultimatum", "--preference", "economicus", "--json"])
    assert code == 0
    data = json.loads(capsys.readouterr().out)
    assert data["game"] == "ultimatum" and data["concept"] == "backward-induction"
    assert data["params"] == {"E": 10}
    eq = data["equilibria"][0]
    assert eq["path"] == {"proposer": {"offer": 0}, "responder": {"accept": "yes"}}
    assert eq["strategy"]["responder"]["accept"]["10"] == "yes"
    assert set(eq["utilities"]) == {"proposer", "responder"}


def test_solve_unknown_names_are_located(capsys):
    code = main(["solve", str(SPECS / "paper.pref"), "--game", "trsut", "--preference", "economicus"])
    err = capsys.readouterr().err
    assert code == 1 and "error[E0202]: unknown game `trsut`" in err and "did you mean `trust`?" in err
    code = main(["solve", str(SPECS / "paper.pref"), "--game", "trust", "--preference", "moralis(kapa=0.5)"])
    err = capsys.readouterr().err
    assert code == 1 and "error[E0204]" in err and "did you mean `kappa`?" in err
    code = main(["solve", str(SPECS / "paper.pref"), "--game", "trust", "--preference", "economicus", "--set", "kk=2"])
    err = capsys.readouterr().err
    assert code == 1 and "game `trust` has no parameter `kk`" in err and "did you mean `k`?" in err


def test_too_large_game_is_a_clear_error(tmp_path, capsys):
    spec = tmp_path / "big.pref"
    spec.write_text(
        "preference economicus = payoff(self)\n"
        "game big {\n    players a, b symmetric\n    each player chooses x in 0..5000\n"
        "    payoff a = a.x - b.x\n}\n"
    )
    code = main(["solve", str(spec), "--game", "big", "--preference", "economicus"])
    err = capsys.readouterr().err
    assert code == 1 and "5,001 options" in err and "limited to" in err
