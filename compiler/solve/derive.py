"""Shared pieces of every concept: exact values, the tie and selection rules, and how derivations
print numbers and formulas."""

from __future__ import annotations

import contextlib
import math
from collections.abc import Sequence
from fractions import Fraction
from functools import lru_cache

import sympy as sp

from prefc.compiler.ir import ActionIR, to_plain
from prefc.compiler.solution import Equilibrium

__all__ = [
    "NonFinite",
    "argmaxes",
    "exact_value",
    "figure",
    "pretty",
    "regime_check",
    "select",
    "shown",
    "tidy",
]


class NonFinite(ValueError):
    """A utility that is not a finite real number (``log(0)``, ``sqrt(-1)``, ``x/0``, overflow)."""


def exact_value(v: sp.Expr, where: str) -> Fraction | float:
    """A utility as a Fraction (exact) or a float, refusing anything that is not a finite real.

    Args:
        v: The utility (a sympy number).
        where: What it is the utility of, for the message (``row at (defect, defect)``).

    Raises:
        NonFinite: for infinities, NaN, complex numbers and expressions that are not numbers.
    """
    if isinstance(v, Fraction):
        return v
    if isinstance(v, float):
        if not math.isfinite(v):
            raise NonFinite(f"the utility of {where} is not a finite real number ({v})")
        return v
    if v.is_Rational:
        return Fraction(int(v.p), int(v.q))
    if v in (sp.zoo, sp.nan, sp.oo, -sp.oo) or v.has(sp.zoo, sp.nan, sp.oo, -sp.oo):
        raise NonFinite(f"the utility of {where} is not a finite real number ({sp.sstr(v)})")
    if not v.is_number:
        raise NonFinite(f"the utility of {where} did not reduce to a number: {sp.sstr(v)}")
    if v.is_real is False or v.has(sp.I):
        raise NonFinite(f"the utility of {where} is not a finite real number ({sp.sstr(v)})")
    try:
        f = float(v)
    except (TypeError, ValueError, OverflowError) as exc:
        raise NonFinite(f"the utility of {where} is not a finite real number ({sp.sstr(v)})") from exc
    if not math.isfinite(f):
        raise NonFinite(f"the utility of {where} is not a finite real number ({sp.sstr(v)})")
    return f


def pretty(e: sp.Basic) -> str:
    """A formula as derivations print it (``^`` for powers).

    Args:
        e: The expression.
    """
    if isinstance(e, sp.Expr) and e.is_number and not e.is_Rational:
        with contextlib.suppress(TypeError, ValueError):
            e = sp.nsimplify(e)
    return sp.sstr(e).replace("**", "^")


def figure(v: sp.Expr) -> str:
    """A number as a derivation shows it: exact integers as they are, else 4 decimals at most.

    Args:
        v: A sympy number.
    """
    if v.is_Integer:
        return str(int(v))
    text = f"{float(v):.4f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def regime_check(cond: sp.Basic, subs: dict) -> str | None:
    """The sides of a regime condition evaluated at the point, in the order they appear.

    ``m = 1.6, 2*n/(n + 1) = 2*6/(6 + 1) = 1.7143`` for ``m < 2*n/(n + 1)`` (a formula is shown
    with the numbers put in, then its value; sides that are constants are left out), or None when
    a side is not a number there or the condition is not a comparison (or an and/or of them).

    Args:
        cond: The regime's condition.
        subs: Parameter symbol -> value.
    """
    if cond is sp.true or cond is sp.false:
        return None
    atoms = cond.args if isinstance(cond, (sp.And, sp.Or)) else (cond,)
    parts: dict[str, str] = {}
    for atom in atoms:
        if not isinstance(atom, sp.core.relational.Relational):
            return None
        for side in (atom.lhs, atom.rhs):
            value = side.subs(subs)
            if not (value.is_number and value.is_real):
                return None
            if side.is_number:
                continue
            text = pretty(side)
            if side.is_Symbol:
                parts.setdefault(text, figure(value))
            else:
                names = {s: sp.Symbol(figure(subs[s])) for s in side.free_symbols if s in subs}
                filled = pretty(side.xreplace(names))
                parts.setdefault(text, f"{filled} = {figure(value)}")
    return ", ".join(f"{k} = {v}" for k, v in parts.items()) or None


@lru_cache(maxsize=8192)
def tidy(e: sp.Expr) -> sp.Expr:
    """A readable form for derivations: polynomials expanded, rational functions cancelled to one
    fraction, anything with functions or floats rounded to six digits (sympy's ``simplify`` is
    far too slow to run on every derivation).

    Args:
        e: The expression.
    """
    if e.has(sp.exp, sp.log, sp.Float, sp.Piecewise, sp.Max, sp.Min):
        return e.xreplace({f: sp.Float(f, 6) for f in e.atoms(sp.Float)})
    symbols = sorted(e.free_symbols, key=str)
    if e.is_polynomial(*symbols):
        return sp.expand(e)
    if e.is_rational_function(*symbols):
        return sp.cancel(e)
    return e


def argmaxes(utils: Sequence[Fraction | float]) -> list[int]:
    """Indices of the best utilities (exact ties; floats within 1e-12).

    Args:
        utils: Utilities.
    """
    best = max(utils)
    return [
        i
        for i, u in enumerate(utils)
        if u == best or (isinstance(u, float) and math.isclose(u, best, rel_tol=1e-12, abs_tol=1e-12))
    ]


def shown(action: ActionIR, v: sp.Expr | Fraction | float | int) -> str | int | float:
    """An action value as solutions show it: the label for label actions, else a plain number.

    Args:
        action: The action.
        v: Its value (a label code for labels).
    """
    if action.kind == "labels":
        return action.labels[int(v)]
    return to_plain(v)  # type: ignore[return-value]


def select(equilibria: list[Equilibrium], *, require_symmetric: bool = True) -> tuple[int | None, str]:
    """The equilibrium datasets use: a (symmetric) pure one, the highest mean utility, then option order.

    Args:
        equilibria: Every equilibrium found.
        require_symmetric: Only symmetric pure equilibria qualify (symmetric games).
    """
    pure = [i for i, e in enumerate(equilibria) if e.is_pure and (e.symmetric or not require_symmetric)]
    if not pure:
        return (
            None,
            "no pure equilibrium to teach" if not require_symmetric else "no symmetric pure equilibrium to teach",
        )
    if len(pure) == 1:
        n_pure = len([e for e in equilibria if e.is_pure])
        return pure[0], "unique pure equilibrium" if n_pure == 1 else (
            "the only symmetric pure equilibrium" if require_symmetric else "the only pure equilibrium"
        )

    def score(i: int) -> float:
        vals = [v for v in equilibria[i].utilities.values() if v is not None]
        return sum(vals) / len(vals) if vals else -math.inf

    best = max(pure, key=lambda i: (score(i), -i))
    which = "symmetric pure" if require_symmetric else "pure"
    return best, f"payoff-dominant {which} equilibrium (ties: first in option order)"
