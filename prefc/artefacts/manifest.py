"""``manifest.json``: what one ``prefc compile`` wrote, and the check readers make against it."""

from __future__ import annotations

import os
from pathlib import Path
from typing import ClassVar, Literal

from pydantic import Field

from .base import Document, Part
from .io import ArtefactError, read_document, sha256_file

__all__ = ["BlockEntry", "FileEntry", "Manifest", "MANIFEST", "verify_file"]

MANIFEST = "manifest.json"
"""The manifest's file name inside a build directory."""


class BlockEntry(Part):
    """One ``dataset`` or ``rubric`` block of the spec."""

    name: str
    """The block's name (a dataset's directory, a rubric's file stem)."""
    kind: Literal["dataset", "rubric"]
    """What the block builds."""
    seed: int
    """The seed its random draws used (the block's ``seed`` or ``--seed``)."""


class FileEntry(Part):
    """One file of the build, as written."""

    path: str
    """Path relative to the build directory (``sft/train.jsonl``)."""
    rows: int = Field(ge=0)
    """JSONL lines (0 for other files)."""
    sha256: str
    """SHA-256 of the file's bytes, as hex."""
    bytes: int = Field(ge=0)
    """The file's size."""
    schema_name: str | None = Field(default=None, alias="schema")
    """The model of the file's content, a class of ``prefc.artefacts`` (``DatasetRow``,
    ``RubricItem``, ``DatasetHeader``, ...); null for files that are not artefacts (the dataset card)."""
    schema_version: int | None = None
    """The version of that model the file was written in."""


class Manifest(Document):
    """Everything ``prefc compile`` wrote into ``DIR/<spec>/`` (the manifest itself excepted)."""

    WHAT: ClassVar[str] = "a prefc build manifest"
    STYLE: ClassVar[Literal["sorted", "ordered"]] = "sorted"

    spec: str
    """The spec's name."""
    spec_sha256: str
    """SHA-256 of the spec's source (with the files it uses)."""
    prefc_version: str
    """The prefc that compiled it."""
    format: Literal["trl", "messages", "openai"]
    """The dataset rows' format (``openai``: ``messages`` rows plus per-preference OpenAI files)."""
    blocks: list[BlockEntry]
    """The dataset and rubric blocks, in build order (datasets first)."""
    files: list[FileEntry]
    """Every file, sorted by path."""

    def entry(self, path: str) -> FileEntry | None:
        """The entry of a file, by its path relative to the build directory.

        Args:
            path: A relative path such as ``eval.jsonl``.
        """
        return next((f for f in self.files if f.path == path), None)


def verify_file(
    path: str | os.PathLike[str], *, error: type[Exception] = ArtefactError, rows: int | None = None
) -> FileEntry | None:
    """Check a file of a build against the ``manifest.json`` beside it (or up to two folders above
    it, for the files of a dataset directory and its per-preference folders): the same bytes (sha256)
    and, for JSONL, the same number of rows.

    Files outside any build (no manifest found, or a manifest that does not list them) are not
    checked: hand-written rubrics and datasets stay usable.

    Args:
        path: The file.
        error: The exception raised when the file differs from what the manifest records.
        rows: The rows the reader counted, when it already has them (saves nothing but a recount;
            the hash is always compared).

    Returns:
        The file's manifest entry, or None when no manifest lists it.
    """
    p = Path(path)
    for root in list(p.parents)[:3]:  # the build directory, a dataset's, or a dataset's per-preference folder
        manifest_path = root / MANIFEST
        if not manifest_path.is_file():
            continue
        manifest = read_document(manifest_path, Manifest, error=error)
        rel = p.resolve().relative_to(root.resolve()).as_posix()
        entry = manifest.entry(rel)
        if entry is None:
            return None
        actual = sha256_file(p)
        if actual != entry.sha256:
            if rows is None:
                with open(p, "rb") as fh:
                    rows = sum(1 for line in fh if line.strip())
            counted = (
                f"{rows} rows where the manifest lists {entry.rows}"
                if entry.rows and rows != entry.rows
                else "its bytes differ from what the manifest records"
            )
            raise error(
                f"{p}: {counted} ({manifest_path}, sha256 {entry.sha256[:12]}…): the file was cut or "
                f"changed after `prefc compile`; compile the spec again"
            )
        return entry
    return None
