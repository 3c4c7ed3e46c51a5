"""Several LoRA adapters on one base model answering in one batch: the greedy answers are each
adapter's own, one prompt at a time, through a separately loaded peft model (tiny random model)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")
peft = pytest.importorskip("peft")

from prefc.runtime.adapter_bank import BASE, AdapterBank  # noqa: E402
from prefc.runtime.generate import generate  # noqa: E402
from prefc.runtime.simulate import simulate  # noqa: E402

SPECS = Path(__file__).resolve().parents[2] / "specs"
SHARED = (
    "You set the price of one of two firms selling differentiated products. Your unit cost is 1; "
    "your profit is (your price - 1) times your share. You may pick any price from 1 to 4. "
)


def _adapter(base_dir: Path, out: Path, seed: int) -> Path:
    from transformers import AutoModelForCausalLM

    torch.manual_seed(seed)
    model = AutoModelForCausalLM.from_pretrained(base_dir)
    config = peft.LoraConfig(r=4, lora_alpha=16, target_modules=["q_proj", "k_proj", "v_proj", "o_proj", "down_proj"])
    config.init_lora_weights = False  # random A and B: the adapter changes the answers
    peft.get_peft_model(model, config).save_pretrained(out)
    return out


@pytest.fixture(scope="module")
def adapters(tiny_model_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    root = tmp_path_factory.mktemp("adapters")
    return [_adapter(tiny_model_dir, root / name, seed) for name, seed in (("economicus", 1), ("moralis", 2))]


def _prompts(n: int, t: int = 0) -> list[list[dict[str, str]]]:
    return [
        [
            {"role": "system", "content": "You are a firm."},
            {"role": "user", "content": SHARED + f"Round {t + i}: the rival charged {1 + 0.25 * i} last round."},
        ]
        for i in range(n)
    ]


def _alone(tiny_model_dir: Path, adapter: Path | None, prompt, **kw) -> str:
    from transformers import AutoModelForCausalLM, AutoTokenizer

    model = AutoModelForCausalLM.from_pretrained(tiny_model_dir)
    if adapter is not None:
        model = peft.PeftModel.from_pretrained(model, str(adapter))
    model.eval()
    tok = AutoTokenizer.from_pretrained(tiny_model_dir)
    return generate(model, tok, [prompt], batch_size=1, **kw)[0]


@pytest.mark.parametrize("reply_prefix", ["", 'ANSWER: {"price": '])
def test_one_batch_answers_as_each_adapter_alone(tiny_model_dir: Path, adapters: list[Path], reply_prefix: str) -> None:
    bank = AdapterBank(tiny_model_dir, adapters=[*adapters, None])
    first, second, base = bank.agents
    assert (first.adapter, second.adapter, base.adapter) == ("adapter0", "adapter1", BASE)
    kw = {"max_new_tokens": 8, "reply_prefix": reply_prefix}
    prompts = _prompts(3)
    expected = [_alone(tiny_model_dir, a, p, **kw) for a, p in zip([*adapters, None], prompts, strict=True)]
    assert len(set(expected)) > 1  # the adapters make a difference
    names = [first.adapter, second.adapter, base.adapter]
    assert bank.respond(prompts, adapters=names, **kw) == expected  # cached prefix, one batch
    assert bank.respond(prompts, adapters=names, **kw) == expected  # the cache reused
    bank.prefix_cache = False
    assert bank.respond(prompts, adapters=names, **kw) == expected  # plain mixed batch
    bank.prefix_cache = True
    # the same adapters the other way round: a cache of its own line-up
    swapped = [second.adapter, first.adapter, base.adapter]
    again = [_alone(tiny_model_dir, a, p, **kw) for a, p in zip([adapters[1], adapters[0], None], prompts, strict=True)]
    assert bank.respond(prompts, adapters=swapped, **kw) == again
    assert first.respond(prompts[:1], **kw) == expected[:1]
    # one adapter for the whole batch: the active adapter, no mixed-batch path
    both = [_alone(tiny_model_dir, adapters[1], p, **kw) for p in prompts[:2]]
    assert bank.respond(prompts[:2], adapters=[second.adapter] * 2, **kw) == both
    assert bank.respond(prompts, adapters=names, **kw) == expected  # mixed again after it


def test_two_local_agents_of_one_model_play_in_one_batch(
    tiny_model_dir: Path, adapters: list[Path], tmp_path: Path
) -> None:
    specs = [f"local:{tiny_model_dir}?adapter={a}" for a in adapters]
    together = simulate(
        str(SPECS / "pricing.pref"),
        specs,
        out_dir=tmp_path / "together",
        rounds=4,
        max_new_tokens=6,
        progress=False,
        plot=False,
    )
    # one bank per agent: each answers its own prompt alone every round
    apart = [AdapterBank(tiny_model_dir, adapters=[a]).agents[0] for a in adapters]
    alone = simulate(
        str(SPECS / "pricing.pref"),
        apart,
        out_dir=tmp_path / "alone",
        rounds=4,
        max_new_tokens=6,
        progress=False,
        plot=False,
    )

    def moves(result) -> list:
        return [[(m.price, m.raw, m.held) for m in r.agents] for r in result.rounds]

    assert moves(together) == moves(alone)
    names = [a.name for a in together.summary.agents]
    assert len(set(names)) == 2 and all(n.endswith("+" + a.name) for n, a in zip(names, adapters, strict=True))
    lines = (tmp_path / "together" / "rounds.jsonl").read_text().splitlines()
    assert len(lines) == 4 and all(len(json.loads(x)["agents"]) == 2 for x in lines)
