"""The one way the runtime and the command line print numbers (tables, reports, plots).

Artefacts hold full-precision numbers; this formats them for people: a fixed number of decimals
for shares and prices, significant digits for p-values and slopes, ``—`` for what is missing.
(The compiler keeps its own canonical formatting of the numbers it writes into artefacts, see
:mod:`prefc.compiler.emit.fmt`.)
"""

from __future__ import annotations

import math
from typing import Literal

__all__ = ["DASH", "fmt_number"]

DASH = "—"
"""What a missing value prints as."""

Style = Literal["fixed", "general", "auto", "percent"]


def fmt_number(x: object, *, digits: int = 3, style: Style = "fixed", missing: str = DASH,
               signed: bool = False, snap: float = 0.0) -> str:
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
