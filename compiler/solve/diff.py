"""Where two solutions part: one game played by two preferences, or by one preference in two specs.

A comparison has two *sides*, each a game of a spec played by a preference whose parameters are
either fixed (``moralis(kappa=0.5)``) or left *free* (``moralis``: kappa is swept over its domain
as well). :func:`compare` answers in two independent ways and checks that they agree:

* **Closed form.** Each side's solution is derived symbolically from the IR, like ``prefc explain``
  does, but kept as sympy booleans: for symmetric finite games the condition under which everyone
  playing an option is an equilibrium; for symmetric continuous games and sequential games with
  continuous moves the regimes of the closed-form solution. The region where the sides part is
  built from these conditions with sympy's relational logic (never from text): for conditions,
  an option is an equilibrium on one side and not on the other; for regimes, both regimes hold
  and their actions differ. The region is stated in general (``region_general``) and, simplified
  on the swept parameter values, as ``region``: atoms in the game parameters alone that do not
  change sign over the swept values are settled, and terms that change nothing at any swept point
  are dropped (exact in the free preference parameter when there is one: its sets are intervals).
  A preference parameter is isolated in a condition (``kappa >= (T - R)/(T - P)``) only where the
  sign of its coefficient is the same at every grid point; that sign is stated as an assumption.
* **Grid.** Every side is compiled once per preference point (:class:`GameSolver`) and evaluated at
  every combination of the swept game parameters (``vary``) and of a grid over each free
  preference parameter. At each point the *sets* of equilibrium paths are compared: ``same``,
  ``overlap`` (they share some equilibria, e.g. both defect but one may also cooperate) or
  ``differ`` (disjoint).

The agreement check compares, at every grid point and for both sides, what the closed form
predicts (the set of symmetric pure equilibria, or the selected action of the regime that applies;
an indifference regime predicts its selected action, the lower bound, as the solver does) with
what the solver found.

Game parameters: a parameter swept in either spec is a shared coordinate; one that is constant and
equal in both stays a shared symbol; one whose constant value differs between two specs, or that
only one spec has, is fixed per side at that side's value (and said so).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

import sympy as sp

from prefc.compiler.check import CheckedPreference, PreferencePoint
from prefc.compiler.ir import BoundPreference, GameIR, symbolic_preference, symmetric_utility, to_plain
from prefc.compiler.lower import LoweringError
from prefc.compiler.solution import Equilibrium, Solution
from prefc.compiler.solve import continuous
from prefc.compiler.solve.engine import GameSolver, SolveError, symbolic_backward
from prefc.compiler.solve.exact import NotCompilable, compile_exact

DEFAULT_STEPS = 20
"""Intervals in the grid over a free preference parameter (21 points)."""

_ROUND = 9
_MAX_ATOMS = 24  # regions with more distinct atoms are reported unsimplified


class DiffError(ValueError):
    """Two sides that cannot be compared (the message says why)."""


# ----------------------------------------------------------------------------- sides


@dataclass(frozen=True)
class Side:
    """One side of a comparison: a game played by a preference.

    Attributes:
        name: How the side is called in reports (a preference label, or a spec's name).
        game: The game's IR.
        pref: The checked preference.
        fixed: Preference parameters with a value.
        free: Preference parameters swept over their domain.
        spec: The spec's name (for reports).
    """

    name: str
    game: GameIR
    pref: CheckedPreference
    fixed: tuple[tuple[str, Fraction], ...] = ()
    free: tuple[str, ...] = ()
    spec: str = ""

    @property
    def label(self) -> str:
        """The preference as written, free parameters marked: ``moralis`` or ``moralis(kappa=1/2)``."""
        fixed = dict(self.fixed)
        if not self.free:
            return PreferencePoint(self.pref.name, tuple(fixed.items())).label
        if not fixed:
            return self.pref.name
        given = PreferencePoint(self.pref.name, tuple(fixed.items())).label
        return f"{given[:-1]}; {', '.join(self.free)} free)"

    def values(self, free_values: dict[str, Fraction]) -> PreferencePoint:
        """The preference point at given values of the free parameters.

        Args:
            free_values: A value for every free parameter (extra names are ignored).
        """
        fixed = dict(self.fixed)
        out = []
        for k, default in self.pref.defaults.items():
            if k in self.free:
                out.append((k, Fraction(free_values[k])))
            elif k in fixed:
                out.append((k, Fraction(fixed[k])))
            elif default is not None:
                out.append((k, Fraction(default)))
            else:
                raise DiffError(f"preference `{self.pref.name}` needs a value for `{k}`")
        return PreferencePoint(self.pref.name, tuple(out))


def make_side(game: GameIR, pref: CheckedPreference, *, fixed: dict[str, Fraction] | None = None,
              free: Sequence[str] | None = None, name: str | None = None, spec: str = "") -> Side:
    """Build a side, checking the free parameters.

    Args:
        game: The game's IR.
        pref: The checked preference.
        fixed: Parameters with a value.
        free: Parameters to sweep (default: none). Each needs a declared domain.
        name: Display name (default: the preference label).
        spec: The spec's name.

    Raises:
        DiffError: A free parameter without a domain, or one that is also fixed.
    """
    fixed = {k: Fraction(v) for k, v in (fixed or {}).items()}
    free_t = tuple(free or ())
    for k in free_t:
        if k in fixed:
            raise DiffError(f"parameter `{k}` of `{pref.name}` is both fixed and free")
        if k not in pref.defaults:
            raise DiffError(f"preference `{pref.name}` has no parameter `{k}`")
        if pref.domains.get(k) is None:
            raise DiffError(f"parameter `{k}` of `{pref.name}` has no domain to sweep; give it a value")
    side = Side(name or "", game, pref, tuple(fixed.items()), free_t, spec)
    if not name:
        side = Side(side.label, game, pref, side.fixed, free_t, spec)
    return side


# ----------------------------------------------------------------------------- the grid


@dataclass
class Grid:
    """The points a comparison is evaluated at.

    Attributes:
        axes: Swept game parameters and their values (shared coordinates).
        shared: Game parameters that are constant and equal on both sides (they stay symbols in
            the closed forms).
        own: Per side, game parameters fixed at that side's own value (substituted in its closed form).
        free: Free preference parameters and their grid values.
        domains: The free parameters' domains.
    """

    axes: dict[str, list[Fraction]]
    shared: dict[str, Fraction]
    own: tuple[dict[str, Fraction], dict[str, Fraction]]
    free: dict[str, list[Fraction]]
    domains: dict[str, tuple[Fraction, Fraction]]
    notes: list[str] = field(default_factory=list)

    def game_points(self) -> list[dict[str, Fraction]]:
        """Every combination of the swept game parameters."""
        names = list(self.axes)
        return [dict(zip(names, combo)) for combo in itertools.product(*(self.axes[n] for n in names))]

    def free_points(self) -> list[dict[str, Fraction]]:
        """Every combination of the free preference parameters (one empty point when none)."""
        names = list(self.free)
        return [dict(zip(names, combo)) for combo in itertools.product(*(self.free[n] for n in names))]


def _fmt(v: Fraction) -> str:
    return str(v.numerator) if v.denominator == 1 else f"{v.numerator}/{v.denominator}"


def build_grid(a: Side, b: Side, *, steps: int = DEFAULT_STEPS) -> Grid:
    """The grid of a comparison: swept game parameters, shared constants, free preference parameters.

    Args:
        a: The first side.
        b: The second side.
        steps: Intervals in the grid over each free preference parameter.

    Raises:
        DiffError: ``steps`` below 1, or a free parameter whose domains differ between the sides.
    """
    if steps < 1:
        raise DiffError("the grid needs at least one step")
    pa, pb = a.game.params, b.game.params
    axes: dict[str, list[Fraction]] = {}
    shared: dict[str, Fraction] = {}
    own: tuple[dict[str, Fraction], dict[str, Fraction]] = ({}, {})
    notes: list[str] = []
    for name in list(pa) + [n for n in pb if n not in pa]:
        in_a, in_b = name in pa, name in pb
        swept = (in_a and pa[name].sweep) or (in_b and pb[name].sweep)
        if swept:
            vals = set(pa[name].sweep if in_a and pa[name].sweep else ())
            vals |= set(pb[name].sweep if in_b and pb[name].sweep else ())
            if in_a and not pa[name].sweep:
                vals.add(pa[name].default)
            if in_b and not pb[name].sweep:
                vals.add(pb[name].default)
            axes[name] = sorted(vals)
        elif in_a and in_b and pa[name].default == pb[name].default:
            shared[name] = pa[name].default
        else:
            if in_a:
                own[0][name] = pa[name].default
            if in_b:
                own[1][name] = pb[name].default
            if in_a and in_b:
                notes.append(f"{name} = {_fmt(pa[name].default)} for {a.name}, {_fmt(pb[name].default)} for {b.name}")
            else:
                notes.append(f"{name} exists only for {a.name if in_a else b.name} "
                             f"(= {_fmt((pa if in_a else pb)[name].default)})")
    free: dict[str, list[Fraction]] = {}
    domains: dict[str, tuple[Fraction, Fraction]] = {}
    for side in (a, b):
        for k in side.free:
            dom = side.pref.domains[k]
            assert dom is not None
            lo, hi = Fraction(dom[0]), Fraction(dom[1])
            if k in domains and domains[k] != (lo, hi):
                raise DiffError(f"free parameter `{k}` has domain [{_fmt(domains[k][0])}, {_fmt(domains[k][1])}] "
                                f"on one side and [{_fmt(lo)}, {_fmt(hi)}] on the other")
            domains[k] = (lo, hi)
            free[k] = [lo + (hi - lo) * i / steps for i in range(steps + 1)] if hi > lo else [lo]
    clash = set(free) & (set(pa) | set(pb))
    if clash:
        raise DiffError(f"`{sorted(clash)[0]}` names both a game parameter and a free preference parameter; "
                        "give the preference parameter a value")
    return Grid(axes, shared, own, free, domains, notes)


# ----------------------------------------------------------------------------- equilibrium sets


def _num_key(v: Any) -> Any:
    if isinstance(v, bool) or isinstance(v, str):
        return v
    if isinstance(v, (int, float)):
        return round(float(v), _ROUND) + 0.0
    return v


def equilibrium_key(eq: Equilibrium) -> tuple:
    """A hashable identity of an equilibrium's path (with the mixing probabilities of a mixed one).

    Args:
        eq: The equilibrium.
    """
    if eq.probabilities:
        return ("mixed",) + tuple(sorted(
            (p, a, o, round(q, _ROUND)) for p, acts in eq.probabilities.items() for a, probs in acts.items()
            for o, q in probs.items()))
    return ("pure",) + tuple(sorted((p, a, _num_key(v)) for p, acts in eq.path.items() for a, v in acts.items()))


def describe_equilibrium(eq: Equilibrium) -> str:
    """One equilibrium in a few words: ``everyone give = 20``, ``investor.send = 10, trustee.back = 0``.

    Args:
        eq: The equilibrium.
    """
    def val(v):
        return f"{v:.4g}" if isinstance(v, float) else str(v)

    if eq.probabilities:
        parts = []
        for p, acts in eq.probabilities.items():
            for a, probs in acts.items():
                parts.append(f"{p}.{a} ~ " + ", ".join(f"{o} {q:.3g}" for o, q in probs.items() if q > 0))
        if len({s.split(" ~ ")[1] for s in parts}) == 1 and len(parts) > 1:
            a = next(iter(next(iter(eq.probabilities.values()))))
            return f"mixed: everyone {a} ~ " + parts[0].split(" ~ ")[1]
        return "mixed: " + "; ".join(parts)
    flat = [(p, a, v) for p, acts in eq.path.items() for a, v in acts.items()]
    if len(eq.path) > 1 and len({(a, _num_key(v)) for _, a, v in flat}) == len({a for _, a, _ in flat}) \
            and eq.symmetric:
        return ", ".join(f"everyone {a} = {val(v)}" for a, v in next(iter(eq.path.values())).items())
    return ", ".join(f"{p}.{a} = {val(v)}" for p, a, v in flat)


@dataclass(frozen=True)
class Outcome:
    """What one side plays at one point, as the solver found it."""

    keys: frozenset
    text: str
    symmetric_pure: frozenset | None
    selected: dict[str, Any] | None
    error: str | None = None


def _outcome(sol: Solution, game: GameIR) -> Outcome:
    keys = frozenset(equilibrium_key(e) for e in sol.equilibria)
    texts = [describe_equilibrium(e) for e in sol.equilibria]
    text = " | ".join(texts) if texts else "no equilibrium found"
    sym = None
    if game.symmetric and len({a.name for a in game.actions}) == 1:
        act = game.actions[0].name
        sym = frozenset(_num_key(next(iter(e.path.values()))[act]) for e in sol.equilibria
                        if e.is_pure and e.symmetric)
    selected = None
    ans = sol.answer
    if ans is not None and ans.is_pure:
        selected = {}
        for p, acts in ans.path.items():
            for a, v in acts.items():
                key = a if game.symmetric else f"{p}.{a}"
                selected.setdefault(key, _num_key(v))
    return Outcome(keys, text, sym, selected)


def status_of(a: Outcome, b: Outcome) -> str:
    """``same``, ``overlap`` or ``differ`` for two sets of equilibria (``error`` if a side failed).

    Args:
        a: The first side's outcome.
        b: The second side's outcome.
    """
    if a.error or b.error:
        return "error"
    if a.keys == b.keys:
        return "same"
    return "overlap" if a.keys & b.keys else "differ"


# ----------------------------------------------------------------------------- closed forms


@dataclass
class ClosedForm:
    """A side's solution as sympy conditions in the parameters.

    Attributes:
        kind: ``conditions`` (symmetric finite games: option -> when everyone playing it is an
            equilibrium) or ``regimes`` (piecewise closed-form solution: condition -> actions).
        method: How it was derived.
        conditions: For ``conditions``: option -> condition.
        regimes: For ``regimes``: (condition, {action: expression}, indifferent).
        assumptions: Signs assumed when isolating a preference parameter (checked on the grid).
    """

    kind: str
    method: str
    conditions: dict[Any, sp.Basic] = field(default_factory=dict)
    regimes: list[tuple[sp.Basic, dict[str, sp.Expr], bool]] = field(default_factory=list)
    assumptions: list[sp.Basic] = field(default_factory=list)


SignOracle = Callable[[sp.Expr], int | None]


def _isolate(rel: sp.Basic, free: Sequence[sp.Symbol], sign_of: SignOracle, assumptions: list[sp.Basic]) -> sp.Basic:
    """Rewrite ``lhs op rhs`` as a bound on a free preference parameter it is linear in, when the sign
    of that parameter's coefficient is the same at every grid point."""
    if not isinstance(rel, sp.core.relational.Relational) or not free:
        return rel
    expr = sp.expand(rel.lhs - rel.rhs)
    for k in free:
        if not expr.has(k) or not expr.is_polynomial(k):
            continue
        poly = sp.Poly(expr, k)
        if poly.degree() != 1:
            continue
        c1, c0 = poly.all_coeffs()
        sign = int(sp.sign(c1)) if c1.is_number else sign_of(c1)
        if not sign:
            continue
        if not c1.is_number:
            assumptions.append(sp.simplify(c1 > 0) if sign > 0 else sp.simplify(c1 < 0))
        threshold = sp.factor(sp.simplify(-c0 / c1))
        flip = {">=": "<=", ">": "<", "<=": ">=", "<": ">", "==": "==", "!=": "!="}
        return sp.Rel(k, threshold, rel.rel_op if sign > 0 else flip[rel.rel_op])
    return rel


def _isolate_all(cond: sp.Basic, free, sign_of: SignOracle, assumptions: list[sp.Basic]) -> sp.Basic:
    if isinstance(cond, sp.core.relational.Relational):
        return _isolate(cond, free, sign_of, assumptions)
    if isinstance(cond, (sp.And, sp.Or, sp.Not)):
        return cond.func(*[_isolate_all(c, free, sign_of, assumptions) for c in cond.args])
    return cond


def closed_form(side: Side, *, consts: dict[str, Fraction], ranges: dict[sp.Symbol, tuple[float, float]],
                sign_of: SignOracle) -> ClosedForm | None:
    """A side's solution in closed form, or None where the solvers find none.

    Args:
        side: The side.
        consts: Game parameters substituted by this side's own value.
        ranges: Ranges of the parameter symbols (game and free preference parameters), for sign
            decisions of the symbolic solvers.
        sign_of: The sign of an expression at every grid point (None when it changes or vanishes).
    """
    game, pref = side.game, side.pref
    free = [sp.Symbol(k, real=True) for k in side.free]
    fixed = dict(side.fixed)
    values: dict[str, sp.Expr] = {}
    for k, default in pref.defaults.items():
        if k in side.free:
            values[k] = sp.Symbol(k, real=True)
        else:
            v = fixed.get(k, default)
            if v is None:
                return None
            values[k] = sp.Rational(v.numerator, v.denominator)
    lowerer = symbolic_preference(pref, values)
    subs = {game.params[n].symbol: sp.Rational(v.numerator, v.denominator) for n, v in consts.items()
            if n in game.params}
    try:
        kind = GameSolver(game, BoundPreference(side.values({k: Fraction(0) for k in side.free}), pref)).kind
    except SolveError:
        return None
    params = [p.symbol for p in game.params.values() if p.symbol not in subs] + free
    domain = {s: r for s, r in ranges.items() if s in params}
    assumptions: list[sp.Basic] = []
    try:
        if kind == "symmetric-finite":
            return _finite_conditions(game, lowerer, subs, free, sign_of, assumptions)
        if kind == "symmetric-continuous":
            action = game.actions[0]
            x, y = sp.Symbol("x", real=True), sp.Symbol("y", real=True)
            u = symmetric_utility(game, lowerer, own={action.name: x}, rest={action.name: y}).subs(subs)
            sol = continuous.solve_symmetric_symbolic(u, own=x, other=y, lo=action.lo.subs(subs),
                                                      hi=action.hi.subs(subs), params=params, domain=domain,
                                                      solve_for=free or None)
            if sol is None:
                return None
            regimes = [(_isolate_all(r.condition, free, sign_of, assumptions), {action.name: r.action}, r.indifferent)
                       for r in sol.regimes]
            return ClosedForm("regimes", f"closed form ({sol.method})", regimes=regimes, assumptions=assumptions)
        if kind == "sequential" and all(not a.finite for a in game.actions):
            result = symbolic_backward(game, lowerer, params=params, domain=domain, free=free, pref=pref)
            if result is None:
                return None
            stages = [game.movers(s)[0] for s in range(game.n_stages)]
            regimes = []
            for cond, pol, _ in result:
                cond = _isolate_all(sp.simplify(cond.subs(subs)), free, sign_of, assumptions)
                if cond is sp.false:
                    continue
                regimes.append((cond, {f"{a.owner}.{a.name}": sp.simplify(pol[a.name].subs(subs)) for a in stages},
                                False))
            return ClosedForm("regimes", "closed form (backward induction, every reply solved symbolically)",
                              regimes=regimes, assumptions=assumptions)
    except (NotImplementedError, TypeError, ValueError, LoweringError, RecursionError, SolveError):
        return None
    return None


def _finite_conditions(game: GameIR, lowerer, subs, free, sign_of: SignOracle,
                       assumptions: list[sp.Basic]) -> ClosedForm | None:
    action = game.actions[0]
    if action.kind == "labels":
        options = [sp.Integer(i) for i in range(len(action.labels))]
    else:
        bounds = [e.subs(subs) for e in (action.lo, action.hi, action.step) if e is not None]
        if any(e.free_symbols for e in bounds):
            return None  # the options move with the parameters: no fixed list of conditions
        options = action.options({}, limit=50)
    a, b = sp.Symbol("own_", real=True), sp.Symbol("rest_", real=True)
    u = symmetric_utility(game, lowerer, own={action.name: a}, rest={action.name: b}).subs(subs)
    conditions: dict[Any, sp.Basic] = {}
    for opt in options:
        conds = []
        for dev in options:
            if dev == opt:
                continue
            gain = sp.simplify(u.subs({a: opt, b: opt}) - u.subs({a: dev, b: opt}))
            conds.append(_isolate(sp.Ge(gain, 0), free, sign_of, assumptions))
        conditions[_num_key(action.display(opt))] = sp.And(*conds) if conds else sp.true
    return ClosedForm("conditions", "closed form (every deviation from a symmetric profile weakly loses)",
                      conditions=conditions, assumptions=assumptions)


# ----------------------------------------------------------------------------- regions


@dataclass
class Part:
    """One piece of the closed-form comparison (an option, an action, or the whole game).

    Attributes:
        name: The option or action (``*`` for the whole game).
        description: What the piece says in words.
        general: The region in general (sympy boolean).
        region: The region simplified on the swept values.
        a_only, b_only: For options: where only that side has the equilibrium.
    """

    name: str
    description: str
    general: sp.Basic
    region: sp.Basic
    a_only: sp.Basic | None = None
    b_only: sp.Basic | None = None
    boundaries: list[dict[str, Any]] = field(default_factory=list)


def _ne(x: sp.Expr, y: sp.Expr) -> sp.Basic:
    d = sp.simplify(x - y)
    if d == 0:
        return sp.false
    if d.is_number:
        return sp.true
    return sp.Ne(-d if d.could_extract_minus_sign() else d, 0)


def region_parts(fa: ClosedForm, fb: ClosedForm) -> list[Part] | None:
    """The regions where two closed forms part, piece by piece, in general (sympy booleans).

    Args:
        fa: The first side's closed form.
        fb: The second side's closed form.

    Returns:
        One part per option (conditions) or action (regimes), or None when the kinds differ.
    """
    if fa.kind != fb.kind:
        return None
    parts: list[Part] = []
    if fa.kind == "conditions":
        for opt in list(fa.conditions) + [o for o in fb.conditions if o not in fa.conditions]:
            ca, cb = fa.conditions.get(opt, sp.false), fb.conditions.get(opt, sp.false)
            a_only, b_only = sp.And(ca, sp.Not(cb)), sp.And(sp.Not(ca), cb)
            parts.append(Part(str(opt), f"everyone playing {opt} is an equilibrium", sp.Or(a_only, b_only),
                              sp.Or(a_only, b_only), a_only, b_only))
        return parts
    actions = list(dict.fromkeys([k for _, o, _ in fa.regimes for k in o] + [k for _, o, _ in fb.regimes for k in o]))
    for act in actions:
        terms = []
        for ca, oa, _ in fa.regimes:
            for cb, ob, _ in fb.regimes:
                differ = _ne(oa[act], ob[act]) if act in oa and act in ob else sp.true
                if differ is not sp.false:
                    terms.append(sp.And(ca, cb, differ))
        region = sp.Or(*terms)
        parts.append(Part(act, f"{act} differs", region, region))
    return parts


class _Space:
    """Evaluates booleans at the grid's game points, as exact sets of a single free parameter
    (intervals), as truth values when there is none, or on the free grid otherwise."""

    def __init__(self, grid: Grid, game_symbols: dict[str, sp.Symbol]):
        self.grid = grid
        self.points = grid.game_points()
        self.free = [sp.Symbol(k, real=True) for k in grid.free]
        self.free_points = grid.free_points()
        self.mode = "bool" if not self.free else ("interval" if len(self.free) == 1 else "grid")
        self.shared = {game_symbols[n]: sp.Rational(v.numerator, v.denominator)
                       for n, v in grid.shared.items() if n in game_symbols}
        self.game_symbols = game_symbols
        if self.mode == "interval":
            lo, hi = grid.domains[self.free[0].name]
            self.universe = sp.Interval(sp.Rational(lo.numerator, lo.denominator),
                                        sp.Rational(hi.numerator, hi.denominator))
        self._cache: dict[tuple[sp.Basic, int], Any] = {}

    def subs_at(self, i: int) -> dict[sp.Symbol, sp.Rational]:
        env = dict(self.shared)
        for n, v in self.points[i].items():
            if n in self.game_symbols:
                env[self.game_symbols[n]] = sp.Rational(v.numerator, v.denominator)
        return env

    def env_at(self, i: int, free_point: dict[str, Fraction] | None = None) -> dict[sp.Symbol, Fraction]:
        env = {s: Fraction(int(v.p), int(v.q)) for s, v in self.subs_at(i).items()}
        for k, v in (free_point or {}).items():
            env[sp.Symbol(k, real=True)] = Fraction(v)
        return env

    def atom_set(self, atom: sp.Basic, i: int):
        key = (atom, i)
        if key in self._cache:
            return self._cache[key]
        value = atom.subs(self.subs_at(i)) if not isinstance(atom, sp.logic.boolalg.BooleanAtom) else atom
        if self.mode == "bool":
            if value not in (sp.true, sp.false):
                raise NotCompilable(f"{atom} is not decided at a grid point")
            out = bool(value)
        elif self.mode == "interval":
            if value is sp.true:
                out = self.universe
            elif value is sp.false:
                out = sp.EmptySet
            else:
                if value.free_symbols - set(self.free):
                    raise NotCompilable(f"{atom} is not decided at a grid point")
                out = self._linear_set(value)
                if out is None:
                    out = value.as_set().intersect(self.universe)
        else:
            f = compile_exact(value)
            out = frozenset(j for j, fp in enumerate(self.free_points) if f(self.env_at(i, fp)))
        self._cache[key] = out
        return out

    def _linear_set(self, rel: sp.Basic) -> sp.Set | None:
        """The set of a relation linear in the free parameter, directly (None otherwise)."""
        if not isinstance(rel, sp.core.relational.Relational):
            return None
        k = self.free[0]
        expr = sp.expand(rel.lhs - rel.rhs)
        if not expr.is_polynomial(k):
            return None
        poly = sp.Poly(expr, k)
        if poly.degree() > 1 or not all(c.is_Rational for c in poly.all_coeffs()):
            return None
        c1, c0 = (poly.all_coeffs() if poly.degree() == 1 else [sp.Integer(0), poly.all_coeffs()[-1]])
        op = rel.rel_op
        if c1 == 0:
            holds = {"==": c0 == 0, "!=": c0 != 0, "<": c0 < 0, "<=": c0 <= 0, ">": c0 > 0, ">=": c0 >= 0}[op]
            return self.universe if holds else sp.EmptySet
        t = -c0 / c1
        if c1 < 0:
            op = {">=": "<=", ">": "<", "<=": ">=", "<": ">", "==": "==", "!=": "!="}[op]
        s = {">": sp.Interval.open(t, sp.oo), ">=": sp.Interval(t, sp.oo), "<": sp.Interval.open(-sp.oo, t),
             "<=": sp.Interval(-sp.oo, t), "==": sp.FiniteSet(t),
             "!=": sp.Union(sp.Interval.open(-sp.oo, t), sp.Interval.open(t, sp.oo))}[op]
        return s.intersect(self.universe)

    def full(self):
        return True if self.mode == "bool" else (self.universe if self.mode == "interval"
                                                 else frozenset(range(len(self.free_points))))

    def empty(self):
        return False if self.mode == "bool" else (sp.EmptySet if self.mode == "interval" else frozenset())

    def inter(self, x, y):
        if self.mode == "bool":
            return x and y
        return x.intersect(y) if self.mode == "interval" else x & y

    def union(self, x, y):
        if self.mode == "bool":
            return x or y
        return x.union(y) if self.mode == "interval" else x | y

    def complement(self, x):
        if self.mode == "bool":
            return not x
        return self.universe - x if self.mode == "interval" else self.full() - x

    def set_of(self, expr: sp.Basic, i: int):
        """The set where a boolean holds at game point ``i``."""
        if expr is sp.true:
            return self.full()
        if expr is sp.false:
            return self.empty()
        if isinstance(expr, sp.And):
            out = self.full()
            for arg in expr.args:
                out = self.inter(out, self.set_of(arg, i))
            return out
        if isinstance(expr, sp.Or):
            out = self.empty()
            for arg in expr.args:
                out = self.union(out, self.set_of(arg, i))
            return out
        if isinstance(expr, sp.Not):
            return self.complement(self.set_of(expr.args[0], i))
        return self.atom_set(expr, i)

    def same(self, x, y) -> bool:
        if self.mode == "interval":
            return x == y or (sp.Complement(x, y).is_empty is True and sp.Complement(y, x).is_empty is True)
        return x == y

    def is_empty(self, x) -> bool:
        if self.mode == "bool":
            return not x
        return x == self.empty() or (self.mode == "interval" and x.is_empty is True)


def _atoms(expr: sp.Basic) -> list[sp.Basic]:
    if isinstance(expr, (sp.And, sp.Or, sp.Not)):
        out: list[sp.Basic] = []
        for a in expr.args:
            out.extend(x for x in _atoms(a) if x not in out)
        return out
    if isinstance(expr, sp.logic.boolalg.BooleanAtom):
        return []
    return [expr]


def _settle_constant_atoms(expr: sp.Basic, space: _Space, notes: list[str]) -> sp.Basic:
    """Replace atoms in the game parameters alone that hold (or fail) at every swept point."""
    free = set(space.free)
    repl = {}
    for atom in _atoms(expr):
        if atom.free_symbols & free or not atom.free_symbols:
            continue
        try:
            f = compile_exact(atom)
            truth = {bool(f(space.env_at(i))) for i in range(len(space.points))}
        except (NotCompilable, KeyError, TypeError, ZeroDivisionError):
            continue
        if len(truth) == 1:
            value = truth.pop()
            repl[atom] = sp.true if value else sp.false
            shown = atom if value else sp.Not(atom)
            notes.append(f"{text(shown)} at every swept point")
    return expr.xreplace(repl) if repl else expr


def simplify_on_grid(expr: sp.Basic, space: _Space, notes: list[str]) -> sp.Basic:
    """A simpler boolean equal to ``expr`` at every swept game point (exactly in a single free
    parameter within its domain).

    Args:
        expr: The region in general.
        space: The grid's evaluator.
        notes: Receives the facts about the swept values that were used.
    """
    expr = _settle_constant_atoms(expr, space, notes)
    if expr in (sp.true, sp.false) or space.mode == "grid" or len(_atoms(expr)) > _MAX_ATOMS:
        return expr
    try:
        dnf = sp.to_dnf(expr)
    except (TypeError, ValueError, RecursionError):
        return expr
    terms = [list(t.args) if isinstance(t, sp.And) else [t] for t in (dnf.args if isinstance(dnf, sp.Or) else [dnf])]
    n = len(space.points)
    try:
        def union_at(ts, i):
            out = space.empty()
            for t in ts:
                out = space.union(out, space.set_of(sp.And(*t), i))
            return out

        target = [space.set_of(expr, i) for i in range(n)]

        def equal(ts) -> bool:
            return all(space.same(union_at(ts, i), target[i]) for i in range(n))

        terms = [t for t in terms if not all(space.is_empty(space.set_of(sp.And(*t), i)) for i in range(n))]
        changed = True
        while changed:
            changed = False
            k = 0
            while k < len(terms):  # drop whole terms that change nothing
                trial = terms[:k] + terms[k + 1:]
                if equal(trial):
                    terms, changed = trial, True
                else:
                    k += 1
            for t in range(len(terms)):  # drop atoms that change nothing
                j = 0
                while j < len(terms[t]) and len(terms[t]) > 1:
                    trial = [list(x) for x in terms]
                    del trial[t][j]
                    if equal(trial):
                        terms, changed = trial, True
                    else:
                        j += 1
    except (NotCompilable, NotImplementedError, TypeError, ValueError, KeyError, ZeroDivisionError):
        return expr
    return _merge_equalities(sp.Or(*[sp.And(*t) for t in terms])) if terms else sp.false


def _merge_equalities(expr: sp.Basic) -> sp.Basic:
    """``x = t or x < t`` -> ``x <= t`` (and likewise for ``>``) among the terms of a disjunction."""
    if not isinstance(expr, sp.Or):
        return expr
    args = list(expr.args)
    for eq in [a for a in args if isinstance(a, sp.Eq)]:
        for strict, weak in ((sp.StrictLessThan, sp.Le), (sp.StrictGreaterThan, sp.Ge)):
            for other in args:
                if isinstance(other, strict) and {other.lhs, other.rhs} == {eq.lhs, eq.rhs} and eq in args:
                    args.remove(eq)
                    args.remove(other)
                    args.append(weak(other.lhs, other.rhs))
                    break
    return sp.Or(*args)


def intervals(s: sp.Set) -> list[dict[str, Any]]:
    """A sympy set of one real variable as a list of intervals (points are degenerate intervals).

    Args:
        s: An interval, a finite set or a union of them.
    """
    if s is sp.EmptySet or s.is_empty is True:
        return []
    pieces = s.args if isinstance(s, sp.Union) else [s]
    out = []
    for p in pieces:
        if isinstance(p, sp.FiniteSet):
            for v in sorted(p, key=float):
                out.append(_interval(v, v, False, False))
        elif isinstance(p, sp.Interval):
            out.append(_interval(p.start, p.end, bool(p.left_open), bool(p.right_open)))
    return sorted(out, key=lambda d: (d["lo"], d["hi"]))


def _interval(lo: sp.Expr, hi: sp.Expr, lo_open: bool, hi_open: bool) -> dict[str, Any]:
    return {"lo": float(lo), "hi": float(hi), "lo_exact": _exact_text(lo), "hi_exact": _exact_text(hi),
            "lo_open": lo_open, "hi_open": hi_open}


def _exact_text(v: sp.Expr) -> str:
    v = sp.nsimplify(v) if not isinstance(v, sp.Rational) and v.is_number else v
    return str(v)


def interval_text(ivs: list[dict[str, Any]], name: str) -> str:
    """Intervals of one parameter as text: ``1/3 < kappa <= 1``.

    Args:
        ivs: As from :func:`intervals`.
        name: The parameter's name.
    """
    if not ivs:
        return "never"
    parts = []
    for iv in ivs:
        if iv["lo"] == iv["hi"]:
            parts.append(f"{name} = {iv['lo_exact']}")
        else:
            parts.append(f"{iv['lo_exact']} {'<' if iv['lo_open'] else '<='} {name} "
                         f"{'<' if iv['hi_open'] else '<='} {iv['hi_exact']}")
    return " or ".join(parts)


def text(e: sp.Basic) -> str:
    """A sympy boolean or expression as readable text (``kappa >= (T - R)/(T - P)``).

    Args:
        e: The expression.
    """
    if isinstance(e, sp.core.relational.Relational):
        op = {"==": "=", "!=": "!="}.get(e.rel_op, e.rel_op)
        return f"{text(e.lhs)} {op} {text(e.rhs)}"
    if isinstance(e, (sp.And, sp.Or)):
        joiner = " and " if isinstance(e, sp.And) else " or "
        args = sorted(e.args, key=sp.default_sort_key)
        return joiner.join(f"({text(a)})" if isinstance(a, (sp.And, sp.Or)) else text(a) for a in args)
    if isinstance(e, sp.Not):
        return f"not ({text(e.args[0])})"
    if e is sp.true:
        return "always"
    if e is sp.false:
        return "never"
    if isinstance(e, sp.Basic):
        s = sp.sstr(sp.nsimplify(e) if e.is_number else _fewest_minus(e))
        return s.replace("**", "^")
    return str(e)


def _fewest_minus(e: sp.Basic) -> sp.Basic:
    """The same rational expression written with as few leading minus signs as sympy allows:
    ``(T - R)/(T - P)`` rather than ``-(T - R)/(P - T)``."""
    if not isinstance(e, sp.Expr) or not e.free_symbols or not e.is_rational_function():
        return e
    num, den = sp.fraction(sp.factor(e))
    candidates = [e, sp.factor(e)]
    for n_, d_ in ((num, den), (-num, -den)):
        n_, d_ = sp.expand(n_), sp.expand(d_)
        candidates.append(n_ / d_ if d_ != 1 else n_)
        candidates.append(n_ / sp.factor(d_) if d_ != 1 else n_)

    def score(c: sp.Basic) -> tuple[int, int, int]:
        s = sp.sstr(c)
        return s.count("(-") + s.startswith("-") + s.count("+ -"), -s.count("*("), len(s)

    return min(candidates, key=score)


# ----------------------------------------------------------------------------- the comparison


@dataclass
class PointResult:
    """The comparison at one grid point."""

    params: dict[str, Fraction]
    free: dict[str, Fraction]
    status: str
    a: str
    b: str
    closed: str | None = None


@dataclass
class GameDiff:
    """Where two sides part on one game."""

    game: str
    a: Side
    b: Side
    grid: Grid
    points: list[PointResult]
    method: str = ""
    closed_form: dict[str, Any] | None = None
    closed_form_note: str = ""
    agreement: dict[str, Any] = field(default_factory=dict)
    error: str | None = None

    @property
    def counts(self) -> dict[str, int]:
        out = {"same": 0, "overlap": 0, "differ": 0, "error": 0}
        for p in self.points:
            out[p.status] += 1
        return out

    @property
    def share(self) -> float | None:
        """The fraction of grid points where the equilibrium sets are not the same."""
        n = len([p for p in self.points if p.status != "error"])
        return (sum(p.status in ("overlap", "differ") for p in self.points) / n) if n else None

    @property
    def example(self) -> PointResult | None:
        """A differing point (disjoint first), for the report."""
        for status in ("differ", "overlap"):
            for p in self.points:
                if p.status == status:
                    return p
        return None

    def to_json(self) -> dict[str, Any]:
        """A JSON-friendly dict (``diff.json``'s per-game entry)."""
        ex = self.example
        return {
            "game": self.game,
            "a": {"name": self.a.name, "spec": self.a.spec, "preference": self.a.label, "free": list(self.a.free)},
            "b": {"name": self.b.name, "spec": self.b.spec, "preference": self.b.label, "free": list(self.b.free)},
            "error": self.error,
            "grid": {
                "params": {k: [to_plain(v) for v in vs] for k, vs in self.grid.axes.items()},
                "shared": {k: to_plain(v) for k, v in self.grid.shared.items()},
                "own": [{k: to_plain(v) for k, v in d.items()} for d in self.grid.own],
                "free": {k: [to_plain(v) for v in vs] for k, vs in self.grid.free.items()},
                "domains": {k: [to_plain(lo), to_plain(hi)] for k, (lo, hi) in self.grid.domains.items()},
                "notes": self.grid.notes,
            },
            "counts": self.counts,
            "share_differ": self.share,
            "status": _overall(self.counts),
            "example": _point_json(ex) if ex else None,
            "closed_form": self.closed_form,
            "closed_form_note": self.closed_form_note,
            "agreement": self.agreement,
            "points": [_point_json(p) for p in self.points],
        }


def _overall(counts: dict[str, int]) -> str:
    if counts["differ"] or counts["overlap"]:
        return "differ" if counts["differ"] else "overlap"
    return "error" if counts["error"] and not counts["same"] else "same"


def _point_json(p: PointResult) -> dict[str, Any]:
    out = {"params": {k: to_plain(v) for k, v in p.params.items()}, "free": {k: to_plain(v) for k, v in p.free.items()},
           "status": p.status, "a": p.a, "b": p.b}
    if p.closed is not None:
        out["closed_form"] = p.closed
    return out


class _Evaluator:
    """One side's solvers: compiled once per preference point, evaluated at every game point."""

    def __init__(self, side: Side, own: dict[str, Fraction]):
        self.side = side
        self.own = own
        self.solvers: dict[PreferencePoint, GameSolver] = {}
        self.cache: dict[tuple, Outcome] = {}

    def outcome(self, params: dict[str, Fraction], free: dict[str, Fraction]) -> Outcome:
        game = self.side.game
        values = {k: v for k, v in params.items() if k in game.params}
        point = self.side.values(free)
        key = (tuple(sorted(values.items())), point)
        if key in self.cache:
            return self.cache[key]
        try:
            solver = self.solvers.get(point)
            if solver is None:
                solver = self.solvers[point] = GameSolver(game, BoundPreference(point, self.side.pref))
            out = _outcome(solver.solve(values, derive=False), game)
        except (SolveError, LoweringError, ValueError, ZeroDivisionError) as exc:
            out = Outcome(frozenset(), f"unsolved: {exc}", None, None, error=str(exc))
        self.cache[key] = out
        return out


def compare(a: Side, b: Side, *, steps: int = DEFAULT_STEPS, closed: bool = True,
            progress: Callable[[int], None] | None = None) -> GameDiff:
    """Compare two sides of one game on the grid and, where both have one, in closed form.

    Args:
        a: The first side.
        b: The second side.
        steps: Intervals in the grid over each free preference parameter.
        closed: Also derive the closed-form region.
        progress: Called with the number of grid points just evaluated.

    Raises:
        DiffError: The sides cannot be compared (different games' shapes are fine; a free parameter
            with conflicting domains is not).
    """
    grid = build_grid(a, b, steps=steps)
    ev = (_Evaluator(a, grid.own[0]), _Evaluator(b, grid.own[1]))
    game_points = grid.game_points()
    free_points = grid.free_points()
    results: list[PointResult] = []
    outcomes: list[tuple[Outcome, Outcome]] = []
    for gp in game_points:
        for fp in free_points:
            oa, ob = ev[0].outcome(gp, fp), ev[1].outcome(gp, fp)
            results.append(PointResult(gp, fp, status_of(oa, ob), oa.text, ob.text))
            outcomes.append((oa, ob))
        if progress is not None:
            progress(len(free_points))
    diff = GameDiff(a.game.name, a, b, grid, results)
    if not closed:
        return diff
    try:
        _closed_form(diff, outcomes)
    except (NotCompilable, NotImplementedError, TypeError, ValueError, RecursionError) as exc:
        diff.closed_form = None
        diff.closed_form_note = f"no closed form: {exc}"
    return diff


def _closed_form(diff: GameDiff, outcomes: list[tuple[Outcome, Outcome]]) -> None:
    a, b, grid = diff.a, diff.b, diff.grid
    symbols = {n: p.symbol for g in (a.game, b.game) for n, p in g.params.items()}
    space = _Space(grid, symbols)
    game_points, free_points = space.points, space.free_points

    def sign_of(expr: sp.Expr) -> int | None:
        try:
            f = compile_exact(expr)
            signs = set()
            for i in range(len(game_points)):
                for fp in free_points:
                    v = f(space.env_at(i, fp))
                    signs.add(0 if v == 0 else (1 if v > 0 else -1))
        except (NotCompilable, KeyError, TypeError, ZeroDivisionError):
            return None
        return signs.pop() if len(signs) == 1 and 0 not in signs else None

    ranges: dict[sp.Symbol, tuple[float, float]] = {}
    for n, s in symbols.items():
        vals = grid.axes.get(n) or ([grid.shared[n]] if n in grid.shared else
                                    [d[n] for d in grid.own if n in d])
        ranges[s] = (float(min(vals)), float(max(vals)))
    for k, (lo, hi) in grid.domains.items():
        ranges[sp.Symbol(k, real=True)] = (float(lo), float(hi))
    forms = [closed_form(side, consts=own, ranges=ranges, sign_of=sign_of) for side, own in zip((a, b), grid.own)]
    missing = [side.name for side, f in zip((a, b), forms) if f is None]
    if missing:
        diff.closed_form_note = f"no closed form for {' and '.join(missing)}; the grid is the answer"
        return
    fa, fb = forms
    assert fa is not None and fb is not None
    parts = region_parts(fa, fb)
    if parts is None:
        diff.closed_form_note = "the two sides' closed forms have different shapes; the grid is the answer"
        return
    notes: list[str] = []
    overall_general = sp.Or(*[p.general for p in parts])
    overall = Part("*", "the solutions differ", overall_general, overall_general)
    for p in [*parts, overall]:
        p.region = simplify_on_grid(p.general, space, notes)
        if p.a_only is not None:
            p.a_only = simplify_on_grid(p.a_only, space, notes)
            p.b_only = simplify_on_grid(p.b_only, space, notes)
        if space.mode != "grid":
            for i, gp in enumerate(game_points):
                s = space.set_of(p.general, i)
                entry: dict[str, Any] = {"params": {k: to_plain(v) for k, v in gp.items()}}
                if space.mode == "interval":
                    entry["intervals"] = intervals(s)
                    entry["text"] = interval_text(entry["intervals"], space.free[0].name)
                else:
                    entry["differ"] = bool(s)
                p.boundaries.append(entry)
    agreement = _agreement(diff, fa, fb, space, outcomes)
    diff.agreement = agreement
    assumptions = sorted({f"{text(x)} at every grid point" for x in fa.assumptions + fb.assumptions})
    indiff = []
    for side, f in ((a, fa), (b, fb)):
        for cond, acts, ind in f.regimes:
            if ind:
                indiff.append(f"{side.name}: where {text(cond)} every level of "
                              f"{', '.join(acts)} is optimal; the solver selects the lower bound")
    diff.method = f"{a.name}: {fa.method}; {b.name}: {fb.method}"
    diff.closed_form = {
        "kind": fa.kind,
        "method": diff.method,
        "region": text(overall.region),
        "region_general": text(overall.general),
        "free": [s.name for s in space.free],
        "assumptions": assumptions,
        "facts": sorted(set(notes)),
        "indifference": indiff,
        "boundaries": overall.boundaries,
        "parts": [
            {"name": p.name, "description": p.description, "region": text(p.region), "region_general": text(p.general),
             **({"only_a": text(p.a_only), "only_b": text(p.b_only)} if p.a_only is not None else {}),
             "boundaries": p.boundaries}
            for p in parts
        ],
        "sides": {"a": _side_json(fa), "b": _side_json(fb)},
    }
    idx = 0
    for i in range(len(game_points)):
        for fp in free_points:
            env = space.env_at(i, fp)
            diff.points[idx].closed = "differ" if _truth(overall.general, env) else "same"
            idx += 1


def _side_json(f: ClosedForm) -> dict[str, Any]:
    if f.kind == "conditions":
        return {"kind": f.kind, "conditions": {str(k): text(c) for k, c in f.conditions.items()}}
    return {"kind": f.kind, "regimes": [{"condition": text(c), "outcome": {k: text(v) for k, v in o.items()},
                                         "indifferent": ind} for c, o, ind in f.regimes]}


def _truth(expr: sp.Basic, env: dict[sp.Symbol, Fraction]) -> bool:
    return bool(compile_exact(expr)(env))


def _agreement(diff: GameDiff, fa: ClosedForm, fb: ClosedForm, space: _Space,
               outcomes: list[tuple[Outcome, Outcome]]) -> dict[str, Any]:
    """Check, at every grid point and for both sides, the closed form against the solver."""
    checked = mismatched = 0
    examples: list[str] = []
    compiled: list[Any] = []
    for f in (fa, fb):
        if f.kind == "conditions":
            compiled.append({k: compile_exact(c) for k, c in f.conditions.items()})
        else:
            compiled.append([(compile_exact(c), {k: compile_exact(e) for k, e in o.items()}) for c, o, _ in f.regimes])
    idx = 0
    for i in range(len(space.points)):
        for fp in space.free_points:
            env = space.env_at(i, fp)
            for s, (f, comp) in enumerate(zip((fa, fb), compiled)):
                found = outcomes[idx][s]
                if found.error:
                    continue
                if f.kind == "conditions":
                    predicted: Any = frozenset(k for k, c in comp.items() if c(env))
                    actual: Any = found.symmetric_pure
                else:
                    hit = next((o for c, o in comp if c(env)), None)
                    predicted = None if hit is None else {k: _num_key(float(e(env))) for k, e in hit.items()}
                    actual = found.selected
                    if predicted is not None and actual is not None:
                        actual = {k: actual.get(k) for k in predicted}
                checked += 1
                if not _close(predicted, actual):
                    mismatched += 1
                    if len(examples) < 5:
                        where = ", ".join(f"{k} = {_fmt(v)}" for k, v in {**diff.points[idx].params,
                                                                          **diff.points[idx].free}.items())
                        examples.append(f"{(diff.a, diff.b)[s].name} at {where or 'the defaults'}: closed form "
                                        f"{_show(predicted)}, solver {_show(actual)}")
            idx += 1
    return {"checked": checked, "mismatched": mismatched, "agree": mismatched == 0, "examples": examples,
            "compared": "symmetric pure equilibria" if fa.kind == "conditions" else "the selected solution"}


def _close(x: Any, y: Any) -> bool:
    if isinstance(x, dict) and isinstance(y, dict):
        if set(x) != set(y):
            return False
        return all(_close(x[k], y[k]) for k in x)
    if isinstance(x, float) and isinstance(y, float):
        return math.isclose(x, y, rel_tol=1e-7, abs_tol=1e-7)
    return x == y


def _show(v: Any) -> str:
    if isinstance(v, frozenset):
        return "{" + ", ".join(sorted(map(str, v))) + "}"
    if isinstance(v, dict):
        return ", ".join(f"{k} = {x}" for k, x in v.items())
    return str(v)


# ----------------------------------------------------------------------------- whole specs


@dataclass(frozen=True)
class PreferenceChoice:
    """A preference as chosen on the command line: fixed parameter values and free ones.

    Attributes:
        name: The preference's name.
        fixed: Parameters given a value.
        free: Parameters swept over their domain.
    """

    name: str
    fixed: tuple[tuple[str, Fraction], ...] = ()
    free: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        """``moralis``, ``moralis(kappa=1/2)`` or ``inequity(alpha=1; beta free)``."""
        fixed = dict(self.fixed)
        if not self.free or not fixed:
            return PreferencePoint(self.name, tuple(fixed.items())).label
        return f"{PreferencePoint(self.name, tuple(fixed.items())).label[:-1]}; {', '.join(self.free)} free)"

    @classmethod
    def from_point(cls, point: PreferencePoint) -> PreferenceChoice:
        """Every parameter fixed at the point's values.

        Args:
            point: A preference point.
        """
        return cls(point.name, tuple(point.values))


@dataclass
class SpecDiff:
    """A whole comparison: every game (and preference) compared.

    Attributes:
        kind: ``specs`` (two specs) or ``preferences`` (one spec, two preferences).
        inputs: Each input's path, spec name and sha256.
        games: One entry per compared (game, preference pair).
        skipped: Games that could not be compared, with the reason.
    """

    kind: str
    inputs: list[dict[str, Any]]
    games: list[GameDiff]
    skipped: list[dict[str, str]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        """``diff.json`` for a spec or preference diff."""
        return {"kind": self.kind, "inputs": self.inputs,
                "summary": {"compared": len(self.games),
                            "differ": sum(1 for g in self.games if _overall(g.counts) in ("differ", "overlap")),
                            "agree": all(g.agreement.get("agree", True) for g in self.games)},
                "skipped": self.skipped, "games": [g.to_json() for g in self.games]}


def _side_for(ir, game: str, choice: PreferenceChoice, name: str, spec_name: str) -> Side:
    return make_side(ir.games[game], ir.spec.preferences[choice.name], fixed=dict(choice.fixed), free=choice.free,
                     name=name, spec=spec_name)


def total_points(pairs: Sequence[tuple[Side, Side]], *, steps: int = DEFAULT_STEPS) -> int:
    """How many grid points the comparisons will evaluate (for a progress bar).

    Args:
        pairs: The sides to compare.
        steps: Intervals per free preference parameter.
    """
    total = 0
    for a, b in pairs:
        try:
            g = build_grid(a, b, steps=steps)
        except DiffError:
            continue
        total += len(g.game_points()) * len(g.free_points())
    return total


def preference_pairs(ir, first: PreferenceChoice, second: PreferenceChoice, *,
                     games: Sequence[str] | None = None) -> list[tuple[Side, Side]]:
    """The sides of a preference diff: every (chosen) game of one spec, played by two preferences.

    Args:
        ir: The spec's IR (:class:`prefc.compiler.ir.SpecIR`).
        first: The first preference.
        second: The second preference.
        games: Games to compare (default: all).

    Raises:
        DiffError: Both preferences are the same.
    """
    if first == second:
        raise DiffError(f"both sides are `{first.label}`; give two different preferences")
    names = list(games) if games else list(ir.games)
    return [(_side_for(ir, g, first, first.label, ir.spec.name), _side_for(ir, g, second, second.label, ir.spec.name))
            for g in names]


def spec_pairs(ir_a, ir_b, choices: Sequence[PreferenceChoice], *, names: tuple[str, str],
               games: Sequence[str] | None = None) -> list[tuple[Side, Side]]:
    """The sides of a spec diff: every game both specs have, for every preference choice.

    Args:
        ir_a: The first spec's IR.
        ir_b: The second spec's IR.
        choices: The preferences to compare (each must exist in both specs).
        names: How the two specs are called in reports.
        games: Games to compare (default: every game both have).

    Raises:
        DiffError: No shared game, a chosen game missing from a spec, or a preference missing.
    """
    shared = [g for g in ir_a.games if g in ir_b.games]
    if not shared:
        raise DiffError(f"the specs share no game: {names[0]} has {', '.join(ir_a.games) or 'none'}; "
                        f"{names[1]} has {', '.join(ir_b.games) or 'none'}")
    if games:
        for g in games:
            if g not in shared:
                where = names[0] if g not in ir_a.games else names[1]
                raise DiffError(f"game `{g}` is not in {where}; shared games: {', '.join(shared)}")
        shared = [g for g in shared if g in games]
    if not choices:
        raise DiffError("no preference to compare: the specs' dataset and rubric blocks name none that both "
                        "declare; give --preference")
    pairs = []
    for g in shared:
        for c in choices:
            for ir, n in ((ir_a, names[0]), (ir_b, names[1])):
                if c.name not in ir.spec.preferences:
                    raise DiffError(f"preference `{c.name}` is not declared in {n}")
            pairs.append((_side_for(ir_a, g, c, names[0], ir_a.spec.name),
                          _side_for(ir_b, g, c, names[1], ir_b.spec.name)))
    return pairs


def build_points(*specs) -> list[PreferenceChoice]:
    """The preference points the specs' dataset and rubric blocks name, whose preference every spec
    declares (in order of first mention, without repeats).

    Args:
        specs: Checked specs.
    """
    out: list[PreferenceChoice] = []
    for spec in specs:
        for build in spec.builds.values():
            for point in build.preferences:
                choice = PreferenceChoice.from_point(point)
                if choice not in out and all(point.name in s.preferences for s in specs):
                    out.append(choice)
    return out


def diff_pairs(kind: str, inputs: list[dict[str, Any]], pairs: Sequence[tuple[Side, Side]], *,
               steps: int = DEFAULT_STEPS, progress: Callable[[int], None] | None = None) -> SpecDiff:
    """Compare every pair of sides.

    Args:
        kind: ``specs`` or ``preferences``.
        inputs: The inputs' descriptions (path, spec, sha256) for the report.
        pairs: The sides to compare.
        steps: Intervals per free preference parameter.
        progress: Called with the number of grid points just evaluated.
    """
    games: list[GameDiff] = []
    skipped: list[dict[str, str]] = []
    for a, b in pairs:
        reason = None
        for side in (a, b):
            try:
                GameSolver(side.game, BoundPreference(side.values({k: side.pref.domains[k][0]  # type: ignore[index]
                                                                   for k in side.free}), side.pref))
            except SolveError as exc:
                reason = f"{side.name}: {exc}"
                break
        if reason is not None:
            skipped.append({"game": a.game.name, "preference": a.label, "reason": reason})
            continue
        d = compare(a, b, steps=steps, progress=progress)
        errors = [p for p in d.points if p.status == "error"]
        if errors and len(errors) == len(d.points):
            d.error = "no grid point could be solved"
        games.append(d)
    return SpecDiff(kind, inputs, games, skipped)
