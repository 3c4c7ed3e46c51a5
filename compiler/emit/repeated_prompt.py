"""The prompt of one round of a repeated market: the market described by the game's template, a
compact table of the recent rounds and the request for the answer line.

One template for both sides: the compiler's repeated datasets (``repeat N rounds``) write their
rows' prompts with it and the simulation (``prefc simulate``) shows its language-model players the
same text for the same history.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import TYPE_CHECKING, Any

from prefc.compiler.emit.context import answer_schema, prompt_context, system_context
from prefc.compiler.emit.situations import Situation
from prefc.compiler.emit.templates import TemplateSet, resolve_directory
from prefc.numbers import fmt_number

if TYPE_CHECKING:
    from prefc.compiler.ir import GameIR, SpecIR

__all__ = ["RepeatedPrompt", "ShownRound", "market_situation", "template_set_for"]


@dataclass(frozen=True)
class ShownRound:
    """One earlier round as a player sees it.

    Attributes:
        round: The round's number (1-based).
        own: The player's action.
        rival: The rival's action.
        share: The player's share (None when the game has no share helper).
        profit: The player's profit.
        rival_profit: The rival's profit.
        held: Whether the player's answer could not be read and its action was kept.
    """

    round: int
    own: float
    rival: float
    share: float | None
    profit: float
    rival_profit: float
    held: bool = False


def market_situation(game: GameIR, point: Mapping[str, Fraction]) -> Situation:
    """The one decision of a repeated market at a parameter point.

    Args:
        game: The game (symmetric, one continuous action).
        point: Its parameter values.
    """
    role = game.group if game.group is not None else game.roles[0]
    values = tuple((k, point[k]) for k in game.params)
    return Situation(game.name, role, 0, game.actions[0].name, values)


def template_set_for(ir: SpecIR, game: str) -> TemplateSet:
    """The template set of the first build that covers the game (the shipped set otherwise).

    Args:
        ir: The spec's IR.
        game: The game's name.
    """
    for build in ir.spec.builds.values():
        if game in build.games and build.ast.template not in (None, "default"):
            try:
                return TemplateSet(resolve_directory(build.ast.template, build.ast.span.file))
            except FileNotFoundError:
                continue
    return TemplateSet(None)


class RepeatedPrompt:
    """Writes the messages of one round: the market, the recent rounds, the answer line.

    Args:
        game: The game (symmetric, one continuous action).
        point: Its parameter values.
        templates: The template set.
        history: Rounds of history shown (the last ones).
        paraphrase: The template wording number.
        share_name: The name of the share column (None: no such column).
    """

    def __init__(
        self,
        game: GameIR,
        point: Mapping[str, Fraction],
        *,
        templates: TemplateSet,
        history: int,
        paraphrase: int = 0,
        share_name: str | None = None,
    ) -> None:
        situation = market_situation(game, point)
        self.schema: dict[str, dict[str, Any]] = answer_schema(game, situation)
        self.system = templates.render("system", system_context(self.schema, paraphrase))
        self.market_text = templates.render(game.name, prompt_context(game, situation, paraphrase, self.schema))
        self.history = history
        self.action = game.actions[0].name
        self.share_name = share_name

    def messages(self, t: int, rounds: Sequence[ShownRound]) -> list[dict[str, str]]:
        """The system and user messages of round ``t``, after ``rounds`` (the last ``history`` shown).

        Args:
            t: The round about to be played (1-based).
            rounds: The earlier rounds as this player saw them, oldest first.
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
                # words, not a marker next to the price, and no round numbers near the end of the
                # prompt: a small model copies what sits next to the number it copies
                cells = [r.own, r.rival] + ([r.share] if self.share_name else []) + [r.profit, r.rival_profit]
                row = [str(r.round), *(fmt_number(x, digits=2, missing="-") for x in cells)]
                row.append(f"not valid, {a} kept" if r.held else "valid")
                lines.append(" | ".join(row))
        lines += ["", f"Your {a} for this round? Reply with the ANSWER line."]
        return [{"role": "system", "content": self.system}, {"role": "user", "content": "\n".join(lines)}]
