# Over 600 lines: every certificate in one place, apart from the solvers whose answers it checks.
"""Certificates: every reported equilibrium checked by a method independent of the one that found it.

The checks rebuild each player's utility from the game's IR and the reported play itself (the
action *values* in the solution, mapped back to options here), never from the solver's tables:

* **finite simultaneous games** (:func:`simultaneous_finite`): no player gains by deviating, in
  exact arithmetic. Pure deviations suffice where the utility is linear in the own mixture; under
  the strategy-level Kantian term it is quadratic, and a mixed equilibrium's check maximises over
  every mixture (exactly, :func:`.quadratic.simplex_max`; for groups of three or more, the
  univariate deviation polynomial on ``[0, 1]`` to 30 digits). A pure equilibrium marked with a
  ``mixture_gain`` has that gain recomputed.
* **continuous actions** (:func:`symmetric_continuous`, :func:`argmax_continuous`,
  :func:`profile_continuous`): no deviation on a grid that includes both bounds (refined locally
  around its best point) gains more than the tolerance, and the first-order and boundary
  conditions hold at the reported action.
* **sequential games** (:func:`sequential`): at every subgame of a finite game, and at a grid of
  histories of a continuous one, the mover's prescribed choice is a best reply given the
  prescribed continuation (the one-shot deviation principle, which is subgame perfection in
  finite games).

A failed check raises :class:`CertificateError` with the equilibrium, the player, the deviation and
its gain; it is never written as a solution.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Sequence
from fractions import Fraction
from typing import TYPE_CHECKING, Any

import sympy as sp

from prefc.compiler.ir import ActionIR, BoundPreference, GameIR
from prefc.compiler.lazy import lazy_module
from prefc.compiler.limits import MAX_OPTIONS
from prefc.compiler.solution import Equilibrium, Verification
from prefc.compiler.solve import quadratic
from prefc.compiler.solve.derive import exact_value
from prefc.compiler.solve.strategic import CompiledForm, checked_value, memo
from prefc.compiler.solve.utility import (
    count_split,
    count_utility,
    named_split,
    named_utility,
    plan_split,
    plan_utility,
    symmetric_utility,
)

if TYPE_CHECKING:
    import numpy as np
else:
    np = lazy_module("numpy", globals(), "np")

__all__ = [
    "CONTINUOUS_GRID",
    "CertificateError",
    "argmax_continuous",
    "profile_continuous",
    "sequential",
    "simultaneous_finite",
    "symmetric_continuous",
]

CONTINUOUS_GRID = 2001
"""Deviations per continuous action in a certificate (both bounds included)."""

CONTINUOUS_TOL = 1e-7
"""Relative gain a numeric certificate tolerates (``gain <= tol * max(1, |u|)``)."""


class CertificateError(ValueError):
    """A reported equilibrium failed its independent check."""


def _rat(v: Any) -> sp.Expr:
    if isinstance(v, Fraction):
        return sp.Rational(v.numerator, v.denominator)
    if isinstance(v, int):
        return sp.Integer(v)
    if isinstance(v, float):
        return sp.Rational(Fraction(v).numerator, Fraction(v).denominator)
    return v


def _params(game: GameIR, point: dict[str, Fraction]) -> dict[str, sp.Expr]:
    return {n: _rat(point[n]) for n in game.params}


def _subs(game: GameIR, point: dict[str, Fraction]) -> dict[sp.Symbol, sp.Expr]:
    return {p.symbol: _rat(point[n]) for n, p in game.params.items()}


def _value(v: sp.Expr, where: str) -> Fraction | float:
    return exact_value(v, where)


def _frac(v: Any) -> Any:
    if isinstance(v, sp.Rational):
        return Fraction(int(v.p), int(v.q))
    return v


def _code(action: ActionIR, shown: Any, options: Sequence[sp.Expr]) -> sp.Expr:
    """The option of an action that a solution shows as ``shown`` (a label, or a number)."""
    if action.kind == "labels":
        if shown not in action.labels:
            raise CertificateError(f"`{shown}` is not an option of `{action.key}`")
        return sp.Integer(action.labels.index(shown))
    for o in options:
        if float(o) == float(shown) or math.isclose(float(o), float(shown), rel_tol=1e-12, abs_tol=1e-12):
            return o
    raise CertificateError(f"{shown} is not an option of `{action.key}` at this point")


# ----------------------------------------------------------------------------- finite simultaneous


class _Players:
    """The players of a finite simultaneous game and their pure strategies, built from the IR."""

    def __init__(self, game: GameIR, pref: BoundPreference, point: dict[str, Fraction]):
        self.game, self.pref, self.point = game, pref, point
        self.params = _params(game, point)
        subs = _subs(game, point)
        self.plan = pref.uses_kantian and game.group is None and game.kantian_mode == "roles"
        owners = [game.group] if game.group is not None else list(game.roles)
        self.acts = {o: [a for a in game.actions if a.owner == o] for o in owners}
        self.options = {a.key: a.options(subs, limit=MAX_OPTIONS) for a in game.actions}
        # a strategy of an owner: action name -> code
        self.strategies = {
            o: [
                dict(zip([a.name for a in acts], combo, strict=False))
                for combo in itertools.product(*(self.options[a.key] for a in acts))
            ]
            for o, acts in self.acts.items()
        }
        if game.group is not None:
            size = game.group_size.xreplace(subs)  # type: ignore[union-attr]
            self.n = int(size)
        self._param_env = {p.symbol: point[n] for n, p in game.params.items()}
        self._param_env.update(pref.env)

    def strategy_of(self, owner: str, shown: dict[str, Any]) -> int:
        """The index of the owner's strategy a solution shows as ``{action: value}``."""
        codes = {a.name: _code(a, shown[a.name], self.options[a.key]) for a in self.acts[owner]}
        return self.strategies[owner].index(codes)

    # utilities: lowered with symbols (so zero-weight terms vanish as in the game's definition), the
    # reported values put in by substitution ------------------------------------------------------
    def _symbols(self, prefix: str, owner: str) -> dict[str, sp.Symbol]:
        return {a.name: sp.Symbol(f"{prefix}{owner}.{a.name}", real=True) for a in self.acts.get(owner, [])}

    def _table(self, prefix: str) -> dict[str, dict[str, sp.Symbol]]:
        return {r: self._symbols(prefix, r) for r in self.game.roles}

    def _bind(self, table: dict[str, dict[str, sp.Symbol]], profile: dict[str, int]) -> dict[sp.Symbol, sp.Expr]:
        return {table[r][a]: v for r, s in profile.items() for a, v in self.strategies[r][s].items()}

    def _expr(self, key: tuple, build: Callable[[], Any]) -> Any:
        """A symbolic utility (parameters as symbols), built once per game and preference."""
        return memo(self.game, ("certify", self.pref.key, *key), build)

    def _eval(self, expr: Any, env: dict[sp.Symbol, sp.Expr], where: str) -> Fraction | float:
        compiled = memo(self.game, ("certify-compiled", id(expr)), lambda: CompiledForm(expr))
        full = {**self._param_env, **{k: _frac(v) for k, v in env.items()}}
        return checked_value(compiled(full), lambda: where)

    def named(self, role: str, profile: dict[str, int]) -> Fraction | float:
        actual = self._table("a:")
        expr = self._expr(
            ("named-expr", role), lambda: named_utility(self.game, self.pref.template, role=role, actual=actual)
        )
        return self._eval(expr, self._bind(actual, profile), f"`{role}`")

    def named_parts(self, role: str, profile: dict[str, int], universal: dict[str, int]):
        actual, uni = self._table("a:"), self._table("u:")
        split = self._expr(
            ("named-split", role),
            lambda: named_split(self.game, self.pref.template, role=role, actual=actual, universal=uni, actions=set()),
        )
        if split is None:
            raise CertificateError("the preference does not split into actual and Kantian parts")
        return (
            self._eval(split.actual, self._bind(actual, profile), f"`{role}`"),
            self._eval(split.universal, self._bind(uni, universal), f"`{role}`"),
        )

    def plans(self) -> list[dict[str, int]]:
        return [
            dict(zip(self.game.roles, combo, strict=False))
            for combo in itertools.product(*(range(len(self.strategies[r])) for r in self.game.roles))
        ]

    def plan_value(self, p: dict[str, int], q: dict[str, int]) -> Fraction | float:
        P, Q = self._table("p:"), self._table("q:")
        expr = self._expr(("plan-expr",), lambda: plan_utility(self.game, self.pref.template, plan=P, opponent=Q))
        return self._eval(expr, {**self._bind(P, p), **self._bind(Q, q)}, "a plan")

    def plan_parts(self, p, q, up, uq):
        P, Q, UP, UQ = self._table("p:"), self._table("q:"), self._table("up:"), self._table("uq:")
        split = self._expr(
            ("plan-split",),
            lambda: plan_split(self.game, self.pref.template, plan=P, opponent=Q, universal=(UP, UQ), actions=set()),
        )
        if split is None:
            raise CertificateError("the preference does not split into actual and Kantian parts")
        return (
            self._eval(split.actual, {**self._bind(P, p), **self._bind(Q, q)}, "a plan"),
            self._eval(split.universal, {**self._bind(UP, up), **self._bind(UQ, uq)}, "a plan"),
        )

    def _kinds(self, prefix: str, others: tuple[int, ...]):
        g = self.game.group
        return [
            ({a.name: sp.Symbol(f"{prefix}{b}.{a.name}", real=True) for a in self.acts[g]}, c)  # type: ignore[index]
            for b, c in enumerate(others)
            if c
        ]

    def _bind_kinds(self, prefix: str, others: tuple[int, ...]) -> dict[sp.Symbol, sp.Expr]:
        g = self.game.group
        strategies = self.strategies[g]  # type: ignore[index]
        return {
            sp.Symbol(f"{prefix}{b}.{a}", real=True): v
            for b, c in enumerate(others)
            if c
            for a, v in strategies[b].items()
        }

    def member(self, own: int, others: tuple[int, ...]) -> Fraction | float:
        """A group member's utility with ``others[b]`` of the others on strategy b."""
        g = self.game.group
        strategies = self.strategies[g]  # type: ignore[index]
        mine = {a.name: sp.Symbol(f"own.{a.name}", real=True) for a in self.acts[g]}  # type: ignore[index]
        expr = self._expr(
            ("member-expr", others),
            lambda: count_utility(
                self.game,
                self.pref.template,
                own=mine,
                others=self._kinds("k", others),
                params=None,
                universal=(mine, [(mine, sum(others))]),
            ),
        )
        env = {**{mine[a]: v for a, v in strategies[own].items()}, **self._bind_kinds("k", others)}
        return self._eval(expr, env, f"a member of `{g}`")

    def member_parts(self, own: int, others: tuple[int, ...]):
        g = self.game.group
        strategies = self.strategies[g]  # type: ignore[index]
        mine = {a.name: sp.Symbol(f"own.{a.name}", real=True) for a in self.acts[g]}  # type: ignore[index]
        umine = {a.name: sp.Symbol(f"uown.{a.name}", real=True) for a in self.acts[g]}  # type: ignore[index]
        split = self._expr(
            ("member-split", others),
            lambda: count_split(
                self.game,
                self.pref.template,
                own=mine,
                others=self._kinds("k", others),
                universal=(umine, self._kinds("uk", others)),
                params=None,
                actions=set(),
            ),
        )
        if split is None:
            raise CertificateError("the preference does not split into actual and Kantian parts")
        env = {
            **{mine[a]: v for a, v in strategies[own].items()},
            **self._bind_kinds("k", others),
            **{umine[a]: v for a, v in strategies[own].items()},
            **self._bind_kinds("uk", others),
        }
        return (self._eval(split.actual, env, "a member"), self._eval(split.universal, env, "a member (universalised)"))


