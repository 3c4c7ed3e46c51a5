"""Evaluation throughput: items per second by generation versus by log-probability scoring.

Builds a prisoner's dilemma rubric in a temporary directory (homo moralis utilities from the closed
form ``u(a) = (1 - kappa) * A[a, b] + kappa * A[a, a]``), or takes the choice items of a compiled
rubric (``--rubric``), then evaluates the same local model on them three times with
:func:`prefc.runtime.evaluate.evaluate`: ``scoring="generate"`` (greedy text, parsed; the
baseline), ``scoring="logprob"`` through the agent (every option of an item in the item's own
forward pass, :mod:`prefc.runtime.option_scoring`), and ``scoring="logprob"`` with the
straightforward computation (one sequence per option, the head over every position). Prints items/s
of each, their ratios to generation, and the largest difference between the two log-probability
computations.

    python bench/eval_throughput.py                # the embedded SmolLM2-135M-Instruct
    python bench/eval_throughput.py --tiny         # a tiny random model (seconds)
    python bench/eval_throughput.py --items 64 --max-new-tokens 96 --batch-size 16
    python bench/eval_throughput.py --rubric build/paper/eval.jsonl --items 48
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")

MOVES = ["cooperate", "defect"]
GRID = [round(0.05 * i, 2) for i in range(21)]
SYSTEM = "You are a player in a game. Reply with your reasoning, then one line ANSWER: {json}."


def _utilities(kappa: float, t: float, s: float, opponent: str, r: float = 3.0, p: float = 1.0) -> list[float]:
    a = {("cooperate", "cooperate"): r, ("cooperate", "defect"): s, ("defect", "cooperate"): t, ("defect", "defect"): p}
    return [(1 - kappa) * a[(m, opponent)] + kappa * a[(m, m)] for m in MOVES]


def build_rubric(directory: Path, n_items: int) -> Path:
    """Write ``eval.jsonl`` and ``eval.json`` with ``n_items`` prisoner's dilemma items.

    Args:
        directory: Where to write the files.
        n_items: Number of items.

    Returns:
        The items file.
    """
    labels = {"economicus": 0.0, "moralis(kappa=0.5)": 0.5, "moralis(kappa=0.9)": 0.9}
    items: list[dict[str, Any]] = []
    for i in range(n_items):
        t, s, opp = [4, 5, 6, 8][i % 4], [0, -1, -2][i % 3], MOVES[(i // 12) % 2]
        targets = {}
        for label, k in labels.items():
            u = _utilities(k, t, s, opp)
            targets[label] = {"move": MOVES[0] if u[0] > u[1] else MOVES[1]}
        items.append(
            {
                "id": f"eval-{i:04d}",
                "game": "prisoners_dilemma",
                "role": "row",
                "params": {"T": t, "R": 3, "P": 1, "S": s},
                "prompt": [
                    {"role": "system", "content": SYSTEM},
                    {
                        "role": "user",
                        "content": (
                            f"Prisoner's dilemma. Both cooperate: 3 each. Both defect: 1 each. If you defect while "
                            f"the other cooperates you get {t} and they get {s}; the reverse gives you {s}. "
                            f"The other player will {opp}. Do you cooperate or defect?"
                        ),
                    },
                ],
                "schema": {"move": {"kind": "choice", "options": MOVES}},
                "targets": targets,
                "tolerance": 0.05,
                "family": {
                    "options": [{"move": m} for m in MOVES],
                    "utilities": [_utilities(k, t, s, opp) for k in GRID],
                },
                "meta": {"spec_sha256": "0" * 64, "rubric": "eval", "varied": ["T", "S"]},
            }
        )
    path = directory / "eval.jsonl"
    path.write_text("".join(json.dumps(it) + "\n" for it in items), encoding="utf-8")
    head = {
        "spec": "bench",
        "spec_sha256": "0" * 64,
        "rubric": "eval",
        "preferences": list(labels),
        "tolerance": 0.05,
        "games": ["prisoners_dilemma"],
        "family": {"name": "moralis", "param": "kappa", "grid": GRID},
    }
    (directory / "eval.json").write_text(json.dumps(head), encoding="utf-8")
    return path


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print items/s for both scoring modes.

    Args:
        argv: Command-line arguments (default: ``sys.argv[1:]``).
    """
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tiny", action="store_true", help="use a tiny random model instead of the embedded SmolLM2")
    ap.add_argument("--model", default=None, help="a local model directory (default: the embedded model)")
    ap.add_argument("--items", type=int, default=32)
    ap.add_argument("--batch-size", type=int, default=16)
    ap.add_argument("--max-new-tokens", type=int, default=64)
    ap.add_argument("--rubric", default=None, help="a compiled rubric (.jsonl): its first --items choice items")
    args = ap.parse_args(argv)

    from prefc.runtime.evaluate import evaluate
    from prefc.runtime.generate import LocalAgent
    from prefc.runtime.generate import option_logprobs as per_option

    with tempfile.TemporaryDirectory(prefix="prefc-bench-") as tmp:
        root = Path(tmp)
        model: str | None = args.model
        if args.tiny:
            sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
            from tiny_model import build_tiny_model

            model = str(build_tiny_model(root / "tiny"))
        t0 = time.perf_counter()
        agent = LocalAgent(model, batch_size=args.batch_size)
        load_s = time.perf_counter() - t0
        rubric = choice_items(Path(args.rubric), root, args.items) if args.rubric else build_rubric(root, args.items)
        baseline = PerOptionAgent(agent, per_option)
        rates: dict[str, float] = {}
        logps: dict[str, list[list[float]]] = {}
        runs = (
            ("generate", "generate", agent),
            ("logprob", "logprob", agent),
            ("logprob, one sequence per option", "logprob", baseline),
        )
        for label, scoring, who in runs:
            t0 = time.perf_counter()
            result = evaluate(
                rubric,
                who,
                root / f"run{len(rates)}",
                scoring=scoring,  # type: ignore[arg-type]
                batch_size=args.batch_size,
                max_new_tokens=args.max_new_tokens,
                progress=False,
                plots=False,
            )
            elapsed = time.perf_counter() - t0
            rates[label] = args.items / elapsed
            s = result.summary
            print(
                f"{label:32s} {rates[label]:8.2f} items/s  ({args.items} items in {elapsed:.1f} s; "
                f"parse rate {s.parse_rate:.2f})"
            )
            if scoring == "logprob":
                lines = result.results_path.read_text(encoding="utf-8").splitlines()
                logps[label] = [json.loads(line)["option_logprobs"] for line in lines]
        print(
            f"model {agent.name} loaded in {load_s:.1f} s; batch {args.batch_size}, "
            f"max_new_tokens {args.max_new_tokens}"
        )
        gap = max(abs(a - b) for ra, rb in zip(*logps.values(), strict=True) for a, b in zip(ra, rb, strict=True))
        print(f"largest log-probability difference between the two computations: {gap:.2e}")
        for label, _, _ in runs[1:]:
            print(f"{label} / generate speed ratio: {rates[label] / rates['generate']:.1f}x")
    return 0


