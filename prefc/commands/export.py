"""``prefc export TARGET ...``: artefacts in the formats of other tools.

Targets (``prefc export --help`` lists them):

* ``openai DATASET_DIR -o DIR``: OpenAI chat fine-tuning files, one per preference and split;
* ``lm-eval RUBRIC -o DIR``: an lm-evaluation-harness task (YAML and ``utils.py``);
* ``nfg SPEC --game G -o FILE`` / ``efg SPEC --game G -o FILE``: a finite game as a Gambit
  strategic (``.nfg``) or extensive (``.efg``) file, at a parameter point, in material payoffs or in
  a preference's utilities.
"""

from __future__ import annotations

import argparse
import json
import sys

TARGETS = {
    "openai": "OpenAI fine-tuning JSONL files of a dataset, one per preference and split",
    "lm-eval": "an lm-evaluation-harness task directory for a rubric",
    "nfg": "a finite game as a Gambit strategic-form .nfg file",
    "efg": "a finite game as a Gambit extensive-form .efg file (sequential moves; OpenSpiel reads it)",
}
"""Every export target with what it writes."""


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``export`` subcommand and its targets.

    Args:
        sub: The CLI's subparsers.
    """
    p = sub.add_parser(
        "export",
        help="write artefacts in other tools' formats (" + ", ".join(TARGETS) + ")",
        description="Write prefc artefacts in the formats of other tools. Targets: "
        + "; ".join(f"{k}: {v}" for k, v in TARGETS.items())
        + ".",
    )
    targets = p.add_subparsers(dest="target", metavar="TARGET")
    p.set_defaults(func=lambda args: _no_target(p))

    t = targets.add_parser("openai", help=TARGETS["openai"])
    t.add_argument("dataset", metavar="DATASET_DIR", help="a dataset directory written by prefc compile")
    t.add_argument("-o", "--out", required=True, metavar="DIR")
    t.add_argument("--preference", default=None, help="only this preference, e.g. 'moralis(kappa=0.5)'")
    t.add_argument("--json", action="store_true", help="print the files and their validation as JSON")
    t.set_defaults(func=cmd_export_openai)

    t = targets.add_parser("lm-eval", help=TARGETS["lm-eval"])
    t.add_argument("rubric", metavar="RUBRIC", help="a rubric .jsonl written by prefc compile")
    t.add_argument("-o", "--out", required=True, metavar="DIR")
    t.add_argument("--task", default=None, help="the task name (default: prefc_<spec>_<rubric>)")
    t.add_argument("--max-gen-toks", type=int, default=256, help="the answer budget in tokens")
    t.add_argument("--json", action="store_true", help="print what was written as JSON")
    t.set_defaults(func=cmd_export_lm_eval)

    for fmt in ("nfg", "efg"):
        t = targets.add_parser(fmt, help=TARGETS[fmt])
        t.add_argument("spec", metavar="SPEC", help="a .pref file")
        t.add_argument("--game", required=True, help="the game to export")
        t.add_argument("-o", "--out", required=True, metavar="FILE")
        t.add_argument(
            "--set",
            action="append",
            default=[],
            metavar="NAME=VALUE",
            help="a parameter value (default: the parameter's default)",
        )
        t.add_argument(
            "--preference",
            default=None,
            help="write this preference's utilities instead of the material payoffs, e.g. 'moralis(kappa=0.5)'",
        )
        t.add_argument("--json", action="store_true", help="print what was written as JSON")
        t.set_defaults(func=cmd_export_game, fmt=fmt)


def _no_target(parser: argparse.ArgumentParser) -> int:
    parser.print_help()
    return 2


def _fail(exc: Exception) -> int:
    print(f"error: {exc}", file=sys.stderr)
    return 1


def cmd_export_openai(args) -> int:
    """Run ``prefc export openai``.

    Args:
        args: The parsed arguments.
    """
    from prefc.interop.openai_export import export_openai
    from prefc.interop.output import ExportError

    try:
        result = export_openai(args.dataset, args.out, preference=args.preference)
    except ExportError as exc:
        return _fail(exc)
    if args.json:
        print(json.dumps(result.to_json(), indent=2))
    else:
        for report in result.files:
            note = f", {len(report.warnings)} warning(s)" if report.warnings else ""
            print(f"{report.path}: {report.examples} examples, valid{note}")
    return 0


def cmd_export_lm_eval(args) -> int:
    """Run ``prefc export lm-eval``.

    Args:
        args: The parsed arguments.
    """
    from prefc.interop.lm_eval import export_lm_eval
    from prefc.interop.output import ExportError
    from prefc.runtime.evaluate import RubricError

    try:
        result = export_lm_eval(args.rubric, args.out, task=args.task, max_gen_toks=args.max_gen_toks)
    except (ExportError, RubricError) as exc:
        return _fail(exc)
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print(
            f"lm-eval task {result['task']} written to {result['out_dir']}: {result['docs']} documents, "
            f"metrics {', '.join(result['metrics'])}"
        )
        print(f"run it with: lm_eval --include_path {result['out_dir']} --tasks {result['task']} --model ...")
    return 0


def cmd_export_game(args) -> int:
    """Run ``prefc export nfg`` / ``prefc export efg``.

    Args:
        args: The parsed arguments.
    """
    from prefc.commands.common import load_checked
    from prefc.interop.game_export import export_game
    from prefc.interop.output import ExportError

    spec = load_checked(args.spec)
    if spec is None:
        return 1
    try:
        result = export_game(spec, args.game, args.out, fmt=args.fmt, assignments=args.set, preference=args.preference)
    except ExportError as exc:
        return _fail(exc)
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print(f"{result['path']}: {result['game']} ({result['what']}), {result['profiles']} pure profiles")
    return 0
