"""Modules over the length limit without a reason: each source module of the package longer than
600 lines says why on its first line (``# Over 600 lines: ...``), or it is split.

Usage: ``python scripts/long_modules.py`` (exit status 1, with the offenders listed, when one lacks it).
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SOURCES = ("grammar", "compiler", "runtime", "prefc")
LIMIT = 600
REASON = "# Over 600 lines: "

__all__ = ["unexplained"]


def unexplained(root: Path = ROOT, *, limit: int = LIMIT) -> list[tuple[Path, int]]:
    """The modules longer than ``limit`` lines whose first line gives no reason, with their lengths.

    Args:
        root: The repository root.
        limit: The most lines a module may have without a reason.
    """
    found = []
    for folder in SOURCES:
        for path in sorted((root / folder).rglob("*.py")):
            if "__pycache__" in path.parts:
                continue
            lines = path.read_text(encoding="utf-8").splitlines()
            if len(lines) > limit and not (lines[0].startswith(REASON) and len(lines[0]) > len(REASON) + 3):
                found.append((path.relative_to(root), len(lines)))
    return found


def main() -> int:
    """Run the check; print the offenders."""
    found = unexplained()
    for path, n in found:
        print(f"{path}: {n} lines; split it, or say why on line 1 ({REASON}...)", file=sys.stderr)
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
