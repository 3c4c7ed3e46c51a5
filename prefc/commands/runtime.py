"""``prefc train``, ``prefc eval`` and ``prefc serve``: the runtime on the command line."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from prefc.runtime.train_config import ConfigFile


def register(sub: argparse._SubParsersAction) -> None:
    """Add the runtime subcommands.

    Args:
        sub: The CLI's subparsers.
    """
    p = sub.add_parser(
        "train",
        help="fine-tune a model on a compiled dataset (LoRA by default, or a hosted job)",
        description="Fine-tune on one preference's rows. Options come from flags and from "
        "--config FILE (TOML or YAML with every option); flags win. --backend openai uploads "
        "the OpenAI-format file of the preference and runs a hosted fine-tuning job instead.",
    )
    p.add_argument(
        "dataset",
        nargs="?",
        metavar="DATASET",
        help="a dataset directory written by prefc compile, "
        "or one JSONL file of prompt-completion or messages rows (or `dataset` in --config)",
    )
    p.add_argument("-o", "--out", default=None, metavar="ADAPTER_DIR", help="output directory (or `out` in --config)")
    p.add_argument("--config", default=None, metavar="FILE", help="a .toml/.yaml file of training options")
    p.add_argument(
        "--backend",
        choices=["local", "openai"],
        default=None,
        help="local: trl + peft here (default); openai: a hosted fine-tuning job",
    )
    p.add_argument(
        "--model",
        default=None,
        help="base model: a local HF directory or hub id (default: embedded "
        "SmolLM2); with --backend openai, the hosted base model (default gpt-4o-mini-2024-07-18)",
    )
    p.add_argument("--preference", default=None, help="train on this preference's rows, e.g. 'moralis(kappa=0.5)'")
    p.add_argument("--epochs", type=float, default=None)
    p.add_argument("--max-steps", type=int, default=None)
    p.add_argument("--lora-r", type=int, default=None)
    p.add_argument("--lora-alpha", type=int, default=None)
    p.add_argument("--target-modules", default=None, help="'all-linear' or comma-separated module names")
    p.add_argument("--learning-rate", type=float, default=None)
    p.add_argument("--batch-size", type=int, default=None)
    p.add_argument("--grad-accum", type=int, default=None, help="forward passes accumulated per optimizer step")
    p.add_argument("--max-length", type=int, default=None, help="longest tokenised row (longer ones are cut)")
    p.add_argument(
        "--report-to",
        default=None,
        metavar="TRACKERS",
        help="comma-separated experiment trackers (tensorboard, wandb, mlflow, trackio, ...)",
    )
    p.add_argument("--full", action="store_true", default=None, help="full fine-tuning instead of LoRA")
    p.add_argument(
        "--completion",
        choices=["as-written", "answer-first", "answer"],
        default=None,
        help="what the model learns to write: the dataset's completion, its ANSWER line first, or "
        "that line alone (default as-written)",
    )
    p.add_argument(
        "--resume",
        action="store_true",
        default=None,
        help="continue from the last checkpoint in ADAPTER_DIR (--backend openai: follow the job recorded there)",
    )
    p.add_argument("--seed", type=int, default=None)
    p.add_argument(
        "--base-url",
        default=None,
        help="--backend openai: the API's base URL (default: the official API, or $OPENAI_BASE_URL)",
    )
    p.add_argument("--poll-interval", type=float, default=None, help="--backend openai: seconds between status checks")
    p.add_argument(
        "--timeout",
        type=float,
        default=None,
        help="--backend openai: give up following the job after "
        "this many seconds (the job keeps running; --resume follows it again)",
    )
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    p.set_defaults(func=cmd_train)

    p = sub.add_parser("eval", help="run an agent on a rubric and score it against every preference")
    p.add_argument("rubric", metavar="RUBRIC", help="a rubric .jsonl written by prefc compile")
    p.add_argument(
        "--agent", required=True, help="theory:PREF | logit:kappa=K | local:MODEL[?adapter=DIR] | openai:URL?model=NAME"
    )
    p.add_argument("-o", "--out", required=True, metavar="RESULTS_DIR")
    p.add_argument("--scoring", choices=["generate", "logprob"], default="generate")
    p.add_argument(
        "--numeric",
        choices=["generate", "options"],
        default="generate",
        help="under --scoring logprob: numeric items generated, or scored over the rubric's option grid",
    )
    p.add_argument("--batch-size", type=int, default=16)
    p.add_argument("--max-new-tokens", type=int, default=256)
    p.add_argument(
        "--limit",
        type=int,
        default=None,
        help="evaluate N items, taken round-robin over game and role (every game and role of the rubric is in)",
    )
    p.add_argument(
        "--expect-spec", default=None, metavar="SPEC", help="refuse a rubric compiled from another version of this spec"
    )
    p.add_argument("--json", action="store_true", help="print the summary (summary.json) instead of the table")
    p.set_defaults(func=cmd_eval)

    p = sub.add_parser("serve", help="serve an agent through an OpenAI-compatible chat endpoint (loopback by default)")
    p.add_argument(
        "--agent",
        required=True,
        help="local:MODEL[?adapter=DIR] | openai:URL?model=NAME | theory:PREF or logit:... with --rubric",
    )
    p.add_argument(
        "--rubric",
        default=None,
        metavar="RUBRIC",
        help="for theory: and logit: agents: answer the prompts of this rubric (.jsonl written by prefc compile)",
    )
    p.add_argument("--host", default="127.0.0.1", help="interface to bind (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=8000, help="TCP port; 0 picks a free one (default 8000)")
    p.add_argument("--model-name", default=None, help="the model id clients send (default: the agent's name)")
    p.add_argument(
        "--api-key",
        default=None,
        help="require 'Authorization: Bearer KEY' (default: "
        "$PREFC_SERVE_API_KEY; the environment keeps it out of the process list)",
    )
    p.add_argument("--max-batch", type=int, default=8, help="most requests per agent call (default 8)")
    p.add_argument(
        "--batch-window",
        type=float,
        default=0.0,
        metavar="S",
        help="seconds to wait for a batch to fill (default 0: take the requests already waiting)",
    )
    p.add_argument(
        "--max-pending", type=int, default=512, help="requests waiting for the agent before 503 (default 512)"
    )
    p.add_argument("--max-connections", type=int, default=1024, help="open connections before 503 (default 1024)")
    p.add_argument("--max-body-bytes", type=int, default=1 << 20, help="largest request body (default 1 MiB)")
    p.add_argument(
        "--read-timeout",
        type=float,
        default=10.0,
        metavar="S",
        help="seconds to send a request's headers, and its body (default 10)",
    )
    p.add_argument("--keep-alive", type=float, default=5.0, metavar="S", help="idle keep-alive seconds (default 5)")
    p.add_argument(
        "--request-timeout",
        type=float,
        default=300.0,
        metavar="S",
        help="seconds to wait for the agent before 504 (default 300)",
    )
    p.add_argument(
        "--shutdown-timeout",
        type=float,
        default=10.0,
        metavar="S",
        help="seconds requests in flight get on SIGINT/SIGTERM (default 10)",
    )
    p.add_argument("--json", action="store_true", help="print the address (and, at the end, the counts) as JSON lines")
    p.add_argument("-v", "--verbose", action="store_true", help="log every request (never its headers or body)")
    p.set_defaults(func=cmd_serve)


def _train_options(args: argparse.Namespace) -> tuple[dict[str, Any], ConfigFile | None]:
    """The training options of the flags over those of ``--config``, and the config file."""
    from prefc.runtime.train_config import load_config_file

    config_file = load_config_file(args.config) if args.config else None
    options = dict(config_file.options) if config_file else {}
    flags = {
        "model": args.model,
        "preference": args.preference,
        "epochs": args.epochs,
        "max_steps": args.max_steps,
        "lora_r": args.lora_r,
        "lora_alpha": args.lora_alpha,
        "learning_rate": args.learning_rate,
        "batch_size": args.batch_size,
        "grad_accum": args.grad_accum,
        "max_length": args.max_length,
        "seed": args.seed,
        "full": args.full,
        "resume": args.resume,
        "report_to": args.report_to,
        "completion": args.completion,
        "target_modules": (
            args.target_modules
            if args.target_modules in (None, "all-linear")
            else [m.strip() for m in args.target_modules.split(",") if m.strip()]
        ),
    }
    options.update({k: v for k, v in flags.items() if v is not None})
    return options, config_file


def cmd_train(args) -> int:
    """Run ``prefc train``.

    Args:
        args: The parsed arguments.
    """
    import json

    from pydantic import ValidationError

    from prefc.errors import UsageError
    from prefc.runtime.train_config import ConfigFileError, TrainConfig

    try:
        options, config_file = _train_options(args)
    except ConfigFileError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    run = config_file.run if config_file else {}
    dataset = args.dataset or run.get("dataset")
    out = args.out or run.get("out")
    backend = args.backend or run.get("backend") or "local"
    if not dataset or not out:
        raise UsageError("prefc train needs a DATASET and -o ADAPTER_DIR (on the command line or in --config)")
    if backend == "openai":
        from prefc.interop.openai_finetune import cmd_train_openai

        return cmd_train_openai(args, dataset=Path(dataset), out=Path(out), options=options)
    try:
        config = TrainConfig(**options)
    except ValidationError as exc:
        first = exc.errors()[0]
        raise UsageError(f"--{'-'.join(str(x) for x in first['loc']).replace('_', '-')}: {first['msg']}") from None
    import contextlib

    from prefc.runtime.train import TrainError, train

    try:
        with contextlib.redirect_stdout(sys.stderr):  # the trainer's log lines; stdout carries the result
            result = train(Path(dataset), Path(out), config=config, config_file=config_file)
    except TrainError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    if not result.main_process:  # `accelerate launch`: the first process reports the run
        return 0
    if args.json:
        print(json.dumps(result.metadata, indent=2, sort_keys=True))
    else:

        def loss(x: float | None) -> str:
            return "not logged" if x is None else f"{x:.4g}"

        print(
            f"adapter written to {result.out_dir}: {result.steps} steps, train loss {loss(result.train_loss)}"
            f"{' (fewer steps than logging_steps)' if result.train_loss is None else ''}, "
            f"val loss {loss(result.val_loss)}, {result.tokens_per_second:.0f} tokens/s"
        )
    return 0


def cmd_eval(args) -> int:
    from prefc.runtime.agents import AgentError, make_agent
    from prefc.runtime.evaluate import EvalError, RubricError, evaluate, load_rubric

    expect = None
    if args.expect_spec:
        from prefc.commands.common import load_checked

        spec = load_checked(args.expect_spec)
        if spec is None:
            return 1
        expect = spec.sha256
    try:
        rubric = load_rubric(args.rubric, expect_sha256=expect)
        agent = make_agent(args.agent)
        result = evaluate(
            rubric,
            agent,
            args.out,
            scoring=args.scoring,
            batch_size=args.batch_size,
            max_new_tokens=args.max_new_tokens,
            limit=args.limit,
            numeric=args.numeric,
            table=not args.json,
        )
    except (RubricError, AgentError, EvalError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"interrupted: the results so far are in {args.out}/results.jsonl", file=sys.stderr)
        return 130
    if args.json:
        print(result.summary.to_text(), end="")
    return 0


def _serve_logging(verbose: bool) -> None:
    import logging

    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("prefc serve: %(message)s"))
    for name, level in (
        ("prefc.serve", logging.INFO),
        ("uvicorn.error", logging.INFO if verbose else logging.WARNING),
        ("uvicorn.access", logging.INFO),
    ):
        logger = logging.getLogger(name)
        logger.handlers[:] = [handler]
        logger.setLevel(level)
        logger.propagate = False


def cmd_serve(args) -> int:
    import json
    import os

    try:
        from prefc.runtime import serve as S
    except ImportError as exc:  # the serve extra is not installed
        print(f"error: prefc serve needs the serve extra (pip install 'prefc[serve]'): {exc}", file=sys.stderr)
        return 1
    from prefc.runtime.agents import AgentError, make_agent
    from prefc.runtime.evaluate import RubricError, load_rubric
    from prefc.runtime.files import is_loopback

    try:
        options = S.ServeOptions(
            host=args.host,
            port=args.port,
            model_name=args.model_name,
            api_key=args.api_key or S.api_key_from_env(),
            max_batch=args.max_batch,
            batch_window=args.batch_window,
            max_pending=args.max_pending,
            max_connections=args.max_connections,
            max_body_bytes=args.max_body_bytes,
            read_timeout=args.read_timeout,
            keep_alive=args.keep_alive,
            request_timeout=args.request_timeout,
            shutdown_timeout=args.shutdown_timeout,
        )
        S.check_servable(args.agent, rubric=args.rubric)
    except (S.ServeOptionsError, S.ServeRefused) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    _serve_logging(args.verbose)
    if not is_loopback(options.host) and options.api_key is None:
        print(
            f"warning: serving on {options.host} without an API key exposes the agent to the network", file=sys.stderr
        )
    try:
        sock = S.bind_socket(options.host, options.port)
    except S.ServeError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    with sock:
        try:
            rubric = load_rubric(args.rubric) if args.rubric else None
            print(f"prefc serve: loading {args.agent.split('?', 1)[0]}", file=sys.stderr, flush=True)
            agent = make_agent(args.agent)
        except (RubricError, AgentError) as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1
        try:
            served = S.serving_agent(
                agent,
                None if rubric is None else rubric.items,
                grid=(rubric.family or {}).get("grid") if rubric else None,
                source=str(rubric.path) if rubric else "the rubric",
            )
        except S.ServeRefused as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2

        def ready(handle) -> None:
            usage = "tokenizer" if handle.exact_usage else "estimate"
            if args.json:
                print(
                    json.dumps(
                        {
                            "event": "listening",
                            "url": handle.url,
                            "host": handle.host,
                            "port": handle.port,
                            "model": handle.model_name,
                            "api_key": options.api_key is not None,
                            "usage": usage,
                            "pid": os.getpid(),
                        }
                    ),
                    flush=True,
                )
            else:
                print(handle.url, flush=True)
            print("prefc serve: Ctrl-C (or SIGTERM) stops it gracefully", file=sys.stderr, flush=True)

        handle = S.serve(
            served,
            options=options,
            refusal=getattr(served, "refusal", None),
            on_ready=ready,
            sock=sock,
            access_log=args.verbose,
        )
    print(f"prefc serve: stopped after {handle.answered} answers in {handle.batches} agent calls", file=sys.stderr)
    if args.json:
        print(json.dumps({"event": "stopped", "answered": handle.answered, "batches": handle.batches}), flush=True)
    return 0
