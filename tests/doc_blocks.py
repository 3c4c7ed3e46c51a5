"""Fenced blocks of the markdown docs and the sections of docs/diagnostics.md, shared by the tests
that hold the docs to the code."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DIAGNOSTICS = ROOT / "docs" / "diagnostics.md"

FENCE = re.compile(r"^```(\w*)\n(.*?)^```", re.S | re.M)


def fenced(path: Path, lang: str) -> list[str]:
    """The bodies of the fenced blocks of one language in a markdown file.

    Args:
        path: The markdown file.
        lang: The fence's language tag (``pref``, ``text``, ...).
    """
    return [body for tag, body in FENCE.findall(path.read_text(encoding="utf-8")) if tag == lang]


def diagnostic_sections() -> dict[str, str]:
    """Code -> the text of its `### CODE` section in docs/diagnostics.md."""
    text = DIAGNOSTICS.read_text(encoding="utf-8")
    parts = re.split(r"^### ([EW]\d{4})\b.*$", text, flags=re.M)
    return {parts[i]: parts[i + 1] for i in range(1, len(parts), 2)}
