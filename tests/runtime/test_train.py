"""Model loading, generation and LoRA fine-tuning, on a tiny random model (and one slow real run)."""

from __future__ import annotations

import json
import logging
import os
import shutil
import time
import warnings
from pathlib import Path
from typing import Any

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")
pytest.importorskip("trl")
pytest.importorskip("peft")

from train_data import SPEC_SHA, SYSTEM, make_dataset  # noqa: E402
from train_data import cfg as _cfg  # noqa: E402

from prefc.runtime.generate import LocalAgent, generate, option_logprobs  # noqa: E402
from prefc.runtime.models import ModelError, load_model, model_label, resolve_model  # noqa: E402
from prefc.runtime.protocol import Agent, ScoresOptions  # noqa: E402
from prefc.runtime.train import (  # noqa: E402
    TrainConfig,
    TrainError,
    TrainInterrupted,
    last_checkpoint,
    prepare,
    train,
)


def _prompt(text: str) -> list[dict[str, str]]:
    return [{"role": "system", "content": SYSTEM}, {"role": "user", "content": text}]


@pytest.fixture(scope="module")
def dataset_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_dataset(tmp_path_factory.mktemp("data") / "sft")


@pytest.fixture(scope="module")
def trained(tiny_model_dir: Path, dataset_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Any:
    out = tmp_path_factory.mktemp("run") / "moralis"
    return train(dataset_dir, out, config=_cfg(tiny_model_dir, max_steps=10), progress=False)


# --- models ---------------------------------------------------------------------------------------


def test_load_tiny_model_left_padded_eval(tiny_model_dir: Path) -> None:
    model, tok = load_model(str(tiny_model_dir), device="cpu")
    assert not model.training
    assert tok.padding_side == "left" and tok.pad_token is not None
    assert model.dtype == torch.float32
    assert resolve_model(str(tiny_model_dir)) == tiny_model_dir


def test_model_errors_are_clear(tmp_path: Path, tiny_model_dir: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(ModelError, match="no config.json"):
        load_model(str(empty))
    with pytest.raises(ModelError, match="not found"):
        load_model(str(tmp_path / "missing" / "model"))
    # a truncated weights file
    broken = tmp_path / "broken"
    shutil.copytree(tiny_model_dir, broken)
    weights = broken / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[: weights.stat().st_size // 2])
    with pytest.raises(ModelError, match="cannot load the model"):
        load_model(str(broken))
    # an adapter directory without adapter files
    with pytest.raises(ModelError, match="not an adapter directory"):
        load_model(str(tiny_model_dir), adapter=empty)
    with pytest.raises(ModelError, match="adapter directory not found"):
        load_model(str(tiny_model_dir), adapter=tmp_path / "nope")


def test_hub_id_fails_fast_offline(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    start = time.perf_counter()
    with pytest.raises(ModelError, match="HF_HUB_OFFLINE"):
        resolve_model("prefc-test/no-such-model")
    assert time.perf_counter() - start < 5


def test_model_label() -> None:
    assert model_label(None) == "smollm2-135m-instruct"
    assert model_label(None, "runs/moralis/") == "smollm2-135m-instruct+moralis"
    assert model_label("HuggingFaceTB/SmolLM2-360M-Instruct") == "SmolLM2-360M-Instruct"


# --- generation -----------------------------------------------------------------------------------


def _single(model: Any, tok: Any, prompt: list[dict[str, str]], n: int) -> str:
    """Reference: one prompt, no padding, plain greedy argmax loop."""
    text = tok.apply_chat_template(prompt, tokenize=False, add_generation_prompt=True)
    ids = tok(text, add_special_tokens=False, return_tensors="pt")["input_ids"]
    stop = tok.convert_tokens_to_ids("<|im_end|>")
    out: list[int] = []
    with torch.no_grad():
        for _ in range(n):
            nxt = int(model(ids).logits[0, -1].argmax())
            if nxt == stop:
                break
            out.append(nxt)
            ids = torch.cat([ids, torch.tensor([[nxt]])], dim=1)
    return tok.decode(out, skip_special_tokens=True).strip()


def test_generate_batched_matches_unbatched_in_order(tiny_model_dir: Path) -> None:
    model, tok = load_model(str(tiny_model_dir), device="cpu")
    prompts = [
        _prompt("You have 10 coins."),
        _prompt("You are the dictator. You have 100 coins and the other player has none. How many do you give?"),
        _prompt("Cooperate or defect?"),
        _prompt("The temptation T = 5, reward R = 3, punishment P = 1, sucker S = 0. What is your move?"),
        _prompt("Send?"),
    ]
    refs = [_single(model, tok, p, 12) for p in prompts]
    assert len(set(refs)) > 1  # the prompts get different answers, so order matters
    for batch_size in (1, 2, 8):
        assert generate(model, tok, prompts, max_new_tokens=12, batch_size=batch_size) == refs


def test_option_logprobs_match_manual_forward(tiny_model_dir: Path) -> None:
    model, tok = load_model(str(tiny_model_dir), device="cpu")
    prompts = [_prompt("Cooperate or defect?"), _prompt("You are the dictator. You have 10 coins.")]
    options = [['ANSWER: {"move": "cooperate"}', 'ANSWER: {"move": "defect"}'], ["0", "5", "10 coins"]]
    scores = option_logprobs(model, tok, prompts, options, batch_size=3)
    for i, prompt in enumerate(prompts):
        prefix = tok.apply_chat_template(prompt, tokenize=False, add_generation_prompt=True)
        n_prefix = len(tok(prefix, add_special_tokens=False)["input_ids"])
        for j, opt in enumerate(options[i]):
            ids = tok(prefix + opt, add_special_tokens=False, return_tensors="pt")["input_ids"]
            with torch.no_grad():
                logp = torch.log_softmax(model(ids).logits[0].double(), dim=-1)
            manual = sum(float(logp[t - 1, ids[0, t]]) for t in range(n_prefix, ids.shape[1]))
            assert scores[i][j] == pytest.approx(manual, abs=1e-4)
    assert all(s < 0 for row in scores for s in row)


def test_local_agent_implements_protocol(tiny_model_dir: Path) -> None:
    agent = LocalAgent(str(tiny_model_dir), device="cpu", batch_size=2)
    assert isinstance(agent, Agent) and isinstance(agent, ScoresOptions)
    assert agent.name == tiny_model_dir.name
    answers = agent.respond([_prompt("a"), _prompt("b b b b")], max_new_tokens=4)
    assert len(answers) == 2 and all(isinstance(a, str) for a in answers)
    assert len(agent.option_logprobs([_prompt("a")], [["x", "y"]])[0]) == 2


# --- training -------------------------------------------------------------------------------------


def test_prompt_tokens_are_masked_and_format_is_clean(
    tiny_model_dir: Path, dataset_dir: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with warnings.catch_warnings(record=True) as caught, caplog.at_level(logging.WARNING):
        warnings.simplefilter("always")
        run = prepare(dataset_dir, tmp_path / "out", config=_cfg(tiny_model_dir), progress=False)
    messages = [str(w.message) for w in caught] + [r.getMessage() for r in caplog.records]
    assert not [m for m in messages if "prompt" in m.lower() or "format" in m.lower() or "mask" in m.lower()]
    shutil.rmtree(run.workdir)
    tok = run.trainer.processing_class
    ds = run.trainer.train_dataset
    assert len(ds) == run.train_rows == 24  # one preference of two
    for row in ds.select(range(3)):
        ids, labels = row["input_ids"], row["labels"]
        text = tok.decode(ids)
        prefix_end = text.index("<|im_start|>assistant\n") + len("<|im_start|>assistant\n")
        n_prompt = len(tok(text[:prefix_end], add_special_tokens=False)["input_ids"])
        assert all(lab == -100 for lab in labels[:n_prompt])
        assert labels[n_prompt:] == ids[n_prompt:]
        completion = tok.decode(ids[n_prompt:])
        assert completion.startswith("I give ") and "ANSWER:" in completion and "<|im_end|>" in completion
    # the collator keeps the mask
    batch = run.trainer.data_collator([ds[0], ds[1]])
    masked = (batch["labels"] == -100).sum(dim=1)
    assert bool((masked > 0).all())


def _completion_loss(model: Any, tok: Any, row: dict[str, Any]) -> float:
    """Mean NLL of the completion tokens of one row, computed directly."""
    prefix = tok.apply_chat_template(row["prompt"], tokenize=False, add_generation_prompt=True)
    full = tok.apply_chat_template(row["prompt"] + row["completion"], tokenize=False)
    n = len(tok(prefix, add_special_tokens=False)["input_ids"])
    ids = tok(full, add_special_tokens=False, return_tensors="pt")["input_ids"]
    with torch.no_grad():
        logp = torch.log_softmax(model(ids).logits[0].float(), dim=-1)
    return -float(sum(logp[t - 1, ids[0, t]] for t in range(n, ids.shape[1])) / (ids.shape[1] - n))


def test_training_reduces_loss_and_adapter_reloads(trained: Any, tiny_model_dir: Path, dataset_dir: Path) -> None:
    assert trained.steps == 10 and trained.adapter
    assert trained.losses[-1][1] < trained.losses[0][1]
    assert trained.val_loss is not None and trained.tokens > 0 and trained.tokens_per_second > 0
    out = trained.out_dir
    assert (out / "adapter_config.json").is_file() and (out / "adapter_model.safetensors").is_file()
    meta = json.loads((out / "prefc_train.json").read_text())
    assert meta["spec_sha256"] == SPEC_SHA
    assert meta["config"] == _cfg(tiny_model_dir, max_steps=10).model_dump(mode="json")
    assert meta["preference"] == "moralis(kappa=0.5)"
    assert meta["rows"] == {"train": 24, "val": 4}
    assert len(meta["base_model"]["config_sha256"]) == 64

    base, tok = load_model(str(tiny_model_dir), device="cpu")
    tuned, _ = load_model(str(tiny_model_dir), adapter=out, device="cpu")
    rows = [json.loads(line) for line in (dataset_dir / "val.jsonl").read_text().splitlines()]
    rows = [r for r in rows if r["meta"]["preference_name"] == "moralis"]
    assert _completion_loss(tuned, tok, rows[0]) < _completion_loss(base, tok, rows[0]) - 0.5
    prompts = [r["prompt"] for r in rows]
    assert generate(tuned, tok, prompts, max_new_tokens=16) != generate(base, tok, prompts, max_new_tokens=16)
    agent = LocalAgent(str(tiny_model_dir), adapter=out, device="cpu")
    assert agent.name == f"{tiny_model_dir.name}+moralis"

    # inference folds the adapter into the weights: no LoRA layers left, the same logits as peft's
    import torch
    from peft import PeftModel
    from transformers import AutoModelForCausalLM

    assert not any("lora" in name for name, _ in tuned.named_modules())
    unmerged = PeftModel.from_pretrained(AutoModelForCausalLM.from_pretrained(tiny_model_dir), out).eval()
    ids = torch.tensor([tok(rows[0]["completion"][0]["content"])["input_ids"]])
    with torch.inference_mode():
        assert torch.allclose(tuned(ids).logits, unmerged(ids).logits, atol=1e-4)


def test_completion_loss_equals_trl_loss(tiny_model_dir: Path, dataset_dir: Path, tmp_path: Path) -> None:
    """The trainer's completion-only loss (LM head on completion positions only) is trl's loss."""
    import torch

    run = prepare(dataset_dir, tmp_path / "x", config=_cfg(tiny_model_dir, bf16=False), progress=False)
    shutil.rmtree(run.workdir)
    trainer = run.trainer
    batch = next(iter(trainer.get_train_dataloader()))
    assert (batch["labels"] == -100).any() and (batch["labels"] != -100).any()  # prompt masked, completion kept
    trainer.model.train()
    with torch.no_grad():
        ours = trainer.compute_loss(trainer.model, dict(batch))
        trl_loss = super(type(trainer), trainer).compute_loss(trainer.model, dict(batch))
        both = trainer.compute_loss(trainer.model, dict(batch), num_items_in_batch=torch.tensor(7))
    assert float(ours) == pytest.approx(float(trl_loss), rel=1e-5)
    completion_tokens = int((batch["labels"][:, 1:] != -100).sum())
    assert float(both) == pytest.approx(float(ours) * completion_tokens / 7, rel=1e-5)


def test_preference_filter_by_name_and_errors(tiny_model_dir: Path, dataset_dir: Path, tmp_path: Path) -> None:
    run = prepare(dataset_dir, tmp_path / "a", config=_cfg(tiny_model_dir, preference="economicus"), progress=False)
    shutil.rmtree(run.workdir)
    tok = run.trainer.processing_class
    assert run.train_rows == 24 and run.val_rows == 4
    assert all('"give": 0}' in tok.decode(r["input_ids"]) for r in run.trainer.train_dataset)
    run = prepare(dataset_dir, tmp_path / "b", config=_cfg(tiny_model_dir, preference="moralis"), progress=False)
    shutil.rmtree(run.workdir)
    assert run.train_rows == 24
    with pytest.raises(TrainError, match=r"preferences present: economicus, moralis\(kappa=0.5\)"):
        prepare(dataset_dir, tmp_path / "c", config=_cfg(tiny_model_dir, preference="inequity"), progress=False)
    with pytest.raises(TrainError, match="several preferences"):
        prepare(dataset_dir, tmp_path / "d", config=_cfg(tiny_model_dir, preference=None), progress=False)


def test_dataset_errors(tiny_model_dir: Path, dataset_dir: Path, tmp_path: Path) -> None:
    with pytest.raises(TrainError, match="dataset directory not found"):
        train(tmp_path / "nothing", tmp_path / "out", config=_cfg(tiny_model_dir), progress=False)
    bad = tmp_path / "bad"
    shutil.copytree(dataset_dir, bad)
    lines = (bad / "train.jsonl").read_text().splitlines()
    lines[6] = lines[6][:40]
    (bad / "train.jsonl").write_text("\n".join(lines) + "\n")
    with pytest.raises(TrainError, match=r"train\.jsonl:7: invalid JSON"):
        train(bad, tmp_path / "out", config=_cfg(tiny_model_dir), progress=False)
    assert not (tmp_path / "out" / "prefc_train.json").exists()
    (bad / "train.jsonl").write_bytes(lines[0].encode() + b"\n\xff\xfe binary\n")
    with pytest.raises(TrainError, match=r"train\.jsonl:2: not UTF-8 text"):
        train(bad, tmp_path / "out", config=_cfg(tiny_model_dir), progress=False)


class _InterruptAt:
    """Trainer callback raising KeyboardInterrupt after a given step (as Ctrl-C would)."""

    def __init__(self, step: int) -> None:
        self.step = step

    def __getattr__(self, name: str) -> Any:
        if name.startswith("on_"):
            return lambda *a, **k: None
        raise AttributeError(name)

    def on_step_end(self, args: Any, state: Any, control: Any, **kw: Any) -> None:
        if state.global_step == self.step:
            raise KeyboardInterrupt


def test_interrupt_saves_checkpoint_and_resume_continues(
    tiny_model_dir: Path, dataset_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from prefc.runtime import train as train_mod

    out = tmp_path / "run"
    real_prepare = train_mod.prepare

    def interrupting_prepare(*a: Any, **k: Any) -> Any:
        run = real_prepare(*a, **k)
        run.trainer.add_callback(_InterruptAt(3))
        return run

    monkeypatch.setattr(train_mod, "prepare", interrupting_prepare)
    with pytest.raises(TrainInterrupted, match="resume=True"):
        train(dataset_dir, out, config=_cfg(tiny_model_dir), progress=False)
    monkeypatch.setattr(train_mod, "prepare", real_prepare)
    ckpt = last_checkpoint(out)
    assert ckpt is not None and ckpt.name == "checkpoint-3"
    assert not (out / "prefc_train.json").exists()

    with pytest.raises(TrainError, match="resume=True"):
        train(dataset_dir, out, config=_cfg(tiny_model_dir), progress=False)
    result = train(dataset_dir, out, config=_cfg(tiny_model_dir, resume=True), progress=False)
    assert result.resumed_from == str(ckpt)
    assert result.steps == 8
    steps = [s for s, _ in result.losses]
    assert steps[:2] == [1, 2]  # history before the interrupt comes from the checkpoint
    assert [s for s in steps if s > 3] == [4, 5, 6, 7, 8]  # and training went on from step 4
    assert 3 not in steps  # step 3's log was lost to the interrupt: a fresh run would have logged it
    assert last_checkpoint(out).name == "checkpoint-8"
    meta = json.loads((out / "prefc_train.json").read_text())
    assert meta["steps"] == 8 and meta["resumed_from"] == str(ckpt)


# --- the embedded model ---------------------------------------------------------------------------


@pytest.mark.slow
def test_embedded_smollm2_generate_and_lora(dataset_dir: Path, tmp_path: Path) -> None:
    os.environ["HF_HUB_OFFLINE"] = "1"
    path = resolve_model(None)
    assert (path / "config.json").is_file()
    assert "quantization_config" not in json.loads((path / "config.json").read_text())
    agent = LocalAgent(None, device="cpu")
    assert agent.name == "smollm2-135m-instruct"
    [answer] = agent.respond([_prompt("What is 2 + 3? Answer with the number only.")], max_new_tokens=8)
    assert "5" in answer
    result = train(
        dataset_dir,
        tmp_path / "smol",
        config=TrainConfig(preference="moralis", max_steps=5, batch_size=8, logging_steps=1, lora_r=16),
        progress=False,
    )
    assert result.steps == 5 and (tmp_path / "smol" / "adapter_model.safetensors").is_file()
    assert result.metadata["base_model"]["name"] == "smollm2-135m-instruct"
