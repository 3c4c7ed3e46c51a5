"""The ``prefc`` command line. Each subcommand imports what it needs when it runs, so that
``prefc check`` stays fast and never loads sympy's solvers, torch or transformers."""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from collections.abc import Sequence

from prefc.commands.common import load_checked, report_diagnostics, sources_of
from prefc.errors import (
    EXIT_BROKEN_PIPE,
    EXIT_ERRORS,
    EXIT_INTERNAL,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_USAGE,
    PrefcError,
    UsageError,
    internal_error_report,
)
from prefc.version import __version__

__all__ = [
    "main",
    "build_parser",
    "load_checked",
    "UsageError",
    "EXIT_OK",
    "EXIT_ERRORS",
    "EXIT_USAGE",
    "EXIT_INTERNAL",
]


def _console(stderr: bool = False):
    from rich.console import Console

    return Console(stderr=stderr, highlight=False, soft_wrap=True)


# ----------------------------------------------------------------------------- commands


def cmd_check(args) -> int:
    from prefc.compiler.check import check_file
    from prefc.compiler.diagnostics import CompileError

    status = EXIT_OK
    every: list[dict[str, object]] = []
    for path in args.files:
        try:
            spec = check_file(path)
            diags, sources = spec.diagnostics, spec.sources
        except CompileError as exc:
            diags = exc.diagnostics
            sources = sources_of(exc)
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
    if args.library:
        return _show_library(args)
    if args.file is None:
        raise UsageError("show needs a FILE (or --library)")
    spec = load_checked(args.file)
    if spec is None:
        return EXIT_ERRORS
    if args.source:
        from prefc.compiler import pretty
        from prefc.compiler.parse import parse_source

        print(pretty.file(parse_source(spec.sources[spec.path])), end="")
        return EXIT_OK
    if args.json:
        import json

        from prefc.show import spec_json

        print(json.dumps(spec_json(spec), indent=2))
        return EXIT_OK
    from prefc.show import render_spec

    _console().print(render_spec(spec))
    return EXIT_OK


def _show_library(args) -> int:
    """``prefc show --library``: the standard library's files and what each declares."""
    import json

    from prefc.compiler.check import check_file
    from prefc.compiler.diagnostics import CompileError
    from prefc.compiler.paths import library_dir, library_files

    root = library_dir()
    entries = []
    for path in library_files():
        entry: dict = {"file": path.name, "use": f'use "{path.name}"'}
        try:
            spec = check_file(str(path))
        except CompileError as exc:
            entry["error"] = str(exc)
        else:
            entry.update(
                title=spec.title,
                preferences={n: p.title for n, p in spec.preferences.items() if p.origin == spec.path},
                games={n: g.title for n, g in spec.games.items() if g.ast.span.file == spec.path},
            )
        entries.append(entry)
    if args.json:
        print(json.dumps({"directory": str(root) if root else None, "files": entries}, indent=2))
        return EXIT_OK
    from rich.table import Table

    table = Table(title=f"prefc standard library: {root if root else 'not installed'}")
    for col in ("file", "preferences", "games"):
        table.add_column(col)
    for e in entries:
        table.add_row(
            e["use"], ", ".join(e.get("preferences", {})) or e.get("error", ""), ", ".join(e.get("games", {}))
        )
    _console().print(table)
    print('a `use "FILE"` that finds no such file beside the spec reads it from here')
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
    p.add_argument("file", metavar="FILE", nargs="?")
    p.add_argument("--source", action="store_true", help="print the spec in canonical .pref layout instead")
    p.add_argument("--library", action="store_true", help="list the standard library that `use` finds")
    p.add_argument("--json", action="store_true", help="print the summary (or, with --library, the list) as JSON")
    p.set_defaults(func=cmd_show)

    p = sub.add_parser("codes", help="list the diagnostic codes")
    p.set_defaults(func=cmd_codes)

    import importlib

    from prefc.commands import COMMAND_MODULES

    for name in COMMAND_MODULES:
        importlib.import_module(f"prefc.commands.{name}").register(sub)
    # `prefc completion` describes this whole parser; it gets it here, as commands never import the CLI
    sub.choices["completion"].set_defaults(parser=parser)
    for name in ALLOW_LARGE:
        command = sub.choices.get(name)
        if command is not None and not any("--allow-large" in a.option_strings for a in command._actions):
            command.add_argument(
                "--allow-large",
                action="store_true",
                help="start even when the estimated work is above the limits (E0501)",
            )
    return parser


# Commands that estimate their work first and refuse above the limits unless given --allow-large.
ALLOW_LARGE = ("compile", "solve", "simulate")


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; never lets a traceback reach the user.

    Exit codes (:mod:`prefc.errors`): 0 success, 1 diagnostics or refused work, 2 usage errors,
    70 an internal error (a bug: "internal error, please report" with the place it happened),
    130 interrupted, 141 the output's reader went away.

    Args:
        argv: Arguments without the program name (default: ``sys.argv[1:]``).
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return EXIT_USAGE
    _closed_pipe_is_an_exception()
    try:
        code = int(args.func(args) or 0)
        sys.stdout.flush()
        return code
    except BrokenPipeError:
        return _broken_pipe()
    except PrefcError as exc:
        return _print_error(exc.render(), exc.exit_code) if not _is_diagnostics(exc) else _print_diagnostics(exc)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except RecursionError as exc:
        return _internal(exc, note="an input nested too deeply for this command")
    except Exception as exc:  # noqa: BLE001 - the one place every unexpected error is turned into a report
        return _internal(exc)


def _is_diagnostics(exc: PrefcError) -> bool:
    from prefc.compiler.diagnostics import CompileError, LocatedError

    return isinstance(exc, CompileError) or (isinstance(exc, LocatedError) and bool(exc.diagnostics))


def _print_diagnostics(exc) -> int:
    report_diagnostics(exc.diagnostics, sources_of(exc), "text")
    return exc.exit_code


def _print_error(text: str, code: int) -> int:
    with contextlib.suppress(BrokenPipeError, OSError):
        print(text, file=sys.stderr)
    return code


def _closed_pipe_is_an_exception() -> None:
    """rich ends the process with exit 1 when its output pipe closes; raise BrokenPipeError instead,
    so every command ends the same way (exit 141, nothing printed)."""
    try:
        from rich.console import Console
    except ImportError:  # pragma: no cover - rich is a dependency
        return

    def on_broken_pipe(self) -> None:
        raise BrokenPipeError

    Console.on_broken_pipe = on_broken_pipe  # type: ignore[method-assign]


def _broken_pipe() -> int:
    """The reader of standard output went away (``prefc ... | head``): stop quietly."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):
        pass
    return EXIT_BROKEN_PIPE


def _internal(exc: BaseException, note: str = "") -> int:
    report = internal_error_report(exc)
    if note:
        report += f"\n  ({note})"
    if os.environ.get("PREFC_TRACEBACK"):
        import traceback

        report = "".join(traceback.format_exception(exc)) + report
    return _print_error(report, EXIT_INTERNAL)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
