# Over 600 lines: the symbolic and numeric paths share the sign oracle, compiled regimes and checks.
"""Solvers for games with one continuous action per player.

The utility of the focal player arrives as a sympy expression (preferences already applied) in

* ``own``: the focal player's action ``x``;
* ``other``: the other players' actions (for a symmetric n-player game one symbol ``y`` standing
  for every other player's action);
* parameter symbols, also allowed in the action bounds ``lo <= x <= hi``.

Two paths:

* **symbolic** (:func:`solve_symmetric_symbolic`, :func:`solve_argmax_symbolic`): a piecewise
  closed form, one :class:`Regime` per region of the parameter space. A utility linear in the own
  action gives corner solutions decided by the sign of its coefficient (a zero coefficient is an
  indifference regime of its own). A strictly concave utility gives the root of the first-order
  condition clipped to the bounds, with the regimes where the clip binds. ``None`` means no closed
  form was found and the caller should go numeric.
* **numeric** (:func:`solve_symmetric_numeric`, :func:`best_response`): root finding on the
  symmetric first-order condition (bracketing grid + Brent), plus the corners, every candidate
  verified against unilateral deviations on a fine grid refined by a bounded local search.

Sign facts the symbolic path needs (strict concavity, the sign of a coefficient) are settled, in
order, by sympy's assumptions on the symbols, by interval arithmetic over the parameter
``domain`` when one is given, and else left in the regime conditions as explicit requirements
(when they involve parameters only) or, failing that, checked on a sample of the domain. When a
domain is given, every closed form is also verified numerically at a sample of parameter points
before it is returned, and rejected (``None``) if any check fails.

Closed forms are evaluated through :func:`sympy.lambdify` (numpy), compiled once per expression
and cached, so a sweep over arrays of parameter values is a handful of vectorised calls.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from functools import lru_cache
from typing import TYPE_CHECKING, Any, TypeAlias, Union

import sympy

from prefc.compiler.lazy import lazy_module

if TYPE_CHECKING:
    import numpy as np
else:
    np = lazy_module("numpy", globals(), "np")

__all__ = [
    "NoConvergence",
    "NumericEquilibrium",
    "Regime",
    "SymbolicSolution",
    "best_response",
    "solve_argmax_symbolic",
    "solve_symmetric_numeric",
    "solve_symmetric_symbolic",
    "verify_argmax",
    "verify_symmetric",
]

Number: TypeAlias = float | int | Fraction


def _optimize():
    """scipy.optimize, imported on first use: finite games never need it, and it costs a cold
    command a third of a second."""
    from scipy import optimize

    return optimize


Value: TypeAlias = Union[Number, "np.ndarray", sympy.Basic]  # noqa: UP007 - numpy is named, not loaded, here
Domain = Mapping[sympy.Symbol, tuple[Number, Number]]

DEFAULT_BRACKET_GRID = 401
DEFAULT_VERIFY_GRID = 2001
DEFAULT_TOL = 1e-10
_CHECK_POINTS = 8
_CHECK_GRID = 401
_NONSMOOTH = (
    sympy.Piecewise,
    sympy.Max,
    sympy.Min,
    sympy.Abs,
    sympy.Heaviside,
    sympy.sign,
    sympy.floor,
    sympy.ceiling,
    sympy.DiracDelta,
)


class NoConvergence(ValueError):
    """No candidate passed verification within the stated limits (grid size, tolerance)."""


@dataclass(frozen=True)
class Regime:
    """One piece of a piecewise closed-form solution.

    Attributes:
        condition: where the piece applies, a sympy boolean in the parameters.
        action: the (symmetric equilibrium or optimal) action in that region.
        reason: a one-line derivation, e.g. "utility increasing in own action: corner at upper
            bound".
        indifferent: every action in the bounds is optimal here; ``action`` is the selected one
            (the lower bound).
    """

    condition: sympy.Basic
    action: sympy.Expr
    reason: str
    indifferent: bool = False


@dataclass(frozen=True)
class SymbolicSolution:
    """A piecewise closed-form solution; the regime conditions are mutually exclusive.

    Attributes:
        regimes: the pieces, in the order they are tested.
        foc: the first-order condition used (``du/dx``, at ``y = x`` for symmetric equilibria).
        method: ``"linear-corner"`` (utility linear in the own action) or ``"interior-foc"``
            (strictly concave utility, root of the first-order condition clipped to the bounds).
    """

    regimes: tuple[Regime, ...]
    foc: sympy.Expr | None
    method: str

    @property
    def symbols(self) -> tuple[sympy.Symbol, ...]:
        """The parameter symbols the solution depends on, sorted by name."""
        return _compiled(self.regimes).args

    def evaluate(self, values: Mapping[sympy.Symbol, Value]) -> float | np.ndarray:
        """The action at one parameter point, or at arrays of points (a sweep).

        Comparisons in the conditions allow a relative rounding slack of 1e-12, so that a
        threshold hit exactly in exact arithmetic (an indifference regime) is still found in
        floating point.

        Args:
            values: a value for every symbol in :attr:`symbols` (floats, ints, Fractions, sympy
                numbers or numpy arrays, which broadcast together); extra entries are ignored.

        Returns:
            A float for scalar inputs, else an array; NaN where no regime applies.
        """
        comp = _compiled(self.regimes)
        scalars = _scalar_args(comp.args, values)
        if scalars is not None:
            with np.errstate(all="ignore"):
                for cond, act in zip(comp.conditions, comp.actions, strict=False):
                    if bool(cond(*scalars)):
                        return float(act(*scalars))
            return math.nan
        index, actions = self._run(values)
        out = np.full(index.shape, np.nan)
        for k, chosen in enumerate(actions):
            mask = index == k
            if mask.any():
                out[mask] = chosen[mask]
        return float(out) if out.ndim == 0 else out

    def regime_index(self, values: Mapping[sympy.Symbol, Value]) -> int | np.ndarray:
        """The index of the regime that applies (-1 where none does).

        Args:
            values: as for :meth:`evaluate`.

        Returns:
            An int for scalar inputs, else an integer array.
        """
        index, _ = self._run(values)
        return int(index) if index.ndim == 0 else index

    def _run(self, values: Mapping[sympy.Symbol, Value]) -> tuple[np.ndarray, list[np.ndarray]]:
        comp = _compiled(self.regimes)
        missing = [s for s in comp.args if s not in values]
        if missing:
            raise ValueError(f"no value given for {', '.join(map(str, missing))}")
        arrays = np.broadcast_arrays(*(_to_float_array(values[s]) for s in comp.args))
        shape = arrays[0].shape if arrays else ()
        index = np.full(shape, -1, dtype=int)
        actions = []
        with np.errstate(all="ignore"):
            for k, (cond, act) in enumerate(zip(comp.conditions, comp.actions, strict=False)):
                hit = np.broadcast_to(np.asarray(cond(*arrays), dtype=bool), shape)
                index[(index < 0) & hit] = k
                actions.append(np.broadcast_to(np.asarray(act(*arrays), dtype=float), shape))
        return index, actions


@dataclass(frozen=True)
class NumericEquilibrium:
    """A verified numeric symmetric equilibrium at one parameter point.

    Attributes:
        action: the common action.
        utility: the focal player's utility there.
        kind: ``"interior"``, ``"lower-bound"`` or ``"upper-bound"``.
        gain: the largest gain a unilateral deviation achieved in verification (<= tolerance).
    """

    action: float
    utility: float
    kind: str
    gain: float


# --------------------------------------------------------------------------- compilation


@dataclass(frozen=True)
class _Compiled:
    args: tuple[sympy.Symbol, ...]
    conditions: tuple[Callable[..., Any], ...]
    actions: tuple[Callable[..., Any], ...]


def _sort_symbols(symbols: Any) -> tuple[sympy.Symbol, ...]:
    return tuple(sorted(symbols, key=lambda s: (s.name, repr(s))))


@lru_cache(maxsize=4096)
def _lambdify(expr: sympy.Basic, args: tuple[sympy.Symbol, ...]) -> Callable[..., Any]:
    """``lambdify`` once per (expression, argument list)."""
    return sympy.lambdify(args, expr, modules="numpy", dummify=True)


_REL_SLACK = 1e-12


def _compile_condition(cond: sympy.Basic, args: tuple[sympy.Symbol, ...]) -> Callable[..., Any]:
    if cond is sympy.true or cond == True:  # noqa: E712 - sympy.true compares equal to True
        return lambda *a: True
    if cond is sympy.false or cond == False:  # noqa: E712
        return lambda *a: False
    if isinstance(cond, (sympy.And, sympy.Or)):
        parts = [_compile_condition(c, args) for c in cond.args]
        reduce = np.logical_and if isinstance(cond, sympy.And) else np.logical_or

        def combined(*a: Any) -> Any:
            acc = parts[0](*a)
            for p in parts[1:]:
                acc = reduce(acc, p(*a))
            return acc

        return combined
    if isinstance(cond, sympy.Not):
        inner = _compile_condition(cond.args[0], args)
        return lambda *a: np.logical_not(inner(*a))
    if isinstance(cond, sympy.core.relational.Relational):
        lhs = _lambdify(cond.lhs, args)
        rhs = _lambdify(cond.rhs, args)
        op = cond.rel_op

        def relation(*a: Any) -> Any:
            left = np.asarray(lhs(*a), dtype=float)
            right = np.asarray(rhs(*a), dtype=float)
            diff = left - right
            slack = _REL_SLACK * (1.0 + np.abs(left) + np.abs(right))
            if op == "==":
                return np.abs(diff) <= slack
            if op == "!=":
                return np.abs(diff) > slack
            if op in (">", ">="):
                return diff > slack if op == ">" else diff >= -slack
            return diff < -slack if op == "<" else diff <= slack

        return relation
    raise TypeError(f"cannot evaluate condition {cond!r}")


@lru_cache(maxsize=1024)
def _compiled(regimes: tuple[Regime, ...]) -> _Compiled:
    free: set[sympy.Symbol] = set()
    for r in regimes:
        free |= r.action.free_symbols
        if isinstance(r.condition, sympy.Basic):
            free |= r.condition.free_symbols
    args = _sort_symbols(free)
    return _Compiled(
        args=args,
        conditions=tuple(_compile_condition(r.condition, args) for r in regimes),
        actions=tuple(_lambdify(r.action, args) for r in regimes),
    )


def _scalar_args(args: tuple[sympy.Symbol, ...], values: Mapping[sympy.Symbol, Value]) -> list[float] | None:
    """The argument values as floats when all are scalars (the fast path), else None."""
    out = []
    for s in args:
        if s not in values:
            raise ValueError(f"no value given for {s}")
        v = values[s]
        if isinstance(v, np.ndarray) and v.ndim > 0:
            return None
        out.append(float(v))
    return out


def _to_float_array(value: Value) -> np.ndarray:
    if isinstance(value, Fraction):
        return np.asarray(value.numerator / value.denominator)
    if isinstance(value, sympy.Basic):
        return np.asarray(float(value))
    return np.asarray(value, dtype=float)


def _as_expr(value: Any, name: str) -> sympy.Expr:
    """A sympy number or expression from a sympy object or a Python number (never a string)."""
    if isinstance(value, sympy.Basic):
        return value
    if isinstance(value, bool):
        raise TypeError(f"{name} must be a number or a sympy expression, got {value!r}")
    if isinstance(value, int):
        return sympy.Integer(value)
    if isinstance(value, Fraction):
        return sympy.Rational(value.numerator, value.denominator)
    if isinstance(value, float):
        return sympy.Float(value)
    raise TypeError(f"{name} must be a number or a sympy expression, got {type(value).__name__}")


def _as_symbols(other: sympy.Symbol | Sequence[sympy.Symbol]) -> tuple[sympy.Symbol, ...]:
    if isinstance(other, sympy.Symbol):
        return (other,)
    return tuple(other)


# --------------------------------------------------------------------------- sign facts

_PROVED, _SAMPLED = "proved", "sampled"


def _box_bounds(
    domain: Domain | None, own: Sequence[sympy.Symbol], lo: sympy.Expr, hi: sympy.Expr
) -> dict[sympy.Symbol, tuple[float, float]] | None:
    """Numeric ranges for the parameters and the action symbols, from the parameter domain."""
    if not domain:
        return None
    box = {s: (float(a), float(b)) for s, (a, b) in domain.items()}
    lo_range = _interval(lo, box)
    hi_range = _interval(hi, box)
    if lo_range is None or hi_range is None:
        return box
    for s in own:
        box[s] = (lo_range[0], hi_range[1])
    return box


def _interval(expr: sympy.Expr, box: Mapping[sympy.Symbol, tuple[float, float]]) -> tuple[float, float] | None:
    """A conservative range of ``expr`` over the box (interval arithmetic), or None."""
    if not expr.free_symbols <= set(box):
        return None
    subs = {
        s: (sympy.AccumBounds(sympy.Float(a), sympy.Float(b)) if a < b else sympy.Float(a))
        for s, (a, b) in box.items()
        if s in expr.free_symbols
    }
    try:
        val = expr.xreplace(subs)
        val = val.doit() if hasattr(val, "doit") else val
        if isinstance(val, sympy.AccumBounds):
            low, high = val.min, val.max
        else:
            low = high = val
        if low.is_extended_real and high.is_extended_real and not low.has(sympy.nan):
            return float(low), float(high)
    except (TypeError, ValueError, ZeroDivisionError, AttributeError, NotImplementedError):
        return None
    return None


def _sample_box(
    box: Mapping[sympy.Symbol, tuple[float, float]],
    symbols: Sequence[sympy.Symbol],
    lo: sympy.Expr,
    hi: sympy.Expr,
    actions: Sequence[sympy.Symbol],
    count: int,
    seed: int = 0,
) -> list[dict[sympy.Symbol, float]]:
    """Deterministic sample points: parameters uniform in the box, actions inside their bounds."""
    rng = np.random.default_rng(seed)
    params = [s for s in symbols if s not in actions]
    lo_f = _lambdify(lo, tuple(params))
    hi_f = _lambdify(hi, tuple(params))
    points = []
    for _ in range(count):
        point = {s: float(rng.uniform(*box[s])) for s in params}
        a = float(lo_f(*(point[s] for s in params)))
        b = float(hi_f(*(point[s] for s in params)))
        for s in actions:
            point[s] = float(a + (b - a) * rng.uniform(0.01, 0.99))
        points.append(point)
    return points


def _sign_negative(
    expr: sympy.Expr,
    box: Mapping[sympy.Symbol, tuple[float, float]] | None,
    lo: sympy.Expr,
    hi: sympy.Expr,
    actions: Sequence[sympy.Symbol],
) -> str | None:
    """Whether ``expr < 0`` holds everywhere: proved, sampled (true on a sample), or unknown."""
    expr = _simplify(expr)
    if expr.is_negative:
        return _PROVED
    if expr.is_nonnegative:
        return None
    if box is None:
        return None
    rng = _interval(expr, box)
    if rng is not None and rng[1] < 0:
        return _PROVED
    if not expr.free_symbols <= set(box) or not (lo.free_symbols | hi.free_symbols) <= set(box):
        return None
    symbols = _sort_symbols(expr.free_symbols | {s for s in box if s not in actions})
    f = _lambdify(expr, symbols)
    for point in _sample_box(box, symbols, lo, hi, actions, 256, seed=1):
        with np.errstate(all="ignore"):
            v = float(f(*(point[s] for s in symbols)))
        if not v < 0:
            return None
    return _SAMPLED


def _sign_of(expr: sympy.Expr, box: Mapping[sympy.Symbol, tuple[float, float]] | None) -> int | None:
    """+1 / -1 when ``expr`` is provably positive / negative (assumptions or box), else None."""
    if expr.is_positive:
        return 1
    if expr.is_negative:
        return -1
    if box is not None:
        rng = _interval(expr, box)
        if rng is not None:
            if rng[0] > 0:
                return 1
            if rng[1] < 0:
                return -1
    return None


def _decided(cond: sympy.Basic, box: Mapping[sympy.Symbol, tuple[float, float]] | None) -> bool | None:
    """Whether a relational condition is provably true/false everywhere on the box."""
    if cond is sympy.true or cond is sympy.false:
        return bool(cond)
    if not isinstance(cond, sympy.core.relational.Relational):
        return None
    diff = _simplify(cond.lhs - cond.rhs)
    if diff.is_number:
        return bool(cond.func(diff, 0))
    sign = _sign_of(diff, box)
    if sign is None:
        return None
    op = cond.rel_op
    if op in (">", ">="):
        return sign > 0
    if op in ("<", "<="):
        return sign < 0
    return op != "=="


_FLIP = {">": "<", ">=": "<=", "<": ">", "<=": ">=", "==": "==", "!=": "!="}


def _relation(op: str, lhs: sympy.Expr, rhs: sympy.Expr) -> sympy.Basic:
    return sympy.core.relational.Relational(lhs, rhs, op)


def _isolate(
    diff: sympy.Expr,
    op: str,
    candidates: Sequence[sympy.Symbol],
    box: Mapping[sympy.Symbol, tuple[float, float]] | None,
) -> sympy.Basic:
    """``diff <op> 0`` rewritten as ``p <op'> threshold`` for the first parameter ``p`` of
    ``candidates`` in which ``diff`` is linear with a coefficient of known sign."""
    diff = _simplify(diff)
    if diff.is_number:
        return sympy.true if bool(_relation(op, diff, sympy.Integer(0))) else sympy.false
    for p in candidates:
        if p not in diff.free_symbols:
            continue
        a = _simplify(sympy.diff(diff, p))
        if a.has(p) or a == 0:
            continue
        sign = _sign_of(a, box)
        if sign is None:
            continue
        b = _simplify(diff - a * p)
        threshold = _tidy(-b / a)
        return _relation(op if sign > 0 else _FLIP[op], p, threshold)
    return _relation(op, diff, sympy.Integer(0))


# --------------------------------------------------------------------------- symbolic solving

_SIMPLIFY_LIMIT = 150


@lru_cache(maxsize=4096)
def _simplify(expr: sympy.Expr) -> sympy.Expr:
    """A cheap canonical form (one reduced fraction, ``sympy.cancel``; exact zero test for
    rational functions) for expressions small enough; large ones are returned as they are."""
    if not isinstance(expr, sympy.Expr) or sympy.count_ops(expr) > _SIMPLIFY_LIMIT:
        return expr
    return sympy.cancel(sympy.together(expr))


@lru_cache(maxsize=4096)
def _tidy(expr: sympy.Expr) -> sympy.Expr:
    """A readable form for results (factored) of a small expression."""
    if not isinstance(expr, sympy.Expr) or sympy.count_ops(expr) > _SIMPLIFY_LIMIT:
        return expr
    return sympy.factor(sympy.cancel(sympy.together(expr)))


def _is_algebraic_in(expr: sympy.Expr, symbol: sympy.Symbol) -> bool:
    """Whether ``symbol`` enters ``expr`` only through arithmetic and constant powers (so that
    ``sympy.solve`` can treat the equation ``expr = 0`` as algebraic)."""
    for node in sympy.preorder_traversal(expr):
        if isinstance(node, sympy.Pow):
            if node.exp.has(symbol):
                return False
        elif isinstance(node, sympy.Function) and node.has(symbol):
            return False
    return True


def _is_nonsmooth(expr: sympy.Basic, symbols: Sequence[sympy.Symbol]) -> bool:
    for node in sympy.preorder_traversal(expr):
        if isinstance(node, _NONSMOOTH) and any(node.has(s) for s in symbols):
            return True
    return False


def _unique_root(g: sympy.Expr, own: sympy.Symbol) -> sympy.Expr | None:
    num, den = sympy.fraction(sympy.together(g))
    num = sympy.expand(num)
    if num.is_polynomial(own) and sympy.degree(num, own) == 1:
        slope = num.coeff(own, 1)
        root = _tidy(-num.coeff(own, 0) / slope)
        if _simplify(den.xreplace({own: root})) != 0:
            return root
    try:
        roots = sympy.solve(g, own, dict=False)
    except (NotImplementedError, ValueError, TypeError):
        return None
    roots = [r for r in roots if isinstance(r, sympy.Expr) and r.is_real is not False and not r.has(sympy.I)]
    if len(roots) != 1:
        return None
    return _tidy(roots[0])


def _linear_regimes(
    coef: sympy.Expr,
    lo: sympy.Expr,
    hi: sympy.Expr,
    candidates: Sequence[sympy.Symbol],
    box: Mapping[sympy.Symbol, tuple[float, float]] | None,
) -> tuple[Regime, ...]:
    pieces = [
        (">", hi, "utility increasing in own action: corner at upper bound", False),
        ("<", lo, "utility decreasing in own action: corner at lower bound", False),
        (
            "==",
            lo,
            "utility constant in own action: every action in the bounds is optimal "
            "(indifference; lower bound selected)",
            True,
        ),
    ]
    regimes = []
    for op, action, reason, indifferent in pieces:
        cond = _isolate(coef, op, candidates, box)
        if _decided(cond, box) is False or cond is sympy.false:
            continue
        if _decided(cond, box) is True:
            cond = sympy.true
        regimes.append(Regime(cond, action, reason, indifferent))
    return tuple(regimes)


def _clip_regimes(
    root: sympy.Expr,
    lo: sympy.Expr,
    hi: sympy.Expr,
    requirement: sympy.Basic,
    candidates: Sequence[sympy.Symbol],
    box: Mapping[sympy.Symbol, tuple[float, float]] | None,
    note: str,
) -> tuple[Regime, ...]:
    pieces = [
        ([(root - lo, "<=")], lo, "first-order condition root at or below the lower bound: corner at lower bound"),
        ([(root - hi, ">=")], hi, "first-order condition root at or above the upper bound: corner at upper bound"),
        ([(root - lo, ">"), (root - hi, "<")], root, "interior solution of the first-order condition"),
    ]
    regimes = []
    for parts, action, reason in pieces:
        conds = [_isolate(d, op, candidates, box) for d, op in parts]
        verdicts = [_decided(c, box) for c in conds]
        if any(v is False for v in verdicts):
            continue
        conds = [c for c, v in zip(conds, verdicts, strict=False) if v is not True]
        if requirement is not sympy.true:
            conds.insert(0, requirement)
        cond = _conjunction(conds)
        if cond is sympy.false:
            continue
        regimes.append(Regime(cond, _tidy(action), reason + note))
    return tuple(regimes)


def _conjunction(conds: Sequence[sympy.Basic]) -> sympy.Basic:
    """``And`` of the conditions, keeping only the tightest of several bounds ``p > t`` (or
    ``p < t``) on one symbol by numbers."""
    tightest: dict[tuple[sympy.Symbol, str], sympy.Basic] = {}
    rest: list[sympy.Basic] = []
    for cond in sympy.And(*conds).args if len(conds) > 1 else conds:
        if (
            isinstance(cond, sympy.core.relational.Relational)
            and cond.rel_op in _FLIP
            and cond.rel_op not in ("==", "!=")
            and isinstance(cond.lhs, sympy.Symbol)
            and cond.rhs.is_number
        ):
            upper = cond.rel_op in (">", ">=")
            key = (cond.lhs, "lower" if upper else "upper")
            old = tightest.get(key)
            if old is None:
                tightest[key] = cond
            else:
                better = cond.rhs > old.rhs if upper else cond.rhs < old.rhs
                if better == True or (cond.rhs == old.rhs and cond.rel_op in (">", "<")):  # noqa: E712
                    tightest[key] = cond
        else:
            rest.append(cond)
    kept = list(tightest.values()) + rest
    return sympy.And(*kept) if kept else sympy.true


def _requirement(
    expr: sympy.Expr,
    actions: Sequence[sympy.Symbol],
    what: str,
    candidates: Sequence[sympy.Symbol],
    box: Mapping[sympy.Symbol, tuple[float, float]] | None,
    lo: sympy.Expr,
    hi: sympy.Expr,
) -> tuple[sympy.Basic, str] | None:
    """Settle ``expr < 0`` (for all actions in the bounds): a condition to add and a note, or None
    when it cannot be settled."""
    status = _sign_negative(expr, box, lo, hi, actions)
    if status == _PROVED:
        return sympy.true, ""
    if not any(expr.has(s) for s in actions):
        cond = _isolate(expr, "<", candidates, box)
        if cond is sympy.false:
            return None
        return cond, ""
    if status == _SAMPLED:
        return sympy.true, f" ({what} checked negative on a sample of the parameter domain)"
    return None


def _self_check(
    solution: SymbolicSolution,
    check: Callable[[dict, float], bool],
    domain: Domain | None,
    lo: sympy.Expr,
    hi: sympy.Expr,
) -> bool:
    """Verify the closed form numerically at sample points of the domain (True without one)."""
    if not domain:
        return True
    symbols = solution.symbols
    needed = set(symbols) | lo.free_symbols | hi.free_symbols
    if not needed <= set(domain):
        return True
    box = {s: (float(a), float(b)) for s, (a, b) in domain.items()}
    all_params = _sort_symbols(needed)
    for point in _sample_box(box, all_params, lo, hi, (), _CHECK_POINTS, seed=2):
        action = solution.evaluate(point)
        if math.isnan(action):
            continue
        if not check(point, float(action)):  # one point: one action
            return False
    return True


def solve_symmetric_symbolic(
    u: sympy.Expr,
    *,
    own: sympy.Symbol,
    other: sympy.Symbol | Sequence[sympy.Symbol],
    lo: sympy.Expr | Number,
    hi: sympy.Expr | Number,
    params: Sequence[sympy.Symbol] = (),
    domain: Domain | None = None,
    solve_for: Sequence[sympy.Symbol] | None = None,
) -> SymbolicSolution | None:
    """Symmetric equilibrium ``x*`` with ``x* = argmax_x u(x, y=x*)`` on ``[lo, hi]``, in closed form.

    * ``u`` linear in the own action with a coefficient free of the others' actions: corner
      solutions, the regimes from the sign of the coefficient (zero: an indifference regime);
    * ``u`` strictly concave in the own action and the symmetric first-order condition
      ``g(x) = du/dx at y = x`` strictly decreasing with a single root: that root clipped to the
      bounds, with the regimes where the clip binds. Requirements that involve parameters only
      and cannot be settled (e.g. ``-2 - 2*kappa < 0`` without a domain) become part of every
      regime condition, so outside them no regime applies.

    Args:
        u: the focal player's utility (a sympy expression; never a string).
        own: the focal player's action symbol.
        other: the other players' action symbol(s).
        lo: lower bound of the action (sympy expression in the parameters, or a number).
        hi: upper bound of the action.
        params: the parameter symbols (used to state thresholds).
        domain: optional parameter ranges ``{symbol: (low, high)}``; used to settle signs and to
            verify the closed form numerically at sample points before returning it.
        solve_for: parameters to isolate in the regime conditions, tried in order (default: the
            parameters in reverse order, so preference parameters declared last give thresholds
            such as ``kappa > (n - m)/(m*(n - 1))``).

    Returns:
        A :class:`SymbolicSolution`, or ``None`` when no closed form was found.
    """
    others = _as_symbols(other)
    lo_e, hi_e = _as_expr(lo, "lo"), _as_expr(hi, "hi")
    if not isinstance(u, sympy.Expr):
        raise TypeError("u must be a sympy expression")
    if _is_nonsmooth(u, (own, *others)):
        return None
    candidates = tuple(solve_for) if solve_for is not None else tuple(reversed(tuple(params)))
    box = _box_bounds(domain, (own, *others), lo_e, hi_e)
    diagonal = {o: own for o in others}
    du = sympy.diff(u, own)
    g = _simplify(du.xreplace(diagonal))
    d2 = sympy.diff(du, own)
    if d2 != 0 and not _is_algebraic_in(du, own):
        return None
    d2 = _simplify(d2)

    if d2 == 0:
        coef = _simplify(du)
        if coef.has(own) or any(coef.has(o) for o in others):
            return None
        solution = SymbolicSolution(_linear_regimes(coef, lo_e, hi_e, candidates, box), g, "linear-corner")
    else:
        if not _is_algebraic_in(g, own):
            return None
        concave = _requirement(d2, (own, *others), "second derivative", candidates, box, lo_e, hi_e)
        if concave is None:
            return None
        slope = _simplify(sympy.diff(g, own))
        decreasing = _requirement(
            slope, (own,), "slope of the symmetric first-order condition", candidates, box, lo_e, hi_e
        )
        if decreasing is None:
            return None
        root = _unique_root(g, own)
        if root is None:
            return None
        requirement = sympy.And(concave[0], decreasing[0])
        note = concave[1] or decreasing[1]
        solution = SymbolicSolution(
            _clip_regimes(root, lo_e, hi_e, requirement, candidates, box, note), g, "interior-foc"
        )
    if not solution.regimes:
        return None

    def check(point: dict, action: float) -> bool:
        return verify_symmetric(
            u, own=own, other=others, lo=lo_e, hi=hi_e, values=point, x_star=action, grid_points=_CHECK_GRID, tol=1e-7
        )

    return solution if _self_check(solution, check, domain, lo_e, hi_e) else None


def solve_argmax_symbolic(
    u: sympy.Expr,
    *,
    own: sympy.Symbol,
    lo: sympy.Expr | Number,
    hi: sympy.Expr | Number,
    params: Sequence[sympy.Symbol] = (),
    domain: Domain | None = None,
    solve_for: Sequence[sympy.Symbol] | None = None,
) -> SymbolicSolution | None:
    """The optimal action of a single mover (or against fixed beliefs), ``argmax_x u`` on ``[lo, hi]``.

    Same regime logic as :func:`solve_symmetric_symbolic` without the symmetric substitution:
    linear utility gives corners by the sign of the coefficient, strictly concave utility the
    root of ``du/dx = 0`` clipped to the bounds (e.g. the homo moralis dictator with log material
    utility gives ``kappa*E/(1 + kappa)``). Any other symbol in ``u`` (such as a believed action of
    another player) is treated as a parameter.

    Args:
        u: the mover's utility (a sympy expression).
        own: the mover's action symbol.
        lo: lower bound of the action.
        hi: upper bound of the action.
        params: the parameter symbols (used to state thresholds).
        domain: optional parameter ranges ``{symbol: (low, high)}`` (see
            :func:`solve_symmetric_symbolic`).
        solve_for: parameters to isolate in the regime conditions, tried in order.

    Returns:
        A :class:`SymbolicSolution`, or ``None`` when no closed form was found.
    """
    lo_e, hi_e = _as_expr(lo, "lo"), _as_expr(hi, "hi")
    if not isinstance(u, sympy.Expr):
        raise TypeError("u must be a sympy expression")
    if _is_nonsmooth(u, (own,)):
        return None
    candidates = tuple(solve_for) if solve_for is not None else tuple(reversed(tuple(params)))
    box = _box_bounds(domain, (own,), lo_e, hi_e)
    g = sympy.diff(u, own)
    d2 = sympy.diff(g, own)
    if d2 != 0 and not _is_algebraic_in(g, own):
        return None
    g, d2 = _simplify(g), _simplify(d2)
    if d2 == 0:
        solution = SymbolicSolution(_linear_regimes(g, lo_e, hi_e, candidates, box), g, "linear-corner")
    else:
        concave = _requirement(d2, (own,), "second derivative", candidates, box, lo_e, hi_e)
        if concave is None:
            return None
        root = _unique_root(g, own)
        if root is None:
            return None
        solution = SymbolicSolution(
            _clip_regimes(root, lo_e, hi_e, concave[0], candidates, box, concave[1]), g, "interior-foc"
        )
    if not solution.regimes:
        return None

    def check(point: dict, action: float) -> bool:
        return verify_argmax(
            u, own=own, lo=lo_e, hi=hi_e, values=point, x_star=action, grid_points=_CHECK_GRID, tol=1e-7
        )

    return solution if _self_check(solution, check, domain, lo_e, hi_e) else None


# --------------------------------------------------------------------------- numeric solving


def _point(
    u: sympy.Expr, lo: sympy.Expr, hi: sympy.Expr, actions: Sequence[sympy.Symbol], values: Mapping[sympy.Symbol, Value]
) -> tuple[tuple[sympy.Symbol, ...], tuple[float, ...], float, float]:
    """The parameter symbols of ``u`` and the bounds, their float values, and the bounds."""
    params = _sort_symbols((u.free_symbols | lo.free_symbols | hi.free_symbols) - set(actions))
    missing = [s for s in params if s not in values]
    if missing:
        raise ValueError(f"no value given for {', '.join(map(str, missing))}")
    vals = tuple(float(_to_float_array(values[s])) for s in params)
    a = float(_lambdify(lo, params)(*vals))
    b = float(_lambdify(hi, params)(*vals))
    if not (math.isfinite(a) and math.isfinite(b)) or a > b:
        raise ValueError(f"empty or infinite action bounds [{a}, {b}]")
    return params, vals, a, b


def _deviation_gain(
    f: Callable[[np.ndarray], np.ndarray], a: float, b: float, x_star: float, grid_points: int
) -> tuple[float, float, float]:
    """(utility at x*, best deviation utility, best deviation) on a grid refined locally."""
    with np.errstate(all="ignore"):
        base = float(f(np.asarray(x_star)))
        grid = np.linspace(a, b, max(grid_points, 2))
        vals = np.broadcast_to(np.asarray(f(grid), dtype=float), grid.shape)
    finite = np.where(np.isnan(vals), -np.inf, vals)
    i = int(np.argmax(finite))
    best, where = float(finite[i]), float(grid[i])
    if b > a and math.isfinite(best):
        left, right = grid[max(i - 1, 0)], grid[min(i + 1, len(grid) - 1)]
        if right > left:
            with np.errstate(all="ignore"):
                res = _optimize().minimize_scalar(
                    lambda z: -float(f(np.asarray(z))),
                    bounds=(left, right),
                    method="bounded",
                    options={"xatol": 1e-13 * max(1.0, abs(b - a))},
                )
            if res.success and math.isfinite(res.fun) and -res.fun > best:
                best, where = -float(res.fun), float(res.x)
    return base, best, where


def _gain_ok(base: float, best: float, tol: float) -> bool:
    if not math.isfinite(base):
        return False
    return best - base <= tol * max(1.0, abs(base))


def verify_symmetric(
    u: sympy.Expr,
    *,
    own: sympy.Symbol,
    other: sympy.Symbol | Sequence[sympy.Symbol],
    lo: sympy.Expr | Number,
    hi: sympy.Expr | Number,
    values: Mapping[sympy.Symbol, Value],
    x_star: float,
    grid_points: int = DEFAULT_VERIFY_GRID,
    tol: float = 1e-9,
) -> bool:
    """Whether everyone playing ``x_star`` is a symmetric equilibrium at one parameter point.

    No unilateral deviation (the others stay at ``x_star``) on a grid of ``grid_points`` over
    ``[lo, hi]``, refined by a bounded local search around the best grid point, improves the
    utility by more than ``tol * max(1, |u(x_star)|)``.

    Args:
        u: the focal player's utility.
        own: the focal player's action symbol.
        other: the other players' action symbol(s).
        lo: lower bound of the action.
        hi: upper bound of the action.
        values: a value for every parameter.
        x_star: the candidate common action.
        grid_points: size of the deviation grid.
        tol: allowed (relative) gain of a deviation.

    Returns:
        True when the candidate is within the bounds and no deviation gains more than the slack.
    """
    others = _as_symbols(other)
    lo_e, hi_e = _as_expr(lo, "lo"), _as_expr(hi, "hi")
    params, vals, a, b = _point(u, lo_e, hi_e, (own, *others), values)
    span = max(1.0, abs(b - a))
    if not (a - 1e-12 * span <= x_star <= b + 1e-12 * span):
        return False
    x_star = min(max(x_star, a), b)
    full = _lambdify(u, (own, *others, *params))
    fixed = [x_star] * len(others)

    def f(z: np.ndarray) -> np.ndarray:
        return full(z, *fixed, *vals)

    base, best, _ = _deviation_gain(f, a, b, x_star, grid_points)
    return _gain_ok(base, best, tol)


def verify_argmax(
    u: sympy.Expr,
    *,
    own: sympy.Symbol,
    lo: sympy.Expr | Number,
    hi: sympy.Expr | Number,
    values: Mapping[sympy.Symbol, Value],
    x_star: float,
    grid_points: int = DEFAULT_VERIFY_GRID,
    tol: float = 1e-9,
) -> bool:
    """Whether ``x_star`` maximises ``u`` over ``[lo, hi]`` at one parameter point (grid check).

    Args:
        u: the mover's utility.
        own: the mover's action symbol.
        lo: lower bound of the action.
        hi: upper bound of the action.
        values: a value for every other symbol in ``u`` and the bounds.
        x_star: the candidate action.
        grid_points: size of the deviation grid.
        tol: allowed (relative) gain of another action.

    Returns:
        True when no action on the refined grid is better by more than the slack.
    """
    lo_e, hi_e = _as_expr(lo, "lo"), _as_expr(hi, "hi")
    params, vals, a, b = _point(u, lo_e, hi_e, (own,), values)
    span = max(1.0, abs(b - a))
    if not (a - 1e-12 * span <= x_star <= b + 1e-12 * span):
        return False
    x_star = min(max(x_star, a), b)
    full = _lambdify(u, (own, *params))
    base, best, _ = _deviation_gain(lambda z: full(z, *vals), a, b, x_star, grid_points)
    return _gain_ok(base, best, tol)


def best_response(
    u: sympy.Expr,
    *,
    own: sympy.Symbol,
    lo: sympy.Expr | Number,
    hi: sympy.Expr | Number,
    values: Mapping[sympy.Symbol, Value],
    grid_points: int = DEFAULT_VERIFY_GRID,
) -> float:
    """The argmax of ``u`` over ``[lo, hi]`` at one point (single mover, or against beliefs).

    A grid of ``grid_points`` plus a bounded Brent refinement around the best grid point; on
    exact ties the smallest maximiser on the grid is returned.

    Args:
        u: the mover's utility.
        own: the mover's action symbol.
        lo: lower bound of the action.
        hi: upper bound of the action.
        values: a value for every other symbol (parameters, believed actions of others).
        grid_points: size of the search grid.

    Returns:
        The maximising action.
    """
    lo_e, hi_e = _as_expr(lo, "lo"), _as_expr(hi, "hi")
    params, vals, a, b = _point(u, lo_e, hi_e, (own,), values)
    full = _lambdify(u, (own, *params))
    _, best, where = _deviation_gain(lambda z: full(z, *vals), a, b, a, grid_points)
    if not math.isfinite(best):
        raise NoConvergence(f"utility is not finite anywhere on the grid of {grid_points} points over [{a}, {b}]")
    return _polish(u, own, params, vals, a, b, where, best, grid_points)


def _polish(
    u: sympy.Expr,
    own: sympy.Symbol,
    params: tuple[sympy.Symbol, ...],
    vals: tuple[float, ...],
    a: float,
    b: float,
    where: float,
    best: float,
    grid_points: int,
) -> float:
    """Sharpen an interior maximiser to a root of ``du/dx`` (a value-based search only reaches
    about the square root of machine precision); kept only if the utility does not drop."""
    step = (b - a) / max(grid_points - 1, 1)
    left, right = max(a, where - step), min(b, where + step)
    if not (a < where < b) or right <= left:
        return where
    try:
        g = _lambdify(sympy.diff(u, own), (own, *params))
        with np.errstate(all="ignore"):
            gl, gr = float(g(left, *vals)), float(g(right, *vals))
            if not (math.isfinite(gl) and math.isfinite(gr) and gl > 0 > gr):
                return where
            root = _optimize().brentq(
                lambda z: float(g(z, *vals)), left, right, xtol=1e-15, rtol=4 * np.finfo(float).eps, maxiter=200
            )
            value = float(_lambdify(u, (own, *params))(root, *vals))
    except (TypeError, ValueError, NameError, RuntimeError, NotImplementedError):
        return where
    return float(root) if value >= best - 1e-12 * max(1.0, abs(best)) else where


def _symmetric_foc(
    u: sympy.Expr, own: sympy.Symbol, others: tuple[sympy.Symbol, ...], params: tuple[sympy.Symbol, ...]
) -> Callable[..., Any] | None:
    try:
        g = sympy.diff(u, own).xreplace({o: own for o in others})
        return _lambdify(g, (own, *params))
    except (TypeError, ValueError, NotImplementedError, NameError):
        return None


def solve_symmetric_numeric(
    u: sympy.Expr,
    *,
    own: sympy.Symbol,
    other: sympy.Symbol | Sequence[sympy.Symbol],
    lo: sympy.Expr | Number,
    hi: sympy.Expr | Number,
    values: Mapping[sympy.Symbol, Value],
    grid: int = DEFAULT_BRACKET_GRID,
    grid_points: int = DEFAULT_VERIFY_GRID,
    tol: float = DEFAULT_TOL,
) -> list[NumericEquilibrium]:
    """All verified symmetric equilibria at one parameter point, by root finding.

    Candidates are the roots of the symmetric first-order condition ``g(x) = du/dx at y = x``
    (every sign change on a bracketing grid of ``grid`` points, solved by Brent's method; grid
    points where ``g`` vanishes exactly), plus both bounds. Each candidate is kept only if it
    passes :func:`verify_symmetric` with ``grid_points`` deviations and tolerance ``tol``.

    Args:
        u: the focal player's utility (sympy expression).
        own: the focal player's action symbol.
        other: the other players' action symbol(s).
        lo: lower bound of the action.
        hi: upper bound of the action.
        values: a value for every parameter.
        grid: size of the bracketing grid for the first-order condition.
        grid_points: size of the deviation grid used in verification.
        tol: allowed (relative) gain of a deviation.

    Returns:
        The verified equilibria, sorted by action (several when the game has several).

    Raises:
        NoConvergence: no candidate verified; the message names the grid and the tolerance.
    """
    others = _as_symbols(other)
    lo_e, hi_e = _as_expr(lo, "lo"), _as_expr(hi, "hi")
    params, vals, a, b = _point(u, lo_e, hi_e, (own, *others), values)
    full = _lambdify(u, (own, *others, *params))
    candidates: list[float] = [a, b]
    g = _symmetric_foc(u, own, others, params)
    if g is None or b <= a:
        g_of = None
    else:

        def g_of(z: Any) -> Any:
            return g(z, *vals)

    if g_of is not None:
        xs = np.linspace(a, b, max(grid, 3))
        with np.errstate(all="ignore"):
            gs = np.broadcast_to(np.asarray(g_of(xs), dtype=float), xs.shape).copy()
        finite = np.isfinite(gs)
        for i in range(len(xs)):
            if finite[i] and gs[i] == 0.0:
                candidates.append(float(xs[i]))
        for i in range(len(xs) - 1):
            if finite[i] and finite[i + 1] and gs[i] * gs[i + 1] < 0:
                try:
                    root = _optimize().brentq(
                        lambda z: float(g_of(z)),
                        xs[i],
                        xs[i + 1],
                        xtol=1e-15,
                        rtol=4 * np.finfo(float).eps,
                        maxiter=200,
                    )
                except (ValueError, RuntimeError):
                    continue
                candidates.append(float(root))
    found: list[NumericEquilibrium] = []
    worst = (math.inf, a, a)
    for x in sorted(set(candidates)):
        if any(abs(x - e.action) <= 1e-9 * max(1.0, abs(b - a)) for e in found):
            continue
        fixed = [x] * len(others)

        def at_fixed(z: Any, fixed: list[float] = fixed) -> Any:
            return full(z, *fixed, *vals)

        base, best, where = _deviation_gain(
            at_fixed,
            a,
            b,
            x,
            grid_points,
        )
        gain = best - base if math.isfinite(base) else math.inf
        if _gain_ok(base, best, tol):
            kind = "lower-bound" if x == a else "upper-bound" if x == b else "interior"
            found.append(NumericEquilibrium(x, base, kind, max(gain, 0.0)))
        elif gain < worst[0]:
            worst = (gain, x, where)
    if not found:
        raise NoConvergence(
            f"no symmetric equilibrium verified on [{a:g}, {b:g}]: {len(set(candidates))} "
            f"candidates (first-order-condition roots on a {grid}-point bracketing grid and the "
            f"two bounds) all fail the deviation check on a {grid_points}-point grid at "
            f"tolerance {tol:g}; the closest, x = {worst[1]:.6g}, is beaten by deviating to "
            f"{worst[2]:.6g} (gain {worst[0]:.3g})"
        )
    return found
