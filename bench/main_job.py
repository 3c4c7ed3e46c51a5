"""The main job on the embedded model, over several training seeds: does fine-tuning move behaviour
toward each trained preference, how sure is each verdict, and how long does a run take?

Runs ``prefc run`` (compile, one fine-tuned model per dataset preference, evaluation of the base
model and each of them on the held-out rubric) once per training seed, and prints a table per seed:
for every trained model its accuracy against its own preference (and the base model's, the baseline
measured in the same run), its margin over the other trained preference with a bootstrap interval
over items, its nearest type, the estimated kappa with its 95% interval, its accuracy on the games
the dataset teaches and on the held-out game's first role, and the wall time of the run. Then the
mean and spread (min to max) of every figure over the seeds, and each target of the main job
checked in every seed.

    python bench/main_job.py --seeds 3              # specs/paper.pref with prefc run's settings
    python bench/main_job.py --seeds 1 --max-steps 30 --out /tmp/main-job
    python bench/main_job.py --json                 # the per-seed figures as JSON
    python bench/main_job.py --seeds 1 --dev-seed 11 --completion as-written   # an ablation, on a
                                                    # development rubric (never the reported one)
    python bench/main_job.py --seeds 1 --dev-seed 11 --completion answer --scoring logprob \
        --numeric options --eval-items 96            # answer-only rows, option-scored items

Exits 1 when a target is missed in some seed.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")

ROOT = Path(__file__).resolve().parent.parent
BUDGET_S = 10 * 60
"""The main job's wall-time target on a 2-core CPU."""

TARGETS = {
    "own_nearest": "nearest type is the trained preference",
    "lead": "own accuracy beats the other trained preference's by >= 0.15",
    "kappa": "kappa interval: contains 0.5 and excludes 0 (moralis), contains 0 and excludes 0.5 (economicus)",
    "heldout": "held-out game's first role: >= 2/3 right (8 of 12)",
    "taught": "games the dataset teaches: >= 0.85 right (moralis)",
    "economicus": "the economicus model keeps 0.95 or better against its preference",
    "time": "the run takes 10 minutes or less",
}


def seed_figures(result: Any, run: dict[str, Any]) -> dict[str, Any]:
    """The figures of one seed's run: per trained preference and for the base model.

    Args:
        result: The :class:`prefc.pipeline.RunResult`.
        run: Its ``run.json``.
    """
    from prefc.runtime.files import read_jsonl

    taught = set(json.loads((Path(run["build"]) / _dataset_name(run) / "dataset.json").read_text())["games"])
    agents = {a["label"]: a for a in run["agents"]}
    base = agents["base"]
    out: dict[str, Any] = {"seconds": run["seconds"]["total"], "stages": run["seconds"], "agents": {}}
    for label, a in agents.items():
        own = label.replace(" ", "") if label != "base" else None
        records = [r for _, _, r in read_jsonl(Path(a["results"]) / "results.jsonl", error=ValueError)]
        fig: dict[str, Any] = {
            "parse_rate": a["parse_rate"],
            "accuracy": a["accuracy"],
            "nearest": a["nearest"],
            "kappa": a["kappa"],
            "verdict": a["verdict"],
        }
        if own is not None:
            fig["own"] = a["accuracy"].get(own)
            fig["base_own"] = base["accuracy"].get(own)
            fig["against"] = a["verdict"]["against"]
            mine = [r for r in records if r["game"] in taught]
            fig["taught"] = _share(mine, own)
            held = [r for r in records if r["game"] not in taught]
            first_role = held[0]["role"] if held else None
            fig["heldout_game"] = (held[0]["game"], first_role) if held else None
            role = [r for r in held if r["role"] == first_role]
            fig["heldout_right"], fig["heldout_n"] = sum(bool(r["correct"].get(own)) for r in role), len(role)
        out["agents"][label] = fig
    return out


def _dataset_name(run: dict[str, Any]) -> str:
    adapter = next(iter(run["adapters"].values()))
    meta = json.loads((Path(adapter) / "prefc_train.json").read_text())
    return meta["dataset"]


