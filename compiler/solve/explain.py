"""``prefc explain``: a game's solution as a function of the parameters.

The preference's own parameters (kappa, alpha, ...) stay symbols, and so do the game's, so the
answer reads like the literature: "(cooperate, cooperate) is an equilibrium iff kappa >= (T - R)/(T - P)".

* symmetric finite games: for each option a, the exact condition under which everyone playing a is
  an equilibrium (every deviation weakly loses), isolated for the first preference parameter when it
  enters linearly (the sign of its coefficient is read at the parameters' default values and stated
  as an assumption);
* symmetric continuous games: the regimes of the closed-form symmetric equilibrium;
* sequential and single-mover games: the closed-form reply of each mover when every move is
  continuous, otherwise the outcome over a sweep of the first preference parameter, with the switch
  points located exactly between sweep points by bisection on rationals.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction

import sympy as sp

from prefc.compiler.check import CheckedPreference, PreferencePoint
from prefc.compiler.ir import BoundPreference, GameIR, symbolic_preference, symmetric_utility
from prefc.compiler.solve import continuous
from prefc.compiler.solve.engine import GameSolver, SolveError, _pretty_expr, symbolic_backward


@dataclass
class Regime:
    """One region of the parameter space and what is played there."""

    condition: str
    outcome: str
    note: str = ""


@dataclass
class Explanation:
    """A game's solution for a preference, as closed-form regimes where they exist."""

    game: str
    preference: str
    concept: str
    kantian: str
    utility: str
    method: str
    regimes: list[Regime] = field(default_factory=list)
    assumptions: list[str] = field(default_factory=list)

    def to_json(self) -> dict:
        return {
            "game": self.game, "preference": self.preference, "concept": self.concept, "kantian": self.kantian,
            "utility": self.utility, "method": self.method, "assumptions": self.assumptions,
            "regimes": [{"condition": r.condition, "outcome": r.outcome, "note": r.note} for r in self.regimes],
        }


def _text(e) -> str:
    if isinstance(e, sp.core.relational.Relational):
        op = {"==": "=", "!=": "!="}.get(e.rel_op, e.rel_op)
        return f"{_text(e.lhs)} {op} {_text(e.rhs)}"
    if isinstance(e, (sp.And, sp.Or)):
        joiner = " and " if isinstance(e, sp.And) else " or "
        return joiner.join(f"({_text(a)})" if isinstance(a, (sp.And, sp.Or)) else _text(a) for a in e.args)
    if e is sp.true:
        return "always"
    return _pretty_expr(e) if isinstance(e, sp.Basic) else str(e)


def explain(game: GameIR, pref: CheckedPreference, *, fixed: dict[str, Fraction] | None = None) -> Explanation:
    """Explain how a preference plays a game, as a function of the parameters.

    Args:
        game: The game's IR.
        pref: The preference (its parameters stay symbolic unless fixed).
        fixed: Preference parameter values to fix (the others stay symbols).
    """
    fixed = fixed or {}
    symbols = {k: sp.Symbol(k, real=True) for k in pref.defaults}
    values = {k: (sp.Rational(v.numerator, v.denominator) if k in fixed else symbols[k])
              for k, v in ((k, fixed.get(k, Fraction(0))) for k in pref.defaults)}
    lowerer = symbolic_preference(pref, values)
    point = PreferencePoint(pref.name, tuple((k, fixed.get(k, d if d is not None else Fraction(0)))
                                             for k, d in pref.defaults.items()))
    bound = BoundPreference(point, pref)
    solver = GameSolver(game, bound)
    free = [symbols[k] for k in pref.defaults if k not in fixed]
    kantian = game.describe_kantian() if bound.uses_kantian else "not used by this preference"
    label = pref.name if not fixed else point.label
    if solver.kind == "symmetric-finite":
        return _explain_symmetric_finite(game, pref, lowerer, free, solver, label, kantian)
    if solver.kind == "symmetric-continuous":
        return _explain_symmetric_continuous(game, lowerer, free, solver, label, kantian, pref)
    if solver.kind == "sequential" and all(not a.finite for a in game.actions):
        exp = _explain_backward_symbolic(game, pref, lowerer, free, solver, label, kantian)
        if exp is not None:
            return exp
    return _explain_by_sweep(game, pref, free, solver, label, kantian, fixed)


