"""Log-probabilities of fixed answers from one shared prompt: every option of an item in one forward.

Scoring a choice item asks for ``log P(option | prompt)`` for each of its options. Computed one
sequence per option, the prompt (a few hundred tokens) is run once per option and the language-model
head runs over every position. Here each prompt is run once, with all of its options appended to the
same row: a custom attention mask lets every option token see the prompt and the earlier tokens of
its own option only, and the position ids of every option restart where the prompt ends, so each
option is scored exactly as if it were alone after the prompt. The head (a vocabulary-sized matrix)
runs only at the positions whose next token is an option token. Prompts of a batch that begin with
the same tokens (the system prompt and the template's header) share them too: that common prefix is
run once and its key/value cache is reused by every row.

The tokens scored are those of the straightforward computation: the option is tokenised together
with the rendered prompt, and on its own where its first token would merge with the prompt's last.
:func:`prefc.runtime.generate.option_logprobs` is that straightforward computation; a local agent
scores models whose attention cannot take a custom mask (or whose forward cannot limit the head's
positions) with it.
"""

from __future__ import annotations

import inspect
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .protocol import Prompt

if TYPE_CHECKING:
    from transformers import PreTrainedModel, PreTrainedTokenizerBase

__all__ = ["option_logprobs", "shared_prefix_supported"]

END_OF_TURN = "<|im_end|>"
_MASKABLE_ATTENTION = ("sdpa", "eager")
_MIN_SHARED = 8  # a shorter common prefix is not worth a second forward


@dataclass
class _Item:
    """One prompt and the token ids of its options."""

    index: int
    prefix: list[int]
    options: list[list[int]]

    @property
    def length(self) -> int:
        return len(self.prefix) + sum(len(o) for o in self.options)


def shared_prefix_supported(model: Any) -> bool:
    """Whether :func:`option_logprobs` can score a model's options in one row per prompt.

    Args:
        model: A causal LM.

    Returns:
        True for models whose attention takes a custom 4D mask (``sdpa`` or ``eager``) and whose
        forward accepts ``logits_to_keep`` and a key/value cache.
    """
    config = getattr(model, "config", None)
    if getattr(config, "_attn_implementation", None) not in _MASKABLE_ATTENTION:
        return False
    try:
        params = inspect.signature(model.forward).parameters
    except (TypeError, ValueError):
        return False
    return all(p in params for p in ("logits_to_keep", "position_ids", "past_key_values"))


def _encode(
    tokenizer: PreTrainedTokenizerBase, prompt: Prompt, options: Sequence[str], end: str | None
) -> tuple[list[int], list[list[int]]]:
    """The prompt's ids and each option's continuation ids (as the per-option computation has them)."""
    prefix_text = tokenizer.apply_chat_template(list(prompt), tokenize=False, add_generation_prompt=True)
    prefix = list(tokenizer(prefix_text, add_special_tokens=False)["input_ids"])
    conts: list[list[int]] = []
    for opt in options:
        text = opt + (end or "")
        full = list(tokenizer(prefix_text + text, add_special_tokens=False)["input_ids"])
        if full[: len(prefix)] == prefix and len(full) > len(prefix):
            conts.append(full[len(prefix) :])
        else:  # the option merged with the prompt's last token: score it tokenised on its own
            conts.append(list(tokenizer(text, add_special_tokens=False)["input_ids"]))
    return prefix, conts


def _batches(items: list[_Item], batch_size: int, max_kept: int) -> list[list[_Item]]:
    """Prompts in batches of similar length, each batch at most ``batch_size`` prompts and about
    ``max_kept`` head positions (an item with many long options gets a smaller batch)."""
    order = sorted(items, key=lambda it: -it.length)
    out: list[list[_Item]] = []
    current: list[_Item] = []
    kept = 0
    for it in order:
        need = sum(len(o) for o in it.options)
        if current and (len(current) >= batch_size or kept + need > max_kept):
            out.append(current)
            current, kept = [], 0
        current.append(it)
        kept += need
    if current:
        out.append(current)
    return out


def _common_prefix(rows: list[list[int]]) -> int:
    """Length of the token prefix every row shares, leaving each row at least one token of its own."""
    n = min(len(r) for r in rows) - 1
    first = rows[0]
    for r in rows[1:]:
        i = 0
        while i < n and r[i] == first[i]:
            i += 1
        n = i
    return max(n, 0)


