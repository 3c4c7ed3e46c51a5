"""``nash`` for simultaneous games of distinct roles with continuous actions (one stage).

Every role maximises its own utility given the others' actions (an asymmetric Cournot duopoly, a
public project with unequal costs). At a parameter point the equilibria are found from the
Karush-Kuhn-Tucker conditions: for every assignment of each action to its lower bound, its upper
bound or the interior, the first-order conditions of the interior actions are solved exactly
(sympy, with the numbers put in) and the sign conditions at the bounds checked; a candidate is kept
when every role's action is a global best reply on a grid. Where the conditions have no closed
solution, damped best-reply iteration from several starting points is used instead, its limit
verified the same way.

Under a Kantian preference with role randomisation, players choose plans (one action for every
role) before their roles are drawn; the symmetric equilibria of that ex-ante game are found the
same way, over the plan's actions (:func:`..utility.plan_utility`).
"""

from __future__ import annotations

import itertools
import math
from functools import cached_property
from typing import TYPE_CHECKING, Any

import sympy as sp

from prefc.compiler.ir import ActionIR, GameIR, action_value, to_plain
from prefc.compiler.lazy import lazy_module
from prefc.compiler.solution import ActionValue, Decision, Equilibrium, Verification
from prefc.compiler.solve import certify, continuous
from prefc.compiler.solve.concept import Concept, Found, Point, SolveError, concept
from prefc.compiler.solve.derive import pretty, select, tidy
from prefc.compiler.solve.utility import named_utility, plan_utility

if TYPE_CHECKING:
    import numpy as np
else:
    np = lazy_module("numpy", globals(), "np")

__all__ = ["RoleContinuous"]

MAX_ACTIONS = 6
"""The most continuous actions whose bound assignments are enumerated (3 ** 6 = 729)."""


def _explicit(game: GameIR) -> str | None:
    return game.checked.ast.concept.name if game.checked.ast.concept is not None else None


