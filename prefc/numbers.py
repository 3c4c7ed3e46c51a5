"""The one way prefc turns numbers into text and canonical JSON numbers, for the compiler and the
runtime alike.

* artefacts: :func:`plain_number` (the canonical JSON number) and :func:`number_text` (a number in
  a prompt);
* exact values in messages, labels and exports: :func:`fraction_text` (``1/3``),
  :func:`value_text` (``0.25`` where that is exact, else ``1/3``; a preference point's label),
  :func:`decimal_text` (``0.3333333333333333``), :func:`count_text` (``10,000``);
* utilities in option tables: :func:`utility_text` (six significant digits);
* tables, reports and plots for people: :func:`fmt_number` (decimals, significant digits,
  percentages, ``—`` for what is missing).
"""

from __future__ import annotations

import math
from fractions import Fraction
from typing import Any, Literal

__all__ = [
    "DASH",
    "count_text",
    "decimal_text",
    "fmt_number",
    "fraction_text",
    "number_text",
    "plain_number",
    "utility_text",
    "value_text",
]

DASH = "—"
"""What a missing value prints as."""

Style = Literal["fixed", "general", "auto", "percent"]


def plain_number(value: Any) -> Any:
    """A JSON number for an artefact: an int when integral, else a float rounded to 4 decimals.

    Args:
        value: An int, float, Fraction or sympy number; anything else is returned unchanged.
    """
    if isinstance(value, (bool, str)) or value is None:
        return value
    if isinstance(value, int):
        return value
    if isinstance(value, Fraction):
        if value.denominator == 1:
            return value.numerator
        value = float(value)
    try:
        f = float(value)
    except (TypeError, ValueError):
        return value
    r = round(f, 4)
    if r == int(r):
        return int(r)
    return r


def number_text(value: Any) -> str:
    """A number as people read it in a prompt: ``10``, ``1.6``, ``-0.25``.

    Args:
        value: A number (labels are returned as they are).
    """
    v = plain_number(value)
    if isinstance(v, float):
        return f"{v:.4f}".rstrip("0").rstrip(".")
    return str(v)


def fraction_text(v: Fraction) -> str:
    """An exact value as written in a spec: ``3``, ``-1/3``.

    Args:
        v: The value.
    """
    v = Fraction(v)
    return str(v.numerator) if v.denominator == 1 else f"{v.numerator}/{v.denominator}"


def decimal_text(v: Fraction) -> str:
    """An exact value as an integer or a float's text: ``3``, ``0.3333333333333333``.

    Args:
        v: The value.
    """
    return str(v.numerator) if v.denominator == 1 else str(float(v))


def value_text(v: Fraction) -> str:
    """An exact value in its shortest faithful text: ``3``, ``0.25`` (where the float is exact),
    ``1/3``, and ``about 10^N`` for values too large to write out.

    Args:
        v: The value.
    """
    if v.denominator == 1:
        return str(v.numerator) if v.numerator.bit_length() < 200 else f"about 10^{len(str(abs(v.numerator))) - 1}"
    try:
        as_float = float(v)
    except OverflowError:
        return f"about 10^{len(str(abs(v.numerator))) - len(str(v.denominator))}"
    if Fraction(repr(as_float)) == v:
        return repr(as_float)
    return f"{v.numerator}/{v.denominator}"


def count_text(n: Fraction | int) -> str:
    """A count: ``10,000``, or ``about 10^N`` from 10^15 on.

    Args:
        n: The count (a whole number).
    """
    n = int(n)
    return f"{n:,}" if n < 10**15 else f"about 10^{len(str(n)) - 1}"


def utility_text(v: object) -> str:
    """A utility as the option tables show it: integers as they are, else six significant digits.

    Args:
        v: A Fraction, float or int.
    """
    if isinstance(v, Fraction):
        if v.denominator == 1:
            return str(v.numerator)
        return f"{float(v):.6g}"
    if isinstance(v, float):
        return f"{v:.6g}"
    return str(v)


def fmt_number(
    x: object, *, digits: int = 3, style: Style = "fixed", missing: str = DASH, signed: bool = False, snap: float = 0.0
) -> str:
    """A value as people read it.

    Args:
        x: A number (or None, a bool, anything else, which prints as ``str``).
        digits: Decimals (``fixed``, ``auto``, ``percent``) or significant digits (``general``).
        style: ``fixed`` (``0.250``), ``general`` (``0.25``, ``1.5e-07``), ``auto`` (fixed, but
            three significant digits for values below 1e-3 or from 1e6 on, so p-values keep their
            magnitude), ``percent`` (``25%``).
        missing: What None prints as.
        signed: Always show the sign (``+0.120``).
        snap: Values closer to 0 than this print as 0 (rounding noise of an exact zero).
    """
    if x is None:
        return missing
    if isinstance(x, bool):
        return "yes" if x else "no"
    if isinstance(x, int) and style != "percent":
        return f"{x:+d}" if signed else str(x)
    if not isinstance(x, int | float):
        return str(x)
    v = float(x)
    if not math.isfinite(v):
        return str(v)
    if snap and abs(v) < snap:
        v = 0.0
    sign = "+" if signed else ""
    if style == "percent":
        return f"{v:{sign}.{digits}%}"
    if style == "general":
        return f"{v:{sign}.{digits}g}"
    if style == "auto" and v != 0 and (abs(v) < 1e-3 or abs(v) >= 1e6):
        return f"{v:{sign}.3g}"
    return f"{v:{sign}.{digits}f}"
