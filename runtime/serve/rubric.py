"""Which agents can be served, and rubric agents (``theory:``, ``logit:``) answering a rubric's prompts.

``local:`` and ``openai:`` agents (and any Python agent whose ``respond`` answers free prompts) answer
any chat request. ``theory:`` and ``logit:`` agents do not read prompts: they answer a rubric item from
its data (targets, utility family). Served with a rubric (``prefc serve --rubric RUBRIC.jsonl``), a
:class:`RubricChatAgent` answers every chat request whose messages are exactly one item's prompt (role
and content, ``developer`` read as ``system``) with what the agent answers for that item, so
``prefc eval --agent openai:...`` through the server scores as the agent itself does; any other prompt
is refused with HTTP 422. Without a rubric they are refused at start.
"""

from __future__ import annotations

import inspect
import json
from collections.abc import Mapping, Sequence
from typing import Any

from ..agents import AgentError, LogitAgent, TheoryAgent, logit_probabilities
from ..protocol import Agent, Prompt

__all__ = [
    "CHAT_KINDS",
    "RUBRIC_KINDS",
    "RubricChatAgent",
    "ServeRefused",
    "answers_items_only",
    "check_servable",
    "serving_agent",
]

CHAT_KINDS = ("local", "openai")
"""Agent kinds that answer any chat prompt."""

RUBRIC_KINDS = ("theory", "logit")
"""Agent kinds that answer rubric items only (served with ``--rubric``)."""


class ServeRefused(Exception):
    """An agent that cannot be served as asked (the message says what can)."""


def answers_items_only(agent: object) -> bool:
    """Whether an agent answers rubric items (``respond_items``) rather than free prompts.

    Args:
        agent: Any agent.
    """
    return callable(getattr(agent, "respond_items", None))


def check_servable(spec: str, *, rubric: object | None) -> None:
    """Refuse, before anything is loaded, an agent spec that cannot answer chat as asked.

    Args:
        spec: The ``--agent`` spec (``KIND:...``).
        rubric: The ``--rubric`` path, if given.

    Raises:
        ServeRefused: For a rubric kind without a rubric, or a rubric with a chat kind.
    """
    kind = spec.partition(":")[0].strip().lower()
    if kind in RUBRIC_KINDS and rubric is None:
        raise ServeRefused(
            f"a {kind}: agent answers rubric items, not free chat: serve it with --rubric RUBRIC.jsonl (it then "
            f"answers that rubric's prompts), or serve an agent that answers any prompt "
            f"({', '.join(k + ':' for k in CHAT_KINDS)})"
        )
    if kind in CHAT_KINDS and rubric is not None:
        raise ServeRefused(
            f"--rubric is for {' and '.join(k + ':' for k in RUBRIC_KINDS)} agents; a {kind}: agent answers any prompt"
        )


def _key(prompt: Sequence[Mapping[str, Any]]) -> tuple[tuple[str, str], ...]:
    roles = {"developer": "system"}
    return tuple((roles.get(str(m.get("role")), str(m.get("role"))), str(m.get("content"))) for m in prompt)


def _answer_data(item: Mapping[str, Any]) -> str:
    return json.dumps({k: item.get(k) for k in ("targets", "family", "schema")}, sort_keys=True, default=str)


