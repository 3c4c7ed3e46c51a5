"""Rendering prompts (system + user messages) for prompt keys, cached: every prompt is rendered once."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from prefc.compiler.emit.context import answer_format, answer_schema, prompt_context, situation_context, system_context
from prefc.compiler.emit.fmt import dumps
from prefc.compiler.emit.situations import Situation
from prefc.compiler.emit.templates import TemplateSet
from prefc.compiler.ir import SpecIR


@dataclass
class PromptRenderer:
    """Renders and caches the messages of prompt keys.

    Args:
        ir: The spec's IR.
        templates: The template set.
    """

    ir: SpecIR
    templates: TemplateSet
    _cache: dict[tuple[Situation, int], list[dict[str, str]]] = field(default_factory=dict)
    _json: dict[tuple[Situation, int], str] = field(default_factory=dict)
    _schemas: dict[Situation, dict[str, Any]] = field(default_factory=dict)
    _shared: dict[Situation, dict[str, Any]] = field(default_factory=dict)
    _systems: dict[tuple[str, tuple[str, ...], int], str] = field(default_factory=dict)

    def schema(self, situation: Situation) -> dict[str, Any]:
        """The answer schema of a situation (cached).

        Args:
            situation: The situation.
        """
        if situation not in self._schemas:
            self._schemas[situation] = answer_schema(self.ir.games[situation.game], situation)
        return self._schemas[situation]

    def messages(self, situation: Situation, paraphrase: int) -> list[dict[str, str]]:
        """The system and user messages of a prompt key.

        Args:
            situation: The situation.
            paraphrase: The wording number.
        """
        key = (situation, paraphrase)
        cached = self._cache.get(key)
        if cached is None:
            cached = self._cache[key] = self._render(situation, paraphrase)
        return cached

    def _render(self, situation: Situation, paraphrase: int) -> list[dict[str, str]]:
        schema = self.schema(situation)
        game = self.ir.games[situation.game]
        shared = self._shared.get(situation)
        if shared is None:
            shared = self._shared[situation] = situation_context(game, situation, schema)
        system = self.system(schema, paraphrase, line=shared["answer_format"])
        user = self.templates.render(situation.game, prompt_context(game, situation, paraphrase, schema, shared=shared))
        return [{"role": "system", "content": system}, {"role": "user", "content": user}]

    def system(self, schema: dict[str, Any], paraphrase: int, *, line: str | None = None) -> str:
        """The system message for an answer schema and wording (cached: it depends on nothing else).

        Args:
            schema: The answer schema.
            paraphrase: The wording number.
            line: The schema's :func:`answer_format`, when the caller has it.
        """
        line = line if line is not None else answer_format(schema)
        key = (line, tuple(schema), paraphrase)
        text = self._systems.get(key)
        if text is None:
            text = self._systems[key] = self.templates.render("system", system_context(schema, paraphrase, line=line))
        return text

    def messages_json(self, situation: Situation, paraphrase: int, *, keep: bool = True) -> str:
        """The messages of a prompt key as one canonical JSON array (see ``fmt.dumps``).

        Args:
            situation: The situation.
            paraphrase: The wording number.
            keep: Cache the prompt (False: a caller that asks each prompt once, streaming rows,
                keeps memory flat).
        """
        key = (situation, paraphrase)
        text = self._json.get(key)
        if text is None:
            if not keep:
                cached = self._cache.get(key)
                return dumps(cached if cached is not None else self._render(situation, paraphrase))
            text = self._json[key] = dumps(self.messages(situation, paraphrase))
        return text
