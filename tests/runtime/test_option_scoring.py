"""Shared-prefix option scoring gives the log-probabilities of the one-sequence-per-option computation."""

from __future__ import annotations

import functools
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")

from prefc.runtime.generate import LocalAgent  # noqa: E402
from prefc.runtime.generate import option_logprobs as per_option  # noqa: E402
from prefc.runtime.models import load_model  # noqa: E402
from prefc.runtime.option_scoring import option_logprobs, shared_prefix_supported  # noqa: E402

SYSTEM = "You are a player in an economic game. Reply with your reasoning, then one line ANSWER: {json}."


def _prompt(user: str, system: str = SYSTEM) -> list[dict[str, str]]:
    return [{"role": "system", "content": system}, {"role": "user", "content": user}]


PROMPTS = [
    _prompt("Cooperate or defect?"),
    _prompt("You are the dictator. You have 10 coins and the other player has none. How many do you give?"),
    _prompt("The temptation T = 5, reward R = 3, punishment P = 1, sucker S = 0. What is your move?"),
    _prompt("Send?", system="Answer at once."),
    _prompt("Cooperate or defect?"),  # the same prompt twice in one batch
    _prompt("One option only."),
]
OPTIONS = [
    ['ANSWER: {"move": "cooperate"}', 'ANSWER: {"move": "defect"}'],
    [f'ANSWER: {{"give": {g}}}' for g in (0, 1, 2, 5, 10)] + ["I give half: 5 coins."],
    ["cooperate", "defect", 'ANSWER: {"move": "defect"}\nBecause T > R.'],
    ["3", '\n\nANSWER: {"send": 3}'],  # starts with newlines: may merge with the prompt's last token
    ['ANSWER: {"move": "cooperate"}', 'ANSWER: {"move": "defect"}'],
    ["x"],
]


def _manual(model, tok, prompt, option: str) -> float:
    """The straightforward computation: the whole sequence alone, log-softmax in float64."""
    prefix = tok.apply_chat_template(prompt, tokenize=False, add_generation_prompt=True)
    prefix_ids = tok(prefix, add_special_tokens=False)["input_ids"]
    full = tok(prefix + option, add_special_tokens=False)["input_ids"]
    if full[: len(prefix_ids)] != prefix_ids or len(full) <= len(prefix_ids):
        full = prefix_ids + tok(option, add_special_tokens=False)["input_ids"]
    ids = torch.tensor([full])
    with torch.no_grad():
        logp = torch.log_softmax(model(ids).logits[0].double(), dim=-1)
    return sum(float(logp[t - 1, full[t]]) for t in range(len(prefix_ids), len(full)))


@pytest.fixture(scope="module")
def tiny(tiny_model_dir: Path):
    return load_model(str(tiny_model_dir), device="cpu")


@pytest.mark.parametrize("batch_size", [1, 2, 6])
@pytest.mark.parametrize("share_prefix", [True, False])
def test_matches_one_sequence_per_option(tiny, batch_size: int, share_prefix: bool) -> None:
    model, tok = tiny
    scores = option_logprobs(model, tok, PROMPTS, OPTIONS, batch_size=batch_size, share_prefix=share_prefix)
    assert [len(s) for s in scores] == [len(o) for o in OPTIONS]
    for i, prompt in enumerate(PROMPTS):
        for j, opt in enumerate(OPTIONS[i]):
            assert scores[i][j] == pytest.approx(_manual(model, tok, prompt, opt), abs=2e-4), (i, j)
    assert scores[4] == pytest.approx(scores[0], abs=2e-4)  # the same prompt twice: the same scores
    assert len({round(s, 3) for row in scores for s in row}) > 5  # the options really differ


def test_matches_the_per_option_function_with_end_of_turn(tiny) -> None:
    model, tok = tiny
    fast = option_logprobs(model, tok, PROMPTS, OPTIONS, batch_size=3, end_turn=True)
    slow = per_option(model, tok, PROMPTS, OPTIONS, batch_size=3, end_turn=True)
    plain = option_logprobs(model, tok, PROMPTS, OPTIONS, batch_size=3)
    for f, s, p in zip(fast, slow, plain, strict=True):
        assert f == pytest.approx(s, abs=2e-4)
        assert all(a < b for a, b in zip(f, p, strict=True))  # the end token has probability < 1


