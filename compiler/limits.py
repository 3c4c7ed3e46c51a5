"""Size limits shared by the IR and the solvers, and the error raised when a game exceeds one."""

from __future__ import annotations

__all__ = ["MAX_OPTIONS", "MAX_PLANS", "MAX_PROFILES", "GameTooLarge"]

MAX_OPTIONS = 200
"""The most options a finite action has at one parameter point."""

MAX_PLANS = 400
"""The most plans (one option for every role) of the plan game of a game with distinct roles."""

MAX_PROFILES = 200_000
"""The most pure profiles (or count vectors) a finite game's solver enumerates."""


class GameTooLarge(ValueError):
    """The game exceeds the size an exact solver is allowed to enumerate."""
