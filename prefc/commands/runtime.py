"""``prefc train``, ``prefc eval`` and ``prefc serve``: the runtime on the command line."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def register(sub: argparse._SubParsersAction) -> None:
    """Add the runtime subcommands.

    Args:
        sub: The CLI's subparsers.
    """
    p = sub.add_parser("train", help="fine-tune a model on a compiled dataset (LoRA by default)")
    p.add_argument("dataset", metavar="DATASET_DIR", help="a dataset directory written by prefc compile")
    p.add_argument("-o", "--out", required=True, metavar="ADAPTER_DIR")
    p.add_argument("--model", default=None, help="base model: a local HF directory or hub id (default: embedded SmolLM2)")
    p.add_argument("--preference", default=None, help="train on this preference's rows, e.g. 'moralis(kappa=0.5)'")
    p.add_argument("--epochs", type=float, default=None)
    p.add_argument("--max-steps", type=int, default=None)
    p.add_argument("--lora-r", type=int, default=None)
    p.add_argument("--learning-rate", type=float, default=None)
    p.add_argument("--batch-size", type=int, default=None)
    p.add_argument("--full", action="store_true", help="full fine-tuning instead of LoRA")
    p.add_argument("--resume", action="store_true", help="continue from the last checkpoint in ADAPTER_DIR")
    p.add_argument("--seed", type=int, default=None)
    p.set_defaults(func=cmd_train)

    p = sub.add_parser("eval", help="run an agent on a rubric and score it against every preference")
    p.add_argument("rubric", metavar="RUBRIC", help="a rubric .jsonl written by prefc compile")
    p.add_argument("--agent", required=True, help="theory:PREF | logit:kappa=K | local:MODEL[?adapter=DIR] | "
                   "openai:URL?model=NAME")
    p.add_argument("-o", "--out", required=True, metavar="RESULTS_DIR")
    p.add_argument("--scoring", choices=["generate", "logprob"], default="generate")
    p.add_argument("--batch-size", type=int, default=16)
    p.add_argument("--max-new-tokens", type=int, default=256)
    p.add_argument("--limit", type=int, default=None, help="evaluate only the first N items")
    p.add_argument("--expect-spec", default=None, metavar="SPEC", help="refuse a rubric compiled from another "
                   "version of this spec")
    p.set_defaults(func=cmd_eval)

    p = sub.add_parser("serve", help="serve an agent through an OpenAI-compatible chat endpoint on loopback")
    p.add_argument("--agent", required=True)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8000)
    p.set_defaults(func=cmd_serve)


def cmd_train(args) -> int:
    from prefc.runtime.train import TrainConfig, TrainError, train

    overrides = {k: v for k, v in {
        "model": args.model, "preference": args.preference, "epochs": args.epochs, "max_steps": args.max_steps,
        "lora_r": args.lora_r, "learning_rate": args.learning_rate, "batch_size": args.batch_size,
        "seed": args.seed}.items() if v is not None}
    config = TrainConfig(**overrides, full=args.full, resume=args.resume)
    try:
        result = train(Path(args.dataset), Path(args.out), config=config)
    except TrainError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"adapter written to {result.out_dir}: {result.steps} steps, train loss {result.train_loss}, "
          f"val loss {result.val_loss}, {result.tokens_per_second:.0f} tokens/s")
    return 0


def cmd_eval(args) -> int:
    from prefc.runtime.agents import AgentError, make_agent
    from prefc.runtime.evaluate import EvalError, RubricError, evaluate, load_rubric

    expect = None
    if args.expect_spec:
        from prefc.cli import load_checked

        spec = load_checked(args.expect_spec)
        if spec is None:
            return 1
        expect = spec.sha256
    try:
        rubric = load_rubric(args.rubric, expect_sha256=expect)
        agent = make_agent(args.agent)
        evaluate(rubric, agent, args.out, scoring=args.scoring, batch_size=args.batch_size,
                 max_new_tokens=args.max_new_tokens, limit=args.limit)
    except (RubricError, AgentError, EvalError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"interrupted: the results so far are in {args.out}/results.jsonl", file=sys.stderr)
        return 130
    return 0


def cmd_serve(args) -> int:
    from prefc.runtime.agents import AgentError, make_agent
    from prefc.runtime.serve import serve

    try:
        agent = make_agent(args.agent)
    except AgentError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    serve(agent, host=args.host, port=args.port)
    return 0
