"""Where two closed forms part: the region in general, and simplified on the swept parameter values."""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

import sympy as sp

from prefc.compiler.compare.sides import Grid
from prefc.compiler.exact import NotCompilable, compile_exact
from prefc.compiler.solve.closed import ClosedForm, text

_MAX_ATOMS = 24  # regions with more distinct atoms are reported unsimplified

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
            parts.append(
                Part(
                    str(opt),
                    f"everyone playing {opt} is an equilibrium",
                    sp.Or(a_only, b_only),
                    sp.Or(a_only, b_only),
                    a_only,
                    b_only,
                )
            )
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


class Space:
    """Evaluates booleans at the grid's game points, as exact sets of a single free parameter
    (intervals), as truth values when there is none, or on the free grid otherwise."""

    def __init__(self, grid: Grid, game_symbols: dict[str, sp.Symbol]):
        self.grid = grid
        self.points = grid.game_points()
        self.free = [sp.Symbol(k, real=True) for k in grid.free]
        self.free_points = grid.free_points()
        self.mode = "bool" if not self.free else ("interval" if len(self.free) == 1 else "grid")
        self.shared = {
            game_symbols[n]: sp.Rational(v.numerator, v.denominator)
            for n, v in grid.shared.items()
            if n in game_symbols
        }
        self.game_symbols = game_symbols
        if self.mode == "interval":
            lo, hi = grid.domains[self.free[0].name]
            self.universe = sp.Interval(
                sp.Rational(lo.numerator, lo.denominator), sp.Rational(hi.numerator, hi.denominator)
            )
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
        out: Any
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
        c1, c0 = poly.all_coeffs() if poly.degree() == 1 else [sp.Integer(0), poly.all_coeffs()[-1]]
        op = rel.rel_op
        if c1 == 0:
            holds = {"==": c0 == 0, "!=": c0 != 0, "<": c0 < 0, "<=": c0 <= 0, ">": c0 > 0, ">=": c0 >= 0}[op]
            return self.universe if holds else sp.EmptySet
        t = -c0 / c1
        if c1 < 0:
            op = {">=": "<=", ">": "<", "<=": ">=", "<": ">", "==": "==", "!=": "!="}[op]
        s = {
            ">": sp.Interval.open(t, sp.oo),
            ">=": sp.Interval(t, sp.oo),
            "<": sp.Interval.open(-sp.oo, t),
            "<=": sp.Interval(-sp.oo, t),
            "==": sp.FiniteSet(t),
            "!=": sp.Union(sp.Interval.open(-sp.oo, t), sp.Interval.open(t, sp.oo)),
        }[op]
        return s.intersect(self.universe)

    def full(self):
        return (
            True
            if self.mode == "bool"
            else (self.universe if self.mode == "interval" else frozenset(range(len(self.free_points))))
        )

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


def _settle_constant_atoms(expr: sp.Basic, space: Space, notes: list[str]) -> sp.Basic:
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


def simplify_on_grid(expr: sp.Basic, space: Space, notes: list[str]) -> sp.Basic:
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
                trial = terms[:k] + terms[k + 1 :]
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
    return {
        "lo": float(lo),
        "hi": float(hi),
        "lo_exact": _exact_text(lo),
        "hi_exact": _exact_text(hi),
        "lo_open": lo_open,
        "hi_open": hi_open,
    }


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
            parts.append(
                f"{iv['lo_exact']} {'<' if iv['lo_open'] else '<='} {name} "
                f"{'<' if iv['hi_open'] else '<='} {iv['hi_exact']}"
            )
    return " or ".join(parts)