def _explain_backward_symbolic(game, pref, lowerer, free, solver, label, kantian) -> Explanation | None:
    """Closed-form backward induction when every move is continuous (each reply in closed form)."""
    params = [p.symbol for p in game.params.values()] + list(free)
    domain = solver._param_domain()
    for s in free:
        dom = pref.domains.get(s.name)
        domain[s] = (float(dom[0]), float(dom[1])) if dom else (0.0, 1.0)
    defaults = _defaults(game, pref, free)
    try:
        result = symbolic_backward(game, lowerer, params=params, domain=domain, free=free, pref=pref)
    except (NotImplementedError, TypeError, ValueError):
        return None
    if result is None:
        return None
    stages = [game.movers(k)[0] for k in range(game.n_stages)]
    assumptions: list[str] = []
    regimes = []
    for cond, pol, _ in result:
        cond = _isolate_condition(sp.simplify(cond), free, defaults, assumptions)
        if cond is sp.false:
            continue
        outcome = ", ".join(f"{a.owner}.{a.name} = {_text(sp.simplify(pol[a.name]))}" for a in stages)
        regimes.append(Regime(_text(cond), outcome))
    return Explanation(game.name, label, solver.concept, kantian, "", "closed form (backward induction, every "
                       "reply solved symbolically)", regimes, sorted(set(assumptions)))


def _defaults(game: GameIR, pref: CheckedPreference, free) -> dict[sp.Symbol, sp.Expr]:
    out: dict[sp.Symbol, sp.Expr] = {p.symbol: sp.Rational(p.default.numerator, p.default.denominator)
                                     for p in game.params.values()}
    for s in free:
        d = pref.defaults.get(s.name)
        out[s] = sp.Rational(d.numerator, d.denominator) if d is not None else sp.Rational(1, 2)
    return out


def _explain_symmetric_finite(game, pref, lowerer, free, solver, label, kantian) -> Explanation:
    action = game.actions[0]
    a, b = sp.Symbol("own_", real=True), sp.Symbol("rest_", real=True)
    u = symmetric_utility(game, lowerer, own={action.name: a}, rest={action.name: b})
    defaults = _defaults(game, pref, free)
    if action.kind == "labels":
        options = [sp.Integer(i) for i in range(len(action.labels))]
    else:
        options = action.options({p.symbol: defaults[p.symbol] for p in game.params.values()}, limit=50)
    utility = "; ".join(
        f"u({action.display(o1)}, {action.display(o2)}) = {_text(sp.factor(sp.simplify(u.subs({a: o1, b: o2}))))}"
        for o1 in options for o2 in options)
    regimes: list[Regime] = []
    assumptions: list[str] = []
    for opt in options:
        conds = []
        for dev in options:
            if dev == opt:
                continue
            diff = sp.simplify(u.subs({a: opt, b: opt}) - u.subs({a: dev, b: opt}))
            conds.append(_isolate(diff >= 0, free, defaults, assumptions))
        cond = sp.And(*conds) if conds else sp.true
        cond = sp.simplify(cond) if not isinstance(cond, sp.And) else cond
        name = action.display(opt)
        who = "everyone" if game.group else "both"
        regimes.append(Regime(condition=_text(cond), outcome=f"{who} {action.name} = {name} is an equilibrium"))
    return Explanation(game.name, label, solver.concept, kantian,
                       f"{utility}  (own {action.name} first, the others' second)", "closed form", regimes,
                       sorted(set(assumptions)))


def _isolate(rel, free, defaults, assumptions: list[str]):
    """Rewrite ``lhs >= 0`` as a bound on the first free preference parameter when it is linear in it."""
    if rel in (sp.true, sp.false) or not free:
        return rel
    expr = rel.lhs - rel.rhs
    for k in free:
        if not expr.has(k):
            continue
        poly = sp.Poly(sp.expand(expr), k) if sp.expand(expr).is_polynomial(k) else None
        if poly is None or poly.degree() != 1:
            continue
        c1, c0 = poly.all_coeffs()
        sign = sp.sign(c1.subs(defaults))
        if sign == 0:
            continue
        threshold = sp.simplify(-c0 / c1)
        if not c1.is_number:
            assumptions.append(f"{_text(sp.factor(c1))} {'>' if sign > 0 else '<'} 0")
        flip = {">=": "<=", ">": "<", "<=": ">=", "<": ">", "==": "==", "!=": "!="}
        op = rel.rel_op if sign > 0 else flip[rel.rel_op]
        return sp.Rel(k, threshold, op)
    return rel


def _isolate_condition(cond, free, defaults, assumptions: list[str]):
    """Isolate the preference parameter in every relation of a regime condition."""
    if isinstance(cond, sp.core.relational.Relational):
        return _isolate(cond, free, defaults, assumptions)
    if isinstance(cond, (sp.And, sp.Or)):
        return cond.func(*[_isolate_condition(c, free, defaults, assumptions) for c in cond.args])
    return cond