def _mixture_of(players: _Players, owner: str, eq: Equilibrium, player: str) -> list[Fraction]:
    """A player's mixture over its owner's strategies, from the solution's path or probabilities."""
    k = len(players.strategies[owner])
    if eq.probabilities is None:
        x = [Fraction(0)] * k
        x[players.strategy_of(owner, eq.path[player])] = Fraction(1)
        return x
    mix = eq.probabilities[player]
    x = [Fraction(0)] * k
    if "strategy" in mix and len(players.acts[owner]) > 1:
        raise CertificateError("mixtures over strategies of several actions are checked as pure profiles only")
    ((action, probs),) = mix.items()
    act = next(a for a in players.acts[owner] if a.name == action)
    for shown, prob in probs.items():
        value: Any = shown
        if act.kind != "labels":
            value = float(shown)
        code = _code(act, value, players.options[act.key])
        x[players.strategies[owner].index({action: code})] = Fraction(prob).limit_denominator(10**12)
    total = sum(x)
    if abs(float(total) - 1) > 1e-9:
        raise CertificateError(f"the mixture of `{player}` adds up to {float(total)}, not 1")
    return [v / total for v in x]


def simultaneous_finite(
    game: GameIR,
    pref: BoundPreference,
    point: dict[str, Fraction],
    equilibria: list[Equilibrium],
    *,
    strategy_level: bool,
) -> Verification:
    """Check every equilibrium of a one-stage finite game.

    Args:
        game: The game.
        pref: The preference.
        point: The parameter point.
        equilibria: What the solver reported.
        strategy_level: Mixed strategies are evaluated at the strategy level (Kantian preference).

    Raises:
        CertificateError: naming the equilibrium, the player and the profitable deviation.
    """
    players = _Players(game, pref, point)
    checked, worst = 0, -math.inf
    exact = True
    for idx, eq in enumerate(equilibria):
        if players.plan:
            n, gain = _check_plan(players, eq, strategy_level)
        elif game.group is not None:
            n, gain = _check_group(players, eq, strategy_level)
        else:
            n, gain = _check_named(players, eq, strategy_level)
        checked += n
        worst = max(worst, float(gain))
        exact = exact and not isinstance(gain, float)
        slack = _slack(gain)
        if eq.probabilities is not None and 0 < gain <= _MIXTURE_SLACK:
            # the mixture is read back from the solution's floats (12 significant digits kept):
            # a gain below what they resolve is theirs, not the equilibrium's
            slack, exact = _MIXTURE_SLACK, False
        if gain > slack:
            raise CertificateError(f"equilibrium {idx} is not one: a deviation gains {float(gain):.6g}")
    method = (
        "no profitable deviation, exact: every pure deviation"
        + (
            "; mixed equilibria against every mixture (strategy-level Kantian term, exact maximisation over "
            "the simplex)"
            if strategy_level
            else ""
        )
        + "; utilities rebuilt from the reported play"
    )
    return Verification(
        method=method,
        deviations=checked,
        max_gain=max(worst, 0.0) if checked else 0.0,
        tolerance=0.0 if exact else 1e-12,
    )


