"""``prefc simulate``: two agents play a symmetric pricing game repeatedly (the logit Bertrand duopoly)."""

from __future__ import annotations

import argparse
import sys


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``simulate`` subcommand.

    Args:
        sub: The CLI's subparsers.
    """
    p = sub.add_parser("simulate", help="two agents set prices round after round in a duopoly (logit Bertrand)")
    p.add_argument("file", metavar="FILE", help="the .pref spec, e.g. specs/pricing.pref")
    p.add_argument(
        "--agent",
        action="append",
        default=[],
        metavar="AGENT",
        required=True,
        help="give twice: theory:PREF (e.g. 'theory:moralis(kappa=0.5)') | local:MODEL[?adapter=DIR] | "
        "openai:URL?model=NAME",
    )
    p.add_argument(
        "-o", "--out", required=True, metavar="DIR", help="directory for rounds.jsonl, simulation.json and prices.png"
    )
    p.add_argument("--game", default=None, help="the game (default: bertrand)")
    p.add_argument("--rounds", type=int, default=None, help="rounds to play (default: the game's `repeat`, else 300)")
    p.add_argument("--last", type=int, default=50, help="rounds (the last ones) averaged in the summary")
    p.add_argument("--history", type=int, default=3, help="rounds of history shown to language-model agents")
    p.add_argument(
        "--max-new-tokens", type=int, default=20, help="tokens a language-model agent may generate per round"
    )
    p.add_argument(
        "--reply",
        choices=("direct", "free"),
        default="direct",
        help="direct: a local model's reply starts with the answer line's opening (ANSWER: {\"p\": ) "
        "and it writes the price at once; free: it may reason first (raise --max-new-tokens)",
    )
    p.add_argument(
        "--initial",
        default="low",
        metavar="PRICE",
        help="the price before round 1: a number, or low (marginal cost), mid, high, nash, monopoly",
    )
    p.add_argument("--set", action="append", default=[], metavar="NAME=VALUE", help="set a game parameter")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--paraphrase", type=int, default=0, help="the prompt template's wording number")
    p.add_argument("--no-plot", action="store_true", help="do not write the plots")
    p.add_argument("--json", action="store_true", help="print the summary (simulation.json) instead of the table")
    p.set_defaults(func=cmd_simulate)


def _fail(message: str) -> int:
    print(f"error: {message}", file=sys.stderr)
    return 1


def cmd_simulate(args) -> int:
    from prefc.commands.common import load_checked
    from prefc.compiler.select import SelectionError, parse_settings, select_game

    if len(args.agent) != 2:
        return _fail(f"give exactly two agents (--agent A --agent B), got {len(args.agent)}")
    from prefc.compiler.budget import check_rounds

    check_rounds(args.rounds, allow_large=getattr(args, "allow_large", False))
    spec = load_checked(args.file)
    if spec is None:
        return 1
    try:
        game = (
            select_game(spec, args.game)
            if args.game is not None
            else ("bertrand" if "bertrand" in spec.games else None)
        )
        if args.set and game is None:
            return _fail("--set needs --game (this spec has no game `bertrand`)")
        values = parse_settings(spec, game, args.set) if args.set and game is not None else None
    except SelectionError as exc:
        print(exc.text, file=sys.stderr)
        return 1
    from prefc.compiler.emit.templates import TemplateError
    from prefc.runtime.simulate import SimulationError, simulate

    try:
        result = simulate(
            spec,
            args.agent,
            out_dir=args.out,
            rounds=args.rounds,
            game=game,
            params=values,
            history=args.history,
            last=args.last,
            max_new_tokens=args.max_new_tokens,
            initial=args.initial,
            seed=args.seed,
            paraphrase=args.paraphrase,
            plot=not args.no_plot,
            reply=args.reply,
            allow_large=getattr(args, "allow_large", False),
            table=not args.json,
        )
    except (SimulationError, TemplateError) as exc:
        return _fail(str(exc))
    except KeyboardInterrupt:
        print(
            f"interrupted: the rounds so far are in {args.out}/rounds.jsonl, their summary in "
            f"{args.out}/simulation.json",
            file=sys.stderr,
        )
        return 130
    if args.json:
        print(result.summary.to_text(), end="")
    return 0
