"""Repeated-pricing throughput: two local language-model agents play the logit Bertrand duopoly.

Plays ``--rounds`` rounds (default 300) of ``specs/pricing.pref``'s ``bertrand`` game with
:func:`prefc.runtime.simulate.simulate` between two local agents: the embedded
SmolLM2-135M-Instruct by default, each optionally with a LoRA adapter (``--adapter-a``,
``--adapter-b``). Without adapters, or with the same one, both firms are one model answering both
prompts in one batch per round. Prints rounds/s, seconds per round, the total time of play (the
model load is timed apart), the parse rate of each agent, and the mean prices and collusion index;
first, ``--baseline-rounds`` rounds with the other reply mode (``free`` against the default
``direct``) give the baseline time per round, measured in the same run.

    python bench/simulate_llm.py                          # 300 rounds, embedded model
    python bench/simulate_llm.py --rounds 5               # a quick check
    python bench/simulate_llm.py --adapter-a runs/economicus --adapter-b runs/moralis
    python bench/simulate_llm.py --max-new-tokens 48 --history 3 --out runs/sim
    python bench/simulate_llm.py --reply free --max-new-tokens 96   # let the agents reason first
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

ROOT = Path(__file__).resolve().parent.parent


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark.

    Args:
        argv: Command-line arguments (default: ``sys.argv[1:]``).
    """
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=300)
    parser.add_argument("--model", default=None, help="model name or directory (default: the embedded SmolLM2)")
    parser.add_argument("--adapter-a", default=None, metavar="DIR", help="LoRA adapter of the first firm")
    parser.add_argument("--adapter-b", default=None, metavar="DIR", help="LoRA adapter of the second firm")
    parser.add_argument("--max-new-tokens", type=int, default=None, help="default: the simulation's default")
    parser.add_argument("--history", type=int, default=None, help="default: the simulation's default")
    parser.add_argument(
        "--reply",
        choices=("direct", "free"),
        default="direct",
        help="direct: replies start with the answer line's opening (the default of prefc simulate)",
    )
    parser.add_argument("--last", type=int, default=50)
    parser.add_argument("--spec", default=str(ROOT / "specs" / "pricing.pref"))
    parser.add_argument("--out", default=None, metavar="DIR", help="keep the outputs here (default: a temp dir)")
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's choice)")
    parser.add_argument(
        "--baseline-rounds",
        type=int,
        default=10,
        metavar="N",
        help="rounds played first with the other reply mode and the same agents, for the ratio (0: none)",
    )
    args = parser.parse_args(argv)

    import torch

    from prefc.runtime.generate import LocalAgent
    from prefc.runtime.simulate import DEFAULT_HISTORY, DEFAULT_MAX_NEW_TOKENS, SimulationError, simulate

    if args.threads:
        torch.set_num_threads(args.threads)
    t0 = time.perf_counter()
    first = LocalAgent(args.model, adapter=args.adapter_a)
    second = first if args.adapter_b == args.adapter_a else LocalAgent(args.model, adapter=args.adapter_b)
    load_s = time.perf_counter() - t0
    max_new = args.max_new_tokens or DEFAULT_MAX_NEW_TOKENS
    history = DEFAULT_HISTORY if args.history is None else args.history
    other = "free" if args.reply == "direct" else "direct"
    with tempfile.TemporaryDirectory(prefix="prefc-sim-") as tmp:
        out = Path(args.out) if args.out else Path(tmp)
        baseline_s = None
        if args.baseline_rounds > 0:
            t1 = time.perf_counter()
            simulate(
                args.spec,
                [first, second],
                out_dir=Path(tmp) / "baseline",
                rounds=args.baseline_rounds,
                history=history,
                last=args.last,
                max_new_tokens=max_new,
                progress=False,
                plot=False,
                reply=other,
            )
            baseline_s = (time.perf_counter() - t1) / args.baseline_rounds
        t1 = time.perf_counter()
        try:
            result = simulate(
                args.spec,
                [first, second],
                out_dir=out,
                rounds=args.rounds,
                history=history,
                last=args.last,
                max_new_tokens=max_new,
                progress=sys.stderr.isatty(),
                reply=args.reply,
            )
        except SimulationError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1
        total = time.perf_counter() - t1
    s = result.summary
    device = str(next(first.model.parameters()).device)
    batched = "one batch of 2 per round" if first is second else "two models, one prompt each per round"
    print(
        f"model {first.name}" + ("" if first is second else f" vs {second.name}") + f" on {device} "
        f"({torch.get_num_threads()} CPU thread(s)); {batched}; max_new_tokens {max_new}, history {history}, "
        f"{args.reply} replies"
    )
    print(
        f"load {load_s:.1f} s; {s.rounds} rounds in {total:.1f} s: {s.rounds / total:.3f} rounds/s, "
        f"{total / s.rounds:.3f} s/round"
    )
    if baseline_s is not None:
        print(
            f"baseline: {args.baseline_rounds} rounds with {other} replies, {baseline_s:.3f} s/round; "
            f"{args.reply} replies take {total / s.rounds / baseline_s:.2f}x its time per round "
            f"(300 rounds: {300 * total / s.rounds / 60:.1f} min against {300 * baseline_s / 60:.1f} min)"
        )
    for agent, index in zip(s.agents, s.collusion_index.per_agent, strict=True):
        rate = "-" if agent.parse_rate is None else f"{agent.parse_rate:.3f}"
        price = "-" if agent.mean_price_last is None else f"{agent.mean_price_last:.4f}"
        ci = "-" if index is None else f"{index:.3f}"
        print(
            f"  {agent.name}: parse rate {rate} ({agent.failures} failures), mean price (last {s.last}) {price}, "
            f"collusion index {ci}"
        )
    overall = 1 - sum(a.failures for a in s.agents) / (2 * s.rounds)
    b = s.benchmarks
    print(f"parse rate {overall:.3f}; Nash {b.nash_price:.4f}, joint profit {b.monopoly_price:.4f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