def _share(records: list[dict[str, Any]], label: str) -> float | None:
    return sum(bool(r["correct"].get(label)) for r in records) / len(records) if records else None


def checks(fig: dict[str, Any]) -> dict[str, bool]:
    """Which targets one seed meets.

    Args:
        fig: The seed's figures (:func:`seed_figures`).
    """
    ok = {k: True for k in TARGETS}
    for label, a in fig["agents"].items():
        if label == "base":
            continue
        own = label.replace(" ", "")
        ok["own_nearest"] &= a["nearest"] == own
        ok["lead"] &= all(m["margin"] >= 0.15 for m in a["against"].values())
        k = a["kappa"]
        value = 0.5 if "moralis" in own else 0.0
        other = 0.0 if value else 0.5
        ok["kappa"] &= bool(k) and k["ci_low"] <= value <= k["ci_high"] and not k["ci_low"] <= other <= k["ci_high"]
        if value:  # the held-out game and the taught games are targets for the moralis model
            ok["heldout"] &= a["heldout_n"] > 0 and a["heldout_right"] * 3 >= 2 * a["heldout_n"]
            ok["taught"] &= (a["taught"] or 0) >= 0.85
        else:
            ok["economicus"] &= (a["own"] or 0) >= 0.95
    ok["time"] = fig["seconds"] <= BUDGET_S
    return ok


def _ci(k: dict[str, Any] | None) -> str:
    return f"{k['estimate']:.2f} [{k['ci_low']:.2f}, {k['ci_high']:.2f}]" if k else "-"


def _spread(values: list[float]) -> str:
    if not values:
        return "-"
    mean = statistics.fmean(values)
    return f"{mean:.2f} ({min(values):.2f} to {max(values):.2f})" if len(values) > 1 else f"{mean:.2f}"


