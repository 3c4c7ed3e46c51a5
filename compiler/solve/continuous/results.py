"""What the continuous solvers return: piecewise closed forms (regimes, evaluated at a point or over
a sweep of arrays), verified numeric equilibria, and the error when no candidate verifies."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any

import sympy

from prefc.compiler.lazy import lazy_module

from .closures import compile_condition, lambdify_once, sort_symbols
from .values import Value, scalar_args, to_float_array

if TYPE_CHECKING:
    import numpy as np
else:
    np = lazy_module("numpy", globals(), "np")

__all__ = ["NoConvergence", "NumericEquilibrium", "Regime", "SymbolicSolution"]


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
        scalars = scalar_args(comp.args, values)
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
        arrays = np.broadcast_arrays(*(to_float_array(values[s]) for s in comp.args))
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
    interval: tuple[float, float] | None = None
    """Where every common action is a symmetric equilibrium too, the interval this one belongs to
    (a continuum, as non-smooth utilities such as inequity aversion give): the list holds its ends
    and its payoff-dominant point, not every point of it."""


@dataclass(frozen=True)
class _Compiled:
    args: tuple[sympy.Symbol, ...]
    conditions: tuple[Callable[..., Any], ...]
    actions: tuple[Callable[..., Any], ...]


@lru_cache(maxsize=1024)
def _compiled(regimes: tuple[Regime, ...]) -> _Compiled:
    free: set[sympy.Symbol] = set()
    for r in regimes:
        free |= r.action.free_symbols
        if isinstance(r.condition, sympy.Basic):
            free |= r.condition.free_symbols
    args = sort_symbols(free)
    return _Compiled(
        args=args,
        conditions=tuple(compile_condition(r.condition, args) for r in regimes),
        actions=tuple(lambdify_once(r.action, args) for r in regimes),
    )
