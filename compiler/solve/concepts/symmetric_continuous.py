"""``symmetric-nash`` for symmetric games with one continuous action per player (one stage).

The symmetric equilibrium ``x* = argmax_x u(x, y = x*)`` on the action's bounds. Solved
symbolically once per (game, preference) with the game parameters as symbols
(:func:`..continuous.solve_symmetric_symbolic`: corners by the sign of a linear utility's
coefficient, or the root of the first-order condition clipped to the bounds, with the regimes in
which each bound binds); each parameter point picks its regime. The closed form is derived
without assuming anything about the parameters beyond their declared domains, so a regime's
condition holds wherever it is evaluated; where sympy finds none, or no regime applies at a
point, root finding on the symmetric first-order condition gives every verified equilibrium
there. Every equilibrium is certified on a grid of deviations (:func:`..certify.symmetric_continuous`).
"""

from __future__ import annotations

from collections.abc import Callable
from fractions import Fraction
from functools import cached_property

import sympy as sp

from prefc.compiler.exact import compile_exact
from prefc.compiler.ir import GameIR, action_value, to_plain
from prefc.compiler.solution import Decision, Equilibrium, Verification
from prefc.compiler.solve import certify, continuous
from prefc.compiler.solve.closed import ClosedForm, isolate_all, text
from prefc.compiler.solve.concept import Concept, Found, Judged, Point, SolveError, concept
from prefc.compiler.solve.derive import pretty, regime_check, select, tidy
from prefc.compiler.solve.utility import symmetric_utility

__all__ = ["SymmetricContinuous", "declared_domains"]


def declared_domains(game: GameIR) -> dict[sp.Symbol, tuple[float, float]]:
    """The parameters' declared domains (``param n in 2..20``), for sign facts that hold everywhere.

    Args:
        game: The game.
    """
    out = {}
    for name, p in game.params.items():
        dom = game.checked.params[name].domain
        if dom is None:
            continue
        from prefc.compiler.check import NotConstant, eval_const

        try:
            lo, hi = eval_const(dom.lo, game.checked.defaults), eval_const(dom.hi, game.checked.defaults)
        except NotConstant:
            continue
        out[p.symbol] = (float(lo), float(hi))
    return out


def _explicit(game: GameIR) -> str | None:
    return game.checked.ast.concept.name if game.checked.ast.concept is not None else None