def _score_batch(model: Any, batch: list[_Item], *, pad_id: int, share: bool, scores: list[list[float]]) -> None:
    import torch

    device = next(model.parameters()).device
    dtype = next(model.parameters()).dtype
    if not dtype.is_floating_point:
        dtype = torch.float32
    shared = _common_prefix([it.prefix for it in batch]) if share and len(batch) > 1 else 0
    if shared < _MIN_SHARED:
        shared = 0
    cache = None
    if shared:
        ids = torch.tensor([batch[0].prefix[:shared]], dtype=torch.long, device=device)
        cache = model(input_ids=ids, use_cache=True, logits_to_keep=1).past_key_values
        cache.batch_repeat_interleave(len(batch))

    # Row layout: the prompt's own tokens, then each option, then padding.
    lengths = [it.length - shared for it in batch]
    width = max(lengths)
    n = len(batch)
    ids = torch.full((n, width), pad_id, dtype=torch.long)
    positions = torch.zeros((n, width), dtype=torch.long)
    allowed = torch.zeros((n, width, shared + width), dtype=torch.bool)
    keep = torch.zeros((n, width), dtype=torch.bool)
    # (row, column) of every kept position, in the row-major order the model returns them, with
    # the (item, option, token) targets predicted there.
    targets: dict[tuple[int, int], list[tuple[int, int, int]]] = {}
    for row, it in enumerate(batch):
        own = len(it.prefix) - shared
        ids[row, :own] = torch.tensor(it.prefix[shared:])
        positions[row, :own] = torch.arange(shared, len(it.prefix))
        allowed[row, :own, :shared] = True
        allowed[row, :own, shared : shared + own] = torch.ones((own, own), dtype=torch.bool).tril()
        last = own - 1
        col = own
        for j, opt in enumerate(it.options):
            m = len(opt)
            ids[row, col : col + m] = torch.tensor(opt)
            positions[row, col : col + m] = torch.arange(len(it.prefix), len(it.prefix) + m)
            allowed[row, col : col + m, : shared + own] = True
            allowed[row, col : col + m, shared + col : shared + col + m] = torch.ones((m, m), dtype=torch.bool).tril()
            # token k of the option is predicted at the prompt's last position (k = 0) or at option token k - 1
            for k, token in enumerate(opt):
                where = (row, last if k == 0 else col + k - 1)
                targets.setdefault(where, []).append((it.index, j, token))
                keep[where] = True
            col += m
        for c in range(col, width):  # padding attends to itself only (no row of the mask is empty)
            allowed[row, c, shared + c] = True
    mask = torch.zeros(allowed.shape, dtype=dtype)
    mask.masked_fill_(~allowed, torch.finfo(dtype).min)
    out = model(
        input_ids=ids.to(device),
        attention_mask=mask[:, None].to(device),
        position_ids=positions.to(device),
        past_key_values=cache,
        use_cache=cache is not None,
        logits_to_keep=keep.to(device),
    )
    logits = out.logits.float()
    if logits.dim() == 3:  # a model that ignored the boolean selection returns every position
        logits = logits[keep.to(logits.device)]
    logz = torch.logsumexp(logits, dim=-1)
    kept = keep.nonzero().tolist()
    rows_t: list[int] = []
    toks: list[int] = []
    dest: list[tuple[int, int]] = []
    for k, (row, col) in enumerate(kept):
        for i, j, token in targets[(row, col)]:
            rows_t.append(k)
            toks.append(token)
            dest.append((i, j))
    picked = logits[torch.tensor(rows_t), torch.tensor(toks)] - logz[torch.tensor(rows_t)]
    for (i, j), lp in zip(dest, picked.tolist(), strict=True):
        scores[i][j] += lp


def option_logprobs(
    model: PreTrainedModel,
    tokenizer: PreTrainedTokenizerBase,
    prompts: Sequence[Prompt],
    options: Sequence[Sequence[str]],
    *,
    batch_size: int = 16,
    end_turn: bool = False,
    share_prefix: bool = True,
    max_kept: int = 2048,
) -> list[list[float]]:
    """Log-probability of each option text as the assistant's answer to each prompt, every option
    of a prompt scored in the same forward pass as the prompt itself.

    Each prompt is rendered with the chat template and the generation prompt; each option is the
    text that follows. The score is the sum of the option tokens' log-probabilities, the same
    quantity (and the same tokens) as :func:`prefc.runtime.generate.option_logprobs`.

    Args:
        model: A causal LM in eval mode (optionally with a merged adapter).
        tokenizer: Its tokenizer, with a chat template.
        prompts: Conversations ending with a user message.
        options: For each prompt, the candidate assistant texts (at least one each).
        batch_size: Prompts per forward pass.
        end_turn: Also score the end-of-turn token after the option (the answer is exactly this
            text, not a prefix of a longer one).
        share_prefix: Run the token prefix shared by a batch's prompts once and reuse its cache.
        max_kept: About how many option tokens one forward pass scores (bounds the head's output).

    Returns:
        ``scores[i][j]``: log-probability of ``options[i][j]`` given ``prompts[i]``.

    Raises:
        ValueError: Prompts and option lists differ in number, a prompt has no options or an option
            is empty, ``batch_size`` is below 1, or the model is not :func:`shared_prefix_supported`.
    """
    import torch

    if len(prompts) != len(options):
        raise ValueError(f"{len(prompts)} prompts but {len(options)} option lists")
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    if any(len(o) == 0 for o in options):
        raise ValueError("every prompt needs at least one option")
    if not shared_prefix_supported(model):
        raise ValueError(
            "this model's attention takes no custom mask: score it with prefc.runtime.generate.option_logprobs"
        )
    end = None
    if end_turn:
        end = END_OF_TURN if END_OF_TURN in tokenizer.get_vocab() else tokenizer.eos_token
    items: list[_Item] = []
    for i, (prompt, opts) in enumerate(zip(prompts, options, strict=True)):
        prefix, conts = _encode(tokenizer, prompt, opts, end)
        if any(not c for c in conts):
            raise ValueError(f"prompt {i}: an option has no tokens")
        items.append(_Item(i, prefix, conts))
    scores: list[list[float]] = [[0.0] * len(o) for o in options]
    pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
    with torch.inference_mode():
        for batch in _batches(items, batch_size, max_kept):
            _score_batch(model, batch, pad_id=pad_id, share=share_prefix, scores=scores)
    return scores
