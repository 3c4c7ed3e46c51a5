"""prefc: a declarative preference-spec compiler.

Public names (imported on first use, so ``import prefc`` stays cheap):

Functions
    load(source) -> Spec
        Load and check a ``.pref`` file, or spec text.
    train(dataset, *, out, preference=None, model=None, **config) -> Path
        Fine-tune a model on a compiled dataset; returns the adapter directory.
    evaluate(rubric, *, agent, out, **options) -> Summary
        Run an agent on a rubric and score it.

Result types
    Spec
        A checked spec: ``solve``, ``explain``, ``compile``, ``games``, ``preferences``.
    Build
        A compiled spec on disk: ``dataset(name)``, ``rubric(name)``.
    Summary
        An evaluation's summary (``summary.json``): accuracy per preference, nearest type, kappa.
    Solution, Explanation
        What ``Spec.solve`` and ``Spec.explain`` return.

Errors (every one a :class:`PrefcError`)
    PrefcError, SpecError, UsageError, CompileError, SelectionError, UnknownName, UnknownGame,
    UnknownPreference, UnknownBlock, WorkTooLarge

``help(prefc.NAME)`` shows each one's documentation; ``prefc --help`` the command line.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from prefc.version import __version__

if TYPE_CHECKING:
    from prefc.api import Build, Spec, evaluate, load, train
    from prefc.artefacts import Summary
    from prefc.compiler.diagnostics import CompileError
    from prefc.compiler.select import SelectionError
    from prefc.compiler.solution import Solution
    from prefc.compiler.solve.explain import Explanation
    from prefc.errors import (
        PrefcError,
        SpecError,
        UnknownBlock,
        UnknownGame,
        UnknownName,
        UnknownPreference,
        UsageError,
        WorkTooLarge,
    )

__all__ = [
    "load",
    "train",
    "evaluate",
    "Spec",
    "Build",
    "Summary",
    "Solution",
    "Explanation",
    "PrefcError",
    "SpecError",
    "UsageError",
    "CompileError",
    "SelectionError",
    "UnknownName",
    "UnknownGame",
    "UnknownPreference",
    "UnknownBlock",
    "WorkTooLarge",
    "__version__",
]

_LAZY = {
    "load": "prefc.api",
    "train": "prefc.api",
    "evaluate": "prefc.api",
    "Spec": "prefc.api",
    "Build": "prefc.api",
    "Summary": "prefc.artefacts",
    "Solution": "prefc.compiler.solution",
    "Explanation": "prefc.compiler.solve.explain",
    "CompileError": "prefc.compiler.diagnostics",
    "SelectionError": "prefc.compiler.select",
    **{
        name: "prefc.errors"
        for name in (
            "PrefcError",
            "SpecError",
            "UsageError",
            "UnknownName",
            "UnknownGame",
            "UnknownPreference",
            "UnknownBlock",
            "WorkTooLarge",
        )
    },
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'prefc' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
