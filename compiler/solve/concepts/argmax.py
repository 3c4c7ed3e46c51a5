"""``argmax``: one mover's best choice against declared beliefs about every other action
(``belief col.move = cooperate``), or any game declaring ``solve argmax``."""

from __future__ import annotations

from fractions import Fraction
from typing import TYPE_CHECKING

import sympy as sp

from prefc.compiler.ir import ActionIR, GameIR, action_value, to_plain
from prefc.compiler.lazy import lazy_module
from prefc.compiler.limits import MAX_OPTIONS
from prefc.compiler.solution import Decision, Equilibrium, OptionValue, Verification
from prefc.compiler.solve import certify, univariate
from prefc.compiler.solve.concept import Concept, Found, Judged, Point, SolveError, concept
from prefc.compiler.solve.derive import argmaxes, exact_value, pretty, shown, tidy
from prefc.compiler.solve.utility import named_utility, role_utility
from prefc.numbers import utility_text

if TYPE_CHECKING:
    import numpy as np
else:
    np = lazy_module("numpy", globals(), "np")

__all__ = ["Argmax"]


@concept
class Argmax(Concept):
    """A best reply to declared beliefs."""

    name = "argmax"

    @classmethod
    def fits(cls, game: GameIR) -> bool:
        explicit = game.checked.ast.concept.name if game.checked.ast.concept is not None else None
        return bool(game.checked.ast.beliefs) or explicit == "argmax"

    def _setup(self, point: Point):
        g = self.game
        if g.group is not None:
            raise SolveError(f"game `{g.name}`: `solve argmax` needs named roles", game=g)
        subs = {g.params[n].symbol: sp.Rational(v.numerator, v.denominator) for n, v in point.items()}
        low = g.lowerer({n: subs[p.symbol] for n, p in g.params.items()})
        believed: dict[str, sp.Expr] = {}
        for b in g.checked.ast.beliefs:
            owner = (
                b.ref.player.name
                if b.ref.player is not None
                else next(a.owner for a in g.actions if a.name == b.ref.action.name)
            )
            act = g.action(owner, b.ref.action.name)
            believed[act.key] = low.expr(b.value, None, {})
        free = [a for a in g.actions if a.key not in believed]
        if len(free) != 1:
            raise SolveError(
                f"game `{g.name}`: `solve argmax` needs beliefs about every action but one ({len(free)} are free)",
                game=g,
            )
        return subs, believed, free[0]

    def _utility(self, act: ActionIR, values: dict[str, sp.Expr], subs) -> sp.Expr:
        g = self.game
        prof: dict[str, dict[str, sp.Expr]] = {r: {} for r in g.roles}
        for a in g.actions:
            if a.key in values:
                prof[a.owner][a.name] = values[a.key]
        params = {n: subs[p.symbol] for n, p in g.params.items()}
        if g.symmetric or g.kantian_mode == "substitute":
            return named_utility(g, self.pref.lowerer, role=act.owner, actual=prof, params=params)
        return role_utility(g, self.pref.lowerer, role=act.owner, actual=prof, self_play=prof, params=params)

    def find(self, point: Point, *, derive: bool) -> Found:
        subs, believed, act = self._setup(point)
        g = self.game
        given = {g.action_label(g.action_by_key(k)): shown(g.action_by_key(k), v) for k, v in believed.items()}
        if act.finite:
            opts = act.options(subs, limit=MAX_OPTIONS)
            utils = [
                exact_value(
                    self._utility(act, {**believed, act.key: o}, subs),
                    f"`{act.owner}` choosing {act.name} = {shown(act, o)}",
                )
                for o in opts
            ]
            winners = argmaxes(utils)
            choice = opts[winners[0]]
            decision = Decision(
                player=act.owner,
                action=act.name,
                kind=act.kind,
                given=given,
                options=[
                    OptionValue(value=shown(act, o), utility=to_plain(u), exact=utility_text(u))
                    for o, u in zip(opts, utils, strict=False)
                ],
                chosen=shown(act, choice),
                ties=[shown(act, opts[i]) for i in winners[1:]],
            )
            value = utils[winners[0]]
        else:
            z = act.symbol
            val = self._utility(act, {**believed, act.key: z}, subs)
            lo, hi = act.lo.xreplace(subs), act.hi.xreplace(subs)
            choice = univariate.argmax(val, z, lo, hi)
            decision = Decision(
                player=act.owner,
                action=act.name,
                kind=act.kind,
                given=given,
                utility=pretty(tidy(val)),
                marginal=pretty(tidy(sp.diff(val, z))),
                chosen=action_value(choice),
            )
            value = exact_value(val.xreplace({z: choice}), f"`{act.owner}`")
        eq = Equilibrium(path={act.owner: {act.name: shown(act, choice)}}, utilities={act.owner: to_plain(value)})
        return Found(
            [eq],
            [decision] if derive else [decision],
            0,
            "best reply to the declared beliefs",
            act.finite and isinstance(value, Fraction),
            witness=(believed, act),
        )

    def certify(self, point: Point, found: Found) -> Verification:
        subs, believed, act = self._setup(point)
        eq = found.equilibria[0]
        chosen = eq.path[act.owner][act.name]
        if act.finite:
            opts = act.options(subs, limit=MAX_OPTIONS)
            mine = exact_value(
                self._utility(act, {**believed, act.key: certify._code(act, chosen, opts)}, subs), f"`{act.owner}`"
            )
            worst = 0.0
            for o in opts:
                gain = exact_value(self._utility(act, {**believed, act.key: o}, subs), f"`{act.owner}`") - mine
                if gain > 0:
                    raise certify.CertificateError(
                        f"`{act.owner}` gains {float(gain):.6g} with {act.name} = {shown(act, o)}"
                    )
                worst = max(worst, float(gain))
            return Verification(
                method="no better option against the beliefs, exact", deviations=len(opts), max_gain=max(worst, 0.0)
            )
        z = sp.Symbol("z_dev", real=True)
        val = self._utility(act, {**believed, act.key: z}, subs)
        f = sp.lambdify(z, val, modules=["numpy"])
        df = sp.lambdify(z, sp.diff(val, z), modules=["numpy"])
        lo, hi = float(act.lo.xreplace(subs)), float(act.hi.xreplace(subs))
        with np.errstate(all="ignore"):
            n, gain = certify.argmax_continuous(f, df, lo, hi, float(chosen), f"`{act.owner}`")
        return Verification(
            method=f"no better action on a grid of {certify.CONTINUOUS_GRID} points over the bounds "
            "(both included) and the first-order or boundary condition",
            deviations=n,
            max_gain=gain,
            tolerance=certify.CONTINUOUS_TOL,
        )

    def judge(self, point: Point, *, role: str, action: str, history, found: Found) -> Judged | None:
        if history or not found.derivation:
            return None
        decision = found.derivation[0]
        if decision.options is not None:
            table = {o.value: o.utility for o in decision.options}
            return Judged(decision, table.get)
        return Judged(decision, None)
