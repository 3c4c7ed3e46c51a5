"""``prefc diff``: where two specs, two preferences or two evaluated agents part.

The form is read off the arguments: two ``.pref`` files (a spec diff), one ``.pref`` file with two
``--preference`` options (a preference diff), or two results directories written by ``prefc eval``
(a results diff). The engines live in :mod:`prefc.compiler.compare` (solutions) and
:mod:`prefc.runtime.diff` (measured behaviour); this module parses, prints and writes.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

EXIT_OK, EXIT_ERRORS, EXIT_USAGE = 0, 1, 2


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``diff`` subcommand.

    Args:
        sub: The CLI's subparsers.
    """
    p = sub.add_parser(
        "diff",
        help="where two specs, two preferences or two evaluated agents part",
        description="A.pref B.pref: the parameter regions where the specs' optimal actions differ; "
        "SPEC --preference P1 --preference P2: the same for two preferences (a preference "
        "named without values, e.g. `moralis`, is swept over its parameter's domain); "
        "RESULTS_A RESULTS_B: two `prefc eval` runs side by side, each difference with a test.",
    )
    p.add_argument(
        "inputs", nargs="+", metavar="INPUT", help="two .pref files, one .pref file, or two results directories"
    )
    p.add_argument(
        "--preference",
        action="append",
        default=[],
        metavar="PREF",
        help="a preference to compare, e.g. economicus, moralis or 'moralis(kappa=0.25)'",
    )
    p.add_argument("--game", action="append", default=[], metavar="GAME", help="compare only this game")
    p.add_argument(
        "--steps",
        type=int,
        default=None,
        metavar="N",
        help="grid intervals over a free preference parameter (default 20)",
    )
    p.add_argument("--alpha", type=float, default=None, help="level for results diffs (default 0.05, Holm-adjusted)")
    p.add_argument("-o", "--out", metavar="DIR", help="write diff.json and plots here")
    p.add_argument("--no-plots", action="store_true", help="with -o: write diff.json only")
    p.add_argument("--json", action="store_true", help="print the diff as JSON instead of tables")
    p.set_defaults(func=cmd_diff)


def _error(message: str) -> int:
    print(f"error: {message}", file=sys.stderr)
    return EXIT_ERRORS


def _usage(message: str) -> int:
    print(f"error: {message}", file=sys.stderr)
    return EXIT_USAGE


def cmd_diff(args) -> int:
    """Run ``prefc diff``: pick the form from the arguments, report, write ``-o`` files.

    Args:
        args: The parsed command line.
    """
    inputs = [Path(x) for x in args.inputs]
    if len(inputs) > 2:
        return _usage(f"diff takes one spec or two inputs, got {len(inputs)}")
    for path in inputs:
        if not path.exists():
            return _error(f"{path}: no such file or directory")
    dirs = [p for p in inputs if p.is_dir()]
    files = [p for p in inputs if not p.is_dir()]
    for f in files:
        if f.suffix != ".pref":
            return _error(f"{f}: neither a .pref spec nor a results directory written by prefc eval")
    if dirs and files:
        return _error(
            f"cannot compare a spec ({files[0]}) with a results directory ({dirs[0]}); give two specs, "
            "one spec with two --preference, or two results directories"
        )
    if args.steps is not None and args.steps < 1:
        return _usage("--steps must be at least 1")
    if args.out and Path(args.out).exists() and not Path(args.out).is_dir():
        return _error(f"{args.out}: exists and is not a directory")
    if dirs:
        if len(dirs) != 2:
            return _usage("a results diff needs two results directories")
        if args.preference or args.game or args.steps is not None:
            return _usage("--preference, --game and --steps apply to spec diffs, not to results directories")
        return _results(args, dirs[0], dirs[1])
    if args.alpha is not None:
        return _usage("--alpha applies to results diffs")
    if len(files) == 1 and len(args.preference) != 2:
        return _usage(
            "one spec needs exactly two --preference options (e.g. --preference economicus --preference moralis)"
        )
    return _specs(args, files)


# ----------------------------------------------------------------------------- specs


def _choices(spec, text: str):
    """The preference choices a ``--preference`` value stands for (free parameters: those not given)."""
    from fractions import Fraction

    from prefc.compiler.compare import PreferenceChoice
    from prefc.compiler.parse import parse_preference_app
    from prefc.compiler.select import select_preferences

    points = select_preferences(spec, text)  # raises SelectionError with located diagnostics
    _, app = parse_preference_app(text)
    named = {a.name.name for a in app.args}
    pref = spec.preferences[app.name.name]
    free = tuple(k for k in pref.defaults if k not in named and pref.domains.get(k) is not None)
    out = []
    for point in points:
        fixed = tuple((k, Fraction(v)) for k, v in point.values if k not in free)
        choice = PreferenceChoice(point.name, fixed, free)
        if choice not in out:
            out.append(choice)
    return out


