"""How many tokens an answer may take: enough for the longest reasoning a dataset teaches."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from prefc.artefacts import DatasetRow, read_rows, verify_file

__all__ = ["answer_budget"]


def answer_budget(tokenizer: Any, dataset_dir: Path, *, floor: int = 64) -> int:
    """Tokens an answer may take: a quarter more than the longest completion in a dataset's
    ``train.jsonl`` (and at least ``floor``), so an agent can finish the reasoning it was taught.

    The rows are validated against :class:`prefc.artefacts.DatasetRow` and the file against the
    build's ``manifest.json``.

    Args:
        tokenizer: The agents' tokenizer.
        dataset_dir: A compiled dataset directory.
        floor: The smallest budget returned.

    Raises:
        prefc.artefacts.ArtefactError: A row that is not a dataset row, or a file that differs
            from what the manifest records (the message says where).
    """
    path = Path(dataset_dir) / "train.jsonl"
    verify_file(path)
    longest = 0
    for _, _, _, row in read_rows(path, DatasetRow):
        text = "".join(turn.content for turn in row.answer_turns)
        longest = max(longest, len(tokenizer(text, add_special_tokens=False)["input_ids"]))
    return max(floor, -(-longest * 5 // 4))
