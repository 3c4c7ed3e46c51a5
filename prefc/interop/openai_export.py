"""A dataset's rows as OpenAI chat fine-tuning files: one file per preference and split.

``prefc export openai DATASET_DIR -o DIR`` reads any dataset directory ``prefc compile`` wrote (TRL
or ``messages`` rows) and writes ``DIR/<slug>.train.jsonl``, ``DIR/<slug>.val.jsonl`` (and
``.test.jsonl`` for hold-outs), each line ``{"messages": [system, user, assistant]}``: the same
bytes as ``prefc compile --format openai`` writes under ``<dataset>/openai/``. Every file is checked
against the published rules (:mod:`prefc.compiler.emit.openai_jsonl`) before any is written.
"""

from __future__ import annotations

import os
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from prefc.compiler.emit.fmt import dumps
from prefc.compiler.emit.layout import SPLITS, preference_slug
from prefc.compiler.emit.openai_jsonl import OpenAIFileReport, openai_row, validate_openai_file
from prefc.interop.output import ExportError, write_files
from prefc.runtime.files import read_jsonl

__all__ = ["OpenAIExport", "collect_openai_files", "openai_files", "export_openai"]


@dataclass
class OpenAIExport:
    """What :func:`export_openai` wrote.

    Attributes:
        out_dir: The output directory.
        files: Each file's validation report (path, examples, errors, warnings), in order.
        preferences: The preference labels exported.
    """

    out_dir: Path
    files: list[OpenAIFileReport] = field(default_factory=list)
    preferences: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        """The export as a JSON object."""
        return {
            "out_dir": str(self.out_dir),
            "preferences": self.preferences,
            "files": [f.to_json() for f in self.files],
        }


def _label(row: Any, where: str) -> str:
    meta = row.get("meta") if isinstance(row, dict) else None
    label = meta.get("preference") if isinstance(meta, dict) else None
    if not isinstance(label, str):
        raise ExportError(f"{where}: the row has no meta.preference (is this a dataset `prefc compile` wrote?)")
    return label


def _matches(label: str, wanted: str) -> bool:
    norm = re.sub(r"\s+", "", label)
    return norm == re.sub(r"\s+", "", wanted) or label.split("(")[0] == wanted


def openai_files(dataset_dir: str | os.PathLike[str], *, preference: str | None = None) -> dict[str, str]:
    """The OpenAI fine-tuning files of a dataset directory, as text.

    Args:
        dataset_dir: A dataset directory (``train.jsonl`` and optionally ``val.jsonl``, ``test.jsonl``).
        preference: Only this preference (a label such as ``moralis(kappa=0.5)`` or a name).

    Returns:
        ``<slug>.<split>.jsonl`` -> the file's text, preferences in dataset order.

    Raises:
        ExportError: No dataset there, a malformed row (file and line named), or no rows of the
            preference (the preferences present are listed).
    """
    return collect_openai_files(dataset_dir, preference)[1]


def collect_openai_files(
    dataset_dir: str | os.PathLike[str], preference: str | None = None
) -> tuple[list[str], dict[str, str]]:
    """The preferences of a dataset and their OpenAI fine-tuning files.

    Args:
        dataset_dir: A dataset directory written by ``prefc compile``.
        preference: Only this preference (a label or a name).

    Returns:
        The preference labels, in dataset order, and ``<slug>.<split>.jsonl`` -> text.

    Raises:
        ExportError: As :func:`openai_files`.
    """
    root = Path(dataset_dir)
    if not (root / "train.jsonl").is_file():
        raise ExportError(f"{root}: no dataset here (expected train.jsonl from `prefc compile`)")
    by_label: dict[str, dict[str, list[str]]] = {}
    for split in SPLITS:
        path = root / f"{split}.jsonl"
        if not path.is_file():
            continue
        for where, _, row in read_jsonl(path, error=ExportError):
            label = _label(row, where)
            try:
                line = dumps(openai_row(row))
            except ValueError as exc:
                raise ExportError(f"{where}: {exc}") from None
            by_label.setdefault(label, {}).setdefault(split, []).append(line)
    labels = list(by_label)
    if preference is not None:
        labels = [label for label in labels if _matches(label, preference)]
        if not labels:
            raise ExportError(
                f"{root}: no rows of preference {preference!r}; preferences present: {', '.join(by_label) or 'none'}"
            )
    files: dict[str, str] = {}
    for label in labels:
        for split in SPLITS:
            if split in by_label[label]:
                files[f"{preference_slug(label)}.{split}.jsonl"] = "".join(
                    line + "\n" for line in by_label[label][split]
                )
    return labels, files


def export_openai(
    dataset_dir: str | os.PathLike[str], out_dir: str | os.PathLike[str], *, preference: str | None = None
) -> OpenAIExport:
    """Write the OpenAI fine-tuning files of a dataset, each checked against the published rules first.

    Args:
        dataset_dir: A dataset directory written by ``prefc compile``.
        out_dir: Where the files go.
        preference: Only this preference's files.

    Returns:
        The files written with their validation reports.

    Raises:
        ExportError: As :func:`openai_files`, or a file breaks a rule (nothing is written then).
    """
    labels, files = collect_openai_files(dataset_dir, preference)
    reports = []
    with tempfile.TemporaryDirectory(prefix="prefc-openai-") as tmp:
        for name, text in files.items():
            path = Path(tmp) / name
            path.write_text(text, encoding="utf-8")
            report = validate_openai_file(path, strict=True, training=".train." in name)
            if not report.ok:
                raise ExportError("; ".join(p.located(name) for p in report.errors[:5]))
            report.path = Path(out_dir) / name
            reports.append(report)
    write_files(out_dir, files)
    return OpenAIExport(out_dir=Path(out_dir), files=reports, preferences=labels)