_MIXTURE_SLACK = 1e-12
"""The gain a mixed equilibrium may show when its probabilities, written as floats, are read back."""


def _slack(gain: Fraction | float) -> float:
    return 0.0 if isinstance(gain, Fraction) else 1e-12


def _expected(
    players: _Players, x: list[list[Fraction]], utility: Callable[[tuple[int, ...]], Fraction | float], i: int, own: int
) -> Fraction | float:
    """Expected utility of player i's pure strategy ``own`` against the others' mixtures."""
    total: Fraction | float = Fraction(0)
    supports = [[(s, p) for s, p in enumerate(mix) if p] for mix in x]
    supports[i] = [(own, Fraction(1))]
    for combo in itertools.product(*supports):
        prob = Fraction(1)
        for _, p in combo:
            prob *= p
        total += prob * utility(tuple(s for s, _ in combo))
    return total


def _check_named(players: _Players, eq: Equilibrium, strategy_level: bool) -> tuple[int, Fraction | float]:
    game = players.game
    roles = list(game.roles)
    x = [_mixture_of(players, r, eq, r) for r in roles]
    count = 0
    worst: Fraction | float = -math.inf

    def utility(i: int) -> Callable[[tuple[int, ...]], Fraction | float]:
        return lambda prof: players.named(roles[i], dict(zip(roles, prof, strict=False)))

    mixed = eq.probabilities is not None
    if strategy_level and (mixed or eq.mixture_gain is not None) and len(roles) == 2:
        gains = []
        for i in range(2):
            j = 1 - i
            M = [
                [
                    players.named_parts(roles[i], {roles[i]: a, roles[j]: b}, {roles[i]: 0, roles[j]: 0})[0]
                    for b in range(len(x[j]))
                ]
                for a in range(len(x[i]))
            ]
            G = [
                [
                    players.named_parts(roles[i], {roles[i]: 0, roles[j]: 0}, {roles[i]: a, roles[j]: b})[1]
                    for b in range(len(x[i]))
                ]
                for a in range(len(x[i]))
            ]
            gains.append(_quadratic_gain(x[i], x[j], M, G))
            count += 2 ** len(x[i]) - 1
        if mixed:
            return count, max(gains)
        best = max(gains)
        if abs(float(best) - (eq.mixture_gain or 0.0)) > 1e-9 * max(1.0, abs(eq.mixture_gain or 0.0)):
            raise CertificateError(f"the reported mixture gain {eq.mixture_gain} is {float(best)}")
    for i in range(len(roles)):
        mine = sum((p * _expected(players, x, utility(i), i, s) for s, p in enumerate(x[i]) if p), Fraction(0))
        for d in range(len(x[i])):
            gain = _expected(players, x, utility(i), i, d) - mine
            count += 1
            if gain > _slack(gain):
                raise CertificateError(
                    f"`{roles[i]}` gains {float(gain):.6g} by deviating to {_strategy_text(players, roles[i], d)}"
                )
            worst = max(worst, gain)
    return count, worst


