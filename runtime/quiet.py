"""Third-party chatter off while prefc trains, loads or runs a model.

transformers, datasets, trl and peft print their own progress bars ("Loading weights",
"Tokenizing train dataset", the trainer's step bar and log dicts) and deprecation warnings about
their own internals; under prefc these only bury prefc's progress lines. Inside
:func:`quiet_third_party` their bars and info logging are off and warnings raised from their
modules are dropped; prefc's own warnings and messages are untouched. Everything is restored on
exit.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

__all__ = ["THIRD_PARTY", "quiet_third_party"]

THIRD_PARTY = (
    "transformers",
    "trl",
    "peft",
    "accelerate",
    "torch",
    "datasets",
    "huggingface_hub",
    "tokenizers",
    "safetensors",
)
_MODULES = r"^(" + "|".join(THIRD_PARTY) + r")(\.|$)"


def _libraries() -> list[Any]:
    """The logging modules (each with verbosity and progress-bar switches) of transformers and datasets."""
    found = []
    from transformers.utils import logging as tlog

    found.append(tlog)
    try:
        from datasets.utils import logging as dlog
    except ImportError:  # pragma: no cover - datasets comes with the train extra
        pass
    else:
        found.append(dlog)
    return found


@contextmanager
def quiet_third_party() -> Iterator[None]:
    """Inside: no progress bars, info logs or warnings from the ML libraries prefc drives.

    Set ``PREFC_THIRD_PARTY_OUTPUT=1`` to see them anyway (debugging).
    """
    if os.environ.get("PREFC_THIRD_PARTY_OUTPUT"):
        yield
        return
    restore: list[Any] = []
    for log in _libraries():
        level = log.get_verbosity()
        log.set_verbosity_error()
        restore.append(lambda log=log, level=level: log.set_verbosity(level))
        was = log.is_progress_bar_enabled()
        log.disable_progress_bar()
        restore.append(lambda log=log, was=was: log.enable_progress_bar() if was else None)
    try:
        from huggingface_hub.utils import are_progress_bars_disabled, disable_progress_bars, enable_progress_bars

        hub_was_off = are_progress_bars_disabled()
        disable_progress_bars()
        restore.append(lambda: None if hub_was_off else enable_progress_bars())
    except ImportError:  # pragma: no cover - huggingface_hub comes with transformers
        pass
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", module=_MODULES)
            for category in (FutureWarning, DeprecationWarning, PendingDeprecationWarning):
                warnings.filterwarnings("ignore", category=category)
            yield
    finally:
        for undo in reversed(restore):
            undo()
