"""Completions: a reasoning trace derived from the solver's decision, then ``ANSWER: {json}``."""

from __future__ import annotations

from fractions import Fraction

from prefc.compiler.emit.fmt import answer_json
from prefc.compiler.ir import BoundPreference
from prefc.compiler.solution import Decision
from prefc.numbers import number_text


def preference_sentence(pref: BoundPreference) -> str:
    """Who is reasoning: the preference in one sentence.

    Args:
        pref: The preference with its parameter values.
    """
    from prefc.compiler import ast

    values = dict(pref.point.values)
    body = pref.checked.ast.body
    if "kappa" in values and pref.uses_kantian:
        k = values["kappa"]
        return (
            f"I weigh my own payoff with 1 - kappa = {number_text(1 - k)} and the payoff if everyone "
            f"did as I do with {number_text(k)}."
        )
    if isinstance(body, ast.Call) and body.func.name == "payoff" and not values:
        return "I care only about my own payoff."
    params = ", ".join(f"{k} = {number_text(v)}" for k, v in values.items())
    return f"My preference is {pref.checked.title}" + (f" with {params}." if params else ".")


def _value(v) -> str:
    return v if isinstance(v, str) else number_text(v)


def _given_sentence(decision: Decision) -> str:
    if not decision.given:
        return ""
    if set(decision.given) == {"others"}:
        return f"Suppose the others play {_value(decision.given['others'])}."
    seen = ", ".join(f"{k} = {_value(v)}" for k, v in decision.given.items())
    return f"I have seen {seen}."


STEADY_MIN = 6
"""Numeric options from this many on whose utility changes by the same amount at every step are
described by the first two and the step (the full list of a 0..20 offer is ~200 tokens)."""


def _steady(opts) -> tuple[float, float] | None:
    """(option step, utility step) when numeric options are evenly spaced and the utility changes
    by the same amount at each (a linear utility), else None."""
    if len(opts) < STEADY_MIN or any(o.utility is None or isinstance(o.value, str) for o in opts):
        return None
    dv = float(opts[1].value) - float(opts[0].value)
    du = opts[1].utility - opts[0].utility
    for a, b in zip(opts, opts[1:], strict=False):
        if abs(float(b.value) - float(a.value) - dv) > 1e-9 or abs(b.utility - a.utility - du) > 1e-9:
            return None
    return dv, du


def _finite(decision: Decision) -> str:
    opts = decision.options or []
    steady = _steady(opts)
    if steady is not None:
        dv, du = steady
        first, second, last = opts[0], opts[1], opts[-1]
        change = (
            "changes it by 0" if abs(du) <= 1e-12 else f"{'adds' if du > 0 else 'takes away'} {number_text(abs(du))}"
        )
        text = (
            f"Comparing my options: {_value(first.value)} gives me {number_text(first.utility)}; "
            f"{_value(second.value)} gives me {number_text(second.utility)}; each further step of "
            f"{number_text(dv)} {change}, up to {_value(last.value)}, which gives me {number_text(last.utility)}."
        )
    else:
        parts = [f"{_value(o.value)} gives me {number_text(o.utility)}" for o in opts if o.utility is not None]
        text = "Comparing my options: " + "; ".join(parts) + "."
    chosen = _value(decision.chosen)
    if decision.ties:
        tied = ", ".join(_value(t) for t in decision.ties)
        text += f" {chosen} is best, tied with {tied}; I take {chosen}."
    else:
        text += f" {chosen} is best, so I choose {chosen}."
    return text


FLAT = 1e-6
"""A marginal utility this close to zero at the chosen value counts as zero (numeric optima)."""


def _number(text: str | None) -> float | None:
    """The value of a marginal-utility text that is a plain number (``-1/5``, ``0``), else None."""
    if text is None:
        return None
    try:
        return float(Fraction(text.replace(" ", "")))
    except (ValueError, ZeroDivisionError):
        return None


def _continuous(decision: Decision) -> str:
    name = decision.action
    lines = []
    if decision.utility is not None:
        own = "x, my own " + name if "others" in decision.given else name
        lines.append(f"My utility as a function of {own} is {decision.utility}.")
    slope = decision.marginal_value
    constant = _number(decision.marginal)  # a marginal utility that does not depend on the own choice
    if decision.marginal is not None:
        text = f"The marginal utility is {decision.marginal}"
        if slope is not None and constant is None:
            text += (
                f"; at {name} = {number_text(decision.chosen)} it is {number_text(0 if abs(slope) <= FLAT else slope)}"
            )
        lines.append(text + ".")
    if slope is None:
        slope = constant
    chosen = number_text(decision.chosen)
    if slope is not None and slope < -FLAT:
        lines.append(f"It is negative: the best is the lowest, {name} = {chosen}.")
    elif slope is not None and slope > FLAT:
        lines.append(f"It is positive: the best is the highest, {name} = {chosen}.")
    elif constant is not None:
        lines.append(f"It is zero whatever I choose, so every {name} is equally good; I take {name} = {chosen}.")
    else:
        lines.append(f"Setting it to zero (within the bounds) gives the best {name} = {chosen}.")
    if decision.regime and decision.regime != "always" and _regime_sentence(decision) is None:
        lines.append(f"This is the regime where {decision.regime}.")
    return " ".join(lines)


def _regime_sentence(decision: Decision) -> str | None:
    """The threshold's sides at the numbers given, then the regime they put us in: stated before
    anything that depends on it (the others' play in a symmetric equilibrium, the sign of the
    marginal utility), numbers first, so a model writing it computes before it concludes."""
    if not decision.regime or decision.regime == "always" or not decision.regime_check:
        return None
    return (
        f"Here {decision.regime_check}, so the regime is {decision.regime}, where the best "
        f"{decision.action} is {_value(decision.chosen)}."
    )


def completion_text(pref: BoundPreference, decision: Decision, answer: dict) -> str:
    """The assistant's reply: preference, decision reasoning, ``ANSWER:`` line.

    Args:
        pref: The reasoning preference.
        decision: The solver's decision in the situation.
        answer: The answer (action -> value).
    """
    parts = [preference_sentence(pref)]
    regime = _regime_sentence(decision) if decision.options is None else None
    if regime:
        parts.append(regime)
    given = _given_sentence(decision)
    if given:
        parts.append(given)
    parts.append(_finite(decision) if decision.options is not None else _continuous(decision))
    return " ".join(parts) + "\nANSWER: " + answer_json(answer)
