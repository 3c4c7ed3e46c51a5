"""The line of a field inside a JSON text, for error messages (``file:line: field: ...``).

Only used when a document failed validation, so it favours simplicity over speed: it walks the
text along the field's path, skipping the values before it with the standard decoder.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

__all__ = ["line_of"]

_DECODER = json.JSONDecoder()
_WS = " \t\n\r"


def _skip_ws(text: str, i: int) -> int:
    while i < len(text) and text[i] in _WS:
        i += 1
    return i


def _find(text: str, i: int, path: Sequence[str | int]) -> int:
    i = _skip_ws(text, i)
    if not path or i >= len(text):
        return i
    head, rest = path[0], path[1:]
    if text[i] == "{":
        j = _skip_ws(text, i + 1)
        while j < len(text) and text[j] == '"':
            key, j = _DECODER.raw_decode(text, j)
            j = _skip_ws(text, j)
            if j >= len(text) or text[j] != ":":
                return i
            start = _skip_ws(text, j + 1)
            if key == str(head):
                return _find(text, start, rest) if rest else start
            _, j = _DECODER.raw_decode(text, start)
            j = _skip_ws(text, j)
            if j < len(text) and text[j] == ",":
                j = _skip_ws(text, j + 1)
        return i
    if text[i] == "[" and isinstance(head, int):
        j = _skip_ws(text, i + 1)
        index = 0
        while j < len(text) and text[j] != "]":
            if index == head:
                return _find(text, j, rest) if rest else j
            _, j = _DECODER.raw_decode(text, j)
            j = _skip_ws(text, j)
            if j < len(text) and text[j] == ",":
                j = _skip_ws(text, j + 1)
            index += 1
        return i
    return i


def line_of(text: str, path: Sequence[str | int]) -> int:
    """The 1-based line where the value at ``path`` starts (the innermost object on the path that
    exists, for a missing field).

    Args:
        text: A valid JSON text.
        path: Keys and list indices from the top-level value down.
    """
    try:
        pos = _find(text, 0, list(path))
    except (ValueError, IndexError):
        pos = 0
    return text.count("\n", 0, pos) + 1