def _specs(args, files: list[Path]) -> int:
    from prefc.commands.common import load_checked
    from prefc.compiler import compare as D
    from prefc.compiler.ir import lower_spec
    from prefc.compiler.select import SelectionError, select_game

    specs = []
    for f in files:
        spec = load_checked(str(f))
        if spec is None:
            return EXIT_ERRORS
        specs.append(spec)
    steps = args.steps or D.DEFAULT_STEPS
    try:
        if len(specs) == 1:
            spec = specs[0]
            for g in args.game:
                select_game(spec, g)
            first, second = (_choices(spec, t) for t in args.preference)
            if len(first) != 1 or len(second) != 1:
                return _usage(
                    "each --preference of a preference diff must name one point "
                    "(e.g. 'moralis(kappa=0.25)', not several values)"
                )
            ir = lower_spec(spec)
            pairs = D.preference_pairs(ir, first[0], second[0], games=args.game or None)
            kind = "preferences"
        else:
            names = _names(specs, files)
            choices = []
            for text in args.preference:
                found = [_choices(spec, text) for spec in specs][0]  # checked against both specs
                for c in found:
                    if c not in choices:
                        choices.append(c)
            if not args.preference:
                choices = D.build_points(*specs)
            irs = [lower_spec(s) for s in specs]
            pairs = D.spec_pairs(irs[0], irs[1], choices, names=names, games=args.game or None)
            kind = "specs"
    except SelectionError as exc:
        print(exc.text, file=sys.stderr)
        return EXIT_ERRORS
    except D.DiffError as exc:
        return _error(str(exc))
    inputs = [{"path": str(f), "spec": s.name, "sha256": s.sha256} for f, s in zip(files, specs, strict=True)]
    total = D.total_points(pairs, steps=steps)
    try:
        with _progress(total, enabled=not args.json) as advance:
            result = D.diff_pairs(kind, inputs, pairs, steps=steps, progress=lambda n: advance(n))
    except D.DiffError as exc:
        return _error(str(exc))
    data = result.to_json()
    if args.out:
        from prefc.runtime.diff import ResultsError

        try:
            written = _write(args, data)
        except ResultsError as exc:  # data that does not match the diff model
            return _error(str(exc))
    if args.json:
        print(json.dumps(data, indent=2))
    else:
        _print_spec_diff(data)
        if args.out:
            print(f"wrote {', '.join(str(p) for p in written)}")
    return EXIT_OK


def _names(specs, files: list[Path]) -> tuple[str, str]:
    if specs[0].name != specs[1].name:
        return specs[0].name, specs[1].name
    if files[0].name != files[1].name:
        return str(files[0].name), str(files[1].name)
    return str(files[0]), str(files[1])


def _progress(total: int, *, enabled: bool) -> Any:
    """Progress over grid points (nothing when disabled or when there is nothing to solve)."""
    from prefc.progress import progress

    return progress("diff: solving grid", total, enabled=enabled and total > 0, unit="points")


def _write(args, data: dict[str, Any]) -> list[Path]:
    from prefc.runtime.diff import write_json

    out = Path(args.out)
    written = [write_json(out / "diff.json", data)]
    if not args.no_plots:
        from prefc.runtime import diff_plots

        if data["kind"] == "results":
            p = diff_plots.plot_results_diff(data, out)
            written += [p] if p else []
        else:
            written += diff_plots.plot_spec_diff(data, out)
    return written


def _title(entry: dict[str, Any]) -> str:
    a, b = entry["a"], entry["b"]
    if a["preference"] == b["preference"] and a["name"] != a["preference"]:
        return f"{entry['game']}: {a['name']} vs {b['name']} for {a['preference']}"
    return f"{entry['game']}: {a['name']} vs {b['name']}"


def _print_spec_diff(data: dict[str, Any]) -> None:
    from rich.table import Table

    from prefc.console import table_console

    console = table_console()
    overview = Table(title=f"prefc diff ({data['kind']}): where the optimal actions differ", title_justify="left")
    for col in ("game", "compared", "region (closed form)", "grid differs", "example"):
        # names are never cut; the region and the example wrap at word boundaries
        overview.add_column(
            col, no_wrap=col in ("game", "grid differs"), ratio={"region (closed form)": 2, "example": 3}.get(col)
        )
    for entry in data["games"]:
        a, b = entry["a"], entry["b"]
        compared = a["preference"] if a["preference"] == b["preference"] else f"{a['preference']} vs {b['preference']}"
        cf = entry.get("closed_form")
        share = entry["share_differ"]
        ex = entry.get("example")
        example = "-"
        if ex:
            where = ", ".join(f"{k} = {_plain(v)}" for k, v in {**ex["params"], **ex["free"]}.items()) or "defaults"
            example = f"at {where}: {ex['a']} vs {ex['b']}"
        region = cf["region"] if cf else f"[dim]{entry.get('closed_form_note') or '-'}[/dim]"
        overview.add_row(entry["game"], compared, region, "-" if share is None else f"{share:.0%}", example)
    for skip in data["skipped"]:
        overview.add_row(skip["game"], skip.get("preference", ""), f"[red]skipped: {skip['reason']}[/red]", "-", "-")
    console.print(overview)
    for entry in data["games"]:
        if entry["status"] == "same" and not entry.get("error") and entry["agreement"].get("agree", True):
            continue
        _print_entry(console, entry)


