"""``prefc compile``: solutions, SFT datasets and eval rubrics of a spec."""

from __future__ import annotations

import argparse
from pathlib import Path

from prefc.commands.common import report_error


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
    p.add_argument("--allow-large", action="store_true",
                   help="compile even when the estimated work is above the limits (E0501)")
    p.set_defaults(func=cmd_compile)


def _check_out(out: str) -> Path:
    """The output root, refused (usage error) when it is a file or lies under one."""
    from prefc.errors import UsageError

    path = Path(out)
    for parent in (path, *path.parents):
        if parent.exists() or parent.is_symlink():
            if not parent.is_dir():
                raise UsageError(f"-o {out}: `{parent}` is not a directory")
            break
    return path


def cmd_compile(args) -> int:
    """Run ``prefc compile``.

    Args:
        args: The parsed arguments.
    """
    from rich.console import Console

    from prefc.commands.common import load_checked
    from prefc.compiler.emit.build import compile_spec
    from prefc.compiler.emit.situations import EmitError
    from prefc.errors import UsageError

    if args.samples is not None and args.samples < 1:
        raise UsageError(f"--samples must be at least 1, got {args.samples}")
    out = _check_out(args.out)
    spec = load_checked(args.file)
    if spec is None:
        return 1
    console = Console(stderr=True, highlight=False, soft_wrap=True)
    progress_bar = None
    task = None
    hooks = {}
    options = dict(fmt=args.format, seed=args.seed, samples=args.samples, allow_large=args.allow_large)
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
                result = compile_spec(spec, out, **options, **hooks)
        else:
            result = compile_spec(spec, out, **options)
    except EmitError as exc:
        return report_error(exc)
    except OSError as exc:
        where = f" `{exc.filename}`" if getattr(exc, "filename", None) else ""
        raise UsageError(f"cannot write the build under -o {args.out}{where}: {exc.strerror or exc}") from None
    if not args.quiet:
        from rich.table import Table

        table = Table(title=f"prefc compile: {result.directory}")
        for col in ("block", "split", "rows"):
            table.add_column(col, justify="right" if col == "rows" else "left")
        for block, split, rows in result.summary:
            table.add_row(block, split, str(rows))
        Console(highlight=False).print(table)
    return 0
