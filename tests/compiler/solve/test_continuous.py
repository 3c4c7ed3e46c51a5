"""Continuous-action solvers against closed forms and published numbers.

References: Cournot duopoly with homo moralis firms, q = (a - c)/(3 + kappa) (Alger & Weibull
2013); linear public goods, full contribution iff kappa > (n - m)/(m(n - 1)); the logit Bertrand
duopoly of Calvano, Calzolari, Denicolo & Pastorello (2020, AER), Nash price 1.4729 and monopoly
price 1.9250; the homo moralis dictator (linear: gives 0 for kappa < 1; log: kappa*E/(1 + kappa)).
"""

from __future__ import annotations

import math
import time
from fractions import Fraction

import numpy as np
import pytest
import sympy
from hypothesis import given, settings
from hypothesis import strategies as st

from prefc.compiler.solve.continuous import (
    NoConvergence,
    SymbolicSolution,
    best_response,
    solve_argmax_symbolic,
    solve_symmetric_numeric,
    solve_symmetric_symbolic,
    verify_argmax,
    verify_symmetric,
)

x, y = sympy.symbols("x y", real=True)
a, c, kappa, n, m, e, E = sympy.symbols("a c kappa n m e E", real=True)


def moralis(payoff, k=kappa):
    """Homo moralis utility in a symmetric game: (1-k)*pi(x, y) + k*pi(x, x)."""
    return (1 - k) * payoff(x, y) + k * payoff(x, x)


# --------------------------------------------------------------------------- Cournot


def cournot_profit(q, r):
    return q * (a - q - r) - c * q


COURNOT = moralis(cournot_profit)
COURNOT_CLOSED = (a - c) / (3 + kappa)


def test_cournot_symbolic_closed_form_with_domain():
    sol = solve_symmetric_symbolic(
        COURNOT, own=x, other=y, lo=0, hi=a, params=[a, c, kappa], domain={a: (5, 20), c: (0, 4), kappa: (0, 1)}
    )
    assert isinstance(sol, SymbolicSolution)
    assert sol.method == "interior-foc"
    assert len(sol.regimes) == 1 and sol.regimes[0].condition == sympy.true
    assert sympy.simplify(sol.regimes[0].action - COURNOT_CLOSED) == 0
    # the first-order condition at the symmetric point: (a - c) - (3 + kappa) x
    assert sympy.simplify(sol.foc - (a - c - (3 + kappa) * x)) == 0


def test_cournot_symbolic_without_domain_keeps_requirements_and_clips():
    sol = solve_symmetric_symbolic(COURNOT, own=x, other=y, lo=0, hi=a, params=[a, c, kappa])
    assert sol is not None
    interior = [r for r in sol.regimes if r.action.has(kappa)]
    assert len(interior) == 1
    assert sympy.simplify(interior[0].action - COURNOT_CLOSED) == 0
    for av, cv, kv in [(10, 1, 0.5), (7, 2, 0.0), (12, 3, 1.0), (3, 0.5, 0.3)]:
        got = sol.evaluate({a: av, c: cv, kappa: kv})
        assert got == pytest.approx((av - cv) / (3 + kv), rel=1e-12)
    # cost above the demand intercept: the clip binds at the lower bound
    assert sol.evaluate({a: 2, c: 3, kappa: 0.5}) == 0.0
    # kappa = -2 makes the utility convex in the own action: no closed-form regime applies
    assert math.isnan(sol.evaluate({a: 10, c: 1, kappa: -2}))


def bertrand_linear_profit(p, r):
    """Linear-demand Bertrand: demand a - 2p + r, unit cost c, price in [c, a]."""
    return (p - c) * (a - 2 * p + r)


@pytest.mark.parametrize("domain", [None, {a: (8, 12)}])
@pytest.mark.parametrize("kv", [0, Fraction(1, 2)])
def test_interior_regime_whose_two_bounds_are_one_condition(kv, domain):
    """Price in [c, a]: the root (a + (2 - k) c) / (3 - k) is above c iff a > c and below a iff
    a > c too, so the interior regime's two conditions are one (``And`` of equal conditions is that
    condition, not a conjunction of its sides)."""
    u = moralis(bertrand_linear_profit, k=kv)
    sol = solve_symmetric_symbolic(u, own=x, other=y, lo=c, hi=a, params=[a, c], domain=domain)
    assert sol is not None
    for r in sol.regimes:
        for part in sympy.And.make_args(r.condition):
            assert isinstance(part, sympy.core.relational.Relational) or part in (sympy.true, sympy.false)
    for av in (8, 10, 12):
        got = sol.evaluate({a: av, c: 1})
        assert got == pytest.approx((av + (2 - float(kv))) / (3 - float(kv)), rel=1e-12)


