"""A repeated market: a symmetric two-player game with one continuous action, compiled from its
payoff IR for round-by-round play, with each preference's best response to the rival's price and
the theory benchmarks (Nash, joint profit, homo moralis) from the solvers.

The simulation plays in it and the compiler's repeated datasets (``repeat N rounds``) are drawn
from it, so both compute shares, profits and best responses the same way.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from fractions import Fraction
from typing import TYPE_CHECKING, ClassVar

if TYPE_CHECKING:
    import sympy as sp

    from prefc.compiler.check import PreferencePoint
    from prefc.compiler.ir import GameIR, SpecIR

__all__ = ["SHARE_HELPERS", "Market", "MarketError", "eligible_games", "market_refusal"]

SHARE_HELPERS = ("share", "demand", "quantity")
"""Names of a one-argument helper (``let share(i) = ...``) reported as a firm's share or quantity."""


class MarketError(Exception):
    """A game or parameter point that cannot be played as a repeated market."""


def _rational(v: Fraction | int | float) -> sp.Rational:
    import sympy as sp

    f = Fraction(v) if not isinstance(v, float) else Fraction(repr(v))
    return sp.Rational(f.numerator, f.denominator)


def market_refusal(game: GameIR, point: Mapping[str, Fraction]) -> str | None:
    """Why a game cannot be played as a repeated market at a point, or None when it can.

    Args:
        game: The game.
        point: Its parameter values.
    """
    if not game.symmetric:
        return "its players are not declared `symmetric`"
    if game.n_stages != 1:
        return "its moves are sequential"
    if len(game.actions) != 1:
        return f"each player has {len(game.actions)} actions"
    action = game.actions[0]
    if action.kind != "interval":
        return f"its action `{action.name}` is not continuous (an interval)"
    if game.group is not None:
        assert game.group_size is not None
        n = game.group_size.subs({game.params[k].symbol: _rational(v) for k, v in point.items()})
        if n != 2:
            return f"it has {n} players"
    elif len(game.roles) != 2:
        return f"it has {len(game.roles)} players"
    return None


def eligible_games(ir: SpecIR) -> list[str]:
    """The games of a spec that can be played as repeated markets at their defaults.

    Args:
        ir: The spec's IR.
    """
    return [name for name, g in ir.games.items() if market_refusal(g, g.defaults()) is None]


_BENCHMARKS: dict[tuple, float] = {}


