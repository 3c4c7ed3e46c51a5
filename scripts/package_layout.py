"""Lay the package out as it is installed, in one folder, for tools that read sources from disk.

prefc's subpackages live in several folders (``compiler/`` is ``prefc.compiler``, ``runtime/`` is
``prefc.runtime``: the ``package-dir`` mapping of pyproject.toml), and the editable install maps
them with an import hook that static tools (mypy, import-linter) do not run. This writes
``DEST/prefc/...`` made of links to the sources (or copies, with ``--copy``), so that
``MYPYPATH=DEST mypy -p prefc.compiler`` and ``lint-imports`` see the package as Python imports it.

Usage: ``python scripts/package_layout.py DEST [--copy]`` (DEST is replaced).
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

__all__ = ["lay_out"]


def lay_out(dest: Path, *, copy: bool = False) -> Path:
    """Write the installed layout of the package under ``dest`` (replacing it); return ``dest``.

    Args:
        dest: The folder to write; ``dest/prefc`` is the package.
        copy: Copy the sources instead of linking to them (a copy can be edited apart from them).
    """
    mapping = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-dir"]
    if dest.exists():
        shutil.rmtree(dest)
    dest.mkdir(parents=True)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    # parents before children: prefc/ first, then prefc/compiler/ inside it
    for package, folder in sorted(mapping.items(), key=lambda kv: kv[0].count(".")):
        source, target = ROOT / folder, dest.joinpath(*package.split("."))
        if copy:
            shutil.copytree(source, target, dirs_exist_ok=True, ignore=ignore)
            continue
        target.mkdir(parents=True, exist_ok=True)
        for entry in sorted(source.iterdir()):
            if entry.name == "__pycache__" or (target / entry.name).exists():
                continue
            os.symlink(entry, target / entry.name)
    return dest


def main(argv: list[str] | None = None) -> int:
    """Run the script.

    Args:
        argv: The arguments (default: the command line's).
    """
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("dest", type=Path)
    parser.add_argument("--copy", action="store_true", help="copy the sources instead of linking to them")
    args = parser.parse_args(argv)
    lay_out(args.dest, copy=args.copy)
    return 0


if __name__ == "__main__":
    sys.exit(main())
