"""The symbolic path: a piecewise closed form from the first-order conditions, one regime per region
of the parameter space (corners of a linear utility, or the first-order root of a strictly concave
one clipped to the bounds), verified numerically on a sample of the domain before it is returned."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence

import sympy

from .closures import sort_symbols
from .conditions import conjunction, sign_condition
from .numeric import verify_argmax, verify_symmetric
from .results import Regime, SymbolicSolution
from .signs import PROVED, SAMPLED, box_bounds, decided, sample_box, sign_negative, simplify_small, tidy
from .values import Domain, Number, as_expr, as_symbols

__all__ = ["solve_argmax_symbolic", "solve_symmetric_symbolic"]


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
        root = tidy(-num.coeff(own, 0) / slope)
        if simplify_small(den.xreplace({own: root})) != 0:
            return root
    try:
        roots = sympy.solve(g, own, dict=False)
    except (NotImplementedError, ValueError, TypeError):
        return None
    roots = [r for r in roots if isinstance(r, sympy.Expr) and r.is_real is not False and not r.has(sympy.I)]
    if len(roots) != 1:
        return None
    return tidy(roots[0])


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
        cond = sign_condition(coef, op, candidates, box)
        if decided(cond, box) is False or cond is sympy.false:
            continue
        if decided(cond, box) is True:
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
        conds = [sign_condition(d, op, candidates, box) for d, op in parts]
        verdicts = [decided(c, box) for c in conds]
        if any(v is False for v in verdicts):
            continue
        conds = [c for c, v in zip(conds, verdicts, strict=False) if v is not True]
        if requirement is not sympy.true:
            conds.insert(0, requirement)
        cond = conjunction(conds)
        if cond is sympy.false:
            continue
        regimes.append(Regime(cond, tidy(action), reason + note))
    return tuple(regimes)


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
    status = sign_negative(expr, box, lo, hi, actions)
    if status == PROVED:
        return sympy.true, ""
    if not any(expr.has(s) for s in actions):
        cond = sign_condition(expr, "<", candidates, box)
        if cond is sympy.false:
            return None
        return cond, ""
    if status == SAMPLED:
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
    all_params = sort_symbols(needed)
    for point in sample_box(box, all_params, lo, hi, (), _CHECK_POINTS, seed=2):
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
    others = as_symbols(other)
    lo_e, hi_e = as_expr(lo, "lo"), as_expr(hi, "hi")
    if not isinstance(u, sympy.Expr):
        raise TypeError("u must be a sympy expression")
    if _is_nonsmooth(u, (own, *others)):
        return None
    candidates = tuple(solve_for) if solve_for is not None else tuple(reversed(tuple(params)))
    box = box_bounds(domain, (own, *others), lo_e, hi_e)
    diagonal = {o: own for o in others}
    du = sympy.diff(u, own)
    g = simplify_small(du.xreplace(diagonal))
    d2 = sympy.diff(du, own)
    if d2 != 0 and not _is_algebraic_in(du, own):
        return None
    d2 = simplify_small(d2)

    if d2 == 0:
        coef = simplify_small(du)
        if coef.has(own) or any(coef.has(o) for o in others):
            return None
        solution = SymbolicSolution(_linear_regimes(coef, lo_e, hi_e, candidates, box), g, "linear-corner")
    else:
        if not _is_algebraic_in(g, own):
            return None
        concave = _requirement(d2, (own, *others), "second derivative", candidates, box, lo_e, hi_e)
        if concave is None:
            return None
        slope = simplify_small(sympy.diff(g, own))
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
    lo_e, hi_e = as_expr(lo, "lo"), as_expr(hi, "hi")
    if not isinstance(u, sympy.Expr):
        raise TypeError("u must be a sympy expression")
    if _is_nonsmooth(u, (own,)):
        return None
    candidates = tuple(solve_for) if solve_for is not None else tuple(reversed(tuple(params)))
    box = box_bounds(domain, (own,), lo_e, hi_e)
    g = sympy.diff(u, own)
    d2 = sympy.diff(g, own)
    if d2 != 0 and not _is_algebraic_in(g, own):
        return None
    g, d2 = simplify_small(g), simplify_small(d2)
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
