"""What a language-model player reads each round: the market, the recent rounds, the answer line."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from prefc.artefacts import RoundRecord
from prefc.compiler.emit.repeated_prompt import ShownRound

from ..protocol import Message, Prompt
from .market import PricingMarket

if TYPE_CHECKING:
    from prefc.compiler.emit.templates import TemplateSet

__all__ = ["PricePrompter", "answer_opening", "continues_replies", "shown_rounds"]


def shown_rounds(rounds: Sequence[RoundRecord], me: int) -> list[ShownRound]:
    """Played rounds as player ``me`` (0 or 1) saw them.

    Args:
        rounds: The rounds played.
        me: The player's position.
    """
    out = []
    for r in rounds:
        mine, theirs = r.agents[me], r.agents[1 - me]
        out.append(ShownRound(r.round, mine.price, theirs.price, mine.share, mine.profit, theirs.profit, mine.held))
    return out


class PricePrompter:
    """Writes the prompts of language-model agents with the compiler's repeated-market template
    (:class:`prefc.compiler.emit.repeated_prompt.RepeatedPrompt`, the one the repeated datasets use).

    Args:
        market: The market.
        history: Rounds of history shown.
        paraphrase: The template wording number.
        templates: A template set (default: the spec's, else the shipped one).
    """

    def __init__(
        self, market: PricingMarket, *, history: int, paraphrase: int = 0, templates: TemplateSet | None = None
    ) -> None:
        from prefc.compiler.emit.repeated_prompt import RepeatedPrompt, template_set_for

        self.prompt = RepeatedPrompt(
            market.game,
            market.point,
            templates=templates or template_set_for(market.ir, market.name),
            history=history,
            paraphrase=paraphrase,
            share_name=market.share_name,
        )
        self.schema: dict[str, dict[str, Any]] = self.prompt.schema
        self.system = self.prompt.system
        self.market_text = self.prompt.market_text
        self.history = history
        self.action = market.action.name
        self.share_name = market.share_name

    def messages(self, t: int, me: int, rounds: Sequence[RoundRecord]) -> Prompt:
        """The prompt of player ``me`` (0 or 1) in round ``t``.

        Args:
            t: The round about to be played (1-based).
            me: The player's position.
            rounds: The rounds played so far.
        """
        recent = list(rounds[-self.history :]) if self.history > 0 else []
        return [
            Message(role=m["role"], content=m["content"]) for m in self.prompt.messages(t, shown_rounds(recent, me))
        ]


def answer_opening(schema: Mapping[str, Mapping[str, Any]]) -> str:
    """The start of the answer line up to its first value, e.g. ``ANSWER: {"p": `` (the spacing of
    the compiled completions, so a fine-tuned model continues where it would have written the number).

    Args:
        schema: An answer schema (the first action is the one opened).
    """
    return "ANSWER: {" + json.dumps(next(iter(schema)), ensure_ascii=False) + ": "


def continues_replies(agent: Any) -> bool:
    """Whether an agent's ``respond`` takes ``reply_prefix`` (:class:`prefc.runtime.protocol.ContinuesReplies`).

    Args:
        agent: Any agent.
    """
    import inspect

    try:
        return "reply_prefix" in inspect.signature(agent.respond).parameters
    except (TypeError, ValueError, AttributeError):
        return False
