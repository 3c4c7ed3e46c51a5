"""``prefc import FILE -o SPEC.pref``: a Gambit ``.nfg``/``.efg`` game as a prefc spec."""

from __future__ import annotations

import argparse
import json
import sys


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``import`` subcommand.

    Args:
        sub: The CLI's subparsers.
    """
    p = sub.add_parser(
        "import",
        help="write a Gambit .nfg/.efg game as a prefc spec (with a dataset and a rubric)",
        description="Read a Gambit strategic (.nfg) or extensive (.efg) game and write a checked "
        ".pref spec: the game, the economicus and moralis preferences, and a dataset `sft` and a "
        "rubric `eval` over it.",
    )
    p.add_argument("file", metavar="FILE", help="a .nfg or .efg file")
    p.add_argument("-o", "--out", required=True, metavar="SPEC.pref")
    p.add_argument("--name", default=None, help="the spec's and the game's name (default: from the file name)")
    p.add_argument(
        "--normal-form",
        action="store_true",
        help="import a game tree in strategic form (any tree: chance moves, information sets)",
    )
    p.add_argument("--game-only", action="store_true", help="write the game and the preferences, no dataset or rubric")
    p.add_argument("--json", action="store_true", help="print what was written as JSON")
    p.set_defaults(func=cmd_import)


def cmd_import(args) -> int:
    """Run ``prefc import``.

    Args:
        args: The parsed arguments.
    """
    from prefc.interop.gambit import GambitFormatError
    from prefc.interop.games import import_gambit
    from prefc.interop.output import ExportError

    try:
        result = import_gambit(
            args.file, args.out, name=args.name, normal_form=args.normal_form, builds=not args.game_only
        )
    except (GambitFormatError, ExportError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    if args.json:
        print(
            json.dumps(
                {
                    "path": str(result.path),
                    "game": result.game,
                    "form": result.form,
                    "players": result.players,
                    "situations": result.situations,
                    "notes": result.notes,
                },
                indent=2,
            )
        )
    else:
        print(f"{result.path}: game `{result.game}` ({result.form}, players {', '.join(result.players)})")
        for note in result.notes:
            print(f"  note: {note}")
    return 0