def _strategy_text(players: _Players, owner: str, s: int) -> str:
    strategy = players.strategies[owner][s]
    acts = {a.name: a for a in players.acts[owner]}
    parts = [
        f"{name} = {acts[name].labels[int(v)] if acts[name].kind == 'labels' else v}" for name, v in strategy.items()
    ]
    return ", ".join(parts)


def _quadratic_gain(x, y, M, G) -> Fraction | float:
    Mq = [[Fraction(v) for v in row] for row in M]
    Gq = [[Fraction(v) for v in row] for row in G]
    c = [sum((Mq[a][b] * y[b] for b in range(len(y)) if y[b]), Fraction(0)) for a in range(len(x))]
    best, _ = quadratic.simplex_max(c, Gq)
    return best - quadratic.value(x, y, Mq, Gq)


def _check_plan(players: _Players, eq: Equilibrium, strategy_level: bool) -> tuple[int, Fraction | float]:
    game = players.game
    plans = players.plans()
    if eq.probabilities is None:
        shown = {r: eq.path[r] for r in game.roles}
        mine = {r: players.strategy_of(r, shown[r]) for r in game.roles}
        x = [Fraction(int(p == mine)) for p in plans]
    else:
        mix = eq.probabilities["plan"]["plan"]
        texts = [_plan_text(players, p) for p in plans]
        x = [Fraction(mix.get(t, 0.0)).limit_denominator(10**12) for t in texts]
    if strategy_level and (eq.probabilities is not None or eq.mixture_gain is not None):
        zero = plans[0]
        M = [[players.plan_parts(p, q, zero, zero)[0] for q in plans] for p in plans]
        G = [[players.plan_parts(zero, zero, p, q)[1] for q in plans] for p in plans]
        gain = _quadratic_gain(x, x, M, G)
        if eq.probabilities is not None:
            return 2 ** len(plans) - 1, gain
        if abs(float(gain) - (eq.mixture_gain or 0.0)) > 1e-9 * max(1.0, abs(eq.mixture_gain or 0.0)):
            raise CertificateError(f"the reported mixture gain {eq.mixture_gain} of the plan is {float(gain)}")
    mine_v = sum(
        (
            x[a] * x[b] * players.plan_value(plans[a], plans[b])
            for a in range(len(plans))
            if x[a]
            for b in range(len(plans))
            if x[b]
        ),
        Fraction(0),
    )
    worst: Fraction | float = -math.inf
    for _d, p in enumerate(plans):
        dev = sum((x[b] * players.plan_value(p, plans[b]) for b in range(len(plans)) if x[b]), Fraction(0))
        gain = dev - mine_v
        if gain > _slack(gain):
            raise CertificateError(f"the plan {_plan_text(players, p)} gains {float(gain):.6g}")
        worst = max(worst, gain)
    return len(plans), worst


