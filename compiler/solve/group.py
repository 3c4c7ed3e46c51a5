"""Symmetric group games (``players member[1..n] symmetric``) with finite actions, at one point.

In a symmetric game a member's utility depends on its own strategy and on *how many* of the others
play each strategy, so profiles are count vectors. This module evaluates those utilities exactly
and finds

* every pure equilibrium up to a permutation of the members (a count vector from which no member
  of any strategy gains by switching), asymmetric ones included (exactly one volunteers, ...);
* for two options, every symmetric mixed equilibrium: with ``p`` the probability of the first
  option, the others' play is binomial and the utility of a deviation ``p'`` is a polynomial;
  equilibria are the roots of the first-order condition in ``(0, 1)``, kept when ``p`` is a global
  best reply to itself (strategy-level Kantian term: the universalised profile is every member
  drawing from ``p'``, so the utility is not linear in ``p'``).

Symmetric mixed equilibria with three or more options in groups of three or more are not
enumerated (the solution says so).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction

import sympy as sp

from prefc.compiler.exact import NotCompilable, compile_exact
from prefc.compiler.ir import BoundPreference, GameIR
from prefc.compiler.limits import MAX_PROFILES, GameTooLarge
from prefc.compiler.solve.derive import exact_value
from prefc.compiler.solve.strategic import StrategicForm, Strategy, memo, strategies_of
from prefc.compiler.solve.utility import count_split, count_utility

__all__ = ["GroupForm", "MixedSymmetric", "compositions"]

Counts = tuple[int, ...]


def compositions(total: int, parts: int) -> list[Counts]:
    """Every way of writing ``total`` as an ordered sum of ``parts`` non-negative integers.

    Args:
        total: The sum.
        parts: How many summands.
    """
    if parts == 1:
        return [(total,)]
    return [(first, *rest) for first in range(total, -1, -1) for rest in compositions(total - first, parts - 1)]


def _count_compositions(total: int, parts: int) -> int:
    return math.comb(total + parts - 1, parts - 1)


@dataclass(frozen=True)
class MixedSymmetric:
    """A symmetric mixed equilibrium of a group game with two options.

    Attributes:
        p: The probability of the first option.
        exact: Whether ``p`` is exact (rational).
        utility: Every member's utility.
    """

    p: Fraction | float
    exact: bool
    utility: float


class GroupForm:
    """Utilities of a symmetric group game at one point, by own strategy and the others' counts.

    Args:
        game: A symmetric group game with one stage and finite actions.
        pref: The preference.
        point: Every parameter's value.
    """

    def __init__(self, game: GameIR, pref: BoundPreference, point: dict[str, Fraction]):
        assert game.group is not None
        self.game, self.pref, self.point = game, pref, point
        subs = {p.symbol: sp.Rational(point[n].numerator, point[n].denominator) for n, p in game.params.items()}
        self.params = {n: subs[p.symbol] for n, p in game.params.items()}
        size = game.group_size.xreplace(subs)  # type: ignore[union-attr]
        if not size.is_Integer or int(size) < 1:
            raise GameTooLarge(f"the group size of `{game.name}` is {size} at this point; it must be a whole number")
        self.n = int(size)
        self.strategies: list[Strategy] = strategies_of(game, game.group, subs)
        self.k = len(self.strategies)
        self._pure: dict[tuple[int, Counts], Fraction | float] = {}
        self._fast = self._compile_pure()

    # -- utilities -----------------------------------------------------------------------------
    def _actions(self, s: int) -> dict[str, sp.Expr]:
        return dict(self.strategies[s].values[self.game.group])  # type: ignore[index]

    def _compile_pure(self) -> Callable | None:
        """The utility over symbolic own actions, kinds' actions and counts, compiled once per game,
        preference and number of strategies, where that is exact (no min/max, whose value would
        depend on which kinds are present)."""
        names = [a.name for a in self.game.actions]

        def build() -> tuple[Callable, dict, list, list] | None:
            own = {n: sp.Symbol(f"own.{n}", real=True) for n in names}
            kinds = [{n: sp.Symbol(f"k{b}.{n}", real=True) for n in names} for b in range(self.k)]
            ms = [sp.Symbol(f"m{b}", integer=True, nonnegative=True) for b in range(self.k)]
            n = self.game.group_size
            expr = count_utility(
                self.game,
                self.pref.template,
                own=own,
                others=list(zip(kinds, ms, strict=False)),
                params=None,
                universal=(own, [(own, n - 1)]),  # type: ignore[operator]
            )
            if expr.has(sp.Min, sp.Max):
                return None
            try:
                return compile_exact(expr), own, kinds, ms
            except NotCompilable:
                return None

        compiled = memo(self.game, ("group-pure", self.pref.key, self.k), build)
        if compiled is None:
            return None
        fn, own, kinds, ms = compiled
        base = {p.symbol: self.point[n] for n, p in self.game.params.items()}
        base.update(self.pref.env)
        for b, s in enumerate(self.strategies):
            for n, v in s.values[self.game.group].items():  # type: ignore[index]
                base[kinds[b][n]] = Fraction(int(v.p), int(v.q))

        def evaluate(a: int, others: Counts) -> object:
            env = dict(base)
            for n, v in self.strategies[a].values[self.game.group].items():  # type: ignore[index]
                env[own[n]] = Fraction(int(v.p), int(v.q))
            env.update({m: Fraction(c) for m, c in zip(ms, others, strict=False)})
            return fn(env)

        return evaluate

    def describe(self, own: int, others: Counts) -> str:
        """``volunteer, others: 2 volunteer, 1 shirk``.

        Args:
            own: Own strategy index.
            others: How many others play each strategy.
        """
        rest = ", ".join(f"{c} {self.strategies[b].text}" for b, c in enumerate(others) if c)
        return f"{self.strategies[own].text}, others: {rest}" if rest else self.strategies[own].text

    def utility(self, own: int, others: Counts) -> Fraction | float:
        """A member's utility playing ``own`` while ``others[b]`` of the others play strategy b.

        Args:
            own: Own strategy index.
            others: Counts of the others' strategies (adding up to n - 1).
        """
        key = (own, others)
        hit = self._pure.get(key)
        if hit is not None:
            return hit
        where = f"a member of `{self.game.group}` at ({self.describe(own, others)})"
        value: object = None
        if self._fast is not None:
            try:
                value = self._fast(own, others)
            except (ZeroDivisionError, OverflowError, ValueError):
                value = None
        if value is None or isinstance(value, bool):
            value = count_utility(
                self.game,
                self.pref.lowerer,
                own=self._actions(own),
                others=[(self._actions(b), c) for b, c in enumerate(others) if c],
                params=self.params,
            )
        out = exact_value(value, where)
        self._pure[key] = out
        return out

    def all_others(self, b: int) -> Counts:
        """The counts when every other member plays strategy b.

        Args:
            b: Strategy index.
        """
        return tuple(self.n - 1 if i == b else 0 for i in range(self.k))

    def member(self, i: int) -> str:
        """The display name of member i (1-based).

        Args:
            i: The member's index.
        """
        return f"{self.game.group}[{i}]"

    def two_player_form(self) -> StrategicForm:
        """The strategic form of a two-member group (all equilibria, mixed ones included, apply)."""
        assert self.n == 2
        group = self.game.group
        names = [self.member(1), self.member(2)]
        strategies = [
            [
                Strategy({name: dict(s.values[group])}, s.text, {name: dict(s.shown[group])})  # type: ignore[index]
                for s in self.strategies
            ]
            for name in names
        ]

        def unit(b: int) -> Counts:
            return tuple(1 if i == b else 0 for i in range(self.k))

        def pure(i: int, profile: tuple[int, ...]) -> Fraction | float:
            return self.utility(profile[i], unit(profile[1 - i]))

        cache: dict[tuple[int, int, int, int], tuple[Fraction | float, Fraction | float]] = {}

        def parts(own: int, other: int, uown: int, uother: int) -> tuple[Fraction | float, Fraction | float]:
            key = (own, other, uown, uother)
            if key not in cache:
                split = count_split(
                    self.game,
                    self.pref.lowerer,
                    own=self._actions(own),
                    others=[(self._actions(other), 1)],
                    universal=(self._actions(uown), [(self._actions(uother), 1)]),
                    params=self.params,
                    actions=set(),
                )
                if split is None:
                    raise _NoSplit()
                where = f"a member of `{group}`"
                cache[key] = (
                    exact_value(split.actual, where),
                    exact_value(split.universal, where + " (universalised)"),
                )
            return cache[key]

        def split(i: int):
            if not self.pref.uses_kantian:
                return None
            try:
                parts(0, 0, 0, 0)
            except _NoSplit:
                return None
            return (
                (lambda profile: parts(profile[i], profile[1 - i], 0, 0)[0]),
                (lambda own, other: parts(0, 0, own, other)[1]),
            )

        return StrategicForm(names, strategies, False, True, pure, split, self.pref.uses_kantian)

    # -- pure equilibria -----------------------------------------------------------------------
    def pure_equilibria(self) -> tuple[list[Counts], bool]:
        """Every pure equilibrium as a count vector (how many members play each strategy).

        Returns the count vectors and whether the enumeration was complete (False: only the
        symmetric ones were checked, the count vectors being too many).
        """
        total = _count_compositions(self.n, self.k)
        if total > MAX_PROFILES:
            vectors = [tuple(self.n if i == b else 0 for i in range(self.k)) for b in range(self.k)]
            complete = False
        else:
            vectors = compositions(self.n, self.k)
            complete = True
        found = []
        for counts in vectors:
            if self._is_equilibrium(counts):
                found.append(counts)
        return found, complete

    def _is_equilibrium(self, counts: Counts) -> bool:
        for a, c in enumerate(counts):
            if not c:
                continue
            others = tuple(x - (1 if i == a else 0) for i, x in enumerate(counts))
            mine = self.utility(a, others)
            for b in range(self.k):
                if b != a and self.utility(b, others) > mine:
                    return False
        return True

    # -- symmetric mixed equilibria (two options) -------------------------------------------------
    def _binomial(self, table: Callable[[int], Fraction | float], p: sp.Symbol) -> sp.Expr:
        m = self.n - 1
        return sp.Add(*[sp.binomial(m, j) * p**j * (1 - p) ** (m - j) * _rational(table(j)) for j in range(m + 1)])

    def _split_at(self, own: int, j: int):
        """The split utility of a member playing ``own`` with ``j`` others on the first option, the
        universalised profile drawn the same way (concrete counts)."""
        counts = (j, self.n - 1 - j)
        kinds = [(self._actions(b), c) for b, c in enumerate(counts) if c]
        return count_split(
            self.game,
            self.pref.lowerer,
            own=self._actions(own),
            others=kinds,
            universal=(self._actions(own), kinds),
            params=self.params,
            actions=set(),
        )

    def _kantian_tables(
        self,
    ) -> tuple[Callable[[int, int], Fraction | float], Callable[[int, int], Fraction | float]] | None:
        """The actual part A(own, j) and the Kantian part K(own draw, j) of a two-option game, with
        ``j`` the number of others on the first option; None when the preference does not split."""
        if not self.pref.uses_kantian:
            return (lambda a, j: self.utility(a, (j, self.n - 1 - j))), (lambda a, j: Fraction(0))
        cache: dict[tuple[int, int], tuple[Fraction | float, Fraction | float]] = {}
        where = f"a member of `{self.game.group}`"

        def parts(a: int, j: int) -> tuple[Fraction | float, Fraction | float]:
            if (a, j) not in cache:
                split = self._split_at(a, j)
                if split is None:
                    raise _NoSplit()
                cache[(a, j)] = (
                    exact_value(split.actual, where),
                    exact_value(split.universal, where + " (universalised)"),
                )
            return cache[(a, j)]

        try:
            parts(0, 0)
        except _NoSplit:
            return None
        return (lambda a, j: parts(a, j)[0]), (lambda a, j: parts(a, j)[1])

    def symmetric_mixed(self) -> tuple[list[MixedSymmetric], str | None]:
        """Every symmetric mixed equilibrium of a two-option group game, and a note when the
        preference admits no strategy-level evaluation (a ``kantian`` term inside a nonlinear
        function)."""
        if self.k != 2:
            return [], (
                f"symmetric mixed equilibria of a {self.n}-member group with {self.k} options are "
                "not enumerated (two options are)"
            )
        tables = self._kantian_tables()
        if tables is None:
            return [], (
                "mixed strategies are not evaluated: the preference is not affine in its `kantian` "
                "terms, so the strategy-level Kantian utility of a mixture is not defined"
            )
        A, K = tables
        p, q = sp.Symbol("p", real=True), sp.Symbol("q", real=True)
        E0 = self._binomial(lambda j: A(0, j), p)
        E1 = self._binomial(lambda j: A(1, j), p)
        # u(q | p) = q E0(p) + (1 - q) E1(p) + q K0(q) + (1 - q) K1(q): the universalised draws
        # of the others are binomial in the own mixture q
        K0 = self._binomial(lambda j: K(0, j), q)
        K1 = self._binomial(lambda j: K(1, j), q)
        u = q * E0 + (1 - q) * E1 + q * K0 + (1 - q) * K1
        foc = sp.expand(sp.diff(u, q).xreplace({q: p}))
        out: list[MixedSymmetric] = []
        if foc == 0:
            return [], "every mixture is a symmetric equilibrium (the options are equally good whatever the others do)"
        poly = sp.Poly(foc, p)
        for root in poly.real_roots():
            if not (0 < root < 1):
                continue
            exact = root.is_Rational
            pv: Fraction | float = Fraction(int(root.p), int(root.q)) if exact else float(root.evalf(30))
            if not self._global_best_reply(u, p, q, root):
                continue
            val = float(u.xreplace({p: root, q: root}).evalf(30))
            if any(abs(float(m.p) - float(pv)) < 1e-12 for m in out):
                continue
            out.append(MixedSymmetric(pv, exact, val))
        return out, None

    @staticmethod
    def _global_best_reply(u: sp.Expr, p: sp.Symbol, q: sp.Symbol, root: sp.Expr) -> bool:
        """Whether ``q = root`` maximises ``u(q | p = root)`` over ``[0, 1]`` (to 30 digits)."""
        f = sp.expand(u.xreplace({p: root.evalf(40)}))
        mine = f.xreplace({q: root.evalf(40)}).evalf(30)
        candidates = [sp.Integer(0), sp.Integer(1)]
        df = sp.Poly(sp.diff(f, q), q)
        if df.degree() >= 1:
            candidates += [r for r in df.nroots(n=30) if r.is_real and 0 < r < 1]
        best = max(f.xreplace({q: c}).evalf(30) for c in candidates)
        return bool(best - mine <= sp.Float(1e-12, 30) * max(1, abs(mine)))


def _rational(v: Fraction | float) -> sp.Expr:
    if isinstance(v, Fraction):
        return sp.Rational(v.numerator, v.denominator)
    return sp.Float(v, 30)


class _NoSplit(Exception):
    """The preference is not affine in its Kantian terms."""
