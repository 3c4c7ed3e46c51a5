"""Template variables for one prompt: the game, the role, the parameter values, what the mover saw,
the answer format. Everything is text (numbers already formatted) so templates stay simple."""

from __future__ import annotations

import json
from types import MappingProxyType
from typing import Any

from prefc.compiler import pretty
from prefc.compiler.emit.situations import Situation, action_bounds, seen_name, situation_action, value_at
from prefc.compiler.emit.templates import form
from prefc.compiler.ir import GameIR
from prefc.numbers import number_text


def answer_schema(game: GameIR, situation: Situation) -> dict[str, dict[str, Any]]:
    """The answer schema of a situation (formats.md): ``{action: {"kind": ..., ...}}``.

    Args:
        game: The game.
        situation: The situation.
    """
    act = situation_action(game, situation)
    if act.kind == "labels":
        return {act.name: {"kind": "choice", "options": list(act.labels)}}
    lo, hi = action_bounds(game, act, situation.point, situation.history)  # type: ignore[misc]
    if act.kind == "integers":
        step = 1
        if act.step is not None:
            step = value_at(game, act.step, situation.point)
        return {act.name: {"kind": "integer", "min": _num(lo), "max": _num(hi), "step": _num(step)}}
    return {act.name: {"kind": "number", "min": _num(lo), "max": _num(hi)}}


def _num(v):
    from prefc.numbers import plain_number

    return plain_number(v)


def answer_format(schema: dict[str, dict[str, Any]]) -> str:
    """The answer line described for a person: ``ANSWER: {"give": <a number from 0 to 10>}``.

    Args:
        schema: The answer schema.
    """
    parts = []
    for key, s in schema.items():
        if s["kind"] == "choice":
            placeholder = "<" + " or ".join(json.dumps(o) for o in s["options"]) + ">"
        elif s["kind"] == "integer":
            placeholder = f"<a whole number from {number_text(s['min'])} to {number_text(s['max'])}>"
        else:
            placeholder = f"<a number from {number_text(s['min'])} to {number_text(s['max'])}>"
        parts.append(f"{json.dumps(key)}: {placeholder}")
    return "ANSWER: {" + ", ".join(parts) + "}"


def _static(game: GameIR) -> dict[str, Any]:
    """The game's part of every prompt context, built once per game and kept on the game (a
    module-level table would keep every game ever rendered alive)."""
    hit = game.__dict__.get("_prompt_static")
    if hit is None:
        hit = game.__dict__["_prompt_static"] = freeze(_static_uncached(game))
    return hit


def _static_uncached(game: GameIR) -> dict[str, Any]:
    checked = game.checked
    players = []
    for p in checked.ast.players:
        if p.is_group:
            players.append(f"{p.name.name}[{pretty.expr(p.lo)}..{pretty.expr(p.hi)}]")
        else:
            players.append(p.name.name)
    moves = []
    for m in checked.ast.moves:
        seen = ", ".join(pretty.action_ref(r) for r in m.observes)
        who = ("each " if m.each else "") + m.mover.name
        text = f"{who} chooses {m.action.name} in {pretty.domain(m.domain)}"
        if seen:
            text = f"{who} sees {seen}, then chooses {m.action.name} in {pretty.domain(m.domain)}"
        moves.append(
            {
                "player": m.mover.name,
                "action": m.action.name,
                "text": text,
                "stage": 1 + next(i.stage for i in checked.actions.values() if i.move is m),
            }
        )
    payoffs = []
    for pay in checked.ast.payoffs:
        who = pay.player.name + (f"[{pay.index_var.name}]" if pay.index_var is not None else "")
        payoffs.append({"player": who, "formula": pretty.expr(pay.value)})
    helpers = [
        {"name": let.name.name, "params": [p.name for p in let.params], "formula": pretty.expr(let.value)}
        for let in checked.ast.lets
    ]
    return {
        "name": game.name,
        "title": game.title,
        "players": players,
        "moves": moves,
        "payoffs": payoffs,
        "helpers": helpers,
        "symmetric": game.symmetric,
        "sequential": game.n_stages > 1,
        "group": game.group,
        "kantian": game.describe_kantian(),
    }


def freeze(value: Any) -> Any:
    """A read-only copy of template variables (tuples and mapping proxies), so that a template that
    calls ``append`` or ``update`` on a variable cannot change what later renders see: contexts are
    shared between renders.

    Args:
        value: Dicts, lists and tuples of plain values.
    """
    if isinstance(value, dict):
        return MappingProxyType({k: freeze(v) for k, v in value.items()})
    if isinstance(value, (list, tuple)):
        return tuple(freeze(v) for v in value)
    return value


def situation_context(game: GameIR, situation: Situation, schema: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The template variables of a situation that every wording shares (frozen; see :func:`freeze`).

    Args:
        game: The game.
        situation: The decision asked.
        schema: The situation's answer schema.
    """
    act = situation_action(game, situation)
    params = {k: number_text(v) for k, v in situation.point}
    seen = {}
    for key, value in situation.history:
        earlier = game.action_by_key(key)
        seen[seen_name(game, key)] = earlier.labels[int(value)] if earlier.kind == "labels" else number_text(value)
    spec = schema[act.name]
    action = {
        "name": act.name,
        "kind": spec["kind"],
        "options": spec.get("options", []),
        "min": number_text(spec["min"]) if "min" in spec else "",
        "max": number_text(spec["max"]) if "max" in spec else "",
    }
    n_players = ""
    if game.group is not None and game.group_size is not None:
        n_players = number_text(value_at(game, game.group_size, situation.point))
    others = [r for r in game.roles if r != situation.role]
    return {
        "game": _static(game),
        "role": situation.role,
        "params": freeze(params),
        "seen": freeze(seen),
        "action": freeze(action),
        "n_players": n_players,
        "others": freeze(others),
        "other": others[0] if others else "",
        "answer_format": answer_format(schema),
    }


def prompt_context(
    game: GameIR,
    situation: Situation,
    paraphrase: int,
    schema: dict[str, dict[str, Any]],
    *,
    shared: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The variables a game template sees.

    Args:
        game: The game.
        situation: The decision asked.
        paraphrase: The wording number.
        schema: The situation's answer schema.
        shared: The situation's :func:`situation_context`, when the caller keeps it.
    """
    if shared is None:
        shared = situation_context(game, situation, schema)
    return {**shared, "form": form(paraphrase), "paraphrase": paraphrase}


def system_context(schema: dict[str, dict[str, Any]], paraphrase: int, *, line: str | None = None) -> dict[str, Any]:
    """The variables of the system prompt.

    Args:
        schema: The answer schema.
        paraphrase: The wording number.
        line: The schema's :func:`answer_format`, when the caller has it.
    """
    return {
        "answer_format": line if line is not None else answer_format(schema),
        "keys": tuple(schema),
        "form": form(paraphrase),
        "paraphrase": paraphrase,
    }