@pytest.mark.parametrize("av,cv,kv", [(10, 1, 0.0), (10, 1, 0.5), (20, 4, 0.9), (7, 2, 1.0)])
def test_cournot_numeric_matches_closed_form(av, cv, kv):
    values = {a: av, c: cv, kappa: kv}
    eqs = solve_symmetric_numeric(COURNOT, own=x, other=y, lo=0, hi=a, values=values)
    assert len(eqs) == 1
    assert eqs[0].action == pytest.approx((av - cv) / (3 + kv), abs=1e-9)
    assert eqs[0].kind == "interior"
    assert verify_symmetric(COURNOT, own=x, other=y, lo=0, hi=a, values=values, x_star=(av - cv) / (3 + kv))
    # a quantity 1% off the closed form is not an equilibrium
    assert not verify_symmetric(COURNOT, own=x, other=y, lo=0, hi=a, values=values, x_star=1.01 * (av - cv) / (3 + kv))


def test_cournot_with_one_symbol_per_rival():
    # three firms, rivals' quantities y and z: q = (a - c)/(n + 1 + kappa (n - 1)) with n = 3,
    # the n-firm form of the duopoly result (n = 2 gives (a - c)/(3 + kappa))
    z = sympy.Symbol("z", real=True)

    def profit(q, rivals):
        return q * (a - q - sum(rivals)) - c * q

    u = (1 - kappa) * profit(x, [y, z]) + kappa * profit(x, [x, x])
    sol = solve_symmetric_symbolic(
        u, own=x, other=[y, z], lo=0, hi=a, params=[a, c, kappa], domain={a: (5, 20), c: (0, 4), kappa: (0, 1)}
    )
    assert sol is not None
    assert sympy.simplify(sol.regimes[0].action - (a - c) / (4 + 2 * kappa)) == 0
    eqs = solve_symmetric_numeric(u, own=x, other=[y, z], lo=0, hi=a, values={a: 10, c: 1, kappa: 0.5})
    assert [round(q.action, 12) for q in eqs] == [1.8]


def test_sweep_of_ten_thousand_points_is_fast():
    sol = solve_symmetric_symbolic(COURNOT, own=x, other=y, lo=0, hi=a, params=[a, c, kappa])
    rng = np.random.default_rng(0)
    av = rng.uniform(5, 20, 10_000)
    cv = rng.uniform(0, 4, 10_000)
    kv = rng.uniform(0, 1, 10_000)
    sol.evaluate({a: av, c: cv, kappa: kv})  # compile once
    start = time.perf_counter()
    got = sol.evaluate({a: av, c: cv, kappa: kv})
    elapsed = time.perf_counter() - start
    np.testing.assert_allclose(got, (av - cv) / (3 + kv), rtol=1e-12)
    assert elapsed < 0.25
    # scalar and vectorised evaluation agree
    scalar = [sol.evaluate({a: float(av[i]), c: float(cv[i]), kappa: float(kv[i])}) for i in range(500)]
    np.testing.assert_array_equal(scalar, got[:500])


# --------------------------------------------------------------------------- public goods


def public_goods_payoff(g, other_give):
    return e - g + m / n * (g + (n - 1) * other_give)


PUBLIC_GOODS = moralis(public_goods_payoff)
PG_DOMAIN = {n: (2, 12), m: (1.05, 1.95), e: (1, 40), kappa: (0, 1)}


def test_public_goods_threshold_symbolic():
    sol = solve_symmetric_symbolic(PUBLIC_GOODS, own=x, other=y, lo=0, hi=e, params=[n, m, e, kappa], domain=PG_DOMAIN)
    assert sol is not None and sol.method == "linear-corner"
    by_action = {(r.action, r.indifferent): r for r in sol.regimes}
    full = by_action[(e, False)]
    tie = [r for r in sol.regimes if r.indifferent]
    assert len(tie) == 1 and tie[0].action == 0
    threshold = (n - m) / (m * (n - 1))
    # the condition is stated as a threshold in kappa
    assert full.condition.lhs == kappa and full.condition.rel_op == ">"
    assert sympy.simplify(full.condition.rhs - threshold) == 0
    (root,) = sympy.solve(tie[0].condition.lhs - tie[0].condition.rhs, kappa)
    assert sympy.simplify(root - threshold) == 0


