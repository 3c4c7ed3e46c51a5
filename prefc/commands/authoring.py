"""``prefc fmt``, ``prefc new`` and ``prefc completion``: tools for writing specs."""

from __future__ import annotations

import argparse
import difflib
import json
import os
import sys
import tempfile
from pathlib import Path

EXIT_INTERNAL = 70


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``fmt``, ``new`` and ``completion`` subcommands.

    Args:
        sub: The CLI's subparsers.
    """
    p = sub.add_parser("fmt", help="lay .pref files out in canonical form, keeping their comments")
    p.add_argument("files", nargs="+", metavar="FILE", help="files or directories (their *.pref); - for stdin")
    p.add_argument("--check", action="store_true", help="write nothing; print a diff and exit 1 if a file would change")
    p.add_argument("--diff", action="store_true", help="write nothing; print what would change as a diff")
    p.add_argument("--json", action="store_true", help="print one JSON record per file instead of messages")
    p.set_defaults(func=cmd_fmt)

    p = sub.add_parser("new", help="write a starter spec directory (games, dataset, rubric) that compiles")
    p.add_argument("name", metavar="NAME", help="the directory to create (its name names the spec)")
    p.add_argument("--json", action="store_true", help="print what was written as JSON")
    p.set_defaults(func=cmd_new)

    p = sub.add_parser("completion", help="print a shell completion script (bash, zsh or fish)")
    p.add_argument("shell", nargs="?", choices=["bash", "zsh", "fish"], metavar="SHELL", help="bash, zsh or fish")
    p.add_argument("--names", choices=["games", "preferences"], help=argparse.SUPPRESS)
    p.add_argument("--spec", help=argparse.SUPPRESS)
    p.set_defaults(func=cmd_completion)


# ----------------------------------------------------------------------------- fmt


def _expand(paths: list[str]) -> list[str]:
    """Files as given; a directory stands for the .pref files below it, in sorted order."""
    out: list[str] = []
    for path in paths:
        if path != "-" and os.path.isdir(path):
            out.extend(str(p) for p in sorted(Path(path).rglob("*.pref")) if p.is_file())
        else:
            out.append(path)
    return out


def _write_atomically(path: str, text: str) -> None:
    """Replace a file's content in one rename, keeping its permissions (and the link, for a symlink)."""
    real = os.path.realpath(path)
    mode = os.stat(real).st_mode & 0o7777
    fd, tmp = tempfile.mkstemp(prefix=f".{os.path.basename(real)}.", suffix=".fmt", dir=os.path.dirname(real))
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, real)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _same_line_ends(original: str, formatted: str) -> str:
    first = original.split("\n", 1)
    return formatted.replace("\n", "\r\n") if len(first) == 2 and first[0].endswith("\r") else formatted


def _format_one(path: str) -> dict:
    """Format one file (or stdin): a record with the original and formatted text, or the diagnostics."""
    from prefc.compiler.diagnostics import CompileError
    from prefc.compiler.format import FormatError, format_text
    from prefc.compiler.parse import read_source
    from prefc.compiler.source import SourceFile

    name = "<stdin>" if path == "-" else path
    record: dict = {"file": name}
    text = None
    try:
        text = sys.stdin.buffer.read().decode("utf-8", "surrogateescape") if path == "-" else read_source(path).text
        formatted = _same_line_ends(text, format_text(text, path=name))
    except CompileError as exc:
        shown = None if text is None else text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
        sources = {name: SourceFile(name, shown)} if shown is not None else {}
        return {**record, "status": "error", "diagnostics": exc.diagnostics, "sources": sources}
    except FormatError as exc:
        return {**record, "status": "internal", "message": str(exc)}
    return {
        **record,
        "status": "changed" if formatted != text else "unchanged",
        "original": text,
        "formatted": formatted,
    }


def _diff(record: dict) -> str:
    return "".join(
        difflib.unified_diff(
            record["original"].splitlines(keepends=True),
            record["formatted"].splitlines(keepends=True),
            fromfile=record["file"],
            tofile=f"{record['file']} (formatted)",
        )
    )


