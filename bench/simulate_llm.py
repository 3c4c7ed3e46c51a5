"""Repeated pricing with fine-tuned agents: economicus and moralis(kappa=0.5) adapters in three
pairings of the logit Bertrand duopoly, both agents of a round in one batch.

Trains both pricing adapters on ``specs/pricing.pref``'s repeated dataset ``pricing_repeat``
(rows that are rounds of the market as the simulation shows them, answered with each preference's
best response to the rival's last price), or reuses them from ``--adapters DIR`` (``DIR/economicus``
and ``DIR/moralis``, trained when missing). Then plays economicus vs economicus, moralis vs moralis
and economicus vs moralis for ``--rounds`` rounds (300) from ``--seeds`` starting prices (greedy
decoding makes a seed's play deterministic, so the seeds differ by the price both firms start
from: seed 0 starts at marginal cost, the others at a price drawn from the seed between cost and
the joint-profit price). Both agents are views of one :class:`prefc.runtime.adapter_bank.AdapterBank`:
each round's two prompts run as one batch, each with its adapter.

Prints, per pairing and seed, each firm's mean price and profit over the last ``--last`` rounds
(100), the collusion index, the time per round, and Welch's t-test of whether two pairings' mean
prices over those rounds differ (per seed; consecutive rounds are correlated, so the p-values are
optimistic); then the goals: the economicus pair within 0.1 of the Nash price 1.4729, the moralis
pair within 0.1 of its symmetric price 1.7106, 300 rounds in 5 minutes or less. First,
``--baseline-rounds`` rounds with the two adapters answering one prompt each (one bank each, the
unbatched way) give the baseline time per round, measured in the same run.

    python bench/simulate_llm.py --adapters runs/pricing                 # train (if missing) and play
    python bench/simulate_llm.py --adapters runs/pricing --seeds 1 --rounds 100
    python bench/simulate_llm.py --adapters runs/pricing --out runs/pricing/play
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

ROOT = Path(__file__).resolve().parent.parent
TYPES = {"economicus": "economicus", "moralis": "moralis(kappa=0.5)"}
PAIRINGS = (("economicus", "economicus"), ("moralis", "moralis"), ("economicus", "moralis"))
GOALS = {"economicus": 1.4729, "moralis": 1.7106}


def train_missing(spec: str, adapters: Path, *, steps: int, learning_rate: float) -> dict[str, float]:
    """Train the adapters ``adapters`` lacks on the spec's repeated dataset; seconds per adapter.

    Args:
        spec: The pricing spec.
        adapters: The directory of ``economicus`` and ``moralis``.
        steps: Optimizer steps per adapter.
        learning_rate: The peak learning rate.
    """
    from prefc.compiler.check import check_file
    from prefc.compiler.emit.build import compile_spec
    from prefc.runtime.train import train
    from prefc.runtime.train_config import TrainConfig

    missing = [k for k in TYPES if not (adapters / k / "adapter_config.json").is_file()]
    if not missing:
        return {}
    build = compile_spec(check_file(spec), adapters / "build").directory / "pricing_repeat"
    took = {}
    for key in missing:
        t0 = time.perf_counter()
        config = TrainConfig(preference=TYPES[key], max_steps=steps, learning_rate=learning_rate)
        train(build, adapters / key, config=config, progress=sys.stderr.isatty())
        took[key] = time.perf_counter() - t0
    return took


def initial_price(seed: int, lo: float, joint: float) -> float:
    """The price both firms start from in a seed's play.

    Args:
        seed: The seed.
        lo: The action's lower bound (marginal cost).
        joint: The joint-profit price.
    """
    return lo if seed == 0 else round(random.Random(seed).uniform(lo, joint), 2)


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark.

    Args:
        argv: Command-line arguments (default: ``sys.argv[1:]``).
    """
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--adapters", default=None, metavar="DIR", help="economicus/ and moralis/ (trained if missing)")
    parser.add_argument("--train-steps", type=int, default=80)
    parser.add_argument("--learning-rate", type=float, default=5e-4)
    parser.add_argument("--model", default=None, help="model name or directory (default: the embedded SmolLM2)")
    parser.add_argument("--rounds", type=int, default=300)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--last", type=int, default=100)
    parser.add_argument("--max-new-tokens", type=int, default=8)
    parser.add_argument("--pairings", default="all", help="comma-separated: ee, mm, em (default all)")
    parser.add_argument("--spec", default=str(ROOT / "specs" / "pricing.pref"))
    parser.add_argument(
        "--out", default=None, metavar="DIR", help="keep every run's outputs here (default: a temp dir)"
    )
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's choice)")
    parser.add_argument("--baseline-rounds", type=int, default=10, metavar="N")
    args = parser.parse_args(argv)

    import torch

    from prefc.artefacts import DatasetHeader, atomic_write_text, read_document
    from prefc.runtime.adapter_bank import AdapterBank
    from prefc.runtime.simulate import SimulationError, simulate
    from prefc.runtime.simulate.market import PricingMarket, load_ir
    from prefc.runtime.simulate.pairings import pair_prices, welch

    if args.threads:
        torch.set_num_threads(args.threads)
    with tempfile.TemporaryDirectory(prefix="prefc-apps-") as tmp:
        adapters = Path(args.adapters) if args.adapters else Path(tmp) / "adapters"
        took = train_missing(args.spec, adapters, steps=args.train_steps, learning_rate=args.learning_rate)
        for key, seconds in took.items():
            print(f"trained {key} ({TYPES[key]}): {args.train_steps} steps in {seconds:.0f} s")
        header_path = adapters / "build" / "pricing" / "pricing_repeat" / "dataset.json"
        history = 3
        if header_path.is_file():
            header = read_document(header_path, DatasetHeader)
            history = header.repeat.history if header.repeat is not None else history
        t0 = time.perf_counter()
        bank = AdapterBank(args.model, adapters=[adapters / k for k in TYPES])
        agents = dict(zip(TYPES, bank.agents, strict=True))
        load_s = time.perf_counter() - t0
        ir = load_ir(args.spec)
        market = PricingMarket(ir, "bertrand")
        lo, joint = market.lo, market.monopoly_price()
        out = Path(args.out) if args.out else Path(tmp) / "play"
        common = {"history": history, "last": args.last, "max_new_tokens": args.max_new_tokens, "plot": True}

        baseline_s = None
        if args.baseline_rounds > 0:
            apart = [AdapterBank(args.model, adapters=[adapters / k]).agents[0] for k in TYPES]
            t1 = time.perf_counter()
            simulate(ir, apart, out_dir=Path(tmp) / "baseline", rounds=args.baseline_rounds, progress=False, **common)
            baseline_s = (time.perf_counter() - t1) / args.baseline_rounds
            del apart

        wanted = {"ee": PAIRINGS[0], "mm": PAIRINGS[1], "em": PAIRINGS[2]}
        keys = list(wanted) if args.pairings == "all" else [k.strip() for k in args.pairings.split(",")]
        results: dict[tuple[str, int], object] = {}
        rows = []
        for key in keys:
            a, b = wanted[key]
            for seed in range(args.seeds):
                start = initial_price(seed, lo, joint)
                t1 = time.perf_counter()
                try:
                    res = simulate(
                        ir,
                        [agents[a], agents[b]],
                        out_dir=out / f"{a}-{b}" / f"seed{seed}",
                        rounds=args.rounds,
                        initial=start,
                        seed=seed,
                        progress=sys.stderr.isatty(),
                        table=False,
                        **common,
                    )
                except SimulationError as exc:
                    print(f"error: {exc}", file=sys.stderr)
                    return 1
                wall = time.perf_counter() - t1
                results[(key, seed)] = res
                s = res.summary
                ci = s.collusion_index
                rows.append(
                    {
                        "pairing": f"{a} vs {b}",
                        "key": key,
                        "seed": seed,
                        "initial": start,
                        "prices": [x.mean_price_last for x in s.agents],
                        "profits": [x.mean_profit_last for x in s.agents],
                        "parse_rates": [x.parse_rate for x in s.agents],
                        "collusion_index": ci.joint,
                        "pair_price": statistics.mean(pair_prices(res.rounds, args.last)),
                        "seconds": wall,
                        "s_per_round": wall / s.rounds,
                    }
                )
                r = rows[-1]
                print(
                    f"{r['pairing']:<26} seed {seed} (start {start:.2f}): prices "
                    + " / ".join(f"{p:.4f}" for p in r["prices"])
                    + ", profits "
                    + " / ".join(f"{p:.4f}" for p in r["profits"])
                    + f", collusion index {ci.joint:.3f}, parse "
                    + " / ".join(f"{p:.2f}" for p in r["parse_rates"])
                    + f"; {s.rounds} rounds in {wall:.0f} s ({wall / s.rounds:.2f} s/round)",
                    flush=True,
                )
        b = res.summary.benchmarks
        print(
            f"benchmarks: Nash {b.nash_price:.4f}, moralis(kappa=0.5) {b.moralis.get('0.5', float('nan')):.4f}, "
            f"joint profit {b.monopoly_price:.4f}; model load {load_s:.1f} s"
        )
        tests = []
        for seed in range(args.seeds):
            for x, y in (("ee", "mm"), ("ee", "em"), ("mm", "em")):
                if (x, seed) in results and (y, seed) in results:
                    px = pair_prices(results[(x, seed)].rounds, args.last)
                    py = pair_prices(results[(y, seed)].rounds, args.last)
                    t, p = welch(px, py)
                    tests.append(
                        {
                            "seed": seed,
                            "a": x,
                            "b": y,
                            "mean_a": statistics.mean(px),
                            "mean_b": statistics.mean(py),
                            "t": t,
                            "p": p,
                        }
                    )
                    print(
                        f"seed {seed}: {x} {statistics.mean(px):.4f} vs {y} {statistics.mean(py):.4f}: "
                        f"Welch t {t:.2f}, p {p:.3g}" + (" (differ at 1%)" if p < 0.01 else " (not different at 1%)")
                    )
        for key, target in (("ee", GOALS["economicus"]), ("mm", GOALS["moralis"])):
            own = [r["pair_price"] for r in rows if r["key"] == key]
            if own:
                worst = max(abs(x - target) for x in own)
                verdict = "met" if worst <= 0.1 else "missed"
                print(
                    f"goal {key}: mean pair price {statistics.mean(own):.4f} against {target}, "
                    f"largest miss {worst:.4f} over {len(own)} seed(s): {verdict}"
                )
        per_round = statistics.mean(r["s_per_round"] for r in rows)
        line = f"time: {per_round:.3f} s/round batched, 300 rounds {300 * per_round / 60:.1f} min"
        if baseline_s is not None:
            line += (
                f"; baseline (one prompt per adapter, {args.baseline_rounds} rounds) {baseline_s:.3f} s/round: "
                f"{per_round / baseline_s:.2f}x its time"
            )
        print(line + (" (goal 5 min: met)" if 300 * per_round <= 300 else " (goal 5 min: missed)"))
        out.mkdir(parents=True, exist_ok=True)
        atomic_write_text(
            out / "pairings.json",
            json.dumps({"rows": rows, "tests": tests, "baseline_s_per_round": baseline_s}, indent=1) + "\n",
        )
        if args.out:
            print(f"outputs: {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
