"""Several LoRA adapters on one base model, answering in one batch: each prompt of a batch goes
through the adapter of the agent that was asked (peft's mixed-adapter batches, ``adapter_names=``).

Two fine-tuned agents of a repeated game (``prefc simulate``) are two views of one
:class:`AdapterBank`: every round, both prompts run as one batch of two through the shared base
weights, each row with its own adapter, continuing the key/value cache of the prompt prefix every
round shares (computed once per adapter line-up). Greedy answers are those each adapter gives
alone (tests/runtime/test_adapter_bank.py checks this on a tiny model).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .protocol import Prompt

__all__ = ["BASE", "AdapterBank", "BankAgent"]

BASE = "__base__"
"""The name peft gives the base model without any adapter in a mixed batch."""


class BankAgent:
    """One agent of an :class:`AdapterBank`: the base model with one of the bank's adapters.

    Implements :class:`prefc.runtime.protocol.Agent` and takes ``reply_prefix`` like
    :class:`prefc.runtime.generate.LocalAgent`.

    Args:
        bank: The bank.
        adapter: The adapter's name in the bank (:data:`BASE` for none).
        name: The agent's label.
        trained: The adapter directory when ``prefc train`` wrote it.
    """

    def __init__(self, bank: AdapterBank, adapter: str, *, name: str, trained: str | None = None) -> None:
        self.bank = bank
        self.adapter = adapter
        self.name = name
        self.trained = trained

    def respond(
        self, prompts: Sequence[Prompt], *, max_new_tokens: int = 256, reply_prefix: str = "", stop: Sequence[str] = ()
    ) -> list[str]:
        """Answer each prompt greedily with this agent's adapter.

        Args:
            prompts: Conversations ending with a user message.
            max_new_tokens: Upper bound on the length of each answer (after the prefix).
            reply_prefix: Text every reply begins with (see :func:`prefc.runtime.generate.generate`).
            stop: Strings that end an answer once written (kept in it).
        """
        return self.bank.respond(
            prompts,
            adapters=[self.adapter] * len(prompts),
            max_new_tokens=max_new_tokens,
            reply_prefix=reply_prefix,
            stop=stop,
        )

    def __repr__(self) -> str:
        return f"BankAgent(name={self.name!r}, adapter={self.adapter!r})"


class AdapterBank:
    """A base model with several LoRA adapters loaded side by side, not merged.

    Args:
        model: Model name, directory or hub id; ``None`` for the embedded SmolLM2.
        adapters: LoRA adapter directories written by ``train`` (``None`` for the base model alone).
        dtype: Weights dtype (see :func:`prefc.runtime.models.load_model`).
        device: Device; default CUDA when available, else CPU.
        prefix_cache: Reuse the key/value cache of the prompt prefix every call shares.
        min_prefix: The fewest shared tokens worth caching.

    Attributes:
        agents: One :class:`BankAgent` per entry of ``adapters``, in their order.

    Raises:
        prefc.runtime.models.ModelError: A model or adapter that is missing or does not fit.
    """

    def __init__(
        self,
        model: str | os.PathLike[str] | None = None,
        *,
        adapters: Sequence[str | os.PathLike[str] | None],
        dtype: Any = None,
        device: str | None = None,
        prefix_cache: bool = True,
        min_prefix: int = 32,
    ) -> None:
        from .models import ModelError, check_adapter_dir, load_model, model_label

        name = None if model is None else str(model)
        self.model, self.tokenizer = load_model(name, dtype=dtype, device=device)
        self.prefix_cache = prefix_cache
        self.min_prefix = min_prefix
        self._caches: dict[tuple[str, ...], tuple[list[int], Any]] = {}
        loaded: dict[Path, str] = {}
        self.agents: list[BankAgent] = []
        for adapter in adapters:
            if adapter is None:
                self.agents.append(BankAgent(self, BASE, name=model_label(name)))
                continue
            path = check_adapter_dir(adapter).resolve()
            if path not in loaded:
                loaded[path] = f"adapter{len(loaded)}"
                try:
                    self._load(path, loaded[path])
                except Exception as exc:
                    raise ModelError(f"cannot load the adapter {path}: {type(exc).__name__}: {exc}") from exc
            trained = str(path) if (path / "prefc_train.json").is_file() else None
            self.agents.append(BankAgent(self, loaded[path], name=model_label(name, adapter), trained=trained))
        self.model.eval()

    def _load(self, path: Path, adapter_name: str) -> None:
        from peft import PeftModel

        from .quiet import quiet_third_party

        with quiet_third_party():
            if isinstance(self.model, PeftModel):
                self.model.load_adapter(str(path), adapter_name=adapter_name)
            else:
                self.model = PeftModel.from_pretrained(self.model, str(path), adapter_name=adapter_name)

    def respond(
        self,
        prompts: Sequence[Prompt],
        *,
        adapters: Sequence[str],
        max_new_tokens: int = 256,
        reply_prefix: str = "",
        stop: Sequence[str] = (),
    ) -> list[str]:
        """Answer each prompt greedily with its adapter, all in one batch.

        Args:
            prompts: Conversations ending with a user message.
            adapters: The adapter of each prompt (a :class:`BankAgent`'s ``adapter``).
            max_new_tokens: Upper bound on the length of each answer (after the prefix).
            reply_prefix: Text every reply begins with.
            stop: Strings that end an answer once written (kept in it).
        """
        from .generate import generate

        if len(adapters) != len(prompts):
            raise ValueError(f"{len(prompts)} prompts but {len(adapters)} adapters")
        names = self._names(adapters)
        if self.prefix_cache:
            out = self._cached(list(prompts), names, max_new_tokens, reply_prefix, stop)
            if out is not None:
                return out
        return generate(
            self.model,
            self.tokenizer,
            prompts,
            max_new_tokens=max_new_tokens,
            batch_size=max(1, len(prompts)),
            reply_prefix=reply_prefix,
            stop=stop,
            adapter_names=names,
        )

    def _names(self, adapters: Sequence[str]) -> list[str] | None:
        """peft's names for a mixed batch; None when one adapter answers every prompt (then made
        the active one: peft's mixed-batch path costs a fifth more per layer) or the model carries
        no adapter at all."""
        from peft import PeftModel

        if not isinstance(self.model, PeftModel):
            if any(a != BASE for a in adapters):
                raise ValueError(f"unknown adapters {sorted(set(adapters) - {BASE})}")
            return None
        unique = set(adapters)
        if len(unique) == 1 and BASE not in unique:
            self.model.set_adapter(next(iter(unique)))
            return None
        return list(adapters)

    def _cached(
        self,
        prompts: list[Prompt],
        names: list[str] | None,
        max_new_tokens: int,
        reply_prefix: str,
        stop: Sequence[str],
    ) -> list[str] | None:
        import copy

        import torch

        from .generate import continue_prefix, prompt_ids, shared_length

        tok = self.tokenizer
        encoded = [prompt_ids(tok, p, reply_prefix) for p in prompts]
        key = tuple(names) if names is not None else (self._active(),) * len(prompts)
        extra = {} if names is None else {"adapter_names": names}
        device = next(self.model.parameters()).device

        def prefill(ids: list[int]) -> Any:
            if len(set(key)) == 1:  # one adapter: one row, repeated
                cache = self.model(input_ids=torch.tensor([ids], device=device), use_cache=True).past_key_values
                if len(prompts) > 1:
                    cache.batch_repeat_interleave(len(prompts))
                return cache
            batch = torch.tensor([ids] * len(prompts), device=device)
            return self.model(input_ids=batch, use_cache=True, **extra).past_key_values

        with torch.inference_mode():
            entry = self._caches.get(key)
            if entry is None:
                first = encoded[0][:-1]
                if len(first) < self.min_prefix:
                    return None
                entry = self._caches[key] = (first, prefill(first))
            shared = shared_length(entry[0], encoded)
            if shared < self.min_prefix:
                return None
            if shared < len(entry[0]):  # recomputed, not cropped: cache cropping differs between versions
                ids = entry[0][:shared]
                entry = self._caches[key] = (ids, prefill(ids))
            cache = copy.deepcopy(entry[1])
        return continue_prefix(
            self.model,
            tok,
            entry[0],
            cache,
            encoded,
            max_new_tokens=max_new_tokens,
            reply_prefix=reply_prefix,
            stop=stop,
            adapter_names=names,
        )

    def _active(self) -> str:
        from peft import PeftModel

        return str(self.model.active_adapter) if isinstance(self.model, PeftModel) else BASE

    def __repr__(self) -> str:
        return f"AdapterBank({[a.name for a in self.agents]!r})"
