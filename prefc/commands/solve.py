"""``prefc solve`` and ``prefc explain``."""

from __future__ import annotations

import argparse
import json
import sys


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``solve`` and ``explain`` subcommands.

    Args:
        sub: The CLI's subparsers.
    """
    p = sub.add_parser("solve", help="solve a game for a preference at one parameter point")
    p.add_argument("file", metavar="FILE")
    p.add_argument("--game", required=True, help="the game to solve")
    p.add_argument("--preference", required=True, help="e.g. economicus or 'moralis(kappa=0.6)'")
    p.add_argument("--set", action="append", default=[], metavar="NAME=VALUE", help="set a game parameter")
    p.add_argument("--json", action="store_true", help="print the solution as JSON")
    p.set_defaults(func=cmd_solve)

    p = sub.add_parser("explain", help="the solution as a function of the parameters, in closed form")
    p.add_argument("file", metavar="FILE")
    p.add_argument("--game", required=True)
    p.add_argument(
        "--preference",
        required=True,
        help="a preference name; fixed values like "
        "'moralis(kappa=0.5)' fix its parameters, otherwise they stay symbolic",
    )
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_explain)


def _prepare(args):
    from prefc.commands.common import load_checked
    from prefc.compiler.select import SelectionError, select_game, select_preferences

    spec = load_checked(args.file)
    if spec is None:
        return None
    try:
        game = select_game(spec, args.game)
        points = select_preferences(spec, args.preference)
    except SelectionError as exc:
        print(exc.text, file=sys.stderr)
        return None
    return spec, game, points


def cmd_solve(args) -> int:
    from prefc.compiler.ir import lower_spec
    from prefc.compiler.select import SelectionError, parse_settings
    from prefc.compiler.solve import GameSolver

    prepared = _prepare(args)
    if prepared is None:
        return 1
    spec, game, points = prepared
    try:
        values = parse_settings(spec, game, args.set)
    except SelectionError as exc:
        print(exc.text, file=sys.stderr)
        return 1
    ir = lower_spec(spec, games=[game])
    from prefc.compiler.budget import check_game

    check_game(ir.games[game], values, allow_large=getattr(args, "allow_large", False), sources=spec.sources)
    # a SolveError reaches the command line, which shows it located (E0601) and exits 1
    solutions = [GameSolver(ir.games[game], ir.preference(point)).solve(values) for point in points]
    if args.json:
        data = [s.model_dump(mode="json") for s in solutions]
        print(json.dumps(data[0] if len(data) == 1 else data, indent=2))
        return 0
    from prefc.console import table_console
    from prefc.render import render_solution

    console = table_console()
    for s in solutions:
        console.print(render_solution(s))
    return 0


def cmd_explain(args) -> int:
    from fractions import Fraction

    from prefc.compiler.ir import lower_spec
    from prefc.compiler.solve.explain import explain

    prepared = _prepare(args)
    if prepared is None:
        return 1
    spec, game, points = prepared
    pref = spec.preferences[points[0].name]
    fixed = {}
    if "(" in args.preference:
        fixed = {k: Fraction(v) for k, v in points[0].values}
    exp = explain(lower_spec(spec, games=[game]).games[game], pref, fixed=fixed)
    if args.json:
        print(json.dumps(exp.to_json(), indent=2))
        return 0
    from prefc.console import table_console
    from prefc.render import render_explanation

    table_console().print(render_explanation(exp))
    return 0
