"""The main job on the embedded model: does fine-tuning move behaviour, and how long does it take?

Runs ``prefc run`` (compile, one LoRA adapter per dataset preference, evaluation of the base model
and every adapter on the held-out rubric) and prints, for each adapter, its nearest type and its
accuracy against its own training preference next to the base model's (the baseline, measured in
the same run), plus the wall time of every stage against the 15-minute budget of a 2-core CPU.

    python bench/main_job.py                       # specs/paper.pref with prefc run's defaults
    python bench/main_job.py --max-steps 30 --eval-items 32 --out /tmp/main-job
    python bench/main_job.py --spec specs/av_dilemma.pref

Exits 1 when an adapter's nearest type is not its own preference or its gain over the base model is
below ``--min-gain`` (0.3 by default).
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
BUDGET_S = 15 * 60


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--spec", default=str(ROOT / "specs" / "paper.pref"))
    ap.add_argument("--out", default=None, help="run directory (default: a fresh temporary directory)")
    ap.add_argument("--max-steps", type=int, default=None, help="optimizer steps per adapter (default: prefc run's)")
    ap.add_argument("--eval-items", type=int, default=None, help="rubric items per agent (default: prefc run's)")
    ap.add_argument("--learning-rate", type=float, default=None)
    ap.add_argument("--train-batch-size", type=int, default=None)
    ap.add_argument("--min-gain", type=float, default=0.3)
    args = ap.parse_args()

    from rich.console import Console
    from rich.table import Table

    from prefc.pipeline import run_spec

    options = {k: v for k, v in {"max_steps": args.max_steps, "eval_items": args.eval_items,
                                 "learning_rate": args.learning_rate,
                                 "train_batch_size": args.train_batch_size}.items() if v is not None}
    out = Path(args.out) if args.out else Path(tempfile.mkdtemp(prefix="prefc-main-job-"))
    console = Console(highlight=False)
    start = time.perf_counter()
    result = run_spec(args.spec, out=out, retrain=True, console=console, **options)
    total = time.perf_counter() - start

    base = result.reports[0].summary
    base_acc = {p["label"]: p["accuracy"] for p in base.get("preferences", [])}
    table = Table(title="fine-tuned against base: accuracy against the adapter's own preference on the rubric",
                  title_justify="left")
    for col in ("adapter", "parsed", "accuracy", "base", "gain", "nearest type", "ok"):
        table.add_column(col, no_wrap=col in ("adapter", "nearest type"))
    ok = True
    for label, report in zip(result.adapters, result.reports[1:], strict=True):
        s = report.summary
        acc = {p["label"]: p["accuracy"] for p in s.get("preferences", [])}
        own = label.replace(" ", "")
        gain = (acc.get(own) or 0.0) - (base_acc.get(own) or 0.0)
        nearest = (s.get("nearest") or {}).get("label")
        good = nearest == own and gain >= args.min_gain
        ok &= good
        table.add_row(label, f"{s.get('parse_rate') or 0:.2f}", f"{acc.get(own) or 0:.2f}",
                      f"{base_acc.get(own) or 0:.2f}", f"{gain:+.2f}", nearest or "none", "yes" if good else "NO")
    console.print(table)
    times = Table(title="wall time", title_justify="left")
    times.add_column("stage")
    times.add_column("seconds", justify="right")
    for stage, seconds in result.seconds.items():
        times.add_row(stage, f"{seconds:.0f}")
    times.add_row("total (prefc run)", f"{total:.0f}")
    console.print(times)
    console.print(f"total {total / 60:.1f} min = {total / BUDGET_S:.2f} x the 15-minute budget; run in {result.directory}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