class RubricChatAgent:
    """Answers chat prompts that are a rubric item's prompt with an item-answering agent.

    Args:
        agent: An agent with ``respond_items`` (a :class:`TheoryAgent`, a :class:`LogitAgent`).
        items: The rubric's items.
        grid: The rubric's family grid (the header's ``family.grid``), if any.
        source: Where the items come from, for messages.

    Raises:
        ServeRefused: If the agent cannot answer the rubric (a theory agent's preference is not
            among the rubric's, a logit agent's kappa is outside its family grid).
    """

    def __init__(
        self,
        agent: Any,
        items: Sequence[Mapping[str, Any]],
        *,
        grid: Sequence[float] | None = None,
        source: str = "the rubric",
    ) -> None:
        if not answers_items_only(agent):
            raise ServeRefused(f"{agent.name}: answers free prompts; it needs no rubric")
        self.name: str = agent.name
        self._agent = agent
        self._grid = None if grid is None else [float(g) for g in grid]
        self._source = source
        self._items: dict[tuple[tuple[str, str], ...], Mapping[str, Any]] = {}
        self._ambiguous: set[tuple[tuple[str, str], ...]] = set()
        for item in items:
            key = _key(item["prompt"])
            if key in self._items and _answer_data(self._items[key]) != _answer_data(item):
                self._ambiguous.add(key)
            self._items.setdefault(key, item)
        self._check(items)

    @property
    def prompts(self) -> int:
        """Distinct prompts answered."""
        return len(self._items) - len(self._ambiguous)

    def _check(self, items: Sequence[Mapping[str, Any]]) -> None:
        try:
            if isinstance(self._agent, TheoryAgent):
                self._agent.respond_items(list(items))
            elif isinstance(self._agent, LogitAgent):
                grid = self._grid if self._grid is not None else self._agent.grid
                for item in items:
                    logit_probabilities(item, kappa=self._agent.kappa, temperature=self._agent.temperature, grid=grid)
        except AgentError as exc:
            raise ServeRefused(f"{self.name} cannot answer {self._source}: {exc}") from None

    def refusal(self, prompt: Prompt) -> str | None:
        """Why a prompt cannot be answered (None if it can).

        Args:
            prompt: The request's conversation.
        """
        key = _key(prompt)
        if key in self._ambiguous:
            return f"this prompt belongs to several items of {self._source} with different answers"
        if key not in self._items:
            return (
                f"{self.name} answers only the prompts of {self._source} ({self.prompts} prompts, sent "
                f"exactly as the rubric has them); this prompt is not one of them"
            )
        return None

    def respond(self, prompts: Sequence[Prompt], *, max_new_tokens: int = 256) -> list[str]:
        """Answer each prompt with the agent's answer to its rubric item.

        Args:
            prompts: Conversations, each exactly a rubric item's prompt (see :meth:`refusal`).
            max_new_tokens: Ignored (the agent writes a fixed, short answer).

        Raises:
            AgentError: For a prompt that is not a rubric item's.
        """
        items = []
        for prompt in prompts:
            reason = self.refusal(prompt)
            if reason is not None:
                raise AgentError(reason)
            items.append(self._items[_key(prompt)])
        kwargs: dict[str, Any] = {}
        if self._grid is not None and "grid" in inspect.signature(self._agent.respond_items).parameters:
            kwargs["grid"] = self._grid
        return list(self._agent.respond_items(items, **kwargs))

    def __repr__(self) -> str:
        return f"RubricChatAgent({self._agent!r}, prompts={self.prompts})"


def serving_agent(
    agent: Agent,
    items: Sequence[Mapping[str, Any]] | None,
    *,
    grid: Sequence[float] | None = None,
    source: str = "the rubric",
) -> Agent:
    """The agent to serve: a chat agent as it is, a rubric agent wrapped around its rubric.

    Args:
        agent: The agent built from the spec.
        items: The rubric's items, for a rubric agent.
        grid: The rubric's family grid.
        source: The rubric's path, for messages.

    Raises:
        ServeRefused: A rubric agent without items, or a chat agent with them.
    """
    if answers_items_only(agent):
        if items is None:
            raise ServeRefused(f"{agent.name} answers rubric items, not free chat: serve it with --rubric RUBRIC.jsonl")
        return RubricChatAgent(agent, items, grid=grid, source=source)
    if items is not None:
        raise ServeRefused(
            f"{agent.name} answers any prompt; --rubric is only for "
            f"{' and '.join(k + ':' for k in RUBRIC_KINDS)} agents"
        )
    return agent
