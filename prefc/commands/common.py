"""What every command that reads a spec shares: checking it and printing its diagnostics.

The command line (:mod:`prefc.cli`) and each subcommand module import these; nothing here imports
the command line, so the subcommands sit below it.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from prefc.compiler.check import CheckedSpec
    from prefc.compiler.diagnostics import CompileError, Diagnostic
    from prefc.compiler.source import SourceFile

__all__ = ["load_checked", "report_diagnostics", "sources_for", "sources_of"]


def report_diagnostics(diags: Sequence[Diagnostic], sources: Mapping[str, SourceFile], fmt: str) -> None:
    """Print diagnostics: human text on stderr, or JSON on stdout.

    Args:
        diags: The diagnostics.
        sources: File name -> source file, for the excerpts under each message.
        fmt: ``text`` or ``json``.
    """
    from prefc.compiler.diagnostics import render_all, to_json

    if fmt == "json":
        print(to_json(list(diags)))
    elif diags:
        from prefc.compiler.highlight import color_enabled

        print(render_all(list(diags), dict(sources), color=color_enabled(sys.stderr)), file=sys.stderr)


def sources_for(paths: Sequence[str]) -> dict[str, SourceFile]:
    """The source text of each readable file (files that cannot be read are left out).

    Args:
        paths: File names named by diagnostics.
    """
    from prefc.compiler.diagnostics import CompileError
    from prefc.compiler.parse import read_source

    out: dict[str, SourceFile] = {}
    for p in paths:
        with contextlib.suppress(CompileError):
            out[p] = read_source(p)
    return out


def sources_of(exc: CompileError) -> dict[str, SourceFile]:
    """The source files a CompileError's diagnostics point into: those it carries, else re-read.

    Args:
        exc: The error.
    """
    files = sorted({d.span.file for d in exc.diagnostics if d.span is not None} - set(exc.sources))
    return {**sources_for(files), **exc.sources}


def load_checked(path: str, fmt: str = "text") -> CheckedSpec | None:
    """Check a spec and print its diagnostics; return the spec or None on errors.

    Args:
        path: The .pref file.
        fmt: ``text`` or ``json`` for the diagnostics.
    """
    from prefc.compiler.check import check_file
    from prefc.compiler.diagnostics import CompileError

    try:
        spec = check_file(path)
    except CompileError as exc:
        report_diagnostics(exc.diagnostics, sources_of(exc), fmt)
        return None
    if spec.diagnostics and fmt != "json":
        report_diagnostics(spec.diagnostics, spec.sources, fmt)
    return spec