def _print_entry(console, entry: dict[str, Any]) -> None:
    from rich.table import Table

    a, b = entry["a"], entry["b"]
    cf = entry.get("closed_form")
    head = Table.grid(padding=(0, 2))
    head.add_column(style="bold cyan")
    head.add_column()
    counts = entry["counts"]
    share = entry["share_differ"]
    head.add_row(
        "grid",
        f"{sum(counts.values())} points: {counts['differ']} differ, {counts['overlap']} overlap, "
        f"{counts['same']} same"
        + (f", {counts['error']} unsolved" if counts["error"] else "")
        + (f" ({share:.1%} not the same)" if share is not None else ""),
    )
    grid = entry["grid"]
    swept = ", ".join(f"{k} in {{{', '.join(map(_plain, v))}}}" for k, v in {**grid["params"], **grid["free"]}.items())
    head.add_row("swept", swept or "nothing (defaults only)")
    for note in grid["notes"]:
        head.add_row("note", note)
    if cf:
        head.add_row("region", f"[bold]{cf['region']}[/bold]")
        if cf["region_general"] != cf["region"]:
            head.add_row("in general", cf["region_general"])
        for fact in cf["facts"]:
            head.add_row("using", fact)
        for assumption in cf["assumptions"]:
            head.add_row("assuming", assumption)
        for note in cf["indifference"]:
            head.add_row("indifference", note)
        ag = entry["agreement"]
        head.add_row(
            "check",
            f"closed form and grid agree at all {ag['checked']} checks"
            if ag["agree"]
            else f"[red]closed form and grid disagree at {ag['mismatched']} of {ag['checked']} checks[/red]: "
            + "; ".join(ag["examples"][:2]),
        )
    else:
        head.add_row("closed form", entry.get("closed_form_note") or "none")
    if entry.get("error"):
        head.add_row("error", entry["error"])
    console.rule(f"[bold]{_title(entry)}")
    console.print(head)
    if cf and len(cf.get("parts") or []) > 1:
        parts = Table(title="by outcome", title_justify="left")
        parts.add_column("outcome")
        parts.add_column("differs where")
        if cf["kind"] == "conditions":
            parts.add_column(f"only {a['name']}")
            parts.add_column(f"only {b['name']}")
        for p in cf["parts"]:
            row = [p["description"], p["region"]]
            if cf["kind"] == "conditions":
                row += [p.get("only_a", ""), p.get("only_b", "")]
            parts.add_row(*row)
        console.print(parts)
    console.print(_points_table(entry))


def _plain(v: Any) -> str:
    from prefc.numbers import fmt_number

    return fmt_number(v, style="general", digits=6)


def _points_table(entry: dict[str, Any]):
    from rich.table import Table

    a, b = entry["a"], entry["b"]
    free = list(entry["grid"]["free"])
    cf = entry.get("closed_form") or {}
    bounds = {json.dumps(x["params"], sort_keys=True): x for x in cf.get("boundaries") or []}
    table = Table(title="differing grid points", title_justify="left")
    if free:
        table.add_column("parameters")
        table.add_column(f"{', '.join(free)} where they differ (grid)")
        if cf and len(free) == 1:
            table.add_column("closed form")
        table.add_column(f"{a['name']}")
        table.add_column(f"{b['name']}")
        rows: dict[str, list[dict[str, Any]]] = {}
        for p in entry["points"]:
            rows.setdefault(json.dumps(p["params"], sort_keys=True), []).append(p)
        for key, pts in rows.items():
            diff = [p for p in pts if p["status"] in ("differ", "overlap")]
            if not diff:
                continue
            vals = [", ".join(_plain(v) for v in p["free"].values()) for p in diff]
            shown = f"{vals[0]} … {vals[-1]} ({len(diff)}/{len(pts)})" if len(vals) > 2 else ", ".join(vals)
            row = [", ".join(f"{k} = {_plain(v)}" for k, v in pts[0]["params"].items()) or "defaults", shown]
            if cf and len(free) == 1:
                row.append(bounds.get(key, {}).get("text", ""))
            row += [diff[-1]["a"], diff[-1]["b"]]
            table.add_row(*row)
    else:
        table.add_column("parameters")
        table.add_column("status")
        table.add_column(f"{a['name']}")
        table.add_column(f"{b['name']}")
        for p in entry["points"]:
            if p["status"] in ("differ", "overlap", "error"):
                table.add_row(
                    ", ".join(f"{k} = {_plain(v)}" for k, v in p["params"].items()) or "defaults",
                    p["status"],
                    p["a"],
                    p["b"],
                )
    if not table.row_count:
        table.add_row(*(["none"] + [""] * (len(table.columns) - 1)))
    return table


