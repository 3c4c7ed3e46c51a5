"""Atomic output: every file of a build is written into a temporary directory next to the target,
then the directory replaces the previous build in one rename. An interrupted compile leaves the
previous build (or nothing), never a mix."""

from __future__ import annotations

import hashlib
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass
class FileRecord:
    """One written file: its path relative to the build directory, row count and sha256."""

    path: str
    rows: int
    sha256: str
    bytes: int

    def to_json(self) -> dict[str, Any]:
        return {"path": self.path, "rows": self.rows, "sha256": self.sha256, "bytes": self.bytes}


@dataclass
class StagedBuild:
    """A build being written into a temporary directory.

    Args:
        target: The final directory (``DIR/<spec>``).
    """

    target: Path
    files: list[FileRecord] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.target.parent.mkdir(parents=True, exist_ok=True)
        self.tmp = self.target.parent / f".{self.target.name}.partial-{os.getpid()}"
        if self.tmp.exists():
            shutil.rmtree(self.tmp)
        self.tmp.mkdir()

    def write_text(self, rel: str, text: str, *, rows: int = 0) -> FileRecord:
        """Write one file (UTF-8, ``\\n`` line ends).

        Args:
            rel: Path relative to the build directory.
            text: The content.
            rows: Its row count (JSONL lines; 0 for other files).
        """
        data = text.encode("utf-8")
        path = self.tmp / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "wb", buffering=1 << 20) as f:
            f.write(data)
        rec = FileRecord(rel, rows, hashlib.sha256(data).hexdigest(), len(data))
        self.files.append(rec)
        return rec

    def write_lines(self, rel: str, lines: list[str]) -> FileRecord:
        """Write a JSONL file.

        Args:
            rel: Path relative to the build directory.
            lines: The lines, without newlines.
        """
        return self.write_text(rel, "".join(line + "\n" for line in lines), rows=len(lines))

    def commit(self) -> None:
        """Replace the target with the staged directory."""
        old = self.target.parent / f".{self.target.name}.previous-{os.getpid()}"
        if self.target.exists():
            os.replace(self.target, old)
        os.replace(self.tmp, self.target)
        if old.exists():
            shutil.rmtree(old, ignore_errors=True)

    def abort(self) -> None:
        """Remove the staged directory (the previous build stays)."""
        shutil.rmtree(self.tmp, ignore_errors=True)
