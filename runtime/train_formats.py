"""What a fine-tuned model learns to write: the dataset's completion as written (reasoning, then the
``ANSWER:`` line), the ``ANSWER:`` line first and the reasoning after it, or the ``ANSWER:`` line alone.

A model that answers first can be scored from its prompt alone (the answer's log-probability right
after the prompt, :mod:`prefc.runtime.option_scoring`), and a row without reasoning is a shorter
row to train on.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

__all__ = ["COMPLETIONS", "reformat_rows", "reorder_completion"]

COMPLETIONS = ("as-written", "answer-first", "answer")
"""The trained completion formats."""


def reorder_completion(text: str, mode: str, *, where: str = "") -> str:
    """A completion in the trained format: as written, its ``ANSWER:`` line first, or that line alone.

    Args:
        text: The assistant's completion (reasoning, then the ``ANSWER:`` line).
        mode: One of :data:`COMPLETIONS`.
        where: The row's location, for the error message.

    Raises:
        TrainError: The completion has no line starting with ``ANSWER:``.
        ValueError: ``mode`` is unknown.
    """
    from .train_config import TrainError

    if mode not in COMPLETIONS:
        raise ValueError(f"unknown completion format {mode!r}; use one of {', '.join(COMPLETIONS)}")
    if mode == "as-written":
        return text
    lines = text.split("\n")
    at = next((i for i in range(len(lines) - 1, -1, -1) if lines[i].lstrip().startswith("ANSWER:")), None)
    if at is None:
        raise TrainError(f"{where}: completion has no ANSWER: line to put first (completion={mode!r})")
    answer = lines[at].strip()
    rest = "\n".join(lines[:at] + lines[at + 1 :]).strip()
    return answer if mode == "answer" or not rest else f"{answer}\n{rest}"


def reformat_rows(rows: list[dict[str, Any]], mode: str, source: Path) -> list[dict[str, Any]]:
    """Rows whose last completion message is in the trained format (the input rows are not changed).

    Args:
        rows: Prompt-completion rows.
        mode: One of :data:`COMPLETIONS`.
        source: Where the rows came from (for messages).
    """
    if mode == "as-written":
        return rows
    out = []
    for n, row in enumerate(rows, start=1):
        completion = [dict(m) for m in row["completion"]]
        completion[-1]["content"] = reorder_completion(completion[-1]["content"], mode, where=f"{source} row {n}")
        out.append({**row, "completion": completion})
    return out
