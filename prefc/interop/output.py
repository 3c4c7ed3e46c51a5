"""Writing an export: every file is made in full before any lands, and each lands by an atomic rename.

An export that fails (a file that breaks its format's rules, an interrupt) leaves the output
directory as it was; files of an earlier export that are not rewritten stay.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from prefc.runtime.files import atomic_write_text

__all__ = ["ExportError", "write_files"]


class ExportError(Exception):
    """An export that cannot be written as asked (the message names the input and what is wrong)."""


def write_files(out_dir: str | os.PathLike[str], files: Mapping[str, str]) -> list[Path]:
    """Write the files of an export into a directory.

    Args:
        out_dir: The output directory (created, with its parents, if missing).
        files: Relative path -> UTF-8 text.

    Returns:
        The written paths, in the order given.

    Raises:
        ExportError: A relative path leaves the output directory, or the directory cannot be made.
    """
    root = Path(out_dir)
    targets = []
    for rel in files:
        path = Path(rel)
        if path.is_absolute() or ".." in path.parts:
            raise ExportError(f"refusing to write {rel!r} outside {root}")
        targets.append(root / path)
    try:
        for target in targets:
            target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ExportError(f"cannot create {exc.filename}: {exc.strerror}") from None
    for target, text in zip(targets, files.values(), strict=True):
        atomic_write_text(target, text)
    return targets
