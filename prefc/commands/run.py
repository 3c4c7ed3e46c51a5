"""``prefc run``: the main job (compile, train, evaluate, compare)."""

from __future__ import annotations

import argparse
import sys


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``run`` subcommand.

    Args:
        sub: The CLI's subparsers.
    """
    p = sub.add_parser("run", help="compile a spec, fine-tune per preference, evaluate and compare (the main job)")
    p.add_argument("file", metavar="FILE")
    p.add_argument("-o", "--out", default="runs", metavar="DIR")
    p.add_argument("--model", default=None, help="base model (default: the embedded SmolLM2-135M-Instruct)")
    p.add_argument("--max-steps", type=int, default=60, help="optimizer steps per adapter (default 60)")
    p.add_argument("--learning-rate", type=float, default=5e-4, help="peak LoRA learning rate (default 5e-4)")
    p.add_argument("--train-batch-size", type=int, default=4, help="rows per optimizer step (default 4)")
    p.add_argument("--eval-items", type=int, default=48, help="rubric items per agent, stratified (default 48; 0 = all)")
    p.add_argument("--max-new-tokens", type=int, default=None,
                   help="generation budget per answer (default: 1.25 x the longest training completion)")
    p.add_argument("--scoring", choices=["generate", "logprob"], default="generate")
    p.add_argument("--retrain", action="store_true", help="train again even if matching adapters exist")
    p.set_defaults(func=cmd_run)


def cmd_run(args) -> int:
    from prefc.commands.common import load_checked

    if load_checked(args.file) is None:
        return 1
    from prefc.compiler.diagnostics import CompileError
    from prefc.pipeline import run_spec
    from prefc.runtime.evaluate import EvalError, RubricError
    from prefc.runtime.models import ModelError
    from prefc.runtime.train import TrainError

    try:
        run_spec(args.file, out=args.out, model=args.model, max_steps=args.max_steps,
                 learning_rate=args.learning_rate, train_batch_size=args.train_batch_size,
                 eval_items=args.eval_items or None, max_new_tokens=args.max_new_tokens, scoring=args.scoring,
                 retrain=args.retrain)
    except (CompileError, TrainError, ModelError, RubricError, EvalError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0
