"""The consoles results are printed on: the terminal's width on a terminal, a fixed one elsewhere.

Off a terminal (a pipe, a file) rich would lay tables out for 80 columns and cut or fold their
cells; results printed there use ``COLUMNS`` when it is set, else :data:`PIPE_WIDTH`, and long
cells wrap at word boundaries instead of being cut; lines of text are never broken.
"""

from __future__ import annotations

import os
import sys
from typing import Any

__all__ = ["PIPE_WIDTH", "output_width", "table_console"]

PIPE_WIDTH = 100


def output_width(stream: Any = None) -> int | None:
    """The width to lay results out in: None on a terminal (rich measures it), else ``COLUMNS``
    or :data:`PIPE_WIDTH`.

    Args:
        stream: The stream the results go to (default: standard output).
    """
    target = stream if stream is not None else sys.stdout
    try:
        if target.isatty():
            return None
    except (AttributeError, ValueError):
        pass
    try:
        columns = int(os.environ.get("COLUMNS", ""))
    except ValueError:
        columns = 0
    return columns if columns >= 40 else PIPE_WIDTH


def table_console(*, stderr: bool = False) -> Any:
    """A ``rich.console.Console`` for results: standard output (or error), with the width of
    :func:`output_width`.

    Args:
        stderr: Print on standard error instead.
    """
    from rich.console import Console

    stream = sys.stderr if stderr else sys.stdout
    return Console(file=stream, stderr=stderr, highlight=False, width=output_width(stream), soft_wrap=True)
