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

from .numeric import (
    DEFAULT_BRACKET_GRID,
    DEFAULT_TOL,
    DEFAULT_VERIFY_GRID,
    best_response,
    solve_symmetric_numeric,
    verify_argmax,
    verify_symmetric,
)
from .results import NoConvergence, NumericEquilibrium, Regime, SymbolicSolution
from .symbolic import solve_argmax_symbolic, solve_symmetric_symbolic
from .values import Domain, Number, Value

__all__ = [
    "DEFAULT_BRACKET_GRID",
    "DEFAULT_TOL",
    "DEFAULT_VERIFY_GRID",
    "Domain",
    "NoConvergence",
    "Number",
    "NumericEquilibrium",
    "Regime",
    "SymbolicSolution",
    "Value",
    "best_response",
    "solve_argmax_symbolic",
    "solve_symmetric_numeric",
    "solve_symmetric_symbolic",
    "verify_argmax",
    "verify_symmetric",
]
