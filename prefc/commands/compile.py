"""``prefc compile``: solutions, SFT datasets and eval rubrics of a spec."""

from __future__ import annotations

import argparse
import sys


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``compile`` subcommand.

    Args:
        sub: The CLI's subparsers.
    """
    p = sub.add_parser("compile", help="write solutions, SFT datasets and eval rubrics of a spec")
    p.add_argument("file", metavar="FILE")
    p.add_argument("-o", "--out", default="build", metavar="DIR", help="output root (default: build/)")
    p.add_argument("--format", choices=["trl", "messages", "openai"], default="trl",
                   help="rows as TRL prompt/completion (default) or a messages list; openai: messages rows "
                   "plus one OpenAI fine-tuning file per preference")
    p.add_argument("--seed", type=int, default=None, help="override every block's seed")
    p.add_argument("--samples", type=int, default=None, help="override every dataset's samples per preference")
    p.add_argument("--quiet", action="store_true", help="no progress bar or summary table")
    p.set_defaults(func=cmd_compile)


def cmd_compile(args) -> int:
    """Run ``prefc compile``.

    Args:
        args: The parsed arguments.
    """
    from rich.console import Console

    from prefc.commands.common import load_checked, report_diagnostics, sources_for
    from prefc.compiler.diagnostics import CompileError, render
    from prefc.compiler.emit.build import compile_spec
    from prefc.compiler.emit.situations import EmitError
    from prefc.compiler.emit.templates import TemplateError

    spec = load_checked(args.file)
    if spec is None:
        return 1
    console = Console(stderr=True, highlight=False, soft_wrap=True)
    progress_bar = None
    task = None
    hooks = {}
    if not args.quiet:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        progress_bar = Progress(TextColumn("compiling"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                                console=console, transient=True)

        def on_total(total: int) -> None:
            nonlocal task
            task = progress_bar.add_task("rows", total=total)

        def advance(n: int) -> None:
            if task is not None:
                progress_bar.advance(task, n)

        hooks = {"on_total": on_total, "progress": advance}
    try:
        if progress_bar is not None:
            with progress_bar:
                result = compile_spec(spec, args.out, fmt=args.format, seed=args.seed, samples=args.samples, **hooks)
        else:
            result = compile_spec(spec, args.out, fmt=args.format, seed=args.seed, samples=args.samples)
    except CompileError as exc:
        files = sorted({d.span.file for d in exc.diagnostics if d.span is not None})
        report_diagnostics(exc.diagnostics, {**spec.sources, **sources_for(files)}, "text")
        return 1
    except TemplateError as exc:
        diag, sources = exc.diagnostic()
        print(render(diag, sources), file=sys.stderr)
        return 1
    except EmitError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    if not args.quiet:
        from rich.table import Table

        table = Table(title=f"prefc compile: {result.directory}")
        for col in ("block", "split", "rows"):
            table.add_column(col, justify="right" if col == "rows" else "left")
        for block, split, rows in result.summary:
            table.add_row(block, split, str(rows))
        Console(highlight=False).print(table)
    return 0