def _plan_text(players: _Players, plan: dict[str, int]) -> str:
    parts = []
    for r in players.game.roles:
        strategy = players.strategies[r][plan[r]]
        acts = {a.name: a for a in players.acts[r]}
        shown = [acts[n].labels[int(v)] if acts[n].kind == "labels" else _plain_number(v) for n, v in strategy.items()]
        text = (
            str(shown[0])
            if len(shown) == 1
            else "(" + ", ".join(f"{n} = {s}" for n, s in zip(strategy, shown, strict=False)) + ")"
        )
        parts.append(f"{r}: {text}")
    return "(" + ", ".join(parts) + ")"


def _plain_number(v: sp.Expr) -> int | float:
    return int(v) if v.is_Integer else float(v)


def _check_group(players: _Players, eq: Equilibrium, strategy_level: bool) -> tuple[int, Fraction | float]:
    g = players.game.group
    assert g is not None
    k = len(players.strategies[g])
    n = players.n
    if eq.probabilities is None:
        counts = [0] * k
        for _member, shown in eq.path.items():
            counts[players.strategy_of(g, shown)] += 1
        if sum(counts) != n:
            raise CertificateError(f"the equilibrium lists {sum(counts)} members of a group of {n}")
        checked = 0
        worst: Fraction | float = -math.inf
        for a, c in enumerate(counts):
            if not c:
                continue
            others = tuple(x - (1 if b == a else 0) for b, x in enumerate(counts))
            mine = players.member(a, others)
            for d in range(k):
                gain = players.member(d, others) - mine
                checked += 1
                if gain > _slack(gain):
                    raise CertificateError(
                        f"a member playing {_strategy_text(players, g, a)} gains "
                        f"{float(gain):.6g} by switching to {_strategy_text(players, g, d)}"
                    )
                worst = max(worst, gain)
        return checked, worst
    x = _mixture_of(players, g, eq, next(iter(eq.probabilities)))
    if n == 2:
        return _check_group_pair(players, x, strategy_level)
    if k != 2:
        raise CertificateError("symmetric mixed equilibria of larger groups are checked for two options")
    p = float(x[0])
    m = n - 1

    def binom(j: int, prob: float) -> float:
        return math.comb(m, j) * prob**j * (1 - prob) ** (m - j)

    if not strategy_level:
        utils = [sum(binom(j, p) * float(players.member(a, (j, m - j))) for j in range(m + 1)) for a in range(2)]
        mine = p * utils[0] + (1 - p) * utils[1]
        gain = max(utils) - mine
        if gain > 1e-9 * max(1.0, abs(mine)):
            raise CertificateError(f"a pure deviation gains {gain:.3g} against the mixture p = {p}")
        return 2, gain
    A = [[float(players.member_parts(a, (j, m - j))[0]) for j in range(m + 1)] for a in range(2)]
    K = [[float(players.member_parts(a, (j, m - j))[1]) for j in range(m + 1)] for a in range(2)]
    E = [sum(binom(j, p) * A[a][j] for j in range(m + 1)) for a in range(2)]

    def u(q: np.ndarray) -> np.ndarray:
        kq = [sum(math.comb(m, j) * q**j * (1 - q) ** (m - j) * K[a][j] for j in range(m + 1)) for a in range(2)]
        return q * E[0] + (1 - q) * E[1] + q * kq[0] + (1 - q) * kq[1]

    grid = np.linspace(0.0, 1.0, CONTINUOUS_GRID)
    vals = u(grid)
    mine = float(u(np.asarray(p)))
    gain = float(np.max(vals)) - mine
    if gain > CONTINUOUS_TOL * max(1.0, abs(mine)):
        raise CertificateError(
            f"the mixture q = {grid[int(np.argmax(vals))]:.6g} gains {gain:.3g} against the "
            f"symmetric mixture p = {p:.6g}"
        )
    return CONTINUOUS_GRID, gain


