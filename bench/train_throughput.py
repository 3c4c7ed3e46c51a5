"""Training throughput: ``prefc.runtime.train`` against a plain trl script doing the same work.

Both runs train N LoRA steps on the same rows, model, LoRA settings and batch size, and report
non-padding tokens per second of training (model loading and data preparation excluded).

Usage::

    python bench/train_throughput.py                  # embedded SmolLM2-135M-Instruct, 10 steps
    python bench/train_throughput.py --tiny --steps 20
    python bench/train_throughput.py --dataset build/paper/sft --preference "moralis(kappa=0.5)"
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

ROOT = Path(__file__).resolve().parent.parent


def toy_dataset(root: Path, *, rows: int = 64) -> Path:
    """Write a small dictator-game dataset in the compiler's format (one preference).

    Args:
        root: Dataset directory to create.
        rows: Number of training rows.

    Returns:
        ``root``.
    """
    root.mkdir(parents=True, exist_ok=True)
    system = "You are a player in an economic game. Reply with your reasoning, then one line ANSWER: {json}."
    for split, n, offset in (("train", rows, 1), ("val", max(rows // 8, 1), 1000)):
        with (root / f"{split}.jsonl").open("w", encoding="utf-8") as fh:
            for i in range(n):
                e = offset + i
                user = f"You are the dictator. You have {e} coins. How many do you give to the other player?"
                reply = (
                    f'Giving x leaves me {e} - x; if everyone did as I do, half is fair.\nANSWER: {{"give": {e // 2}}}'
                )
                row = {
                    "prompt": [{"role": "system", "content": system}, {"role": "user", "content": user}],
                    "completion": [{"role": "assistant", "content": reply}],
                    "meta": {
                        "spec": "bench",
                        "spec_sha256": "0" * 64,
                        "preference": "moralis(kappa=0.5)",
                        "preference_name": "moralis",
                        "game": "dictator",
                        "split": split,
                    },
                }
                fh.write(json.dumps(row) + "\n")
    return root


def run_prefc(
    dataset: Path, out: Path, *, model: str | None, preference: str | None, steps: int, batch: int, rank: int
) -> float:
    """Train with prefc and return tokens/s.

    Args:
        dataset: Dataset directory.
        out: Output directory.
        model: Base model (None for the embedded one).
        preference: Preference filter.
        steps: Optimizer steps.
        batch: Batch size.
        rank: LoRA rank.

    Returns:
        Non-padding tokens per second of training.
    """
    from prefc.runtime.train import TrainConfig, train

    config = TrainConfig(
        model=model,
        preference=preference,
        max_steps=steps,
        batch_size=batch,
        lora_r=rank,
        lora_alpha=2 * rank,
        save_steps=10**6,
        logging_steps=max(steps, 1),
    )
    result = train(dataset, out, config=config, progress=False)
    print(
        f"prefc:     {result.steps} steps, {result.tokens} tokens in {result.seconds:.2f} s "
        f"({result.seconds / max(result.steps, 1):.3f} s/step)"
    )
    return result.tokens_per_second


def run_plain_trl(
    dataset: Path, out: Path, *, model: str | None, preference: str | None, steps: int, batch: int, rank: int
) -> float:
    """Train with a straightforward trl + peft script and return tokens/s (same arguments as ``run_prefc``).

    Args:
        dataset: Dataset directory.
        out: Output directory.
        model: Base model (None for the embedded one).
        preference: Preference filter.
        steps: Optimizer steps.
        batch: Batch size.
        rank: LoRA rank.

    Returns:
        Non-padding tokens per second of training.
    """
    import torch
    from datasets import load_dataset
    from peft import LoraConfig
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from trl import SFTConfig, SFTTrainer

    from prefc.runtime.models import resolve_model

    path = resolve_model(model)
    rows = [json.loads(line) for line in (dataset / "train.jsonl").read_text(encoding="utf-8").splitlines() if line]
    rows = [
        r
        for r in rows
        if preference is None or preference in (r["meta"].get("preference"), r["meta"].get("preference_name"))
    ]
    plain = out / "data.jsonl"
    out.mkdir(parents=True, exist_ok=True)
    plain.write_text("".join(json.dumps({"prompt": r["prompt"], "completion": r["completion"]}) + "\n" for r in rows))
    ds = load_dataset("json", data_files=str(plain), split="train", cache_dir=str(out / "cache"))
    tokenizer = AutoTokenizer.from_pretrained(path)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    lm = AutoModelForCausalLM.from_pretrained(path, dtype=torch.float32)
    cuda = torch.cuda.is_available()
    bf16 = torch.cuda.is_bf16_supported() if cuda else bool(torch.cpu._is_avx512_bf16_supported())
    args = SFTConfig(
        output_dir=str(out / "ckpt"),
        max_steps=steps,
        per_device_train_batch_size=batch,
        learning_rate=2e-4,
        activation_checkpointing=False,
        use_cpu=not cuda,
        bf16=bf16,
        save_strategy="no",
        report_to="none",
        logging_steps=max(steps, 1),
        disable_tqdm=True,
        include_num_input_tokens_seen="non_padding",
        max_length=1024,
    )
    trainer = SFTTrainer(
        model=lm,
        args=args,
        train_dataset=ds,
        processing_class=tokenizer,
        peft_config=LoraConfig(
            r=rank, lora_alpha=2 * rank, lora_dropout=0.05, target_modules="all-linear", task_type="CAUSAL_LM"
        ),
    )
    start = time.perf_counter()
    trainer.train()
    seconds = time.perf_counter() - start
    tokens = int(trainer.state.num_input_tokens_seen)
    print(
        f"plain trl: {trainer.state.global_step} steps, {tokens} tokens in {seconds:.2f} s "
        f"({seconds / max(trainer.state.global_step, 1):.3f} s/step)"
    )
    return tokens / seconds


def main(argv: list[str] | None = None) -> int:
    """Run both trainings and print tokens/s and their ratio.

    Args:
        argv: Command-line arguments (default ``sys.argv[1:]``).

    Returns:
        Exit status.
    """
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--lora-r", type=int, default=16)
    parser.add_argument("--tiny", action="store_true", help="use a tiny random model instead of SmolLM2")
    parser.add_argument("--model", default=None, help="model name or directory (default: the embedded one)")
    parser.add_argument("--dataset", type=Path, default=None, help="dataset directory (default: a toy one)")
    parser.add_argument("--preference", default=None)
    ns = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="prefc-bench-") as tmp_name:
        tmp = Path(tmp_name)
        model = ns.model
        if ns.tiny:
            sys.path.insert(0, str(ROOT / "tests"))
            from tiny_model import build_tiny_model

            model = str(build_tiny_model(tmp / "tiny"))
        dataset = ns.dataset or toy_dataset(tmp / "data")
        preference = ns.preference if ns.dataset else "moralis(kappa=0.5)"
        kw = dict(model=model, preference=preference, steps=ns.steps, batch=ns.batch_size, rank=ns.lora_r)
        plain = run_plain_trl(dataset, tmp / "plain", **kw)
        ours = run_prefc(dataset, tmp / "prefc", **kw)
    print(f"tokens/s  prefc {ours:.1f}  plain trl {plain:.1f}  ratio {ours / plain:.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
