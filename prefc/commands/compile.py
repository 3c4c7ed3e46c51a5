"""``prefc compile``: solutions, SFT datasets and eval rubrics of a spec."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from prefc.compiler.emit.build import CompileResult


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``compile`` subcommand.

    Args:
        sub: The CLI's subparsers.
    """
    p = sub.add_parser("compile", help="write solutions, SFT datasets and eval rubrics of a spec")
    p.add_argument("file", metavar="FILE")
    p.add_argument("-o", "--out", default="build", metavar="DIR", help="output root (default: build/)")
    p.add_argument(
        "--format",
        choices=["trl", "messages", "openai"],
        default="trl",
        help="rows as TRL prompt/completion (default) or a messages list; openai: messages rows "
        "plus one OpenAI fine-tuning file per preference",
    )
    p.add_argument("--seed", type=int, default=None, help="override every block's seed")
    p.add_argument("--samples", type=int, default=None, help="override every dataset's samples per preference")
    p.add_argument("--quiet", action="store_true", help="no progress bar or summary table")
    p.add_argument("--json", action="store_true", help="print the build's manifest and row counts as JSON")
    p.add_argument(
        "--allow-large", action="store_true", help="compile even when the estimated work is above the limits (E0501)"
    )
    p.add_argument(
        "--no-cache",
        action="store_true",
        help="solve every game again, neither reading nor adding to the solved-games cache",
    )
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
    from prefc.commands.common import load_checked
    from prefc.compiler.emit.build import compile_spec
    from prefc.errors import UsageError

    if args.samples is not None and args.samples < 1:
        raise UsageError(f"--samples must be at least 1, got {args.samples}")
    out = _check_out(args.out)
    spec = load_checked(args.file)
    if spec is None:
        return 1
    from prefc.progress import progress

    options = dict(
        fmt=args.format, seed=args.seed, samples=args.samples, allow_large=args.allow_large, cache=not args.no_cache
    )
    try:
        with progress(f"compile {spec.name}", enabled=not args.quiet, unit="rows") as advance:
            result = compile_spec(spec, out, **options, on_total=advance.set_total, progress=advance)
    except OSError as exc:
        where = f" `{exc.filename}`" if getattr(exc, "filename", None) else ""
        raise UsageError(f"cannot write the build under -o {args.out}{where}: {exc.strerror or exc}") from None
    if args.json:
        import json

        print(json.dumps(_compiled_json(result), indent=2))
    elif not args.quiet:
        from rich.table import Table

        from prefc.console import table_console

        table = Table(title=f"prefc compile: {result.directory}")
        for col in ("block", "split", "rows"):
            table.add_column(col, justify="right" if col == "rows" else "left")
        for block, split, rows in result.summary:
            table.add_row(block, split, str(rows))
        table_console().print(table)
    return 0


def _compiled_json(result: CompileResult) -> dict[str, Any]:
    """``compile --json``: the build's manifest (``manifest.json``, as written) and the row counts.

    Args:
        result: What the compile wrote.
    """
    from prefc.artefacts import Manifest, read_json, validate_document

    path = Path(result.directory) / "manifest.json"
    manifest, text = read_json(path)
    validate_document(Manifest, manifest, where=str(path), text=text)
    return {
        "directory": str(result.directory),
        "manifest": manifest,
        "blocks": [{"block": b, "split": s, "rows": r} for b, s, r in result.summary],
    }