class Market:
    """A symmetric two-player game with one continuous action, compiled for repeated play.

    Args:
        ir: The spec's IR.
        game: The game's name.
        params: Game parameter values; missing ones take their defaults.

    Raises:
        MarketError: (or the subclass's :attr:`error`) for an unknown game, an unknown parameter,
            or a game that is not a symmetric two-player game with one continuous action.
    """

    error: ClassVar[type[Exception]] = MarketError
    """The exception this class raises (a runtime's own error type in subclasses)."""

    def __init__(self, ir: SpecIR, game: str, *, params: Mapping[str, Fraction | int | float] | None = None) -> None:
        import sympy as sp

        from prefc.compiler.lower import group_profile, named_profile

        if game not in ir.games:
            raise self.error(
                f"unknown game `{game}`; the games of spec `{ir.spec.name}` are: {', '.join(ir.games) or 'none'}"
            )
        g = ir.games[game]
        point = g.defaults()
        for k, v in (params or {}).items():
            if k not in g.params:
                raise self.error(f"game `{game}` has no parameter `{k}`; its parameters: {', '.join(g.params)}")
            point[k] = Fraction(v) if not isinstance(v, float) else Fraction(repr(v))
        why = market_refusal(g, point)
        if why is not None:
            usable = eligible_games(ir)
            raise self.error(
                f"game `{game}` cannot be simulated: {why}; simulate plays symmetric two-player games with one "
                f"continuous action" + (f" (in this spec: {', '.join(usable)})" if usable else "")
            )
        self.ir = ir
        self.game = g
        self.action = g.actions[0]
        self.point = point
        self.values = {k: _rational(v) for k, v in point.items()}
        subs = {g.params[k].symbol: v for k, v in self.values.items()}
        assert self.action.lo is not None and self.action.hi is not None  # an interval has both bounds
        self.lo = float(self.action.lo.subs(subs))
        self.hi = float(self.action.hi.subs(subs))
        if not (math.isfinite(self.lo) and math.isfinite(self.hi) and self.lo < self.hi):
            raise self.error(
                f"game `{game}`: the action `{self.action.name}` has empty bounds "
                f"[{self.lo}, {self.hi}] at these parameters"
            )
        self.own = sp.Symbol("own_action_", real=True)
        self.rival = sp.Symbol("rival_action_", real=True)
        low = g.lowerer(self.values)
        own, rest = {self.action.name: self.own}, {self.action.name: self.rival}
        if g.group is not None:
            profile, me, _ = group_profile(g.group, sp.Integer(2), own, rest)
        else:
            profile = named_profile({g.roles[0]: own, g.roles[1]: rest})
            me = profile.tokens[0]
        self.profit_expr: sp.Expr = low.payoff(me, profile)
        self._profit = sp.lambdify((self.own, self.rival), self.profit_expr, modules="math")
        self.share_name: str | None = None
        self._share: Callable[[float, float], float] | None = None
        for name in SHARE_HELPERS:
            let = g.checked.lets.get(name)
            if let is not None and len(let.params) == 1:
                expr = low.expr(let.value, profile, {let.params[0].name: me})
                self._share = sp.lambdify((self.own, self.rival), expr, modules="math")
                self.share_name = name
                break
        self._utilities: dict[PreferencePoint, sp.Expr] = {}
        self._responses: dict[tuple[PreferencePoint, float], float] = {}

    @property
    def name(self) -> str:
        """The game's name."""
        return self.game.name

    def profit(self, price: float, rival: float) -> float:
        """A firm's material payoff when it charges ``price`` and the rival ``rival``.

        Args:
            price: The firm's price.
            rival: The rival's price.
        """
        return float(self._profit(float(price), float(rival)))

    def share(self, price: float, rival: float) -> float | None:
        """A firm's share (the game's ``share`` helper), or None if the game has none.

        Args:
            price: The firm's price.
            rival: The rival's price.
        """
        return None if self._share is None else float(self._share(float(price), float(rival)))

    def utility(self, point: PreferencePoint) -> sp.Expr:
        """A player's utility under a preference, in the own and the rival's action (cached).

        Args:
            point: The preference with its parameter values.
        """
        from prefc.compiler.solve.utility import symmetric_utility

        hit = self._utilities.get(point)
        if hit is None:
            bound = self.ir.preference(point)
            hit = self._utilities[point] = symmetric_utility(
                self.game,
                bound.lowerer,
                own={self.action.name: self.own},
                rest={self.action.name: self.rival},
                params=dict(self.values),
            )
        return hit

    def best_response(self, point: PreferencePoint, rival: float) -> float:
        """The action maximising the preference's utility against the rival's action (a grid plus a
        bounded Brent refinement; cached).

        Args:
            point: The preference with its parameter values.
            rival: The rival's action.
        """
        from prefc.compiler.solve import continuous

        key = (point, float(rival))
        hit = self._responses.get(key)
        if hit is None:
            u = self.utility(point)
            hit = float(continuous.best_response(u, own=self.own, lo=self.lo, hi=self.hi, values={self.rival: key[1]}))
            if len(self._responses) > 10_000:
                self._responses.clear()
            self._responses[key] = hit
        return hit

    def symmetric_price(self, point: PreferencePoint) -> float:
        """The symmetric equilibrium price when both players hold the preference (compiler's solver).

        Args:
            point: The preference with its parameter values.

        Raises:
            MarketError: (or :attr:`error`) when the solver finds no equilibrium.
        """
        from prefc.compiler.solve.concept import SolveError
        from prefc.compiler.solve.solver import GameSolver

        key = (self.ir.spec.sha256, self.name, tuple(sorted(self.point.items())), point)
        if key not in _BENCHMARKS:
            try:
                sol = GameSolver(self.game, self.ir.preference(point)).solve(self.point, derive=False)
            except SolveError as exc:
                raise self.error(f"cannot solve `{self.name}` for {point.label}: {exc}") from None
            if sol.answer is None:
                raise self.error(f"`{self.name}` has no equilibrium for {point.label}")
            first = next(iter(sol.answer.path.values()))
            _BENCHMARKS[key] = float(first[self.action.name])
        return _BENCHMARKS[key]

    def nash_price(self) -> float:
        """The symmetric Nash price: homo economicus when the spec declares it, else the material payoff."""
        from prefc.compiler.check import PreferencePoint
        from prefc.compiler.solve import continuous

        if "economicus" in self.ir.spec.preferences:
            return self.symmetric_price(PreferencePoint("economicus", ()))
        key = (self.ir.spec.sha256, self.name, tuple(sorted(self.point.items())), "nash")
        if key not in _BENCHMARKS:
            try:
                eqs = continuous.solve_symmetric_numeric(
                    self.profit_expr, own=self.own, other=self.rival, lo=self.lo, hi=self.hi, values={}
                )
            except continuous.NoConvergence as exc:
                raise self.error(f"`{self.name}`: no Nash equilibrium: {exc}") from None
            _BENCHMARKS[key] = float(eqs[0].action)
        return _BENCHMARKS[key]

    def monopoly_price(self) -> float:
        """The common price that maximises a firm's (hence the joint) profit when both charge it."""
        from prefc.compiler.solve import continuous

        key = (self.ir.spec.sha256, self.name, tuple(sorted(self.point.items())), "joint")
        if key not in _BENCHMARKS:
            joint = self.profit_expr.xreplace({self.rival: self.own})
            _BENCHMARKS[key] = float(continuous.best_response(joint, own=self.own, lo=self.lo, hi=self.hi, values={}))
        return _BENCHMARKS[key]

    def moralis_point(self, kappa: Fraction) -> PreferencePoint | None:
        """``moralis(kappa=K)`` when the spec declares a ``moralis`` preference with a ``kappa``.

        Args:
            kappa: The kappa value.
        """
        from prefc.compiler.check import PreferencePoint

        pref = self.ir.spec.preferences.get("moralis")
        if pref is None or "kappa" not in pref.defaults:
            return None
        values: list[tuple[str, Fraction]] = []
        for k, v in pref.defaults.items():
            value = kappa if k == "kappa" else v
            if value is None:
                return None
            values.append((k, Fraction(value)))
        return PreferencePoint("moralis", tuple(values))

    def clip(self, price: float) -> float:
        """The price within the action's bounds.

        Args:
            price: Any price.
        """
        return min(max(float(price), self.lo), self.hi)