def _check_group_pair(players: _Players, x: list[Fraction], strategy_level: bool) -> tuple[int, Fraction | float]:
    k = len(x)

    def unit(b: int) -> tuple[int, ...]:
        return tuple(int(i == b) for i in range(k))

    if strategy_level:
        M = [[players.member_parts(a, unit(b))[0] for b in range(k)] for a in range(k)]
        G = [[_universal_pair(players, a, b) for b in range(k)] for a in range(k)]
        return 2**k - 1, _quadratic_gain(x, x, M, G)
    utils = [sum((x[b] * players.member(a, unit(b)) for b in range(k) if x[b]), Fraction(0)) for a in range(k)]
    mine = sum((x[a] * utils[a] for a in range(k) if x[a]), Fraction(0))
    return k, max(utils) - mine


def _universal_pair(players: _Players, a: int, b: int) -> Fraction | float:
    """The Kantian part of a two-member group with the universalised draws (a, b)."""
    g = players.game.group
    strategies = players.strategies[g]  # type: ignore[index]
    acts = players.acts[g]  # type: ignore[index]
    own = {x.name: sp.Symbol(f"own.{x.name}", real=True) for x in acts}
    other = {x.name: sp.Symbol(f"other.{x.name}", real=True) for x in acts}
    uown = {x.name: sp.Symbol(f"uown.{x.name}", real=True) for x in acts}
    uother = {x.name: sp.Symbol(f"uother.{x.name}", real=True) for x in acts}
    split = players._expr(
        ("pair-split",),
        lambda: count_split(
            players.game,
            players.pref.template,
            own=own,
            others=[(other, 1)],
            universal=(uown, [(uother, 1)]),
            params=None,
            actions=set(),
        ),
    )
    if split is None:
        raise CertificateError("the preference does not split into actual and Kantian parts")
    env = {**{uown[n]: v for n, v in strategies[a].items()}, **{uother[n]: v for n, v in strategies[b].items()}}
    return players._eval(split.universal, env, "a member (universalised)")


