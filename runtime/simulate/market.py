"""The market the simulation plays in: the compiler's repeated market
(:class:`prefc.compiler.solve.market.Market`, shares, profits, best responses and benchmarks from
the spec's own payoff IR), raising the simulation's own error."""

from __future__ import annotations

import os
from fractions import Fraction
from typing import TYPE_CHECKING, ClassVar

from prefc.compiler.solve.market import SHARE_HELPERS, Market, eligible_games

if TYPE_CHECKING:
    from prefc.compiler.check import CheckedSpec
    from prefc.compiler.ir import SpecIR

__all__ = ["REFERENCE_KAPPAS", "SHARE_HELPERS", "PricingMarket", "SimulationError", "eligible_games", "load_ir"]

REFERENCE_KAPPAS = (Fraction(1, 4), Fraction(1, 2), Fraction(3, 4))
"""The homo moralis kappas whose symmetric prices are always reported as benchmarks."""


class SimulationError(Exception):
    """A simulation that cannot run as asked (wrong game, bad agent, failing endpoint, ...)."""


def load_ir(spec: str | os.PathLike[str] | CheckedSpec | SpecIR) -> SpecIR:
    """The IR of a spec given as a path, a checked spec or its IR.

    Args:
        spec: The spec.

    Raises:
        SimulationError: When the spec does not check.
    """
    from prefc.compiler.check import CheckedSpec, check_file
    from prefc.compiler.diagnostics import CompileError
    from prefc.compiler.ir import SpecIR, lower_spec

    if isinstance(spec, SpecIR):
        return spec
    if isinstance(spec, CheckedSpec):
        return lower_spec(spec)
    try:
        checked = check_file(str(spec))
    except CompileError as exc:
        first = next((d for d in exc.diagnostics if d.is_error), None)
        where = f"{first.span.file}:{first.span.line}: " if first is not None and first.span is not None else ""
        what = first.message if first is not None else "cannot be read"
        raise SimulationError(f"{spec}: {where}{what} (run `prefc check` for every problem)") from None
    return lower_spec(checked)


class PricingMarket(Market):
    """A symmetric two-player game with one continuous action, compiled for repeated play (see
    :class:`prefc.compiler.solve.market.Market`); its errors are :class:`SimulationError`.

    Args:
        ir: The spec's IR.
        game: The game's name.
        params: Game parameter values; missing ones take their defaults.
    """

    error: ClassVar[type[Exception]] = SimulationError