def cmd_fmt(args) -> int:
    """Run ``prefc fmt``.

    Args:
        args: The parsed arguments.
    """
    from prefc.commands.common import report_diagnostics as _report

    write = not (args.check or args.diff)
    status = 0
    records = []
    for path in _expand(args.files):
        record = _format_one(path)
        records.append(record)
        if record["status"] == "error":
            status = max(status, 1)
            if not args.json:
                _report(record["diagnostics"], record["sources"], "text")
                print(f"error: {record['file']} does not parse; left as it was", file=sys.stderr)
            continue
        if record["status"] == "internal":
            status = EXIT_INTERNAL
            if not args.json:
                print(f"internal error: {record['message']}; left as it was", file=sys.stderr)
            continue
        changed = record["status"] == "changed"
        if path == "-" and write:
            if not args.json:
                sys.stdout.write(record["formatted"])
            continue
        if changed and not args.json and not write:
            sys.stdout.write(_diff(record))
        if changed and args.check:
            status = max(status, 1)
            if not args.json:
                print(f"would reformat {record['file']}", file=sys.stderr)
        if changed and write:
            try:
                _write_atomically(path, record["formatted"])
            except OSError as exc:
                record.update(status="error", diagnostics=[], message=f"cannot write {path}: {exc.strerror or exc}")
                status = max(status, 1)
                if not args.json:
                    print(f"error: {record['message']}; left as it was", file=sys.stderr)
                continue
            if not args.json:
                print(f"reformatted {record['file']}", file=sys.stderr)
    if args.json:
        out = []
        for r in records:
            item = {"file": r["file"], "status": r["status"]}
            if r["status"] == "error":
                item["diagnostics"] = [d.to_json() for d in r["diagnostics"]]
                if "message" in r:
                    item["message"] = r["message"]
            elif r["status"] == "internal":
                item["message"] = r["message"]
            elif r["file"] == "<stdin>" and write:
                item["formatted"] = r["formatted"]
            elif r["status"] == "changed" and not write:
                item["diff"] = _diff(r)
            out.append(item)
        print(json.dumps(out, indent=2))
    elif len(records) > 1 or (records and records[0]["file"] != "<stdin>"):
        changed = sum(r["status"] == "changed" for r in records)
        same = sum(r["status"] == "unchanged" for r in records)
        failed = len(records) - changed - same
        verb = "reformatted" if write else "would be reformatted"
        parts = [f"{changed} file{'s' * (changed != 1)} {verb}", f"{same} unchanged"]
        if failed:
            parts.append(f"{failed} not formatted")
        print(", ".join(parts), file=sys.stderr)
    return status


# ----------------------------------------------------------------------------- new


def cmd_new(args) -> int:
    """Run ``prefc new``.

    Args:
        args: The parsed arguments.
    """
    from prefc.starter import StarterError, create_starter

    try:
        made = create_starter(args.name)
    except StarterError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except RuntimeError as exc:  # the shipped starter does not check: a bug, and nothing was written
        print(f"internal error: {exc}", file=sys.stderr)
        return EXIT_INTERNAL
    if args.json:
        print(
            json.dumps(
                {
                    "directory": str(made.directory),
                    "spec": str(made.spec),
                    "files": list(made.files),
                    "library_copied": made.library_copied,
                },
                indent=2,
            )
        )
        return 0
    for name in made.files:
        print(f"created {made.directory / name}")
    if made.library_copied:
        print(f"(the preference library was copied into {made.directory}: this prefc finds no other)")
    print(f"next: prefc check {made.spec}  &&  prefc compile {made.spec} -o build")
    return 0


# ----------------------------------------------------------------------------- completion


def cmd_completion(args) -> int:
    """Run ``prefc completion``.

    Args:
        args: The parsed arguments.
    """
    from prefc.completion import script, spec_names
    from prefc.errors import UsageError

    if args.names:
        if args.spec:
            for name in spec_names(args.names, args.spec):
                print(name)
        return 0
    if args.shell is None:
        raise UsageError("name a shell: prefc completion bash | zsh | fish")
    sys.stdout.write(script(args.shell, args.parser))
    return 0
