"""The exact univariate argmax (compiler/solve/univariate.py): bounds, kinks and stationary points
compared exactly, a bound where the utility falls without limit never chosen, a removable
singularity valued by its limit."""

from __future__ import annotations

import sympy as sp

from prefc.compiler.solve.univariate import _falls_without_bound, argmax_exact

z = sp.Symbol("z", real=True)


def test_an_interior_optimum_between_two_logarithms_of_zero():
    # log z + log(10 - z) falls to minus infinity at both bounds; the maximiser is 5
    assert argmax_exact(sp.log(z) + sp.log(10 - z), z, sp.Integer(0), sp.Integer(10)) == 5


def test_only_a_plain_fall_toward_minus_infinity_is_dismissed_without_the_limit():
    lo, hi = sp.Integer(-1), sp.Integer(3)
    val = sp.Rational(1, 2) * sp.log(3 - z) + sp.Rational(1, 2) * sp.log(z + 1)
    assert _falls_without_bound(val, z, lo, lo, hi) and _falls_without_bound(val, z, hi, lo, hi)
    assert argmax_exact(val, z, lo, hi) == 1
    # a removable singularity and a rise without bound go to the symbolic limit
    assert not _falls_without_bound(z * sp.log(z), z, sp.Integer(0), sp.Integer(0), sp.Integer(1))
    assert not _falls_without_bound(-sp.log(z), z, sp.Integer(0), sp.Integer(0), sp.Integer(1))


def test_a_removable_singularity_is_valued_by_its_limit():
    # z log z is 0 in the limit at 0 and 0 at 1, below 0 between: a tie, which goes to the lowest
    assert argmax_exact(z * sp.log(z), z, sp.Integer(0), sp.Integer(1)) == 0
    # and -z log z alone peaks at 1/e, above its limit 0 at the bound
    assert argmax_exact(-z * sp.log(z), z, sp.Integer(0), sp.Integer(1)) == sp.exp(-1)


def test_a_bound_where_the_utility_rises_without_limit_is_not_dismissed():
    # -log z rises without bound toward 0: the bound is not dismissed as minus infinity
    assert argmax_exact(-sp.log(z), z, sp.Integer(0), sp.Integer(1)) == 0
