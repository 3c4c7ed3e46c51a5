"""Training progress as prefc's own progress line (the trainer's tqdm bars and log printing are off)."""

from __future__ import annotations

from typing import Any

__all__ = ["progress_line"]


def progress_line(label: str) -> Any:
    """A trainer callback that shows prefc's progress (:mod:`prefc.progress`) over optimizer steps,
    with the latest logged loss; ``close(failed=True)`` ends it when training stops early.

    Args:
        label: What the progress line names (``train economicus``).
    """
    from transformers import TrainerCallback

    class ProgressLine(TrainerCallback):
        def __init__(self) -> None:
            self.context: Any = None
            self.advance: Any = None
            self.loss: float | None = None

        def on_train_begin(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
            if not state.is_world_process_zero:
                return
            from prefc.progress import progress

            self.context = progress(label, state.max_steps or None, unit="steps")
            self.advance = self.context.__enter__()
            if state.global_step:
                self.advance(state.global_step, f"resumed at step {state.global_step}")

        def on_log(self, args: Any, state: Any, control: Any, logs: Any = None, **kwargs: Any) -> None:
            if logs and "loss" in logs:
                self.loss = float(logs["loss"])

        def on_step_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
            if self.advance is not None:
                self.advance(1, f"loss {self.loss:.4g}" if self.loss is not None else None)

        def on_train_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
            self.close()

        def close(self, failed: bool = False) -> None:
            if self.context is not None:
                context, self.context, self.advance = self.context, None, None
                if failed:
                    context.__exit__(RuntimeError, RuntimeError("stopped"), None)
                else:
                    context.__exit__(None, None, None)

    return ProgressLine()
