"""Where a dataset's per-preference files go, and the name a preference has in file paths.

A dataset directory (``build/<spec>/<dataset>/``) holds its rows mixed over preferences
(``train.jsonl``, ``val.jsonl``, ``test.jsonl``). So that a tool can load the rows of one
preference by name, a dataset with several preferences also holds them per preference::

    <slug>/train.jsonl, <slug>/val.jsonl, <slug>/test.jsonl     the same rows, one preference
    openai/<slug>.train.jsonl, openai/<slug>.val.jsonl          OpenAI fine-tuning files (--format openai)

The slug of ``moralis(kappa=0.5)`` is ``moralis_kappa0.5`` (the name, then ``_`` and each parameter
with its value; a fraction's ``/`` becomes ``over``), which is also the dataset card's config name
and the adapter directory name of ``prefc run``.
"""

from __future__ import annotations

import re

__all__ = ["SPLITS", "HUB_SPLIT_NAMES", "preference_slug", "preference_file", "openai_file"]

SPLITS = ("train", "val", "test")
"""The split files a dataset may have, in order."""

HUB_SPLIT_NAMES = {"train": "train", "val": "validation", "test": "test"}
"""The Hugging Face split name of each split file (``val.jsonl`` is the ``validation`` split)."""

_LABEL = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*(?:\((.*)\))?\s*$")
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]")


def preference_slug(label: str) -> str:
    """The file-system and config name of a preference label.

    Args:
        label: A preference label such as ``moralis(kappa=0.5)`` or ``inequity(alpha=0.8, beta=0.3)``.

    Returns:
        ``moralis_kappa0.5``, ``inequity_alpha0.8_beta0.3``; a label that is not of the form
        ``name(param=value, ...)`` has every character outside ``[A-Za-z0-9._-]`` replaced by ``-``.
    """
    match = _LABEL.match(label)
    if match is None:
        return _UNSAFE.sub("-", label.strip()) or "preference"
    name, inner = match.group(1), match.group(2)
    parts = [name]
    for assignment in (inner or "").split(","):
        if not assignment.strip():
            continue
        key, _, value = assignment.partition("=")
        value = value.strip().replace("/", "over")
        parts.append(_UNSAFE.sub("-", key.strip() + value))
    return "_".join(parts)


def preference_file(label: str, split: str) -> str:
    """The path, relative to the dataset directory, of one preference's rows of one split.

    Args:
        label: The preference label.
        split: ``train``, ``val`` or ``test``.
    """
    return f"{preference_slug(label)}/{split}.jsonl"


def openai_file(label: str, split: str) -> str:
    """The path, relative to the dataset directory, of one preference's OpenAI fine-tuning file.

    Args:
        label: The preference label.
        split: ``train``, ``val`` or ``test``.
    """
    return f"openai/{preference_slug(label)}.{split}.jsonl"
