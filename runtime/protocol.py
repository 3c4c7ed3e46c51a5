"""The one interface every agent implements, and the error every agent raises.

An agent turns chat prompts into text. Everything else in the runtime (evaluation, simulation,
serving) talks to agents only through :class:`Agent`, and catches :class:`AgentError`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, TypedDict, runtime_checkable

from prefc.errors import SpecError

__all__ = ["Agent", "AgentError", "ContinuesReplies", "Message", "Prompt", "ScoresOptions"]


class AgentError(SpecError):
    """An agent that cannot be built or cannot answer (bad spec, unreachable endpoint, ...)."""


class Message(TypedDict):
    """One chat message, as in the OpenAI and TRL conversational formats."""

    role: str
    content: str


Prompt = list[Message]


@runtime_checkable
class Agent(Protocol):
    """Something that answers chat prompts.

    Attributes:
        name: A short, stable label used in results and reports.
    """

    name: str

    def respond(self, prompts: Sequence[Prompt], *, max_new_tokens: int = 256) -> list[str]:
        """Answer each prompt with one assistant message text (same order, same length).

        Args:
            prompts: Conversations ending with a user message.
            max_new_tokens: Upper bound on the length of each answer.
        """
        ...


@runtime_checkable
class ContinuesReplies(Protocol):
    """An agent whose reply can be made to begin with given text (a local model: the text is fed as
    the start of the assistant turn, and the model writes only the rest)."""

    def respond(
        self, prompts: Sequence[Prompt], *, max_new_tokens: int = 256, reply_prefix: str = "", stop: Sequence[str] = ()
    ) -> list[str]:
        """Answer each prompt; each answer begins with ``reply_prefix``.

        Args:
            prompts: Conversations ending with a user message.
            max_new_tokens: Upper bound on the tokens written after the prefix.
            reply_prefix: The text every reply starts with (part of the returned answer).
            stop: Strings that end a reply once written (kept in it).
        """
        ...


@runtime_checkable
class ScoresOptions(Protocol):
    """An agent that can also score fixed continuations (discrete choices in one forward pass)."""

    def option_logprobs(self, prompts: Sequence[Prompt], options: Sequence[Sequence[str]]) -> list[list[float]]:
        """Log-probability of each option text as the assistant's answer to each prompt.

        Args:
            prompts: Conversations ending with a user message.
            options: For each prompt, the candidate assistant texts to score.
        """
        ...
