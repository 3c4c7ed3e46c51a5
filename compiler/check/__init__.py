"""Stage 2: semantic check. Resolves ``use`` imports, builds symbol tables for every game and
preference, and reports every independent mistake as a located diagnostic.

The result, a :class:`CheckedSpec`, is what later stages consume: they never look at text again.

Modules: :mod:`.model` (the checked spec), :mod:`.uses` (loading the main file and what it
``use``s), :mod:`.constants` (exact evaluation of constants and conditions), :mod:`.declarations`,
:mod:`.games` and :mod:`.builds` (declaration checks), :mod:`.expressions` (expression typing),
:mod:`.walk` (walking an expression tree).
"""

from __future__ import annotations

from prefc.compiler.check.builds import (
    MAX_REPEAT_HISTORY,
    REPEAT_HISTORY,
    RESERVED_BUILD_NAMES,
    RUBRIC_SELECTIONS,
    check_preference_application,
    market_shape_refusal,
)
from prefc.compiler.check.constants import NotConstant, ValueTooLarge, eval_const, evaluate_condition
from prefc.compiler.check.declarations import Checker
from prefc.compiler.check.games import MAX_DOMAIN_COMBOS, MAX_GROUP_SIZE, MAX_SWEEP_VALUES
from prefc.compiler.check.model import (
    ActionInfo,
    CheckedBuild,
    CheckedGame,
    CheckedPreference,
    CheckedSpec,
    PreferencePoint,
)
from prefc.compiler.check.walk import walk
from prefc.compiler.diagnostics import CompileError, Diagnostic, DiagnosticBag

__all__ = [
    "MAX_DOMAIN_COMBOS",
    "MAX_GROUP_SIZE",
    "MAX_REPEAT_HISTORY",
    "MAX_SWEEP_VALUES",
    "REPEAT_HISTORY",
    "RESERVED_BUILD_NAMES",
    "RUBRIC_SELECTIONS",
    "ActionInfo",
    "CheckedBuild",
    "CheckedGame",
    "CheckedPreference",
    "CheckedSpec",
    "Checker",
    "NotConstant",
    "PreferencePoint",
    "ValueTooLarge",
    "check_file",
    "check_preference_application",
    "eval_const",
    "evaluate_condition",
    "market_shape_refusal",
    "walk",
]


def check_file(path: str) -> CheckedSpec:
    """Load, parse and check a .pref file and everything it uses.

    Args:
        path: The main file.

    Returns:
        The checked spec, with warnings in ``diagnostics``.

    Raises:
        CompileError: with every error (and warning) found, sorted by location.
    """
    bag = DiagnosticBag()
    spec: CheckedSpec | None
    try:
        spec = Checker(bag).check(path)
    except RecursionError:
        bag.add("E0006", "expression nested too deeply to compile", None, hint="name intermediate values with `let`")
        spec = None
    bag.items.sort(key=_order)
    if bag.has_errors or spec is None:
        raise CompileError(bag.items, bag.sources)
    spec.diagnostics = [d for d in bag.items if not d.is_error]
    return spec


def _order(d: Diagnostic) -> tuple[str, int, int]:
    if d.span is None:
        return ("", 0, 0)
    return (d.span.file, d.span.start, d.span.end)
