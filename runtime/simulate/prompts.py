"""What a language-model player reads each round: the market, the recent rounds, the answer line."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from prefc.artefacts import RoundRecord
from prefc.numbers import fmt_number

from ..protocol import Prompt
from .market import PricingMarket

if TYPE_CHECKING:
    from prefc.compiler.emit.templates import TemplateSet

__all__ = ["PricePrompter", "answer_opening", "continues_replies"]


def _template_set(market: PricingMarket) -> TemplateSet:
    """The template set of the first build that covers the game (the shipped set otherwise)."""
    from prefc.compiler.emit.templates import TemplateSet, resolve_directory

    for build in market.ir.spec.builds.values():
        if market.name in build.games and build.ast.template not in (None, "default"):
            try:
                return TemplateSet(resolve_directory(build.ast.template, build.ast.span.file))
            except FileNotFoundError:
                continue
    return TemplateSet(None)


class PricePrompter:
    """Writes the prompts of language-model agents: the market, the recent rounds, the answer line.

    Args:
        market: The market.
        history: Rounds of history shown.
        paraphrase: The template wording number.
        templates: A template set (default: the spec's, else the shipped one).
    """

    def __init__(
        self, market: PricingMarket, *, history: int, paraphrase: int = 0, templates: TemplateSet | None = None
    ) -> None:
        from prefc.compiler.emit.context import answer_schema, prompt_context, system_context
        from prefc.compiler.emit.situations import Situation

        g = market.game
        role = g.group if g.group is not None else g.roles[0]
        point = tuple((k, market.point[k]) for k in g.params)
        situation = Situation(g.name, role, 0, market.action.name, point)
        tset = templates or _template_set(market)
        self.schema: dict[str, dict[str, Any]] = answer_schema(g, situation)
        self.system = tset.render("system", system_context(self.schema, paraphrase))
        self.market_text = tset.render(g.name, prompt_context(g, situation, paraphrase, self.schema))
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
        shown = list(rounds[-self.history :]) if self.history > 0 else []
        a = self.action
        lines = [self.market_text, ""]
        if not shown:
            lines.append(
                f"The market repeats every round against the same rival. This is round {t}"
                + ("; there is no history yet." if t == 1 else ".")
            )
        else:
            cols = ["round", f"your {a}", f"rival's {a}"]
            if self.share_name:
                cols.append(f"your {self.share_name}")
            cols += ["your profit", "rival's profit", "your answer"]
            lines.append(
                f"The market repeats every round against the same rival. This is round {t}; "
                f"the last {len(shown)} round{'s' if len(shown) != 1 else ''}:"
            )
            lines.append(" | ".join(cols))
            for r in shown:
                mine, theirs = r.agents[me], r.agents[1 - me]
                # words, not a marker next to the price, and no round numbers near the end of the
                # prompt: a small model copies what sits next to the number it copies
                cells = (
                    [mine.price, theirs.price]
                    + ([mine.share] if self.share_name else [])
                    + [mine.profit, theirs.profit]
                )
                row = [str(r.round), *(fmt_number(x, digits=2, missing="-") for x in cells)]
                row.append(f"not valid, {a} kept" if mine.held else "valid")
                lines.append(" | ".join(row))
        lines += ["", f"Your {a} for this round? Reply with the ANSWER line."]
        return [{"role": "system", "content": self.system}, {"role": "user", "content": "\n".join(lines)}]


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
