"""Rubrics as ``prefc eval`` reads them: the header and items validated against their models, the
file checked against the build's manifest, and subsets that keep every game and role.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from prefc.artefacts import (
    RubricHeader,
    RubricItem,
    iter_json_lines,
    read_document,
    validate_row,
    verify_file,
)
from prefc.errors import SpecError

__all__ = ["Rubric", "RubricError", "load_rubric", "stratified"]


class RubricError(SpecError):
    """A rubric file that cannot be used (the message names the file and line)."""


@dataclass
class Rubric:
    """A rubric: its header (``<rubric>.json``) and items (``<rubric>.jsonl``), or a subset of them.

    Attributes:
        path: The items file.
        header: The header object (``spec``, ``spec_sha256``, ``preferences``, ``tolerance``,
            ``games``, optionally ``family``).
        items: The items, in file order (validated :class:`prefc.artefacts.RubricItem` data).
        n_total: Items in the whole rubric when ``items`` is a subset (None: the header's
            ``items`` count, else ``len(items)``).
    """

    path: Path
    header: dict[str, Any]
    items: list[dict[str, Any]] = field(default_factory=list)
    n_total: int | None = None

    @property
    def preferences(self) -> list[str]:
        """The compared preference labels."""
        return [str(p) for p in self.header.get("preferences") or []]

    @property
    def tolerance(self) -> float:
        """Tolerance for number actions, as a fraction of the action range."""
        return float(self.header.get("tolerance", 0.05))

    @property
    def family(self) -> dict[str, Any] | None:
        """The family used for the kappa estimate (``name``, ``param``, ``grid``), if any."""
        fam = self.header.get("family")
        return dict(fam) if isinstance(fam, Mapping) else None

    @property
    def spec_sha256(self) -> str | None:
        """The hash of the spec the rubric was compiled from."""
        value = self.header.get("spec_sha256")
        return str(value) if value is not None else None

    @property
    def total(self) -> int:
        """Items in the whole rubric (more than ``len(items)`` for a subset)."""
        if self.n_total is not None:
            return self.n_total
        counted = self.header.get("items")
        return int(counted) if isinstance(counted, int) and counted >= len(self.items) else len(self.items)

    def subset(self, limit: int | None) -> Rubric:
        """Up to ``limit`` items, stratified by game and role (:func:`stratified`).

        Args:
            limit: How many items to keep (None keeps all).
        """
        return Rubric(self.path, self.header, stratified(self.items, limit), n_total=self.total)


def stratified(items: Sequence[Mapping[str, Any]], limit: int | None) -> list[Any]:
    """Take up to ``limit`` items round-robin across (game, role), keeping file order within each.

    Args:
        items: Rubric items.
        limit: How many to keep (None keeps all).
    """
    if limit is None or limit >= len(items):
        return list(items)
    groups: dict[tuple, list[Any]] = {}
    for it in items:
        groups.setdefault((it.get("game"), it.get("role")), []).append(it)
    out: list[Any] = []
    queues = list(groups.values())
    while len(out) < max(0, limit) and any(queues):
        for q in queues:
            if q and len(out) < limit:
                out.append(q.pop(0))
    return out


def _cross_check(item: dict[str, Any], where: str, header: RubricHeader) -> None:
    meta = item.get("meta") or {}
    sha = meta.get("spec_sha256")
    if sha is not None and sha != header.spec_sha256:
        raise RubricError(
            f"{where}: item {item['id']!r} comes from spec {str(sha)[:12]}…, the header from "
            f"{header.spec_sha256[:12]}… (mixed rubric files; recompile)"
        )
    family = item.get("family")
    if family is not None and header.family is not None and len(family["utilities"]) != len(header.family.grid):
        raise RubricError(
            f"{where}: family has {len(family['utilities'])} utility rows for a grid of {len(header.family.grid)}"
        )


def load_rubric(path: str | os.PathLike[str], *, expect_sha256: str | None = None) -> Rubric:
    """Read and check a rubric (``<rubric>.jsonl`` with its ``<rubric>.json`` header).

    The header and every item are validated against :class:`prefc.artefacts.RubricHeader` and
    :class:`prefc.artefacts.RubricItem`. A rubric in a build directory is checked against the
    build's ``manifest.json`` (same bytes and rows), and against its header's item count.

    Args:
        path: The items file (the header path is derived by replacing the suffix with ``.json``;
            passing the header path or the path without a suffix also works).
        expect_sha256: Refuse a rubric compiled from another spec version than this hash.

    Raises:
        RubricError: For a missing file or header, corrupt JSON (with file:line), an item or header
            that does not match its model (file:line: field), an item whose spec hash differs from
            the header's, duplicate ids, an empty rubric, a file cut or changed after it was
            compiled, or a spec hash other than ``expect_sha256``.
    """
    p = Path(path)
    if p.suffix != ".jsonl":
        p = p.with_suffix(".jsonl")
    if not p.is_file():
        raise RubricError(f"{p}: no such rubric file")
    hp = p.with_suffix(".json")
    if not hp.is_file():
        raise RubricError(f"{hp}: missing rubric header (expected next to {p.name})")
    header = read_document(hp, RubricHeader, error=RubricError)
    if expect_sha256 is not None and header.spec_sha256 != expect_sha256:
        raise RubricError(
            f"{hp}: rubric compiled from spec {header.spec_sha256[:12]}…, expected {expect_sha256[:12]}… "
            "(recompile the spec)"
        )
    verify_file(hp, error=RubricError)
    verify_file(p, error=RubricError)
    items: list[dict[str, Any]] = []
    seen: dict[str, int] = {}
    for where, lineno, obj in iter_json_lines(p, error=RubricError):
        validate_row(RubricItem, obj, where=where, error=RubricError)
        assert isinstance(obj, dict)
        _cross_check(obj, where, header)
        key = str(obj["id"])
        if key in seen:
            raise RubricError(f"{where}: duplicate item id {key!r} (first on line {seen[key]})")
        seen[key] = lineno
        items.append(obj)
    if not items:
        raise RubricError(f"{p}: the rubric has no items")
    if header.items is not None and header.items != len(items):
        raise RubricError(
            f"{p}: {len(items)} items, but its header ({hp.name}) counts {header.items}: the file was "
            "cut or changed after `prefc compile`; compile the spec again"
        )
    return Rubric(path=p, header=header.to_data(), items=items)