def main(argv: list[str] | None = None) -> int:
    """Run the main job once per seed and print the tables.

    Args:
        argv: Command-line arguments (default: ``sys.argv[1:]``).
    """
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--spec", default=str(ROOT / "specs" / "paper.pref"))
    ap.add_argument("--out", default=None, help="run directory (default: a fresh temporary directory)")
    ap.add_argument("--seeds", type=int, default=3, help="training seeds 0..N-1 (default 3)")
    ap.add_argument("--first-seed", type=int, default=0)
    ap.add_argument("--max-steps", type=int, default=None, help="optimizer steps per preference (default: prefc run's)")
    ap.add_argument("--eval-items", type=int, default=None, help="rubric items per agent (default: prefc run's)")
    ap.add_argument("--learning-rate", type=float, default=None)
    ap.add_argument("--train-batch-size", type=int, default=None)
    ap.add_argument("--completion", choices=["as-written", "answer-first", "answer"], default=None)
    ap.add_argument("--full", action=argparse.BooleanOptionalAction, default=None)
    ap.add_argument("--scoring", choices=["generate", "logprob"], default=None)
    ap.add_argument("--numeric", choices=["generate", "options"], default=None, help="numeric items under logprob")
    ap.add_argument(
        "--dev-seed",
        type=int,
        default=None,
        help="evaluate on a development rubric drawn with this seed (no item of the reported one)",
    )
    ap.add_argument("--threads", type=int, default=None, help="CPU threads (default: prefc run's choice)")
    ap.add_argument("--json", action="store_true", help="print the per-seed figures as JSON")
    args = ap.parse_args(argv)

    from rich.console import Console
    from rich.table import Table

    from prefc.pipeline import run_spec

    options = {
        k: v
        for k, v in {
            "max_steps": args.max_steps,
            "eval_items": args.eval_items,
            "learning_rate": args.learning_rate,
            "train_batch_size": args.train_batch_size,
            "completion": args.completion,
            "full": args.full,
            "scoring": args.scoring,
            "numeric": args.numeric,
            "rubric_seed": args.dev_seed,
            "threads": args.threads,
        }.items()
        if v is not None
    }
    out = Path(args.out) if args.out else Path(tempfile.mkdtemp(prefix="prefc-main-job-"))
    console = Console(highlight=False, stderr=args.json)
    seeds = list(range(args.first_seed, args.first_seed + args.seeds))
    figures: dict[int, dict[str, Any]] = {}
    for seed in seeds:
        start = time.perf_counter()
        result = run_spec(args.spec, out=out / f"seed{seed}", retrain=True, console=console, seed=seed, **options)
        run = json.loads((result.directory / "run.json").read_text())
        figures[seed] = seed_figures(result, run)
        figures[seed]["bench_seconds"] = round(time.perf_counter() - start, 1)
        figures[seed]["checks"] = checks(figures[seed])
    if args.json:
        print(json.dumps({"seeds": figures, "out": str(out)}, indent=2))
        return 0 if all(all(f["checks"].values()) for f in figures.values()) else 1

    labels = [k for k in figures[seeds[0]]["agents"] if k != "base"]
    table = Table(title="per seed: each fine-tuned model against its own preference", title_justify="left")
    for col in (
        "seed",
        "model",
        "own acc",
        "base",
        "margin over other [95%]",
        "nearest",
        "kappa [95%]",
        "taught",
        "held-out",
        "run s",
    ):
        table.add_column(col, no_wrap=True)
    for seed in seeds:
        fig = figures[seed]
        for label in labels:
            a = fig["agents"][label]
            ms = "; ".join(
                f"{m['margin']:+.2f} [{m['low']:+.2f}, {m['high']:+.2f}]" + ("" if m["distinguishable"] else " n.d.")
                for m in a["against"].values()
            )
            table.add_row(
                str(seed),
                label,
                f"{a['own']:.2f}",
                f"{a['base_own']:.2f}",
                ms or "-",
                a["nearest"] or "none",
                _ci(a["kappa"]),
                f"{a['taught']:.2f}",
                f"{a['heldout_right']}/{a['heldout_n']}",
                f"{fig['seconds']:.0f}",
            )
    console.print(table)

    spread = Table(title=f"over {len(seeds)} seeds: mean (min to max)", title_justify="left")
    for col in ("model", "own acc", "margin over other", "kappa", "taught", "held-out share", "nearest own"):
        spread.add_column(col, no_wrap=True)
    for label in labels:
        rows = [figures[s]["agents"][label] for s in seeds]
        own = label.replace(" ", "")
        spread.add_row(
            label,
            _spread([r["own"] for r in rows]),
            _spread([m["margin"] for r in rows for m in r["against"].values()]),
            _spread([r["kappa"]["estimate"] for r in rows if r["kappa"]]),
            _spread([r["taught"] for r in rows if r["taught"] is not None]),
            _spread([r["heldout_right"] / r["heldout_n"] for r in rows if r["heldout_n"]]),
            f"{sum(r['nearest'] == own for r in rows)}/{len(rows)}",
        )
    base = [figures[s]["agents"]["base"] for s in seeds]
    console.print(spread)
    console.print(
        "base model: "
        + "; ".join(f"{p} {acc:.2f}" for p, acc in base[0]["accuracy"].items())
        + f"; parse rate {base[0]['parse_rate']:.2f}; nearest {base[0]['nearest'] or 'none'}"
    )
    times = [figures[s]["seconds"] for s in seeds]
    console.print(
        f"run time: {_spread(times)} s (target {BUDGET_S} s); stages of seed {seeds[0]}: "
        + ", ".join(f"{k} {v:.0f}" for k, v in figures[seeds[0]]["stages"].items())
    )
    ok = True
    for key, text in TARGETS.items():
        met = [s for s in seeds if figures[s]["checks"][key]]
        ok &= len(met) == len(seeds)
        console.print(f"{'met' if len(met) == len(seeds) else 'MISSED':6s} {text}: {len(met)}/{len(seeds)} seeds")
    console.print(f"runs in {out}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
