"""The market: a symmetric two-player game with one continuous action, compiled for repeated play
from the spec's own payoff IR, with its theory benchmarks from the compiler's solvers."""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Mapping
from fractions import Fraction
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import sympy as sp

    from prefc.compiler.check import CheckedSpec, PreferencePoint
    from prefc.compiler.ir import GameIR, SpecIR

__all__ = ["REFERENCE_KAPPAS", "SHARE_HELPERS", "PricingMarket", "SimulationError", "eligible_games", "load_ir"]

REFERENCE_KAPPAS = (Fraction(1, 4), Fraction(1, 2), Fraction(3, 4))
"""The homo moralis kappas whose symmetric prices are always reported as benchmarks."""

SHARE_HELPERS = ("share", "demand", "quantity")
"""Names of a one-argument helper (``let share(i) = ...``) reported as a firm's share or quantity."""


class SimulationError(Exception):
    """A simulation that cannot run as asked (wrong game, bad agent, failing endpoint, ...)."""


def _rational(v: Fraction | int | float) -> sp.Rational:
    import sympy as sp

    f = Fraction(v) if not isinstance(v, float) else Fraction(repr(v))
    return sp.Rational(f.numerator, f.denominator)


def load_ir(spec: str | os.PathLike[str] | CheckedSpec | SpecIR) -> SpecIR:
    from prefc.compiler.check import CheckedSpec, check_file
    from prefc.compiler.diagnostics import CompileError
    from prefc.compiler.ir import SpecIR, lower_spec

    if isinstance(spec, SpecIR):
        return spec
    if isinstance(spec, CheckedSpec):
        return lower_spec(spec)
    try:
        checked = check_file(str(spec))
    except CompileError as exc:
        first = next((d for d in exc.diagnostics if d.is_error), None)
        where = f"{first.span.file}:{first.span.line}: " if first is not None and first.span is not None else ""
        what = first.message if first is not None else "cannot be read"
        raise SimulationError(f"{spec}: {where}{what} (run `prefc check` for every problem)") from None
    return lower_spec(checked)


def _is_eligible(game: GameIR, point: Mapping[str, Fraction]) -> str | None:
    """Why a game cannot be simulated, or None when it can."""
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
    return [name for name, g in ir.games.items() if _is_eligible(g, g.defaults()) is None]


_BENCHMARKS: dict[tuple, float] = {}


class PricingMarket:
    """A symmetric two-player game with one continuous action, compiled for repeated play.

    Args:
        ir: The spec's IR.
        game: The game's name.
        params: Game parameter values; missing ones take their defaults.

    Raises:
        SimulationError: For an unknown game, an unknown parameter, or a game that is not a
            symmetric two-player game with one continuous action.
    """

    def __init__(self, ir: SpecIR, game: str, *, params: Mapping[str, Fraction | int | float] | None = None) -> None:
        import sympy as sp

        from prefc.compiler.lower import group_profile, named_profile

        if game not in ir.games:
            raise SimulationError(
                f"unknown game `{game}`; the games of spec `{ir.spec.name}` are: {', '.join(ir.games) or 'none'}"
            )
        g = ir.games[game]
        point = g.defaults()
        for k, v in (params or {}).items():
            if k not in g.params:
                raise SimulationError(f"game `{game}` has no parameter `{k}`; its parameters: {', '.join(g.params)}")
            point[k] = Fraction(v) if not isinstance(v, float) else Fraction(repr(v))
        why = _is_eligible(g, point)
        if why is not None:
            usable = eligible_games(ir)
            raise SimulationError(
                f"game `{game}` cannot be simulated: {why}; simulate plays symmetric two-player games with one "
                f"continuous action" + (f" (in this spec: {', '.join(usable)})" if usable else "")
            )
        self.ir = ir
        self.game = g
        self.action = g.actions[0]
        self.point = point
        self.values = {k: _rational(v) for k, v in point.items()}
        subs = {g.params[k].symbol: v for k, v in self.values.items()}
        assert self.action.lo is not None and self.action.hi is not None  # an interval action has both bounds
        self.lo = float(self.action.lo.subs(subs))
        self.hi = float(self.action.hi.subs(subs))
        if not (math.isfinite(self.lo) and math.isfinite(self.hi) and self.lo < self.hi):
            raise SimulationError(
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
        """A player's utility under a preference, in the own and the rival's action.

        Args:
            point: The preference with its parameter values.
        """
        from prefc.compiler.solve.utility import symmetric_utility

        bound = self.ir.preference(point)
        return symmetric_utility(
            self.game,
            bound.lowerer,
            own={self.action.name: self.own},
            rest={self.action.name: self.rival},
            params=dict(self.values),
        )

    def symmetric_price(self, point: PreferencePoint) -> float:
        """The symmetric equilibrium price when both players hold the preference (compiler's solver).

        Args:
            point: The preference with its parameter values.

        Raises:
            SimulationError: When the solver finds no equilibrium.
        """
        from prefc.compiler.solve import GameSolver, SolveError

        key = (self.ir.spec.sha256, self.name, tuple(sorted(self.point.items())), point)
        if key not in _BENCHMARKS:
            try:
                sol = GameSolver(self.game, self.ir.preference(point)).solve(self.point, derive=False)
            except SolveError as exc:
                raise SimulationError(f"cannot solve `{self.name}` for {point.label}: {exc}") from None
            if sol.answer is None:
                raise SimulationError(f"`{self.name}` has no equilibrium for {point.label}")
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
                raise SimulationError(f"`{self.name}`: no Nash equilibrium: {exc}") from None
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
        values = [(k, kappa if k == "kappa" else v) for k, v in pref.defaults.items()]
        known = tuple((k, Fraction(v)) for k, v in values if v is not None)
        if len(known) != len(values):
            return None
        return PreferencePoint("moralis", known)

    def clip(self, price: float) -> float:
        """The price within the action's bounds.

        Args:
            price: Any price.
        """
        return min(max(float(price), self.lo), self.hi)