def _explain_symmetric_continuous(game, lowerer, free, solver, label, kantian, pref) -> Explanation:
    action = game.actions[0]
    x, y = sp.Symbol("x", real=True), sp.Symbol("y", real=True)
    u = symmetric_utility(game, lowerer, own={action.name: x}, rest={action.name: y})
    params = [p.symbol for p in game.params.values()] + list(free)
    domain = solver._param_domain()
    for s in free:
        dom = pref.domains.get(s.name)
        domain[s] = (float(dom[0]), float(dom[1])) if dom else (0.0, 1.0)
    sol = continuous.solve_symmetric_symbolic(u, own=x, other=y, lo=action.lo, hi=action.hi, params=params,
                                              domain=domain, solve_for=list(free) or None)
    utility = f"u(x, y) = {_text(sp.simplify(u))}  (own {action.name} x, others y)"
    if sol is None:
        exp = _explain_by_sweep(game, pref, free, solver, label, kantian, {})
        exp.utility = utility
        return exp
    defaults = _defaults(game, pref, free)
    assumptions: list[str] = []
    regimes = [Regime(condition=_text(_isolate_condition(r.condition, free, defaults, assumptions)),
                      outcome=f"{action.name} = {_text(r.action)}",
                      note=r.reason + (" (indifferent: every level is optimal)" if r.indifferent else ""))
               for r in sol.regimes]
    method = f"closed form ({sol.method}); first-order condition du/dx at y = x: {_text(sol.foc)}" \
        if sol.foc is not None else f"closed form ({sol.method})"
    return Explanation(game.name, label, solver.concept, kantian, utility, method, regimes, sorted(set(assumptions)))


def _explain_by_sweep(game, pref, free, solver, label, kantian, fixed) -> Explanation:
    """Outcome over a sweep of the first free preference parameter, switch points located exactly."""
    if not free:
        sol = solver.solve()
        outcome = _outcome(sol)
        return Explanation(game.name, label, solver.concept, kantian, "", "solved at the default parameters",
                           [Regime("always (at the default game parameters)", outcome)])
    k = free[0]
    dom = pref.domains.get(k.name) or (Fraction(0), Fraction(1))
    lo, hi = Fraction(dom[0]), Fraction(dom[1])
    steps = 20
    grid = [lo + (hi - lo) * i / steps for i in range(steps + 1)]

    def outcome_at(v: Fraction) -> str:
        values = {**{s: pref.defaults.get(s) for s in pref.defaults}, **fixed, k.name: v}
        point = PreferencePoint(pref.name, tuple((n, Fraction(values[n] if values[n] is not None else 0))
                                                 for n in pref.defaults))
        try:
            return _outcome(GameSolver(game, BoundPreference(point, pref)).solve())
        except SolveError as exc:
            return f"unsolved: {exc}"

    outcomes = [outcome_at(v) for v in grid]
    changes = sum(outcomes[i] != outcomes[i - 1] for i in range(1, len(grid)))
    params = ", ".join(f"{n} = {_fmt(p.default)}" for n, p in game.params.items())
    if changes > 4:  # the outcome moves continuously: show it as a table, not as regimes
        rows = [Regime(f"{k.name} = {_fmt(v)}", o) for v, o in zip(grid, outcomes)]
        return Explanation(game.name, label, solver.concept, kantian, "",
                           f"solved at {k.name} = {_fmt(lo)}, ..., {_fmt(hi)} at {params or 'no parameters'} "
                           "(the outcome varies continuously; no closed form found)", rows)
    regimes: list[Regime] = []
    start = grid[0]
    for i in range(1, len(grid)):
        if outcomes[i] != outcomes[i - 1]:
            a, b = grid[i - 1], grid[i]
            for _ in range(30):  # bisection on rationals: the switch point to ~1e-9 of the range
                mid = (a + b) / 2
                if outcome_at(mid) == outcomes[i - 1]:
                    a = mid
                else:
                    b = mid
            switch = Fraction(a).limit_denominator(1000)
            regimes.append(Regime(f"{_fmt(start)} <= {k.name} < {_fmt(switch)}", outcomes[i - 1]))
            start = switch
    regimes.append(Regime(f"{_fmt(start)} <= {k.name} <= {_fmt(grid[-1])}", outcomes[-1]))
    return Explanation(game.name, label, solver.concept, kantian, "",
                       f"solved over {k.name} in [{_fmt(lo)}, {_fmt(hi)}] at {params or 'no parameters'}; "
                       "switch points located by bisection", regimes)


def _fmt(v: Fraction) -> str:
    return str(v.numerator) if v.denominator == 1 else f"{v.numerator}/{v.denominator}"


def _outcome(sol) -> str:
    eq = sol.answer
    if eq is None:
        if sol.equilibria:
            return "only mixed or asymmetric equilibria"
        return "no equilibrium found"
    parts = []
    for player, acts in eq.path.items():
        parts.extend(f"{player}.{a} = {v}" for a, v in acts.items())
    if len(set(tuple(a.items()) for a in eq.path.values())) == 1 and len(eq.path) > 2:
        first = next(iter(eq.path.values()))
        parts = [f"everyone {a} = {v}" for a, v in first.items()]
    return ", ".join(parts)