def test_a_batch_runs_its_shared_prefix_once(tiny) -> None:
    """The common system prompt is run once per batch, then one row per prompt holds all its options."""
    model, tok = tiny
    widths: list[tuple[int, int]] = []
    forward = model.forward

    @functools.wraps(forward)
    def spy(*args, **kwargs):
        ids = kwargs["input_ids"]
        widths.append(tuple(ids.shape))
        return forward(*args, **kwargs)

    model.forward = spy
    try:
        option_logprobs(model, tok, PROMPTS[:3], OPTIONS[:3], batch_size=3)
    finally:
        model.forward = forward
    assert len(widths) == 2
    (one, shared), (rows, own) = widths
    assert one == 1 and rows == 3 and shared >= 8
    prefix = len(
        tok(tok.apply_chat_template(PROMPTS[1], tokenize=False, add_generation_prompt=True), add_special_tokens=False)[
            "input_ids"
        ]
    )
    assert shared + own < prefix + sum(len(tok(o, add_special_tokens=False)["input_ids"]) for o in OPTIONS[1]) + 8


def test_local_agent_scores_through_the_shared_prefix(tiny_model_dir: Path, tiny) -> None:
    model, tok = tiny
    agent = LocalAgent(str(tiny_model_dir), device="cpu", batch_size=2)
    got = agent.option_logprobs(PROMPTS, OPTIONS)
    for g, s in zip(got, per_option(model, tok, PROMPTS, OPTIONS), strict=True):
        assert g == pytest.approx(s, abs=2e-4)


def test_bad_arguments_are_refused(tiny) -> None:
    model, tok = tiny
    assert shared_prefix_supported(model)
    with pytest.raises(ValueError, match="2 prompts but 1"):
        option_logprobs(model, tok, PROMPTS[:2], OPTIONS[:1])
    with pytest.raises(ValueError, match="at least one option"):
        option_logprobs(model, tok, PROMPTS[:1], [[]])
    with pytest.raises(ValueError, match="batch_size"):
        option_logprobs(model, tok, PROMPTS[:1], OPTIONS[:1], batch_size=0)


def test_numeric_items_are_scored_over_the_option_grid(tiny_model_dir: Path, tmp_path: Path) -> None:
    """Under ``numeric="options"`` every item with an option grid gets a distribution, numeric ones too."""
    import json
    import math

    from score_rubrics import build_items, write_rubric

    from prefc.runtime.answers import parse_answer
    from prefc.runtime.evaluate import evaluate

    items = build_items(24, seed=5)
    numeric = [it for it in items if any(s["kind"] != "choice" for s in it["schema"].values())]
    assert numeric and len(numeric) < len(items)
    agent = LocalAgent(str(tiny_model_dir), device="cpu", batch_size=8)
    (tmp_path / "rubric").mkdir()
    path = write_rubric(tmp_path / "rubric", items)
    both = evaluate(
        path, agent, tmp_path / "options", scoring="logprob", numeric="options", progress=False, plots=False
    )
    records = [json.loads(line) for line in both.results_path.read_text().splitlines()]
    assert all(r["scoring"] == "logprob" for r in records)
    for r, it in zip(records, items, strict=True):
        options = it["family"]["options"]
        assert len(r["option_texts"]) == len(options) == len(r["option_probs"])
        assert sum(r["option_probs"]) == pytest.approx(1.0, abs=1e-9)
        assert r["parsed"] == options[r["option_index"]]
        assert parse_answer(r["option_texts"][r["option_index"]], it["schema"]).value == r["parsed"]
        assert r["option_index"] == max(range(len(options)), key=lambda j: r["option_logprobs"][j])
        assert all(math.isfinite(x) and x < 0 for x in r["option_logprobs"])
    assert both.summary.kappa is not None and both.summary.kappa.n_soft == len(items)
    plain = evaluate(
        path, agent, tmp_path / "plain", scoring="logprob", max_new_tokens=4, progress=False, plots=False
    )  # the default: numeric items still generated
    kinds = [json.loads(line)["scoring"] for line in plain.results_path.read_text().splitlines()]
    assert kinds.count("generate") == len(numeric)
