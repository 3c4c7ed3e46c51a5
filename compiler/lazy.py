"""Modules imported on first use, for the solver modules that need numpy only for continuous games.

A cold ``prefc solve`` of a finite game never touches numpy; importing it anyway costs a tenth of a
second. ``np = lazy_module("numpy", globals(), "np")`` binds a stand-in that, on its first
attribute access, imports the module and rebinds the global to the real module, so later accesses
cost nothing extra.
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = ["lazy_module"]


class _LazyModule:
    __slots__ = ("_name", "_namespace", "_binding")

    def __init__(self, name: str, namespace: dict[str, Any], binding: str):
        self._name = name
        self._namespace = namespace
        self._binding = binding

    def __getattr__(self, attr: str) -> Any:
        module = importlib.import_module(self._name)
        self._namespace[self._binding] = module
        return getattr(module, attr)

    def __repr__(self) -> str:
        return f"<module {self._name!r}, imported on first use>"


def lazy_module(name: str, namespace: dict[str, Any], binding: str) -> Any:
    """A stand-in for module ``name`` that imports it on first use.

    Args:
        name: The module's import name (``"numpy"``).
        namespace: The importing module's ``globals()``.
        binding: The global name the stand-in is bound to (``"np"``); rebound to the module.
    """
    return _LazyModule(name, namespace, binding)
