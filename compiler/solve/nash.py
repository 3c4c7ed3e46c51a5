"""Nash equilibria of a strategic form (:mod:`.strategic`): which algorithm applies, and the result
as solution models.

* Two players, no Kantian term in the utilities (or utilities linear in the own mixture): every
  equilibrium, mixed included, by vertex enumeration (:func:`.finite.solve_bimatrix`; for a
  degenerate game the extreme equilibria of every Nash subset).
* Two players with the strategy-level Kantian term: every equilibrium by support enumeration of
  the quadratic game (:func:`.quadratic.equilibria`), or only the symmetric ones
  (:func:`.quadratic.symmetric_equilibria`) where the two players are one population (plan games).
* Three or more players: every pure equilibrium by enumeration of the profiles; mixed equilibria are
  not enumerated, and the solution says so.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from fractions import Fraction

from prefc.compiler.ir import to_plain
from prefc.compiler.limits import MAX_PROFILES, GameTooLarge
from prefc.compiler.solution import Equilibrium
from prefc.compiler.solve import finite, quadratic
from prefc.compiler.solve.finite import MixedEquilibrium
from prefc.compiler.solve.strategic import StrategicForm

__all__ = ["STRATEGY_LEVEL", "NashResult", "equilibria", "to_models"]

STRATEGY_LEVEL = (
    "strategy-level: with mixed strategies, kantian(X) is the expectation of X when every "
    "player draws independently from the evaluator's own mixture (Alger & Weibull 2013)"
)


@dataclass
class NashResult:
    """Equilibria of a strategic form.

    Attributes:
        equilibria: Each as a mixed equilibrium over strategy indices (pure ones have unit vectors).
        notes: What was not enumerated (degenerate games, mixed equilibria of larger games).
        mixing: The Kantian mixing convention, where it applied.
        mixture_gains: For pure equilibria (by index) that a mixed deviation beats under the
            strategy-level Kantian term: what the best mixture gains.
    """

    equilibria: list[MixedEquilibrium]
    notes: list[str] = field(default_factory=list)
    mixing: str | None = None
    mixture_gains: dict[int, Fraction] = field(default_factory=dict)


def equilibria(form: StrategicForm, *, symmetric_only: bool = False) -> NashResult:
    """Every equilibrium of a strategic form that the algorithms above can list.

    Args:
        form: The strategic form at a point.
        symmetric_only: Report only equilibria in which both players play alike (plan games).
    """
    if form.n == 2:
        return _two_players(form, symmetric_only)
    return _pure_n(form)


def _two_players(form: StrategicForm, symmetric_only: bool) -> NashResult:
    notes: list[str] = []
    if not form.uses_kantian and not symmetric_only:
        return _bimatrix(form, symmetric_only)
    quad = form.quadratic() if form.uses_kantian else _linear_parts(form)
    pure = _pure_n(form)
    if symmetric_only:
        pure.equilibria = [e for e in pure.equilibria if e.strategies[0] == e.strategies[1]]
    if quad is None:
        pure.notes.append(
            "mixed strategies are not evaluated: the preference is not affine in its `kantian` "
            "terms, so the strategy-level Kantian utility of a mixture is not defined"
        )
        return pure
    M1, G1, M2, G2 = (_exact(m) for m in quad)
    if all(v == 0 for row in G1 + G2 for v in row) and not symmetric_only:
        return _bimatrix(form, symmetric_only)  # the Kantian weight is zero here: utilities are linear
    sol = quadratic.symmetric_equilibria(M1, G1) if symmetric_only else quadratic.equilibria(M1, G1, M2, G2)
    if sol.degenerate:
        notes.append(
            "degenerate game: some supports have a continuum of candidate mixtures; equilibria inside "
            "such a continuum are not listed"
        )
    gains = {}
    for idx, eq in enumerate(pure.equilibria):
        gain = max(
            _mixture_gain(eq.strategies[0], eq.strategies[1], M1, G1),
            _mixture_gain(eq.strategies[1], eq.strategies[0], M2, G2),
        )
        if gain > 0:
            gains[idx] = gain
    mixed = [e for e in sol.equilibria if not e.is_pure]
    if gains:
        notes.append(
            "some pure equilibria of the game in actions are not equilibria against mixed strategies "
            "(strategy-level Kantian term): see `mixture_gain`"
        )
    if symmetric_only and not pure.equilibria and not mixed:
        notes.append("no symmetric equilibrium was found")
    return NashResult(pure.equilibria + mixed, pure.notes + notes, STRATEGY_LEVEL if form.uses_kantian else None, gains)


def _linear_parts(form: StrategicForm):
    """``M1, G1, M2, G2`` of a two-player form without a Kantian term (G = 0)."""
    A, B = form.matrices()
    k1, k2 = len(A), len(A[0])
    M2 = [[B[i][j] for i in range(k1)] for j in range(k2)]
    return A, [[0] * k1 for _ in range(k1)], M2, [[0] * k2 for _ in range(k2)]


def _mixture_gain(x, y, M, G) -> Fraction:
    """What the best mixture gains over ``x`` against ``y`` under ``u(x, y) = x'My + x'Gx``."""
    c = [sum((M[a][b] * y[b] for b in range(len(y)) if y[b]), Fraction(0)) for a in range(len(x))]
    best, _ = quadratic.simplex_max(c, G)
    return best - quadratic.value(x, y, M, G)


def _bimatrix(form: StrategicForm, symmetric_only: bool) -> NashResult:
    notes: list[str] = []
    A, B = form.matrices()
    bim = finite.solve_bimatrix(_exact(A), _exact(B))
    eqs = list(bim.equilibria)
    if bim.degenerate:
        notes.append("degenerate game: equilibria form continua; the extreme equilibria of each are listed")
    if symmetric_only:
        eqs = [e for e in eqs if e.strategies[0] == e.strategies[1]]
    return NashResult(eqs, notes, STRATEGY_LEVEL if form.uses_kantian else None)


def _exact(matrix):
    """Exact entries; a float (a utility with exp, log or an irrational root) enters as the exact
    binary fraction it is, so the equilibria are exact for the game as rounded to doubles."""
    return [[Fraction(v) if isinstance(v, float) else v for v in row] for row in matrix]


def _pure_n(form: StrategicForm) -> NashResult:
    sizes = [len(s) for s in form.strategies]
    total = 1
    for s in sizes:
        total *= s
    if total > MAX_PROFILES:
        raise GameTooLarge(
            f"{' x '.join(map(str, sizes))} strategies give {total:,} profiles; pure equilibria "
            f"are enumerated up to {MAX_PROFILES:,}"
        )
    found = []
    for profile in itertools.product(*(range(s) for s in sizes)):
        if all(
            form.pure(i, profile) >= form.pure(i, profile[:i] + (d,) + profile[i + 1 :])
            for i in range(form.n)
            for d in range(sizes[i])
            if d != profile[i]
        ):
            strategies = tuple(tuple(Fraction(int(j == s)) for j in range(sizes[i])) for i, s in enumerate(profile))
            payoffs = tuple(
                Fraction(form.pure(i, profile))
                if not isinstance(form.pure(i, profile), float)
                else form.pure(i, profile)
                for i in range(form.n)
            )
            found.append(MixedEquilibrium(strategies, payoffs))  # type: ignore[arg-type]
    notes = (
        []
        if form.n == 2
        else [f"mixed equilibria of a {form.n}-player game are not enumerated; every pure equilibrium is listed"]
    )
    return NashResult(found, notes)


def to_models(form: StrategicForm, result: NashResult) -> list[Equilibrium]:
    """The equilibria as solution models: paths for pure ones, probabilities for mixed ones.

    Args:
        form: The strategic form.
        result: Its equilibria.
    """
    out = []
    for idx, eq in enumerate(result.equilibria):
        prof = eq.pure_profile()
        gain = result.mixture_gains.get(idx)
        if form.plan_game:
            out.append(_plan_model(form, eq, prof, gain))
            continue
        utilities = {name: to_plain(v) for name, v in zip(form.names, eq.payoffs, strict=False)}
        if prof is not None:
            path = {
                name: dict(form.strategies[i][s].shown[name])
                for i, (name, s) in enumerate(zip(form.names, prof, strict=False))
            }
            sym = form.symmetric and len({form.strategies[i][s].text for i, s in enumerate(prof)}) == 1
            out.append(
                Equilibrium(
                    path=path,
                    utilities=utilities,
                    symmetric=sym,
                    mixture_gain=float(gain) if gain is not None else None,
                )
            )
        else:
            probs = {name: _mixture(form, i, eq.strategies[i]) for i, name in enumerate(form.names)}
            sym = form.symmetric and eq.strategies[0] == eq.strategies[1]
            out.append(Equilibrium(probabilities=probs, utilities=utilities, symmetric=sym))
    return out


def _mixture(form: StrategicForm, i: int, probs) -> dict[str, dict[str, float]]:
    """``{action: {option: probability}}``; a strategy of several actions is shown as one option."""
    name = form.names[i]
    strategies = form.strategies[i]
    actions = list(strategies[0].shown[name])
    if len(actions) == 1:
        a = actions[0]
        return {a: {str(s.shown[name][a]): float(p) for s, p in zip(strategies, probs, strict=False)}}
    return {"strategy": {s.text: float(p) for s, p in zip(strategies, probs, strict=False)}}


def _plan_model(form: StrategicForm, eq: MixedEquilibrium, prof, gain: Fraction | None) -> Equilibrium:
    if prof is not None:
        plan = form.strategies[0][prof[0]]
        path = {role: dict(acts) for role, acts in plan.shown.items()}
        strategy = {"plan": {f"{role}.{a}": v for role, acts in plan.shown.items() for a, v in acts.items()}}
        return Equilibrium(
            path=path,
            strategy=strategy,
            utilities={"ex-ante": to_plain(eq.payoffs[0])},
            symmetric=True,
            mixture_gain=float(gain) if gain is not None else None,
        )
    probs = {"plan": {"plan": {s.text: float(p) for s, p in zip(form.strategies[0], eq.strategies[0], strict=False)}}}
    return Equilibrium(probabilities=probs, utilities={"ex-ante": to_plain(eq.payoffs[0])}, symmetric=True)
