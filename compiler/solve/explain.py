"""``prefc explain``: a game's solution as a function of the parameters.

The preference's own parameters (kappa, alpha, ...) stay symbols, and so do the game's, so the
answer reads like the literature: "(cooperate, cooperate) is an equilibrium iff
kappa >= (T - R)/(T - P)". The closed form comes from the game's concept
(:meth:`.concept.Concept.closed_form`); a preference parameter is isolated where the sign of its
coefficient is known at the default values (the sign is stated as an assumption). Where a concept
has no closed form, the outcome is shown over a sweep of the first preference parameter, with the
switch points located exactly between sweep points by bisection on rationals.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction

import sympy as sp

from prefc.compiler.check import CheckedPreference, PreferencePoint
from prefc.compiler.ir import BoundPreference, GameIR
from prefc.compiler.solve.closed import ClosedForm, fewest_minus
from prefc.compiler.solve.concept import SolveError
from prefc.compiler.solve.concepts import concept_for
from prefc.compiler.solve.concepts.symmetric_continuous import declared_domains
from prefc.compiler.solve.derive import pretty
from prefc.compiler.solve.nash import STRATEGY_LEVEL
from prefc.compiler.solve.solver import GameSolver
from prefc.compiler.solve.utility import symbolic_preference
from prefc.numbers import fraction_text

__all__ = ["Explanation", "Regime", "explain"]


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
    mixing: str | None = None

    def to_json(self) -> dict:
        return {
            "game": self.game,
            "preference": self.preference,
            "concept": self.concept,
            "kantian": self.kantian,
            "mixing": self.mixing,
            "utility": self.utility,
            "method": self.method,
            "assumptions": self.assumptions,
            "regimes": [{"condition": r.condition, "outcome": r.outcome, "note": r.note} for r in self.regimes],
        }


def text(e) -> str:
    """How ``prefc explain`` prints a condition or an expression (``kappa >= (R - T)/(P - T)``)."""
    if isinstance(e, sp.core.relational.Relational):
        op = {"==": "=", "!=": "!="}.get(e.rel_op, e.rel_op)
        return f"{text(e.lhs)} {op} {text(e.rhs)}"
    if isinstance(e, (sp.And, sp.Or)):
        joiner = " and " if isinstance(e, sp.And) else " or "
        return joiner.join(f"({text(a)})" if isinstance(a, (sp.And, sp.Or)) else text(a) for a in e.args)
    if e is sp.true:
        return "always"
    if e is sp.false:
        return "never"
    if isinstance(e, sp.Expr) and e.free_symbols and e.is_rational_function():
        return pretty(fewest_minus(e))
    return pretty(e) if isinstance(e, sp.Basic) else str(e)


def _defaults(game: GameIR, pref: CheckedPreference, free) -> dict[sp.Symbol, sp.Expr]:
    out: dict[sp.Symbol, sp.Expr] = {
        p.symbol: sp.Rational(p.default.numerator, p.default.denominator) for p in game.params.values()
    }
    for s in free:
        d = pref.defaults.get(s.name)
        out[s] = sp.Rational(d.numerator, d.denominator) if d is not None else sp.Rational(1, 2)
    return out


def explain(game: GameIR, pref: CheckedPreference, *, fixed: dict[str, Fraction] | None = None) -> Explanation:
    """Explain how a preference plays a game, as a function of the parameters.

    Args:
        game: The game's IR.
        pref: The preference (its parameters stay symbolic unless fixed).
        fixed: Preference parameter values to fix (the others stay symbols).

    Raises:
        SolveError: when no concept solves a game of this shape.
    """
    fixed = fixed or {}
    symbols = {k: sp.Symbol(k, real=True) for k in pref.defaults}
    values = {
        k: (sp.Rational(fixed[k].numerator, fixed[k].denominator) if k in fixed else symbols[k]) for k in pref.defaults
    }
    lowerer = symbolic_preference(pref, values)
    point = PreferencePoint(
        pref.name, tuple((k, fixed.get(k, d if d is not None else Fraction(0))) for k, d in pref.defaults.items())
    )
    bound = BoundPreference(point, pref)
    cls = concept_for(game)
    concept = cls(game, bound)
    name = getattr(concept, "label", concept.name)
    free = [symbols[k] for k in pref.defaults if k not in fixed]
    kantian = game.describe_kantian() if bound.uses_kantian else "not used by this preference"
    label = pref.name if not fixed else point.label
    defaults = _defaults(game, pref, free)

    def sign_of(expr: sp.Expr) -> int | None:
        v = expr.xreplace(defaults)
        if not v.is_number or v == 0:
            return None
        return 1 if v > 0 else -1

    ranges = dict(declared_domains(game))
    for s in free:
        dom = pref.domains.get(s.name)
        ranges[s] = (float(dom[0]), float(dom[1])) if dom else (0.0, 1.0)
    try:
        form = cls.closed_form(game, lowerer, free=free, consts={}, ranges=ranges, sign_of=sign_of)
    except (NotImplementedError, TypeError, ValueError, RecursionError):
        form = None
    if form is None:
        return _by_sweep(game, pref, free, name, label, kantian, fixed)
    exp = _render(game, form, name, label, kantian)
    if bound.uses_kantian and (form.against_mixtures or form.mixed) and cls.__name__ == "SymmetricFinite":
        exp.mixing = STRATEGY_LEVEL
    return exp


def _render(game: GameIR, form: ClosedForm, concept: str, label: str, kantian: str) -> Explanation:
    regimes: list[Regime] = []
    who = "everyone" if game.group else "both"
    if form.kind == "conditions":
        action = game.actions[0].name
        for opt, cond in form.conditions.items():
            regimes.append(Regime(text(cond), f"{who} {action} = {opt} is an equilibrium"))
        for opt, cond in form.against_mixtures.items():
            regimes.append(
                Regime(
                    text(cond),
                    f"{who} {action} = {opt} is an equilibrium against mixed strategies too",
                    "strategy-level Kantian term: the utility of a mixture is quadratic in it",
                )
            )
        for m in form.mixed:
            regimes.append(
                Regime(
                    text(m.condition),
                    f"{who} mix: {action} = {m.first} with probability {text(m.probability)}, else {m.second}",
                    "symmetric mixed equilibrium",
                )
            )
    else:
        for i, (cond, acts, indifferent) in enumerate(form.regimes):
            outcome = ", ".join(f"{k} = {text(sp.simplify(v))}" for k, v in acts.items())
            note = form.reasons[i] if i < len(form.reasons) else ""
            if indifferent:
                note += " (indifferent: every level is optimal)"
            regimes.append(Regime(text(cond), outcome, note))
    method = form.method
    if form.notes:
        method += "; " + "; ".join(form.notes)
    return Explanation(
        game.name, label, concept, kantian, form.utility, method, regimes, sorted({text(a) for a in form.assumptions})
    )


def _outcome(sol) -> str:
    eq = sol.answer
    if eq is None:
        if sol.equilibria:
            return "only mixed or asymmetric equilibria"
        return "no equilibrium found"
    parts: list[str] = []
    for player, acts in eq.path.items():
        parts.extend(f"{player}.{a} = {_shown(v)}" for a, v in acts.items())
    if len(set(tuple(a.items()) for a in eq.path.values())) == 1 and len(eq.path) > 2:
        first = next(iter(eq.path.values()))
        parts = [f"everyone {a} = {_shown(v)}" for a, v in first.items()]
    return ", ".join(parts)


def _shown(v: object) -> str:
    """An action's value as the explanation prints it: a numeric optimum to six significant digits
    (the solver's float noise, 5.999999975 for 6, is not part of the answer), a label as it is."""
    from prefc.numbers import fmt_number

    return fmt_number(v, style="general", digits=6) if isinstance(v, float) else str(v)


def _by_sweep(
    game: GameIR, pref: CheckedPreference, free, concept: str, label: str, kantian: str, fixed: dict[str, Fraction]
) -> Explanation:
    """Outcome over a sweep of the first free preference parameter, switch points located exactly."""

    def outcome_at(v: Fraction | None) -> str:
        values = {**{s: pref.defaults.get(s) for s in pref.defaults}, **fixed}
        if v is not None:
            values[free[0].name] = v
        point = PreferencePoint(pref.name, tuple((n, Fraction(values[n] or 0)) for n in pref.defaults))
        try:
            return _outcome(GameSolver(game, BoundPreference(point, pref)).solve())
        except SolveError as exc:
            return f"unsolved: {exc}"

    params = ", ".join(f"{n} = {fraction_text(p.default)}" for n, p in game.params.items())
    if not free:
        return Explanation(
            game.name,
            label,
            concept,
            kantian,
            "",
            "solved at the default parameters",
            [Regime("always (at the default game parameters)", outcome_at(None))],
        )
    k = free[0]
    dom = pref.domains.get(k.name) or (Fraction(0), Fraction(1))
    lo, hi = Fraction(dom[0]), Fraction(dom[1])
    steps = 20
    grid = [lo + (hi - lo) * i / steps for i in range(steps + 1)]
    outcomes = [outcome_at(v) for v in grid]
    changes = sum(outcomes[i] != outcomes[i - 1] for i in range(1, len(grid)))
    if changes > 4:  # the outcome moves continuously: show it as a table, not as regimes
        rows = [Regime(f"{k.name} = {fraction_text(v)}", o) for v, o in zip(grid, outcomes, strict=False)]
        return Explanation(
            game.name,
            label,
            concept,
            kantian,
            "",
            f"solved at {k.name} = {fraction_text(lo)}, ..., {fraction_text(hi)} at {params or 'no parameters'} "
            "(the outcome varies continuously; no closed form found)",
            rows,
        )
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
            regimes.append(Regime(f"{fraction_text(start)} <= {k.name} < {fraction_text(switch)}", outcomes[i - 1]))
            start = switch
    regimes.append(Regime(f"{fraction_text(start)} <= {k.name} <= {fraction_text(grid[-1])}", outcomes[-1]))
    return Explanation(
        game.name,
        label,
        concept,
        kantian,
        "",
        f"solved over {k.name} in [{fraction_text(lo)}, {fraction_text(hi)}] at {params or 'no parameters'}; "
        "switch points located by bisection",
        regimes,
    )