@concept
class SymmetricContinuous(Concept):
    """Symmetric simultaneous games with one continuous action."""

    name = "symmetric-nash"

    @classmethod
    def fits(cls, game: GameIR) -> bool:
        return (
            game.symmetric
            and game.n_stages == 1
            and not game.checked.ast.beliefs
            and _explicit(game) != "argmax"
            and len({a.name for a in game.actions}) == 1
            and not game.actions[0].finite
        )

    @cached_property
    def symbols(self) -> tuple[sp.Symbol, sp.Symbol]:
        """The own action ``x`` and the others' common action ``y``."""
        return sp.Symbol("x", real=True), sp.Symbol("y", real=True)

    @cached_property
    def utility(self) -> sp.Expr:
        """``u(x, y)`` with the parameters as symbols."""
        x, y = self.symbols
        act = self.game.actions[0].name
        return symmetric_utility(self.game, self.pref.lowerer, own={act: x}, rest={act: y})

    @cached_property
    def _compiled(self) -> Callable:
        return compile_exact(self.utility)

    @cached_property
    def symbolic(self) -> continuous.SymbolicSolution | None:
        """The closed-form symmetric equilibrium, or None where sympy finds none."""
        x, y = self.symbols
        action = self.game.actions[0]
        params = [p.symbol for p in self.game.params.values()]
        try:
            return continuous.solve_symmetric_symbolic(
                self.utility,
                own=x,
                other=y,
                lo=action.lo,
                hi=action.hi,
                params=params,
                domain=declared_domains(self.game) or None,
            )
        except (NotImplementedError, TypeError, ValueError, RecursionError):
            return None

    @cached_property
    def _regime_actions(self) -> list[Callable]:
        assert self.symbolic is not None
        return [compile_exact(r.action) for r in self.symbolic.regimes]

    def _players(self, point: Point) -> list[str]:
        g = self.game
        if g.group is None:
            return list(g.roles)
        n = g.group_size.xreplace(  # type: ignore[union-attr]
            {p.symbol: sp.Rational(point[k].numerator, point[k].denominator) for k, p in g.params.items()}
        )
        return [f"{g.group}[{i}]" for i in range(1, int(n) + 1)]

    def find(self, point: Point, *, derive: bool) -> Found:
        g, action = self.game, self.game.actions[0]
        x, y = self.symbols
        subs = {g.params[n].symbol: sp.Rational(v.numerator, v.denominator) for n, v in point.items()}
        env = {g.params[n].symbol: v for n, v in point.items()}
        players = self._players(point)
        sol = self.symbolic
        regime_text = check_text = None
        exact = False
        actions: list = []
        notes: list[str] = []
        if sol is not None:
            idx = sol.regime_index({s: float(v) for s, v in subs.items()})
            if idx >= 0:
                regime = sol.regimes[idx]
                try:
                    value = self._regime_actions[idx](env)
                except (ZeroDivisionError, ValueError, OverflowError):
                    value = None
                if value is not None and isinstance(value, (Fraction, float)):
                    exact = isinstance(value, Fraction)
                    actions = [
                        sp.Rational(value.numerator, value.denominator)
                        if isinstance(value, Fraction)
                        else sp.Float(value)
                    ]
                    if derive:
                        regime_text = pretty(regime.condition) if regime.condition is not sp.true else "always"
                        check_text = regime_check(regime.condition, subs)
        if not actions:
            lo, hi = action.lo.xreplace(subs), action.hi.xreplace(subs)  # type: ignore[union-attr]
            try:
                found = continuous.solve_symmetric_numeric(
                    self.utility.xreplace(subs), own=x, other=y, lo=lo, hi=hi, values={}
                )
            except (continuous.NoConvergence, ValueError) as exc:
                raise SolveError(f"game `{g.name}`: {exc}", game=g) from exc
            actions = [sp.Float(e.action) for e in found]
            notes = sorted(
                {
                    f"every common {action.name} from {e.interval[0]:.6g} to {e.interval[1]:.6g} is a symmetric "
                    "equilibrium (a continuum: the utility has a kink where everyone plays alike); the list "
                    "holds its two ends and its payoff-dominant point"
                    for e in found
                    if e.interval is not None
                }
            )
        equilibria = []
        for v in actions:
            fv = Fraction(int(v.p), int(v.q)) if isinstance(v, sp.Rational) else float(v)
            try:
                uval = self._compiled({**env, x: fv, y: fv})
            except (ZeroDivisionError, ValueError, OverflowError):
                uval = float(self.utility.xreplace({**subs, x: v, y: v}))
            equilibria.append(
                Equilibrium(
                    path={p: {action.name: action_value(v)} for p in players},
                    utilities={p: to_plain(uval) for p in players},
                    symmetric=True,
                )
            )
        selected, rule = select(equilibria)
        derivation = []
        if equilibria and derive:
            v = actions[selected or 0]
            u_at = self.utility.xreplace(subs).xreplace({y: v})
            marginal = tidy(sp.diff(u_at, x))
            derivation.append(
                Decision(
                    player=players[0],
                    action=action.name,
                    kind=action.kind,
                    given={"others": action_value(v)},
                    utility=pretty(tidy(u_at)),
                    marginal=pretty(marginal),
                    marginal_value=to_plain(marginal.xreplace({x: v})) if marginal.free_symbols <= {x} else None,
                    regime=regime_text,
                    regime_check=check_text,
                    chosen=action_value(v),
                )
            )
        return Found(equilibria, derivation, selected, rule, exact, notes=notes)

    @classmethod
    def closed_form(cls, game: GameIR, lowerer, *, free, consts, ranges, sign_of) -> ClosedForm | None:
        action = game.actions[0]
        subs = {
            game.params[n].symbol: sp.Rational(v.numerator, v.denominator)
            for n, v in consts.items()
            if n in game.params
        }
        x, y = sp.Symbol("x", real=True), sp.Symbol("y", real=True)
        u = symmetric_utility(game, lowerer, own={action.name: x}, rest={action.name: y}).xreplace(subs)
        params = [p.symbol for p in game.params.values() if p.symbol not in subs] + list(free)
        domain = {s: r for s, r in ranges.items() if s in params}
        try:
            sol = continuous.solve_symmetric_symbolic(
                u,
                own=x,
                other=y,
                lo=action.lo.xreplace(subs),  # type: ignore[union-attr]
                hi=action.hi.xreplace(subs),  # type: ignore[union-attr]
                params=params,
                domain=domain or None,
                solve_for=list(free) or None,
            )
        except (NotImplementedError, TypeError, ValueError, RecursionError):
            return None
        if sol is None:
            return None
        assumptions: list[sp.Basic] = []
        regimes = [
            (isolate_all(r.condition, free, sign_of, assumptions), {action.name: r.action}, r.indifferent)
            for r in sol.regimes
        ]
        method = f"closed form ({sol.method})"
        notes = [f"first-order condition du/dx at y = x: {text(sol.foc)}"] if sol.foc is not None else []
        return ClosedForm(
            "regimes",
            method,
            regimes=regimes,
            reasons=[r.reason for r in sol.regimes],
            assumptions=assumptions,
            notes=notes,
            utility=f"u(x, y) = {text(sp.simplify(u))}  (own {action.name} x, others y)",
        )

    def certify(self, point: Point, found: Found) -> Verification:
        return certify.symmetric_continuous(self.game, self.pref, point, found.equilibria)

    def judge(self, point: Point, *, role: str, action: str, history, found: Found) -> Judged | None:
        if found.selected is None or not found.derivation or history:
            return None
        decision = found.derivation[0]
        x, y = self.symbols
        subs = {self.game.params[n].symbol: sp.Rational(v.numerator, v.denominator) for n, v in point.items()}
        expr = self.utility.xreplace(subs).xreplace({y: sp.nsimplify(decision.chosen)})
        return Judged(decision, _numeric(expr, x))


def _numeric(expr: sp.Expr, z: sp.Symbol) -> Callable[[object], float | None]:
    """``value -> float(expr at z = value)``, None where it is not a number."""

    def value(v: object) -> float | None:
        try:
            return float(expr.xreplace({z: sp.nsimplify(v)}))
        except (TypeError, ValueError):
            return None

    return value
