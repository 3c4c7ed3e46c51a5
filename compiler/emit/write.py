"""Atomic output: every file of a build is written (through the artefacts' atomic writer) into a
staging directory next to the target, then the directory replaces the previous build in one rename.
An interrupted compile leaves the previous build (or nothing), never a mix.

Staging directories are named after the process that writes them (``.<spec>.partial-PID``,
``.<spec>.previous-PID`` while the old build is swapped out). A compile into a directory first
removes those of processes that no longer run (a killed compile's leftovers) and never touches a
live one; a previous build left swapped out by a kill is put back first.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from prefc.artefacts import Document, FileEntry, Row, atomic_write_bytes, sha256_bytes
from prefc.artefacts.io import AtomicWriter

__all__ = ["FileRecord", "LineFile", "StagedBuild", "clean_stale", "process_alive"]

FileRecord = FileEntry
"""One written file (the manifest's entry for it)."""


def process_alive(pid: int) -> bool:
    """Whether a process with this id runs on this machine (ours, or another user's).

    Args:
        pid: The process id.
    """
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # it exists, owned by someone else
    except OSError:
        return False
    return True


def _owner(path: Path, marker: str) -> int | None:
    tail = path.name.rsplit(marker, 1)[-1]
    return int(tail) if tail.isdigit() else None


def clean_stale(target: Path) -> list[Path]:
    """Remove the staging directories of ``target`` left by compiles whose process is gone.

    A swapped-out previous build (``.<name>.previous-PID``) of a dead process is renamed back to
    ``target`` when ``target`` is missing (the kill came between the two renames of a commit), and
    removed otherwise; a dead process's ``.<name>.partial-PID`` is removed. Directories of live
    processes, this one included, stay.

    Args:
        target: The build directory (``DIR/<spec>``).

    Returns:
        The directories removed or put back.
    """
    touched: list[Path] = []
    parent = target.parent
    if not parent.is_dir():
        return touched
    for marker in (".previous-", ".partial-"):
        for path in sorted(parent.glob(f".{target.name}{marker}*")):
            pid = _owner(path, marker)
            if pid is None or pid == os.getpid() or process_alive(pid) or not path.is_dir():
                continue
            if marker == ".previous-" and not target.exists():
                os.replace(path, target)
            else:
                shutil.rmtree(path, ignore_errors=True)
            touched.append(path)
    return touched


@dataclass
class LineFile:
    """A JSONL file of a staged build being written row by row.

    Args:
        build: The staged build it belongs to.
        rel: Its path relative to the build directory.
        model: The row model of its lines.
        writer: The atomic writer of its bytes.
    """

    build: StagedBuild
    rel: str
    model: type[Row]
    writer: AtomicWriter
    rows: int = 0

    def write(self, line: bytes) -> None:
        """Append one line.

        Args:
            line: The UTF-8 line, without its newline.
        """
        self.writer.write(line + b"\n")
        self.rows += 1

    def close(self) -> FileEntry:
        """Move the file into place and record it in the build's manifest entries."""
        digest = self.writer.commit()
        rec = FileEntry(
            path=self.rel,
            rows=self.rows,
            sha256=digest,
            bytes=self.writer.bytes,
            schema=self.model.__name__,
            schema_version=self.model.SCHEMA_VERSION,
        )
        self.build.files.append(rec)
        return rec

    def abort(self) -> None:
        """Drop the file."""
        self.writer.abort()


@dataclass
class StagedBuild:
    """A build being written into a staging directory.

    Args:
        target: The final directory (``DIR/<spec>``).
    """

    target: Path
    files: list[FileEntry] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.target.parent.mkdir(parents=True, exist_ok=True)
        clean_stale(self.target)
        self.tmp = self.target.parent / f".{self.target.name}.partial-{os.getpid()}"
        if self.tmp.exists():
            shutil.rmtree(self.tmp)
        self.tmp.mkdir()

    def write_text(
        self, rel: str, text: str, *, rows: int = 0, model: type[Document] | type[Row] | None = None
    ) -> FileEntry:
        """Write one file (UTF-8, ``\\n`` line ends).

        Args:
            rel: Path relative to the build directory.
            text: The content.
            rows: Its row count (JSONL lines; 0 for other files).
            model: The artefact model of its content (recorded in the manifest), if it is one.
        """
        data = text.encode("utf-8")
        path = self.tmp / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_bytes(path, data)
        rec = FileEntry(
            path=rel,
            rows=rows,
            sha256=sha256_bytes(data),
            bytes=len(data),
            schema=model.__name__ if model is not None else None,
            schema_version=model.SCHEMA_VERSION if model is not None else None,
        )
        self.files.append(rec)
        return rec

    def write_lines(self, rel: str, lines: Iterable[str], *, model: type[Row]) -> FileEntry:
        """Write a JSONL file, line by line (the lines are never joined in memory).

        Args:
            rel: Path relative to the build directory.
            lines: The lines, without newlines.
            model: The row model of its lines.
        """
        out = self.line_file(rel, model=model)
        try:
            for line in lines:
                out.write(line.encode("utf-8"))
        except BaseException:
            out.abort()
            raise
        return out.close()

    def line_file(self, rel: str, *, model: type[Row]) -> LineFile:
        """Open a JSONL file of the build for rows streamed to it; :meth:`LineFile.close` records it.

        Args:
            rel: Path relative to the build directory.
            model: The row model of its lines.
        """
        path = self.tmp / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        return LineFile(self, rel, model, AtomicWriter(path))

    def write_document(self, rel: str, document: Document) -> FileEntry:
        """Write a document artefact in its model's text form.

        Args:
            rel: Path relative to the build directory.
            document: The document.
        """
        return self.write_text(rel, document.to_text(), model=type(document))

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
