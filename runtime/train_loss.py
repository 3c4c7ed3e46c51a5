"""The trainer ``prefc train`` uses: trl's ``SFTTrainer`` with a completion-only loss that skips the
LM head on prompt positions (``bench/train_throughput.py`` measures what it saves)."""

from __future__ import annotations

from typing import Any

__all__ = ["trainer_class"]


def trainer_class() -> type:
    """trl's ``SFTTrainer`` with a loss that scores only the completion tokens.

    trl's own loss runs the LM head over every position in chunks (in float32, with entropy and
    top-1 metrics); on a CPU that is half of a training step for SmolLM2 (a 49k-token vocabulary).
    Here the decoder runs once, the LM head sees only the positions whose next token is a
    completion token, and the loss is their summed cross-entropy over the batch's (or the
    accumulated batches') completion tokens — the same quantity trl minimises. Where the shortcut
    does not apply (several processes, models that scale or cap their logits, MoE auxiliary
    losses) trl's loss is used unchanged. ``bench/train_throughput.py`` measures the difference.
    """
    import torch
    from trl import SFTTrainer

    class CompletionLossSFTTrainer(SFTTrainer):
        def _fast_loss_applies(self, model: Any) -> bool:
            config = getattr(model, "config", None)
            text = config.get_text_config() if config is not None and hasattr(config, "get_text_config") else config
            return (
                self.accelerator.num_processes == 1
                and not self.aux_loss_enabled
                and self.args.loss_type == "nll"
                and self.label_smoother is None
                and self.compute_loss_func is None
                and text is not None
                and not any(
                    getattr(text, k, None)
                    for k in (
                        "final_logit_softcapping",
                        "logit_scale",
                        "output_multiplier",
                        "lm_head_multiplier",
                        "logits_scaling",
                    )
                )
            )

        def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
            base = model.get_base_model() if hasattr(model, "get_base_model") else model
            if return_outputs or "labels" not in inputs or not self._fast_loss_applies(base):
                return super().compute_loss(
                    model, inputs, return_outputs=return_outputs, num_items_in_batch=num_items_in_batch
                )
            mode = "train" if self.model.training else "eval"
            labels = inputs["labels"][:, 1:]
            keep = labels != -100
            with self.accelerator.autocast():  # the mixed precision accelerate would apply to model.forward
                hidden = base.base_model(
                    input_ids=inputs["input_ids"], attention_mask=inputs.get("attention_mask"), use_cache=False
                ).last_hidden_state[:, :-1]
                logits = base.get_output_embeddings()(hidden[keep])
            targets = labels[keep]
            loss_sum = torch.nn.functional.cross_entropy(logits.float(), targets, reduction="sum")
            count = keep.sum() if num_items_in_batch is None else num_items_in_batch
            loss = loss_sum / torch.as_tensor(count, device=loss_sum.device).clamp(min=1)
            with torch.no_grad():
                valid = max(int(targets.numel()), 1)
                self._metrics[mode]["mean_token_accuracy"].append(float((logits.argmax(-1) == targets).sum()) / valid)
            if mode == "train" and "attention_mask" in inputs:
                self._total_train_tokens += int(inputs["attention_mask"].sum())
                self._metrics[mode]["num_tokens"] = [self._total_train_tokens]
            return loss

    return CompletionLossSFTTrainer
