"""A toy dataset directory in the compiler's format (dictator rows, two preferences) and a small
training config for the tiny model, shared by the training tests."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from prefc.runtime.train import TrainConfig

SPEC_SHA = "ab12" * 16
SYSTEM = "You are a player in an economic game. Reply with your reasoning, then one line ANSWER: {json}."
PREFERENCES = {
    "economicus": ("economicus", {}),
    "moralis(kappa=0.5)": ("moralis", {"kappa": 0.5}),
}


def _row(endowment: int, label: str, split: str, paraphrase: int = 0) -> dict[str, Any]:
    name, params = PREFERENCES[label]
    give = 0 if name == "economicus" else endowment // 2
    user = f"You are the dictator. You have {endowment} coins. How many do you give to the other player?"
    answer = {"give": give}
    return {
        "prompt": [{"role": "system", "content": SYSTEM}, {"role": "user", "content": user}],
        "completion": [
            {"role": "assistant", "content": f"I give {give} of {endowment}.\nANSWER: {json.dumps(answer)}"}
        ],
        "meta": {
            "spec": "toy",
            "spec_sha256": SPEC_SHA,
            "dataset": "sft",
            "game": "dictator",
            "role": "dictator",
            "preference": label,
            "preference_name": name,
            "preference_params": params,
            "params": {"E": endowment},
            "split": split,
            "paraphrase": paraphrase,
            "answer": answer,
        },
    }


def make_dataset(root: Path, *, n_train: int = 24, n_val: int = 4) -> Path:
    """Write a dataset directory in the compiler's format with two preferences."""
    root.mkdir(parents=True, exist_ok=True)
    counts: dict[str, int] = {}
    for split, n, offset in (("train", n_train, 1), ("val", n_val, 100)):
        rows = [_row(offset + i, label, split) for i in range(n) for label in PREFERENCES]
        counts[split] = len(rows)
        with (root / f"{split}.jsonl").open("w") as fh:
            for r in rows:
                fh.write(json.dumps(r) + "\n")
    (root / "dataset.json").write_text(
        json.dumps(
            {
                "spec": "toy",
                "spec_sha256": SPEC_SHA,
                "dataset": "sft",
                "preferences": list(PREFERENCES),
                "games": ["dictator"],
                "counts": counts,
            }
        )
    )
    return root


def cfg(model_dir: Path, **kw: Any) -> TrainConfig:
    """A small LoRA training config for the tiny model; ``kw`` overrides any field."""
    from prefc.runtime.train import TrainConfig

    base: dict[str, Any] = dict(
        model=str(model_dir),
        preference="moralis(kappa=0.5)",
        max_steps=8,
        batch_size=8,
        learning_rate=3e-3,
        lora_r=8,
        lora_alpha=16,
        lora_dropout=0.0,
        logging_steps=1,
        save_steps=4,
        bf16=False,
        max_length=256,
    )
    base.update(kw)
    return TrainConfig(**base)