class PerOptionAgent:
    """The agent with the straightforward option scoring (one sequence per option), for comparison."""

    def __init__(self, agent: Any, per_option: Any) -> None:
        self.agent, self.per_option, self.name = agent, per_option, agent.name

    def respond(self, prompts: Any, *, max_new_tokens: int = 256) -> list[str]:
        return self.agent.respond(prompts, max_new_tokens=max_new_tokens)

    def option_logprobs(self, prompts: Any, options: Any) -> list[list[float]]:
        return self.per_option(
            self.agent.model, self.agent.tokenizer, prompts, options, batch_size=2 * self.agent.batch_size
        )


def choice_items(rubric: Path, directory: Path, n_items: int) -> Path:
    """Copy the first ``n_items`` choice items of a compiled rubric (and its header) to ``directory``.

    Args:
        rubric: The rubric's ``.jsonl`` file.
        directory: Where to write ``eval.jsonl`` and ``eval.json``.
        n_items: How many items to keep.

    Returns:
        The items file.
    """
    items = [json.loads(line) for line in rubric.read_text(encoding="utf-8").splitlines() if line.strip()]
    chosen = [it for it in items if all(s.get("kind") == "choice" for s in it["schema"].values())][:n_items]
    if len(chosen) < n_items:
        raise SystemExit(f"{rubric} has only {len(chosen)} choice items")
    (directory / "eval.jsonl").write_text("".join(json.dumps(it) + "\n" for it in chosen), encoding="utf-8")
    (directory / "eval.json").write_text(rubric.with_suffix(".json").read_text(encoding="utf-8"), encoding="utf-8")
    return directory / "eval.jsonl"


if __name__ == "__main__":
    raise SystemExit(main())
