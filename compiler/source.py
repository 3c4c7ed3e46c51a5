"""Source text and spans: where every AST node and diagnostic points to."""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import BaseModel, ConfigDict


class Span(BaseModel):
    """A half-open character range ``[start, end)`` in one source file, with 1-based line/column."""

    model_config = ConfigDict(frozen=True)

    file: str
    start: int
    end: int
    line: int
    column: int
    end_line: int
    end_column: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"


@dataclass
class SourceFile:
    """The text of one .pref file, with a line index for turning offsets into positions.

    Attributes:
        path: The path as the user gave it (used in messages).
        text: The decoded text.
    """

    path: str
    text: str
    _line_starts: list[int] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        starts = [0]
        for i, ch in enumerate(self.text):
            if ch == "\n":
                starts.append(i + 1)
        self._line_starts = starts

    @property
    def resolved(self) -> Path:
        """The absolute path of the file."""
        return Path(self.path).resolve()

    def position(self, offset: int) -> tuple[int, int]:
        """Return the 1-based (line, column) of a character offset.

        Args:
            offset: A character offset into the text.
        """
        offset = max(0, min(offset, len(self.text)))
        line = bisect_right(self._line_starts, offset) - 1
        return line + 1, offset - self._line_starts[line] + 1

    def span(self, start: int, end: int) -> Span:
        """Build a span from character offsets.

        Args:
            start: First character offset.
            end: One past the last character offset.
        """
        end = max(start, end)
        line, column = self.position(start)
        end_line, end_column = self.position(end)
        return Span(file=self.path, start=start, end=end, line=line, column=column,
                    end_line=end_line, end_column=end_column)

    def line_text(self, line: int) -> str:
        """Return the text of a 1-based line without its newline.

        Args:
            line: The line number.
        """
        if line < 1 or line > len(self._line_starts):
            return ""
        start = self._line_starts[line - 1]
        end = self._line_starts[line] - 1 if line < len(self._line_starts) else len(self.text)
        return self.text[start:end]
