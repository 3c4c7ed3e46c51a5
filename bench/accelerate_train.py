"""Training under ``accelerate launch`` with two CPU processes against one process, same global batch.

Runs ``prefc train`` on the tiny test model (``tests/tiny_model.py``) and a small dictator dataset
twice: one process with batch 8, and two data-parallel processes (gloo) with batch 4 each. accelerate
splits every global batch of 8 rows between the processes, trl's loss divides by the completion
tokens of all processes and DDP averages the gradients, so both runs take the same steps: the logged
loss of every step agrees up to the order of float32 sums (relative tolerance 1e-5), and both count
the same tokens. Prints the losses side by side and the largest relative difference; exits 1 when
they do not agree.

Two CPU processes need ``--multi_gpu`` (torchrun; on a machine without a GPU every process runs on
the CPU): accelerate's ``--cpu --num_processes 2`` starts one process unless mpirun is configured.

    python bench/accelerate_train.py [--steps 6] [--rows 32]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TOLERANCE = 1e-5
"""Relative difference allowed between the two runs' losses (float32 sums in another order)."""


@dataclass
class Run:
    """One training run: its per-step losses, tokens and wall time."""

    losses: list[tuple[int, float]]
    tokens: int
    val_loss: float | None
    seconds: float


def launch(data: Path, out: Path, config: Path, *, processes: int, batch: int) -> Run:
    """Run ``prefc train`` under ``accelerate launch`` and read back what it logged.

    Args:
        data: The training JSONL file.
        out: The adapter directory.
        config: The TOML training options.
        processes: 1, or 2 data-parallel CPU processes.
        batch: Rows per process and step.
    """
    where = ["--num_processes", "1", "--cpu"] if processes == 1 else ["--multi_gpu", "--num_processes", str(processes)]
    cmd = [  # `accelerate launch` by this interpreter, so the processes it starts run this prefc
        sys.executable,
        "-m",
        "accelerate.commands.launch",
        *where,
        "--num_machines",
        "1",
        "--num_cpu_threads_per_process",
        "1",
        "--mixed_precision",
        "no",
        "--dynamo_backend",
        "no",
        "-m",
        "prefc.cli",
        "train",
        str(data),
        "-o",
        str(out),
        "--config",
        str(config),
        "--batch-size",
        str(batch),
    ]
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "CUDA_VISIBLE_DEVICES": "", "OMP_NUM_THREADS": "1"}
    start = time.perf_counter()
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=900)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({done.returncode}):\n{done.stderr[-4000:]}")
    meta = json.loads((out / "prefc_train.json").read_text())
    state = json.loads(max((out / "checkpoints").glob("checkpoint-*/trainer_state.json")).read_text())
    losses = [(int(e["step"]), float(e["loss"])) for e in state["log_history"] if "loss" in e]
    return Run(losses, int(meta["tokens"]), meta["val_loss"], seconds)


def compare(*, steps: int, rows: int, workdir: Path) -> tuple[Run, Run]:
    """Train the tiny model once with one process and once with two, on the same rows.

    Args:
        steps: Optimizer steps.
        rows: Training rows.
        workdir: Where the model, the data and the adapters go.
    """
    sys.path.insert(0, str(ROOT))
    sys.path.insert(0, str(ROOT / "bench"))
    from train_throughput import toy_dataset

    from tests.tiny_model import build_tiny_model

    model = build_tiny_model(workdir / "model")
    data = toy_dataset(workdir / "data", rows=rows)
    config = workdir / "train.toml"
    config.write_text(
        f'model = "{model}"\nmax_steps = {steps}\nlearning_rate = 0.003\nlora_dropout = 0.0\n'
        f"logging_steps = 1\nsave_steps = {steps}\nseed = 0\nbf16 = false\n"
    )
    one = launch(data / "train.jsonl", workdir / "one", config, processes=1, batch=8)
    two = launch(data / "train.jsonl", workdir / "two", config, processes=2, batch=4)
    return one, two


def largest_difference(one: Run, two: Run) -> float:
    """The largest relative difference between the two runs' losses at the same step.

    Args:
        one: The one-process run.
        two: The two-process run.
    """
    if [s for s, _ in one.losses] != [s for s, _ in two.losses]:
        raise ValueError("the runs logged different steps")
    return max(abs(a - b) / max(abs(a), 1e-12) for (_, a), (_, b) in zip(one.losses, two.losses, strict=True))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=6)
    ap.add_argument("--rows", type=int, default=32)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="prefc-accelerate-") as tmp:
        one, two = compare(steps=args.steps, rows=args.rows, workdir=Path(tmp))
    print("step  1 process (batch 8)  2 processes (batch 4 each)")
    for (step, a), (_, b) in zip(one.losses, two.losses, strict=True):
        print(f"{step:4d}  {a:20.6f}  {b:26.6f}")
    diff = largest_difference(one, two)
    print(f"tokens       : {one.tokens} and {two.tokens}")
    print(f"val loss     : {one.val_loss} and {two.val_loss}")
    print(f"wall         : {one.seconds:.1f} s and {two.seconds:.1f} s (model loading and process start included)")
    print(f"largest relative loss difference: {diff:.2e} (tolerance {TOLERANCE:.0e})")
    ok = diff <= TOLERANCE and one.tokens == two.tokens
    print("agree" if ok else "DISAGREE")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
