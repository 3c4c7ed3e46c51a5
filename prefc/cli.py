"""The ``prefc`` command line. Each subcommand imports what it needs when it runs, so that
``prefc check`` stays fast and never loads sympy's solvers, torch or transformers."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from prefc.commands.common import load_checked, report_diagnostics, sources_for
from prefc.version import __version__

EXIT_OK, EXIT_ERRORS, EXIT_USAGE = 0, 1, 2


class UsageError(Exception):
    """A command-line mistake that is not about a .pref file (bad flag value, missing directory)."""


def _console(stderr: bool = False):
    from rich.console import Console

    return Console(stderr=stderr, highlight=False, soft_wrap=True)


# ----------------------------------------------------------------------------- commands


def cmd_check(args) -> int:
    from prefc.compiler.check import check_file
    from prefc.compiler.diagnostics import CompileError

    status = EXIT_OK
    every = []
    for path in args.files:
        try:
            spec = check_file(path)
            diags, sources = spec.diagnostics, spec.sources
        except CompileError as exc:
            diags = exc.diagnostics
            sources = sources_for(sorted({d.span.file for d in diags if d.span is not None}))
            status = EXIT_ERRORS
        if args.format == "json":
            every.extend(d.to_json() for d in diags)
        else:
            report_diagnostics(diags, sources, "text")
            if not any(d.is_error for d in diags):
                _console().print(f"[green]ok[/green] {path}" + (f" ({len(diags)} warning(s))" if diags else ""))
    if args.format == "json":
        import json

        print(json.dumps(every, indent=2))
    return status


def cmd_show(args) -> int:
    spec = load_checked(args.file)
    if spec is None:
        return EXIT_ERRORS
    if args.source:
        from prefc.compiler import pretty
        from prefc.compiler.parse import parse_source

        print(pretty.file(parse_source(spec.sources[spec.path])), end="")
        return EXIT_OK
    from prefc.show import render_spec

    _console().print(render_spec(spec))
    return EXIT_OK


def cmd_codes(args) -> int:
    from rich.table import Table

    from prefc.compiler.diagnostics import CODES

    table = Table(title="prefc diagnostic codes")
    table.add_column("code")
    table.add_column("severity")
    table.add_column("meaning")
    for code, (sev, title) in CODES.items():
        table.add_row(code, sev.value, title)
    _console().print(table)
    return EXIT_OK


def build_parser() -> argparse.ArgumentParser:
    """The argument parser for every subcommand."""
    parser = argparse.ArgumentParser(
        prog="prefc",
        description="Compile declarative preference specs (.pref) into solvers, SFT datasets and eval rubrics.",
    )
    parser.add_argument("--version", action="version", version=f"prefc {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("check", help="check .pref files and report every problem")
    p.add_argument("files", nargs="+", metavar="FILE")
    p.add_argument("--format", choices=["text", "json"], default="text", help="diagnostics as text or JSON")
    p.set_defaults(func=cmd_check)

    p = sub.add_parser("show", help="summarise a checked spec: games, players, moves, parameters, builds")
    p.add_argument("file", metavar="FILE")
    p.add_argument("--source", action="store_true", help="print the spec in canonical .pref layout instead")
    p.set_defaults(func=cmd_show)

    p = sub.add_parser("codes", help="list the diagnostic codes")
    p.set_defaults(func=cmd_codes)

    import importlib

    from prefc.commands import COMMAND_MODULES

    for name in COMMAND_MODULES:
        importlib.import_module(f"prefc.commands.{name}").register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line.

    Args:
        argv: Arguments without the program name (default: ``sys.argv[1:]``).
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return EXIT_USAGE
    try:
        return int(args.func(args) or 0)
    except UsageError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