@pytest.mark.parametrize("nv,mv", [(4, Fraction(8, 5)), (2, Fraction(3, 2)), (5, 3), (10, 2), (3, Fraction(6, 5))])
def test_public_goods_full_contribution_iff_kappa_above_threshold(nv, mv):
    sol = solve_symmetric_symbolic(PUBLIC_GOODS, own=x, other=y, lo=0, hi=e, params=[n, m, e, kappa])
    assert sol is not None
    threshold = Fraction(nv - mv) / (mv * (nv - 1))
    assert 0 < threshold < 1
    for kv, expected in [
        (threshold + Fraction(1, 100), 20.0),
        (threshold - Fraction(1, 100), 0.0),
        (Fraction(0), 0.0),
        (Fraction(1), 20.0),
    ]:
        values = {n: nv, m: mv, e: 20, kappa: kv}
        assert sol.evaluate(values) == expected
        eqs = solve_symmetric_numeric(PUBLIC_GOODS, own=x, other=y, lo=0, hi=e, values=values)
        assert [q.action for q in eqs] == [expected]
    # exactly at the threshold every contribution is optimal: the indifference regime
    at = {n: nv, m: mv, e: 20, kappa: threshold}
    assert sol.regimes[sol.regime_index(at)].indifferent
    for g in (0.0, 7.5, 20.0):
        assert verify_symmetric(PUBLIC_GOODS, own=x, other=y, lo=0, hi=e, values=at, x_star=g)


def test_homo_economicus_contributes_nothing_when_m_below_n():
    economicus = public_goods_payoff(x, y)
    sol = solve_symmetric_symbolic(economicus, own=x, other=y, lo=0, hi=e, params=[n, m, e])
    assert sol is not None
    nv = np.repeat(np.arange(2, 11), 50).astype(float)
    mv = np.concatenate([np.linspace(1.01, k - 0.01, 50) for k in range(2, 11)])
    np.testing.assert_array_equal(sol.evaluate({n: nv, m: mv, e: 20.0}), 0.0)
    # and everything once the multiplier exceeds the group size
    assert sol.evaluate({n: 4, m: 5, e: 20}) == 20.0


# --------------------------------------------------------------------------- Calvano et al.

P, Q = sympy.symbols("p q", real=True)
A_, A0, MU, COST = 2, 0, sympy.Rational(1, 4), 1


def logit_profit(pi, pj):
    share = sympy.exp((A_ - pi) / MU)
    return (pi - COST) * share / (share + sympy.exp((A_ - pj) / MU) + sympy.exp(A0 / MU))


def test_calvano_nash_and_moralis_prices():
    for k, published in [(0, 1.4729), (0.25, 1.5829), (0.5, 1.7106), (0.75, 1.8293)]:
        u = (1 - kappa) * logit_profit(P, Q) + kappa * logit_profit(P, P)
        eqs = solve_symmetric_numeric(u, own=P, other=Q, lo=1, hi=3, values={kappa: k})
        assert len(eqs) == 1
        assert round(eqs[0].action, 4) == published
        assert verify_symmetric(u, own=P, other=Q, lo=1, hi=3, values={kappa: k}, x_star=eqs[0].action)


def test_calvano_monopoly_price_and_no_closed_form():
    joint = 2 * logit_profit(P, P)  # both firms' profits at a common price
    price = best_response(joint, own=P, lo=1, hi=3, values={})
    assert round(price, 4) == 1.9250
    assert verify_argmax(joint, own=P, lo=1, hi=3, values={}, x_star=price)
    u = (1 - kappa) * logit_profit(P, Q) + kappa * logit_profit(P, P)
    assert solve_symmetric_symbolic(u, own=P, other=Q, lo=1, hi=3, params=[kappa]) is None


# --------------------------------------------------------------------------- dictator


def test_dictator_linear_gives_nothing_below_kappa_one():
    u = (1 - kappa) / 2 * (E - x) + kappa / 2 * ((E - x) + x)
    sol = solve_argmax_symbolic(u, own=x, lo=0, hi=E, params=[E, kappa], domain={E: (1, 100), kappa: (0, 1)})
    assert sol is not None and sol.method == "linear-corner"
    for kv in (0, 0.3, 0.99):
        assert sol.evaluate({E: 10, kappa: kv}) == 0.0
        assert best_response(u, own=x, lo=0, hi=E, values={E: 10, kappa: kv}) == 0.0
    tie = sol.regimes[sol.regime_index({E: 10, kappa: 1})]
    assert tie.indifferent
    assert sympy.solve(tie.condition.lhs - tie.condition.rhs, kappa) == [1]