# ----------------------------------------------------------------------------- results


def _results(args, a: Path, b: Path) -> int:
    from prefc.runtime.diff import ResultsError, diff_results

    try:
        result = diff_results(a, b, alpha=args.alpha if args.alpha is not None else 0.05)
    except ResultsError as exc:
        return _error(str(exc))
    data = result.to_json()
    written: list[Path] = []
    if args.out:
        try:
            written = _write(args, data)
        except ResultsError as exc:
            return _error(str(exc))
    if args.json:
        print(json.dumps(data, indent=2))
        return EXIT_OK
    _print_results_diff(data)
    if args.out and written:
        print(f"wrote {', '.join(str(p) for p in written)}")
    return EXIT_OK


def _fmt(x: Any) -> str:
    from prefc.numbers import fmt_number

    return fmt_number(x, style="auto", missing="-")


def _side_text(g: dict[str, Any], side: dict[str, Any]) -> str:
    if g["kind"] == "discrete":
        props = side.get("proportions") or {}
        return ", ".join(f"{o} {p:.0%}" for o, p in props.items() if p is not None) + f" (n={side['n']})"
    if side.get("mean") is None:
        return f"no answer (n={side['n']})"
    return f"mean {side['mean']:.3g}, median {side['median']:.3g} (n={side['n']})"


def _print_results_diff(data: dict[str, Any]) -> None:
    from rich.table import Table

    from prefc.console import table_console

    console = table_console()
    na, nb = (i["agent"] for i in data["inputs"])
    if na == nb:
        na, nb = (f"{i['agent']} ({Path(i['path']).name})" for i in data["inputs"])
    rub = data["rubric"]
    console.print(
        f"A = [bold]{na}[/bold], B = [bold]{nb}[/bold]; rubric {rub['name']} of spec {rub['spec']}, "
        f"{'paired by item' if data['paired'] else 'unpaired'}; p (Holm-adjusted p); "
        f"* = beyond noise at alpha {data['alpha']}"
    )
    for note in data["notes"]:
        console.print(f"note: {note}")

    def p_text(t: dict[str, Any]) -> str:
        text = f"{_fmt(t['p'])} ({_fmt(t['p_adjusted'])})"
        return f"[bold red]{text} *[/bold red]" if t["significant"] else text

    choices = Table(title="choices per game", title_justify="left")
    for col in ("game", "action", "A", "B", "test", "p (adj.)"):
        choices.add_column(col)
    for g in data["games"]:
        t = g["choice"]
        choices.add_row(
            g["game"], f"{g['role']}.{g['action']}", _side_text(g, g["a"]), _side_text(g, g["b"]), t["test"], p_text(t)
        )
    console.print(choices)
    acc = Table(title="accuracy against each preference", title_justify="left")
    for col in ("where", "preference", "A", "B", "test", "p (adj.)"):
        acc.add_column(col)
    rows = [t for g in data["games"] for t in g["accuracy"]] + [
        t for t in data["overall"] if t["what"].startswith("accuracy")
    ]
    for t in rows:
        acc.add_row(
            t["scope"], t["what"].removeprefix("accuracy vs "), _fmt(t["a"]), _fmt(t["b"]), t["test"], p_text(t)
        )
    console.print(acc)
    other = Table(title="overall", title_justify="left")
    for col in ("measure", "A", "B", "test", "p (adj.)"):
        other.add_column(col)
    notes = []
    for t in data["overall"]:
        if t["what"].startswith("accuracy"):
            continue
        if t["what"] == "kappa":

            def k(x):
                return "-" if not x else f"{x['estimate']:.3f} [{x['ci_low']:.3f}, {x['ci_high']:.3f}]"

            va, vb = k(t["a"]), k(t["b"])
            if t["note"]:
                notes.append(f"kappa: {t['note']}")
        else:
            va, vb = _fmt(t["a"]), _fmt(t["b"])
        other.add_row(t["what"], va, vb, t["test"], p_text(t))
    console.print(other)
    for note in notes:
        console.print(f"note: {note}")
    console.print(
        f"[bold]{data['verdict']}[/bold]"
        + (f": {len(data['significant'])} difference(s) beyond noise" if data["significant"] else "")
    )
