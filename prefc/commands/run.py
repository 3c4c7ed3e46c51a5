"""``prefc run``: the main job (compile, train, evaluate, compare)."""

from __future__ import annotations

import argparse
import sys


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``run`` subcommand.

    Args:
        sub: The CLI's subparsers.
    """
    from prefc.pipeline import MAIN_JOB as M

    p = sub.add_parser("run", help="compile a spec, fine-tune per preference, evaluate and compare (the main job)")
    p.add_argument("file", metavar="FILE")
    p.add_argument("-o", "--out", default="runs", metavar="DIR")
    p.add_argument("--model", default=None, help="base model (default: the embedded SmolLM2-135M-Instruct)")
    p.add_argument(
        "--max-steps",
        type=int,
        default=M["max_steps"],
        help=f"optimizer steps per preference (default {M['max_steps']})",
    )
    p.add_argument(
        "--learning-rate",
        type=float,
        default=M["learning_rate"],
        help=f"peak learning rate (default {M['learning_rate']:g})",
    )
    p.add_argument(
        "--train-batch-size",
        type=int,
        default=M["train_batch_size"],
        help=f"rows per optimizer step (default {M['train_batch_size']})",
    )
    p.add_argument(
        "--full",
        action=argparse.BooleanOptionalAction,
        default=M["full"],
        help="fine-tune every weight (--full) or a LoRA adapter (--no-full)"
        f" (default {'--full' if M['full'] else '--no-full'})",
    )
    p.add_argument(
        "--completion",
        choices=["as-written", "answer-first", "answer"],
        default=M["completion"],
        help="what the models learn to write: the dataset's reasoning then the answer, the answer "
        f"line first, or the answer line alone (default {M['completion']})",
    )
    p.add_argument("--seed", type=int, default=0, help="training seed (default 0)")
    p.add_argument(
        "--eval-items",
        type=int,
        default=M["eval_items"],
        help=f"rubric items per agent, stratified (default {M['eval_items']}; 0 = all)",
    )
    p.add_argument(
        "--max-new-tokens",
        type=int,
        default=None,
        help="generation budget per answer (default: 1.25 x the longest training completion)",
    )
    p.add_argument(
        "--scoring",
        choices=["generate", "logprob"],
        default=M["scoring"],
        help=f"how answers are read (default {M['scoring']})",
    )
    p.add_argument(
        "--numeric",
        choices=["generate", "options"],
        default=M["numeric"],
        help="under logprob scoring, numeric items generated or scored over the rubric's option "
        f"grid (default {M['numeric']})",
    )
    p.add_argument("--retrain", action="store_true", help="train again even if matching adapters exist")
    p.add_argument(
        "--transfer",
        action="append",
        default=[],
        metavar="SPEC",
        help="also evaluate the base model and every trained model on the first rubric of SPEC, an "
        "application the datasets never show (e.g. specs/av_dilemma.pref); repeatable",
    )
    p.add_argument(
        "--dataset",
        default=None,
        metavar="NAME",
        help="the dataset block to train on (default: the spec's first)",
    )
    p.add_argument(
        "--play",
        type=int,
        nargs="?",
        const=0,
        default=None,
        metavar="ROUNDS",
        help="then play the trained models in the repeated market of the dataset's game, each against "
        "itself and each two against each other, for ROUNDS rounds a pairing (default: the game's "
        "`repeat N rounds`)",
    )
    p.add_argument(
        "--threads", type=int, default=None, help="CPU threads (default: the cores not busy when the run starts)"
    )
    p.add_argument(
        "--json",
        action="store_true",
        help="print the run's record (run.json) on standard output; the steps and tables go to standard error",
    )
    p.set_defaults(func=cmd_run)


def cmd_run(args) -> int:
    import contextlib

    from prefc.commands.common import load_checked

    if load_checked(args.file) is None:
        return 1
    for other in args.transfer:  # checked before any training, so a typo costs no run
        checked = load_checked(other)
        if checked is None:
            return 1
        if not any(b.kind == "rubric" for b in checked.builds.values()):
            print(f"error: {other} has no rubric block to evaluate the run's agents on (--transfer)", file=sys.stderr)
            return 1
    from prefc.compiler.diagnostics import CompileError
    from prefc.pipeline import run_spec
    from prefc.runtime.evaluate import EvalError, RubricError
    from prefc.runtime.models import ModelError
    from prefc.runtime.simulate.market import SimulationError
    from prefc.runtime.train import TrainError

    try:
        with contextlib.redirect_stdout(sys.stderr) if args.json else contextlib.nullcontext():
            result = run_spec(
                args.file,
                out=args.out,
                model=args.model,
                max_steps=args.max_steps,
                learning_rate=args.learning_rate,
                train_batch_size=args.train_batch_size,
                full=args.full,
                completion=args.completion,
                seed=args.seed,
                eval_items=args.eval_items or None,
                max_new_tokens=args.max_new_tokens,
                scoring=args.scoring,
                numeric=args.numeric,
                retrain=args.retrain,
                threads=args.threads,
                transfer=args.transfer,
                dataset=args.dataset,
                play=args.play,
            )
        if args.json:
            print((result.directory / "run.json").read_text(encoding="utf-8"), end="")
    except (CompileError, TrainError, ModelError, RubricError, EvalError, SimulationError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0
