"""prefc: a declarative preference-spec compiler.

The Python API (:mod:`prefc.api`) is imported on first use, so ``import prefc`` stays cheap.
"""

from typing import Any

from prefc.version import __version__

__all__ = ["load", "train", "evaluate", "Spec", "Build", "__version__"]


def __getattr__(name: str) -> Any:
    if name in ("load", "train", "evaluate", "Spec", "Build"):
        from prefc import api

        return getattr(api, name)
    raise AttributeError(f"module 'prefc' has no attribute {name!r}")