def test_dictator_log_gives_kappa_share():
    u = (1 - kappa) / 2 * sympy.log(E - x) + kappa / 2 * (sympy.log(E - x) + sympy.log(x))
    sol = solve_argmax_symbolic(u, own=x, lo=0, hi=E, params=[E, kappa], domain={E: (1, 100), kappa: (0, 1)})
    assert sol is not None and sol.method == "interior-foc"
    interior = [r for r in sol.regimes if r.action.has(kappa)]
    assert len(interior) == 1
    assert sympy.simplify(interior[0].action - kappa * E / (1 + kappa)) == 0
    for ev, kv in [(10, 0.5), (10, 1.0), (40, 0.2)]:
        closed = kv * ev / (1 + kv)
        assert sol.evaluate({E: ev, kappa: kv}) == pytest.approx(closed, rel=1e-12)
        assert best_response(u, own=x, lo=0, hi=E, values={E: ev, kappa: kv}) == pytest.approx(closed, abs=1e-7)


# --------------------------------------------------------------------------- properties

coef = st.fractions(min_value=-5, max_value=5, max_denominator=20)


@settings(max_examples=30, deadline=None)
@given(
    a1=coef,
    a2=st.fractions(min_value=Fraction(-5), max_value=Fraction(-1, 10), max_denominator=20),
    b_share=st.fractions(min_value=Fraction(-19, 10), max_value=Fraction(19, 10), max_denominator=20),
    c1=coef,
    d1=coef,
    lo=st.integers(-5, 2),
    width=st.integers(1, 8),
)
def test_concave_quadratics_symbolic_agrees_with_numeric(a1, a2, b_share, c1, d1, lo, width):
    # u = a1 x + a2 x^2 + b x y + c1 y + d1 y^2, concave in x; |b| < 2|a2| keeps the symmetric
    # first-order condition a1 + (2 a2 + b) x strictly decreasing (a unique equilibrium)
    b = b_share * -a2
    r = sympy.Rational
    u = (
        r(a1.numerator, a1.denominator) * x
        + r(a2.numerator, a2.denominator) * x**2
        + r(b.numerator, b.denominator) * x * y
        + r(c1.numerator, c1.denominator) * y
        + r(d1.numerator, d1.denominator) * y**2
    )
    hi = lo + width
    sol = solve_symmetric_symbolic(u, own=x, other=y, lo=lo, hi=hi)
    assert sol is not None
    symbolic = sol.evaluate({})
    root = float(-a1 / (2 * a2 + b))
    assert symbolic == pytest.approx(min(max(root, lo), hi), abs=1e-12)
    eqs = solve_symmetric_numeric(u, own=x, other=y, lo=lo, hi=hi, values={})
    assert len(eqs) == 1
    assert eqs[0].action == pytest.approx(symbolic, abs=1e-8)
    assert verify_symmetric(u, own=x, other=y, lo=lo, hi=hi, values={}, x_star=symbolic)


# --------------------------------------------------------------------------- failures


def test_no_verifiable_equilibrium_raises_no_convergence():
    # u = (x - y)^2 on [0, 1]: the best reply to y is the farther bound, so no symmetric
    # equilibrium exists
    with pytest.raises(NoConvergence) as info:
        solve_symmetric_numeric(
            (x - y) ** 2, own=x, other=y, lo=0, hi=1, values={}, grid=101, grid_points=501, tol=1e-10
        )
    message = str(info.value)
    assert "no symmetric equilibrium verified on [0, 1]" in message
    assert "101-point bracketing grid" in message and "501-point grid" in message
    assert "tolerance 1e-10" in message
    assert isinstance(info.value, ValueError)


def test_inputs_are_sympy_objects_not_strings():
    with pytest.raises(TypeError):
        solve_symmetric_symbolic(COURNOT, own=x, other=y, lo="0", hi=a)
    with pytest.raises(ValueError, match="no value given for kappa"):
        solve_symmetric_numeric(COURNOT, own=x, other=y, lo=0, hi=a, values={a: 10, c: 1})