@concept
class RoleContinuous(Concept):
    """Simultaneous games of distinct roles with continuous actions."""

    name = "nash"

    @classmethod
    def fits(cls, game: GameIR) -> bool:
        owners = {a.owner for a in game.actions}
        return (
            not game.symmetric
            and game.group is None
            and game.n_stages == 1
            and len(owners) >= 2
            and not game.checked.ast.beliefs
            and _explicit(game) != "argmax"
            and all(not a.finite for a in game.actions)
        )

    @property
    def plan_game(self) -> bool:
        return self.pref.uses_kantian and self.game.kantian_mode == "roles"

    @cached_property
    def symbols(self) -> dict[str, sp.Symbol]:
        """One symbol per action (by key)."""
        return {a.key: a.symbol for a in self.game.actions}

    def _profile(self, values: dict[str, sp.Expr]) -> dict[str, dict[str, sp.Expr]]:
        out: dict[str, dict[str, sp.Expr]] = {r: {} for r in self.game.roles}
        for a in self.game.actions:
            out[a.owner][a.name] = values[a.key]
        return out

    @cached_property
    def objectives(self) -> dict[str, tuple[sp.Expr, dict[sp.Symbol, sp.Symbol]]]:
        """For every action key: the objective whose derivative in that action is its first-order
        condition, with the substitution that puts the equilibrium in (plan games: the other plan)."""
        g = self.game
        if self.plan_game:
            # U(p | q): p is the evaluator's plan ("p:" symbols), q the equilibrium plan; ``back``
            # puts the equilibrium into p after differentiating
            own = {a.key: sp.Symbol(f"p:{a.key}", real=True) for a in g.actions}
            u = plan_utility(g, self.pref.lowerer, plan=self._profile(own), opponent=self._profile(self.symbols))
            back = {own[k]: s for k, s in self.symbols.items()}
            return {a.key: (u, back) for a in g.actions}
        prof = self._profile(self.symbols)
        out: dict[str, Any] = {}
        for r in {a.owner for a in g.actions}:
            u = named_utility(g, self.pref.lowerer, role=r, actual=prof)
            for a in g.actions:
                if a.owner == r:
                    out[a.key] = (u, {})
        return out

    def _own(self, key: str) -> sp.Symbol:
        return sp.Symbol(f"p:{key}", real=True)

    def _reply_expr(self, action: ActionIR, values: dict, subs, z: sp.Symbol) -> sp.Expr:
        """The objective of ``action``'s decider as a function of that action alone (``z``), every
        other action (and, in a plan game, the equilibrium plan) at ``values``."""
        u, _ = self.objectives[action.key]
        vals = {k: v if isinstance(v, sp.Basic) else sp.Float(v) for k, v in values.items()}
        if self.plan_game:
            env = {
                **subs,
                **{self.symbols[k]: v for k, v in vals.items()},
                **{self._own(k): v for k, v in vals.items() if k != action.key},
            }
            return u.xreplace(env).xreplace({self._own(action.key): z})
        env = {**subs, **{self.symbols[k]: v for k, v in vals.items() if k != action.key}}
        return u.xreplace(env).xreplace({self.symbols[action.key]: z})

    def _foc(self, action: ActionIR, subs) -> sp.Expr:
        u, back = self.objectives[action.key]
        if self.plan_game:
            return sp.diff(u, self._own(action.key)).xreplace(back).xreplace(subs)
        return sp.diff(u, self.symbols[action.key]).xreplace(subs)

    def _value(self, action: ActionIR, values: dict[str, float], subs) -> float:
        """The objective of the action's owner at ``values`` (plan games: the plan against itself)."""
        z = sp.Symbol("z_value", real=True)
        return float(self._reply_expr(action, values, subs, z).xreplace({z: sp.Float(values[action.key])}))

    def find(self, point: Point, *, derive: bool) -> Found:
        g = self.game
        subs = {g.params[n].symbol: sp.Rational(v.numerator, v.denominator) for n, v in point.items()}
        acts = list(g.actions)
        if len(acts) > MAX_ACTIONS:
            raise SolveError(
                f"game `{g.name}`: {len(acts)} continuous actions; simultaneous continuous games are "
                f"solved for up to {MAX_ACTIONS}",
                game=g,
            )
        bounds = {a.key: (a.lo.xreplace(subs), a.hi.xreplace(subs)) for a in acts}  # type: ignore[union-attr]
        for a in acts:
            lo, hi = bounds[a.key]
            if not (lo.is_number and hi.is_number) or lo > hi:
                raise SolveError(f"game `{g.name}`: the bounds of `{a.key}` are [{lo}, {hi}] at this point", game=g)
        focs = {a.key: self._foc(a, subs) for a in acts}
        candidates = self._kkt(acts, focs, bounds)
        exact = candidates is not None and all(all(isinstance(v, sp.Rational) for v in c.values()) for c in candidates)
        if candidates is None:
            candidates = self._iterate(acts, subs, bounds)
        kept: list[Any] = []
        for c in candidates:
            floats = {k: float(v) for k, v in c.items()}
            if self._is_equilibrium(acts, floats, subs, bounds) and not any(
                all(math.isclose(floats[k], float(o[k]), rel_tol=1e-9, abs_tol=1e-9) for k in floats) for o in kept
            ):
                kept.append(c)
        if not kept:
            raise SolveError(
                f"game `{g.name}`: no equilibrium found at this point (the first-order conditions have "
                "no solution that is a best reply for every role)",
                game=g,
            )
        equilibria = [self._model(c, subs) for c in kept]
        selected, rule = select(equilibria, require_symmetric=False)
        derivation = self._derivation(kept[selected or 0], subs, bounds) if derive else []
        return Found(
            equilibria, derivation, selected, rule, exact, mixing=None, notes=[] if len(kept) == len(candidates) else []
        )

    # -- the Karush-Kuhn-Tucker enumeration -----------------------------------------------------------
    def _kkt(self, acts, focs, bounds) -> list[dict[str, sp.Expr]] | None:
        keys = [a.key for a in acts]
        out: list[dict[str, sp.Expr]] = []
        for status in itertools.product(("lo", "hi", "in"), repeat=len(acts)):
            fixed = {
                k: bounds[k][0] if s == "lo" else bounds[k][1] for k, s in zip(keys, status, strict=False) if s != "in"
            }
            free = [k for k, s in zip(keys, status, strict=False) if s == "in"]
            eqs = [focs[k].xreplace({self.symbols[f]: v for f, v in fixed.items()}) for k in free]
            if free:
                try:
                    sols = sp.solve(eqs, [self.symbols[k] for k in free], dict=True)
                except (NotImplementedError, ValueError, TypeError):
                    return None
                if not sols and any(e.free_symbols for e in eqs):
                    continue
            else:
                sols = [{}]
            for sol in sols:
                values = dict(fixed)
                ok = True
                for k in free:
                    v = sol.get(self.symbols[k])
                    if v is None or not v.is_number or v.is_real is False:
                        ok = False
                        break
                    lo, hi = bounds[k]
                    if not (lo <= v <= hi):
                        ok = False
                        break
                    values[k] = v
                if ok and len(values) == len(keys):
                    out.append(values)
        return out

    def _iterate(self, acts, subs, bounds) -> list[dict[str, sp.Expr]]:
        """Damped best-reply iteration from the bounds' midpoint and corners."""
        keys = [a.key for a in acts]
        starts = [{k: (float(bounds[k][0]) + float(bounds[k][1])) / 2 for k in keys}]
        starts += [{k: float(bounds[k][i]) for k in keys} for i in (0, 1)]
        out = []
        for start in starts:
            x = dict(start)
            for _ in range(200):
                new = {}
                z = sp.Symbol("z_reply", real=True)
                for a in acts:
                    lo, hi = bounds[a.key]
                    new[a.key] = continuous.best_response(
                        self._reply_expr(a, x, subs, z), own=z, lo=lo, hi=hi, values={}
                    )
                step = max(abs(new[k] - x[k]) for k in keys)
                x = {k: 0.5 * x[k] + 0.5 * new[k] for k in keys}
                if step < 1e-12:
                    break
            out.append({k: sp.Float(v) for k, v in x.items()})
        return out

    def _is_equilibrium(self, acts, values: dict[str, float], subs, bounds) -> bool:
        z = sp.Symbol("z_check", real=True)
        for a in acts:
            f = sp.lambdify(z, self._reply_expr(a, values, subs, z), modules=["numpy"])
            lo, hi = float(bounds[a.key][0]), float(bounds[a.key][1])
            with np.errstate(all="ignore"):
                grid = np.linspace(lo, hi, 401)
                vals = np.broadcast_to(np.asarray(f(grid), dtype=float), grid.shape)
                base = float(f(values[a.key]))
            best = float(np.nanmax(vals))
            if not math.isfinite(base) or best - base > 1e-7 * max(1.0, abs(base)):
                return False
        return True

    # -- solution models -------------------------------------------------------------------------------
    def _model(self, values: dict[str, sp.Expr], subs) -> Equilibrium:
        g = self.game
        path: dict[str, dict[str, ActionValue]] = {}
        for a in g.actions:
            path.setdefault(a.owner, {})[a.name] = action_value(values[a.key])
        floats = {k: float(v) for k, v in values.items()}
        if self.plan_game:
            u = self._value(g.actions[0], floats, subs)
            return Equilibrium(
                path=path,
                strategy={"plan": {k: to_plain(v) for k, v in values.items()}},
                utilities={"ex-ante": u},
                symmetric=True,
            )
        utilities: dict[str, float | None] = {}
        for a in g.actions:
            utilities.setdefault(a.owner, self._value(a, floats, subs))
        return Equilibrium(path=path, utilities=utilities)

    def _derivation(self, values: dict[str, sp.Expr], subs, bounds) -> list[Decision]:
        out = []
        for a in self.game.actions:
            z = self.symbols[a.key]
            expr = self._reply_expr(a, values, subs, z)
            marginal = tidy(sp.diff(expr, z))
            out.append(
                Decision(
                    player=a.owner,
                    action=a.name,
                    kind=a.kind,
                    given={k: action_value(v) for k, v in values.items() if k != a.key},
                    utility=pretty(tidy(expr)),
                    marginal=pretty(marginal),
                    marginal_value=to_plain(marginal.xreplace({z: values[a.key]}))
                    if marginal.free_symbols <= {z}
                    else None,
                    chosen=action_value(values[a.key]),
                )
            )
        return out

    def certify(self, point: Point, found: Found) -> Verification:
        if self.plan_game:
            return self._certify_plan(point, found)
        return certify.profile_continuous(self.game, self.pref, point, found.equilibria)

    def _certify_plan(self, point: Point, found: Found) -> Verification:
        g = self.game
        subs = {g.params[n].symbol: sp.Rational(v.numerator, v.denominator) for n, v in point.items()}
        checked, worst = 0, 0.0
        z = sp.Symbol("z_dev", real=True)
        for eq in found.equilibria:
            values = {a.key: float(eq.path[a.owner][a.name]) for a in g.actions}
            for a in g.actions:
                expr = self._reply_expr(a, values, subs, z)
                f = sp.lambdify(z, expr, modules=["numpy"])
                df = sp.lambdify(z, sp.diff(expr, z), modules=["numpy"])
                lo, hi = float(a.lo.xreplace(subs)), float(a.hi.xreplace(subs))  # type: ignore[union-attr]
                n, gain = certify.argmax_continuous(f, df, lo, hi, values[a.key], f"the plan's `{a.key}`")
                checked += n
                worst = max(worst, gain)
        return Verification(
            method=f"no profitable deviation of any action of the plan on a grid of "
            f"{certify.CONTINUOUS_GRID} points over its bounds (both included), the rest of the "
            "plan fixed, and the first-order or boundary condition",
            deviations=checked,
            max_gain=worst,
            tolerance=certify.CONTINUOUS_TOL,
        )