# ----------------------------------------------------------------------------- continuous


def _grid_gain(
    f: Callable[[np.ndarray], np.ndarray], lo: float, hi: float, x_star: float, points: int = CONTINUOUS_GRID
) -> tuple[float, float, float]:
    """(utility at x*, best utility on the grid and around its best point, where)."""
    from scipy import optimize

    with np.errstate(all="ignore"):
        base = float(f(np.asarray(x_star, dtype=float)))
        grid = np.linspace(lo, hi, max(points, 2))
        vals = np.broadcast_to(np.asarray(f(grid), dtype=float), grid.shape)
    vals = np.where(np.isnan(vals), -np.inf, vals)
    i = int(np.argmax(vals))
    best, where = float(vals[i]), float(grid[i])
    if hi > lo and math.isfinite(best):
        a, b = grid[max(i - 1, 0)], grid[min(i + 1, len(grid) - 1)]
        if b > a:
            with np.errstate(all="ignore"):
                res = optimize.minimize_scalar(
                    lambda z: -float(f(np.asarray(z))),
                    bounds=(a, b),
                    method="bounded",
                    options={"xatol": 1e-13 * max(1.0, hi - lo)},
                )
            if res.success and math.isfinite(res.fun) and -res.fun > best:
                best, where = -float(res.fun), float(res.x)
    return base, best, where


def _condition_gain(df: Callable[[float], float], x_star: float, lo: float, hi: float, scale: float) -> float:
    """How far the first-order / boundary condition is violated at x*, in utility per unit of action."""
    with np.errstate(all="ignore"):
        d = float(df(x_star))
    if not math.isfinite(d):
        return 0.0  # a kink or an infinite slope at a bound: the grid check decides
    span = max(hi - lo, 1e-12)
    tol = 1e-6 * max(1.0, scale) / span
    if x_star <= lo + 1e-9 * max(1.0, span):
        return max(d - tol, 0.0)  # at the lower bound the utility must not increase
    if x_star >= hi - 1e-9 * max(1.0, span):
        return max(-d - tol, 0.0)  # at the upper bound it must not decrease
    return max(abs(d) - tol, 0.0)  # inside, the marginal utility vanishes


def _check_one(f, df, lo: float, hi: float, x_star: float, who: str) -> tuple[int, float]:
    span = max(1.0, abs(hi - lo))
    if not (lo - 1e-9 * span <= x_star <= hi + 1e-9 * span):
        raise CertificateError(f"{who} plays {x_star:.6g}, outside its bounds [{lo:.6g}, {hi:.6g}]")
    x_star = min(max(x_star, lo), hi)
    base, best, where = _grid_gain(f, lo, hi, x_star)
    if not math.isfinite(base):
        raise CertificateError(f"the utility of {who} at {x_star:.6g} is not a finite real number")
    gain = best - base
    if gain > CONTINUOUS_TOL * max(1.0, abs(base)):
        raise CertificateError(f"{who} gains {gain:.3g} by deviating from {x_star:.6g} to {where:.6g}")
    if df is not None:
        violation = _condition_gain(df, x_star, lo, hi, abs(base))
        if violation > 0 and gain > -1e-9 * max(1.0, abs(base)):
            # the grid found nothing better, but the slope says a nearby point is: refine there
            step = 1e-4 * span
            near = np.clip(np.array([x_star - step, x_star + step]), lo, hi)
            with np.errstate(all="ignore"):
                better = float(np.max(f(near))) - base
            if better > CONTINUOUS_TOL * max(1.0, abs(base)):
                raise CertificateError(
                    f"{who} at {x_star:.6g}: the first-order condition fails (a deviation gains {better:.3g})"
                )
    return CONTINUOUS_GRID, max(gain, 0.0)


def _lambdify(expr: sp.Expr, sym: sp.Symbol) -> Callable:
    return sp.lambdify(sym, expr, modules=["numpy"])


