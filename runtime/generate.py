"""Greedy batched generation, option scoring from log-probabilities, the local-model agent, and
a prompt-prefix cache for agents asked near-identical prompts again and again.

Prompts are chat conversations (``[{"role": ..., "content": ...}, ...]``) rendered with the
tokenizer's chat template. Always include a system message: some templates (SmolLM2's) inject a
default one otherwise.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .protocol import Prompt

if TYPE_CHECKING:
    import torch
    from transformers import PreTrainedModel, PreTrainedTokenizerBase

__all__ = [
    "END_OF_TURN",
    "LocalAgent",
    "PrefixCachedLocal",
    "continue_prefix",
    "generate",
    "option_logprobs",
    "prompt_ids",
    "shared_length",
    "stop_criteria",
    "stop_token_ids",
]

END_OF_TURN = "<|im_end|>"


def _device(model: Any) -> torch.device:
    return next(model.parameters()).device


def prompt_ids(tokenizer: PreTrainedTokenizerBase, prompt: Prompt, reply_prefix: str = "") -> list[int]:
    """The token ids of a chat prompt up to the assistant turn, plus the start of the reply."""
    text = tokenizer.apply_chat_template(list(prompt), tokenize=False, add_generation_prompt=True)
    ids = list(tokenizer(text, add_special_tokens=False)["input_ids"])
    if reply_prefix:
        ids += tokenizer(reply_prefix, add_special_tokens=False)["input_ids"]
    return ids


def _reply(tokenizer: PreTrainedTokenizerBase, tokens: list[int], reply_prefix: str = "") -> str:
    """The reply text of generated tokens (stop tokens already cut): the prefix, then the new text."""
    text = tokenizer.decode(tokens, skip_special_tokens=True)
    return (reply_prefix + text).strip() if reply_prefix else text.strip()


def stop_token_ids(model: Any, tokenizer: PreTrainedTokenizerBase) -> list[int]:
    """Token ids that end an assistant turn: the eos tokens and ``<|im_end|>`` where it exists.

    Args:
        model: The causal LM (its generation config may list extra eos ids).
        tokenizer: Its tokenizer.

    Returns:
        The distinct stop ids.
    """
    ids: list[int] = []
    candidates: list[Any] = [tokenizer.eos_token_id, getattr(model.generation_config, "eos_token_id", None)]
    vocab = tokenizer.get_vocab()
    if END_OF_TURN in vocab:
        candidates.append(vocab[END_OF_TURN])
    for c in candidates:
        for i in c if isinstance(c, list | tuple) else [c]:
            if i is not None and int(i) not in ids:
                ids.append(int(i))
    return ids


@contextmanager
def _progress(total: int, description: str, enabled: bool) -> Iterator[Any]:
    from prefc.progress import progress as show

    with show(description, total, enabled=enabled, unit="prompts") as advance:
        yield advance


def _batches(lengths: Sequence[int], batch_size: int) -> list[list[int]]:
    order = sorted(range(len(lengths)), key=lambda i: -lengths[i])
    return [order[i : i + batch_size] for i in range(0, len(order), batch_size)]


def generate(
    model: PreTrainedModel,
    tokenizer: PreTrainedTokenizerBase,
    prompts: Sequence[Prompt],
    *,
    max_new_tokens: int = 256,
    batch_size: int = 8,
    progress: bool = False,
    reply_prefix: str = "",
    stop: Sequence[str] = (),
    adapter_names: Sequence[str] | None = None,
) -> list[str]:
    """Greedy answers to chat prompts, batched by length, returned in the prompts' order.

    Args:
        model: A causal LM (optionally a peft model) in eval mode.
        tokenizer: Its tokenizer, with a chat template and a pad token.
        prompts: Conversations ending with a user message.
        max_new_tokens: Upper bound on the tokens generated per answer.
        batch_size: Prompts per forward batch (similar lengths are batched together).
        progress: Show a rich progress bar.
        reply_prefix: Text every reply begins with: it is fed as the start of the assistant turn
            and the model continues it (e.g. ``ANSWER: {"p": `` to ask for the answer directly).
        stop: Strings that end an answer once generated (kept in the answer), besides the stop tokens.
        adapter_names: For a peft model with several LoRA adapters loaded, the adapter that answers
            each prompt (peft's mixed-adapter batches; ``"__base__"`` for the base model).

    Returns:
        The decoded new text of each answer (special tokens removed, stripped), after
        ``reply_prefix`` when one is given, one per prompt.
    """
    import torch
    from transformers import GenerationConfig

    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    encoded = [prompt_ids(tokenizer, p, reply_prefix) for p in prompts]
    stops = stop_token_ids(model, tokenizer)
    pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else stops[0]
    config = GenerationConfig(
        max_new_tokens=max_new_tokens,
        do_sample=False,
        num_beams=1,
        eos_token_id=stops,
        pad_token_id=pad_id,
        stop_strings=list(stop) or None,
    )
    device = _device(model)
    out: list[str] = [""] * len(encoded)
    with _progress(len(encoded), "generating", progress) as advance, torch.inference_mode():
        for batch in _batches([len(e) for e in encoded], batch_size):
            width = max(len(encoded[i]) for i in batch)
            ids = torch.full((len(batch), width), pad_id, dtype=torch.long)
            mask = torch.zeros((len(batch), width), dtype=torch.long)
            for row, i in enumerate(batch):  # left padding: every prompt ends at the same column
                ids[row, width - len(encoded[i]) :] = torch.tensor(encoded[i])
                mask[row, width - len(encoded[i]) :] = 1
            extra = {} if adapter_names is None else {"adapter_names": [adapter_names[i] for i in batch]}
            generated = model.generate(
                input_ids=ids.to(device),
                attention_mask=mask.to(device),
                generation_config=config,
                tokenizer=tokenizer,  # stop strings are matched on its tokens
                **extra,
            )
            new = generated[:, width:].tolist()
            for row, i in enumerate(batch):
                tokens = new[row]
                for j, t in enumerate(tokens):
                    if t in stops:
                        tokens = tokens[:j]
                        break
                out[i] = _reply(tokenizer, tokens, reply_prefix)
            advance(len(batch))
    return out


def _option_sequence(
    tokenizer: PreTrainedTokenizerBase, prefix_text: str, prefix_ids: list[int], option: str, end: str | None
) -> tuple[list[int], int]:
    text = option + (end or "")
    full = list(tokenizer(prefix_text + text, add_special_tokens=False)["input_ids"])
    if full[: len(prefix_ids)] == prefix_ids and len(full) > len(prefix_ids):
        return full, len(prefix_ids)
    # The option merged with the prompt's last token: score it tokenised on its own.
    return prefix_ids + list(tokenizer(text, add_special_tokens=False)["input_ids"]), len(prefix_ids)


def option_logprobs(
    model: PreTrainedModel,
    tokenizer: PreTrainedTokenizerBase,
    prompts: Sequence[Prompt],
    options: Sequence[Sequence[str]],
    *,
    batch_size: int = 16,
    end_turn: bool = False,
) -> list[list[float]]:
    """Log-probability of each option text as the assistant's answer to each prompt.

    Each prompt is rendered with the chat template and the generation prompt; each option is the
    text that follows. The score is the sum of the option tokens' log-probabilities, computed for
    a batch of prompt+option sequences in one forward pass.

    Args:
        model: A causal LM (optionally a peft model).
        tokenizer: Its tokenizer, with a chat template.
        prompts: Conversations ending with a user message.
        options: For each prompt, the candidate assistant texts.
        batch_size: Sequences per forward pass.
        end_turn: Also score the end-of-turn token after the option (the answer is exactly this
            text, not a prefix of a longer one).

    Returns:
        ``scores[i][j]``: log-probability of ``options[i][j]`` given ``prompts[i]``.
    """
    import torch

    if len(prompts) != len(options):
        raise ValueError(f"{len(prompts)} prompts but {len(options)} option lists")
    end = None
    if end_turn:
        end = END_OF_TURN if END_OF_TURN in tokenizer.get_vocab() else tokenizer.eos_token
    seqs: list[tuple[int, int, list[int], int]] = []  # (prompt, option, ids, first option position)
    for i, (prompt, opts) in enumerate(zip(prompts, options, strict=True)):
        prefix_text = tokenizer.apply_chat_template(list(prompt), tokenize=False, add_generation_prompt=True)
        prefix_ids = list(tokenizer(prefix_text, add_special_tokens=False)["input_ids"])
        for j, opt in enumerate(opts):
            ids, start = _option_sequence(tokenizer, prefix_text, prefix_ids, opt, end)
            seqs.append((i, j, ids, start))
    scores: list[list[float]] = [[0.0] * len(o) for o in options]
    pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
    device = _device(model)
    with torch.inference_mode():
        for batch in _batches([len(s[2]) for s in seqs], batch_size):
            width = max(len(seqs[k][2]) for k in batch)
            ids = torch.full((len(batch), width), pad_id, dtype=torch.long)
            mask = torch.zeros((len(batch), width), dtype=torch.long)
            for row, k in enumerate(batch):  # right padding: positions start at 0 for every row
                ids[row, : len(seqs[k][2])] = torch.tensor(seqs[k][2])
                mask[row, : len(seqs[k][2])] = 1
            logits = model(input_ids=ids.to(device), attention_mask=mask.to(device)).logits.float()
            logp = torch.log_softmax(logits[:, :-1], dim=-1)
            token_lp = logp.gather(-1, ids[:, 1:].to(device).unsqueeze(-1)).squeeze(-1).cpu()
            for row, k in enumerate(batch):
                i, j, seq, start = seqs[k]
                scores[i][j] = float(token_lp[row, start - 1 : len(seq) - 1].sum())
    return scores


class LocalAgent:
    """An agent backed by a local transformers model, optionally with a LoRA adapter.

    Implements :class:`prefc.runtime.protocol.Agent` and :class:`~prefc.runtime.protocol.ScoresOptions`.

    Attributes:
        name: Label like ``smollm2-135m-instruct+moralis`` (base model, ``+`` adapter dir name).
        model: The loaded model.
        tokenizer: Its tokenizer.
        batch_size: Prompts per generation batch.
        progress: Whether ``respond`` shows a progress bar.
    """

    def __init__(
        self,
        model: str | os.PathLike[str] | None = None,
        *,
        adapter: str | os.PathLike[str] | None = None,
        dtype: Any = None,
        device: str | None = None,
        name: str | None = None,
        batch_size: int = 8,
        progress: bool = False,
    ) -> None:
        """Load the model (and adapter).

        Args:
            model: Model name, directory or hub id; ``None`` for the embedded SmolLM2.
            adapter: LoRA adapter directory written by ``train``.
            dtype: Weights dtype (see :func:`prefc.runtime.models.load_model`).
            device: Device; default CUDA when available, else CPU.
            name: Label to use instead of the derived one.
            batch_size: Prompts per generation batch.
            progress: Show a progress bar while generating.
        """
        from .models import load_model, model_label

        self.model, self.tokenizer = load_model(
            None if model is None else str(model), adapter=adapter, dtype=dtype, device=device
        )
        self.name = name or model_label(None if model is None else str(model), adapter)
        self.batch_size = batch_size
        self.progress = progress
        trained = adapter if adapter is not None else model
        self.trained: str | None = None
        """The adapter (or model) directory when ``prefc train`` wrote it (it holds ``prefc_train.json``)."""
        if trained is not None and (Path(trained) / "prefc_train.json").is_file():
            self.trained = str(Path(trained).resolve())

    def respond(
        self, prompts: Sequence[Prompt], *, max_new_tokens: int = 256, reply_prefix: str = "", stop: Sequence[str] = ()
    ) -> list[str]:
        """Answer each prompt greedily (same order, same length).

        Args:
            prompts: Conversations ending with a user message.
            max_new_tokens: Upper bound on the length of each answer (after the prefix).
            reply_prefix: Text every reply begins with (see :func:`generate`).
            stop: Strings that end an answer (see :func:`generate`).

        Returns:
            One answer text per prompt.
        """
        return generate(
            self.model,
            self.tokenizer,
            prompts,
            max_new_tokens=max_new_tokens,
            batch_size=self.batch_size,
            progress=self.progress,
            reply_prefix=reply_prefix,
            stop=stop,
        )

    def option_logprobs(self, prompts: Sequence[Prompt], options: Sequence[Sequence[str]]) -> list[list[float]]:
        """Log-probability of each option text as the assistant's answer to each prompt.

        Args:
            prompts: Conversations ending with a user message.
            options: For each prompt, the candidate assistant texts to score.

        Returns:
            ``scores[i][j]`` for option ``j`` of prompt ``i``.
        """
        from .option_scoring import option_logprobs as shared_prefix_logprobs
        from .option_scoring import shared_prefix_supported

        if not shared_prefix_supported(self.model):
            return option_logprobs(self.model, self.tokenizer, prompts, options, batch_size=self.batch_size)
        # Every option of a prompt in the prompt's own forward pass (the straightforward
        # ``option_logprobs`` above runs the prompt once per option).
        return shared_prefix_logprobs(self.model, self.tokenizer, prompts, options, batch_size=self.batch_size)


_STOP_CRITERIA: dict[tuple[int, tuple[str, ...]], tuple[Any, Any]] = {}


def stop_criteria(tokenizer: PreTrainedTokenizerBase, stop: Sequence[str]) -> Any:
    """A stopping-criteria list that ends a reply at any of the strings, built once per tokenizer
    and strings (transformers rebuilds its table over the whole vocabulary on every call given
    ``stop_strings``: 2 s a round on a busy 2-core CPU with SmolLM2).

    Args:
        tokenizer: The tokenizer.
        stop: The strings.
    """
    from transformers import StoppingCriteriaList
    from transformers.generation.stopping_criteria import StopStringCriteria

    key = (id(tokenizer), tuple(stop))
    hit = _STOP_CRITERIA.get(key)
    if hit is None or hit[0] is not tokenizer:
        if len(_STOP_CRITERIA) > 16:
            _STOP_CRITERIA.clear()
        hit = _STOP_CRITERIA[key] = (tokenizer, StoppingCriteriaList([StopStringCriteria(tokenizer, list(stop))]))
    return hit[1]


def shared_length(prefix: Sequence[int], encoded: Sequence[Sequence[int]]) -> int:
    """How many leading tokens of ``prefix`` every prompt shares, each keeping at least one of its own.

    Args:
        prefix: Token ids.
        encoded: Each prompt's token ids.
    """
    shared = len(prefix)
    for ids in encoded:
        n = 0
        limit = min(shared, len(ids) - 1)
        while n < limit and ids[n] == prefix[n]:
            n += 1
        shared = n
    return shared


def continue_prefix(
    model: Any,
    tokenizer: PreTrainedTokenizerBase,
    prefix: Sequence[int],
    cache: Any,
    encoded: Sequence[Sequence[int]],
    *,
    max_new_tokens: int,
    reply_prefix: str = "",
    stop: Sequence[str] = (),
    adapter_names: Sequence[str] | None = None,
) -> list[str]:
    """Greedy answers to prompts that all begin with ``prefix``, from its key/value cache: each
    prompt's own suffix is padded in the middle (after the prefix, before the suffix).

    Args:
        model: The causal LM (a peft model for ``adapter_names``).
        tokenizer: Its tokenizer.
        prefix: The shared token ids the cache holds.
        cache: The prefix's cache, one row per prompt (consumed: pass a copy).
        encoded: Each prompt's token ids, beginning with ``prefix`` and longer than it.
        max_new_tokens: Upper bound on the tokens of each answer.
        reply_prefix: Text every reply begins with (already at the end of ``encoded``).
        stop: Strings that end a reply once written (kept in it).
        adapter_names: The LoRA adapter answering each prompt (see :func:`generate`).
    """
    import torch
    from transformers import GenerationConfig

    shared = len(prefix)
    stops = stop_token_ids(model, tokenizer)
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else stops[0]
    suffixes = [list(ids[shared:]) for ids in encoded]
    width = max(len(x) for x in suffixes)
    ids = torch.full((len(encoded), shared + width), pad, dtype=torch.long)
    mask = torch.zeros((len(encoded), shared + width), dtype=torch.long)
    for row, suffix in enumerate(suffixes):
        ids[row, :shared] = torch.tensor(list(prefix))
        mask[row, :shared] = 1
        ids[row, shared + width - len(suffix) :] = torch.tensor(suffix)
        mask[row, shared + width - len(suffix) :] = 1
    config = GenerationConfig(
        max_new_tokens=max_new_tokens,
        do_sample=False,
        num_beams=1,
        eos_token_id=stops,
        pad_token_id=pad,
    )
    extra: dict[str, Any] = {} if adapter_names is None else {"adapter_names": list(adapter_names)}
    if stop:
        extra["stopping_criteria"] = stop_criteria(tokenizer, stop)
    device = _device(model)
    with torch.inference_mode():
        generated = model.generate(
            input_ids=ids.to(device),
            attention_mask=mask.to(device),
            past_key_values=cache,
            generation_config=config,
            **extra,
        )
    texts = []
    for tokens in generated[:, shared + width :].tolist():
        for j, t in enumerate(tokens):
            if t in stops:
                tokens = tokens[:j]
                break
        texts.append(_reply(tokenizer, tokens, reply_prefix))
    return texts


class PrefixCachedLocal:
    """Greedy generation for a :class:`LocalAgent` that keeps the key/value cache of the prompt prefix
    every call shares (in a repeated game, the system message and the market description).

    When call after call only the end of the prompts is new, each call's prompts are computed from
    the cached prefix (expanded to the batch) plus their own suffix, padded in the middle. The
    answers are those of :meth:`LocalAgent.respond` (greedy decoding of the same token ids). The
    prefix is the longest token prefix shared by every prompt seen so far (recomputed when a call's
    prompts share less); when the shared part is short, or the cached path fails (a model or cache
    type that cannot be continued this way), the agent's own ``respond`` answers, with a warning
    the first time.

    Args:
        agent: A :class:`LocalAgent` (``model`` and ``tokenizer``).
        min_prefix: The fewest shared tokens worth caching.
    """

    def __init__(self, agent: Any, *, min_prefix: int = 32) -> None:
        self.agent = agent
        self.name = agent.name
        self.min_prefix = min_prefix
        self._ids: list[int] | None = None
        self._cache: Any = None
        self._disabled = False

    def respond(
        self, prompts: Sequence[Prompt], *, max_new_tokens: int = 256, reply_prefix: str = "", stop: Sequence[str] = ()
    ) -> list[str]:
        """Answer each prompt greedily, reusing the cached prefix.

        Args:
            prompts: Conversations ending with a user message.
            max_new_tokens: Upper bound on the length of each answer (after the prefix).
            reply_prefix: Text every reply begins with (see :func:`generate`).
            stop: Strings that end a reply once written (kept in it).
        """
        if not self._disabled:
            try:
                out = self._cached(list(prompts), max_new_tokens, reply_prefix, stop)
            except (RuntimeError, ValueError, TypeError, AttributeError, IndexError) as exc:
                import warnings

                warnings.warn(
                    f"{self.name}: prompt-prefix caching turned off ({exc.__class__.__name__}: {exc}); "
                    "answering without it",
                    RuntimeWarning,
                    stacklevel=2,
                )
                self._disabled, self._cache, self._ids = True, None, None
                out = None
            if out is not None:
                return out
        return self.agent.respond(prompts, max_new_tokens=max_new_tokens, reply_prefix=reply_prefix, stop=stop)

    def _cached(
        self, prompts: list[Prompt], max_new_tokens: int, reply_prefix: str, stop: Sequence[str]
    ) -> list[str] | None:
        import copy

        import torch

        model, tok = self.agent.model, self.agent.tokenizer
        encoded = [prompt_ids(tok, p, reply_prefix) for p in prompts]
        device = _device(model)
        with torch.inference_mode():
            if self._ids is None:
                first = encoded[0][:-1]
                if len(first) < self.min_prefix:
                    return None
                out = model(input_ids=torch.tensor([first], device=device), use_cache=True)
                self._ids, self._cache = first, out.past_key_values
            shared = shared_length(self._ids, encoded)
            if shared < self.min_prefix:
                return None
            if shared < len(self._ids):  # recomputed, not cropped: cache cropping differs between versions
                self._ids = self._ids[:shared]
                self._cache = model(input_ids=torch.tensor([self._ids], device=device), use_cache=True).past_key_values
            cache = copy.deepcopy(self._cache)
            if len(prompts) > 1:
                cache.batch_repeat_interleave(len(prompts))
        return continue_prefix(
            model, tok, self._ids, cache, encoded, max_new_tokens=max_new_tokens, reply_prefix=reply_prefix, stop=stop
        )

    def __repr__(self) -> str:
        return f"PrefixCachedLocal({self.agent!r})"
