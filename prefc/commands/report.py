"""``prefc report``: one self-contained HTML page about evaluations, runs, simulations, diffs and builds."""

from __future__ import annotations

import argparse
import sys


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``report`` subcommand.

    Args:
        sub: The CLI's subparsers.
    """
    p = sub.add_parser(
        "report",
        help="write one self-contained HTML report (tables, plots, provenance) about results directories",
        description="Inputs are recognised by their content: evaluation (summary.json, results.jsonl), run "
        "(run.json), simulation (simulation.json), diff (diff.json) and build (manifest.json) directories, "
        "or a directory holding such directories.",
    )
    p.add_argument("inputs", nargs="+", metavar="RESULTS", help="directories to report on (any mix)")
    p.add_argument("-o", "--out", default="report.html", metavar="FILE", help="the HTML file (default report.html)")
    p.add_argument("--title", default=None, help="page title (default: names the specs)")
    p.add_argument(
        "--timestamp",
        action="store_true",
        help="show the generation time (off by default so the same inputs give the same file)",
    )
    p.add_argument("--json", action="store_true", help="print what was written (path, inputs, plots) as JSON")
    p.set_defaults(func=cmd_report)


def cmd_report(args) -> int:
    from datetime import UTC, datetime

    from prefc.runtime.report import ReportError, count_plots, load_inputs, write_loaded_report

    try:
        loaded = load_inputs(args.inputs)
        path = write_loaded_report(
            loaded, args.out, title=args.title, generated_at=datetime.now(UTC) if args.timestamp else None
        )
    except ReportError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"error: {args.out}: cannot write ({exc.strerror or exc})", file=sys.stderr)
        return 1
    if args.json:
        import json

        print(
            json.dumps(
                {
                    "report": str(path),
                    "inputs": [{"kind": str(x.kind), "path": str(x.path)} for x in loaded],
                    "plots": count_plots(loaded),
                    "bytes": path.stat().st_size,
                },
                indent=2,
            )
        )
        return 0
    kinds = ", ".join(f"{x.kind} {x.path}" for x in loaded)
    print(f"report written to {path} ({kinds}; {count_plots(loaded)} plots)")
    return 0