def symmetric_continuous(
    game: GameIR, pref: BoundPreference, point: dict[str, Fraction], equilibria: list[Equilibrium]
) -> Verification:
    """Check symmetric equilibria of a symmetric game with one continuous action.

    Args:
        game: The game.
        pref: The preference.
        point: The parameter point.
        equilibria: What the solver reported (every player at the same value).

    Raises:
        CertificateError: for a profitable deviation or a failed first-order condition.
    """
    action = game.actions[0]
    subs = _subs(game, point)
    lo, hi = float(action.lo.xreplace(subs)), float(action.hi.xreplace(subs))  # type: ignore[union-attr]
    x, y = sp.Symbol("x_dev", real=True), sp.Symbol("y_rest", real=True)
    args = [x, y, *(p.symbol for p in game.params.values()), *pref.symbols.values()]

    def build():
        u = symmetric_utility(game, pref.template, own={action.name: x}, rest={action.name: y})
        try:
            du = sp.lambdify(args, sp.diff(u, x), modules="numpy")
        except (TypeError, ValueError):
            du = None
        return sp.lambdify(args, u, modules="numpy"), du

    U, dU = memo(game, ("certify-symmetric-continuous", pref.key), build)
    rest = [float(point[n]) for n in game.params] + [float(pref.env.get(sym, 0)) for sym in pref.symbols.values()]
    checked, worst = 0, 0.0
    for eq in equilibria:
        values = {v[action.name] for v in eq.path.values()}
        if len(values) != 1:
            raise CertificateError("a symmetric equilibrium whose players play differently")
        v = float(next(iter(values)))

        def f(z, v=v):
            return U(z, v, *rest)

        df = (lambda z, v=v: dU(z, v, *rest)) if dU is not None else None
        n, gain = _check_one(f, df, lo, hi, v, f"a player of `{game.name}`")
        checked += n
        worst = max(worst, gain)
    return Verification(
        method=f"no profitable deviation on a grid of {CONTINUOUS_GRID} points over the bounds "
        "(both included, refined around the best point), and the first-order or boundary "
        "condition at the reported action; utilities rebuilt from the reported play",
        deviations=checked,
        max_gain=worst,
        tolerance=CONTINUOUS_TOL,
    )


def profile_continuous(
    game: GameIR, pref: BoundPreference, point: dict[str, Fraction], equilibria: list[Equilibrium]
) -> Verification:
    """Check equilibria of a simultaneous game of distinct roles with continuous actions: no role
    gains by moving its own action over a grid, the others fixed.

    Args:
        game: The game.
        pref: The preference.
        point: The parameter point.
        equilibria: What the solver reported.

    Raises:
        CertificateError: for a profitable deviation.
    """
    subs = _subs(game, point)
    params = _params(game, point)
    checked, worst = 0, 0.0
    for eq in equilibria:
        actual = {r: {a: _rat(v) for a, v in acts.items()} for r, acts in eq.path.items()}
        for action in game.actions:
            z = sp.Symbol("z_dev", real=True)
            trial = {r: dict(acts) for r, acts in actual.items()}
            trial[action.owner][action.name] = z
            u = named_utility(game, pref.lowerer, role=action.owner, actual=trial, params=params)
            lo, hi = float(action.lo.xreplace(subs)), float(action.hi.xreplace(subs))  # type: ignore[union-attr]
            f = _lambdify(u, z)
            try:
                df = _lambdify(sp.diff(u, z), z)
            except (TypeError, ValueError):
                df = None
            n, gain = _check_one(f, df, lo, hi, float(actual[action.owner][action.name]), f"`{action.owner}`")
            checked += n
            worst = max(worst, gain)
    return Verification(
        method=f"no profitable unilateral deviation of any action on a grid of {CONTINUOUS_GRID} "
        "points over its bounds (both included), and the first-order or boundary condition",
        deviations=checked,
        max_gain=worst,
        tolerance=CONTINUOUS_TOL,
    )


def argmax_continuous(
    f: Callable, df: Callable | None, lo: float, hi: float, x_star: float, who: str
) -> tuple[int, float]:
    """Check a continuous optimum ``x*`` of ``f`` on ``[lo, hi]`` (grid, bounds, first-order condition).

    Args:
        f: The utility (numpy-vectorised).
        df: Its derivative, or None.
        lo: Lower bound.
        hi: Upper bound.
        x_star: The reported optimum.
        who: The decider, for messages.

    Returns:
        (deviations evaluated, the largest gain).
    """
    return _check_one(f, df, lo, hi, x_star, who)


def sequential(check_node: Callable[[], tuple[int, float]], method: str) -> Verification:
    """Wrap a sequential game's subgame checks (run by the concept over its own witness).

    Args:
        check_node: Runs every subgame check; returns (deviations, largest gain).
        method: The check, in words.
    """
    checked, worst = check_node()
    return Verification(
        method=method, deviations=checked, max_gain=max(worst, 0.0), tolerance=0.0 if worst == 0 else CONTINUOUS_TOL
    )
