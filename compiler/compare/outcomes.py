"""What one side plays at one grid point: the set of its equilibria, and how two such sets relate."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from prefc.compiler.ir import GameIR
from prefc.compiler.solution import Equilibrium, Solution

_ROUND = 9

# ----------------------------------------------------------------------------- equilibrium sets


def num_key(v: Any) -> Any:
    if isinstance(v, (bool, str)):
        return v
    if isinstance(v, (int, float)):
        return round(float(v), _ROUND) + 0.0
    return v


def equilibrium_key(eq: Equilibrium) -> tuple:
    """A hashable identity of an equilibrium's path (with the mixing probabilities of a mixed one).

    Args:
        eq: The equilibrium.
    """
    if eq.probabilities:
        return ("mixed",) + tuple(
            sorted(
                (p, a, o, round(q, _ROUND))
                for p, acts in eq.probabilities.items()
                for a, probs in acts.items()
                for o, q in probs.items()
            )
        )
    return ("pure",) + tuple(sorted((p, a, num_key(v)) for p, acts in eq.path.items() for a, v in acts.items()))


def describe_equilibrium(eq: Equilibrium) -> str:
    """One equilibrium in a few words: ``everyone give = 20``, ``investor.send = 10, trustee.back = 0``.

    Args:
        eq: The equilibrium.
    """

    def val(v):
        return f"{v:.4g}" if isinstance(v, float) else str(v)

    if eq.probabilities:
        parts = []
        for p, acts in eq.probabilities.items():
            for a, probs in acts.items():
                parts.append(f"{p}.{a} ~ " + ", ".join(f"{o} {q:.3g}" for o, q in probs.items() if q > 0))
        if len({s.split(" ~ ")[1] for s in parts}) == 1 and len(parts) > 1:
            a = next(iter(next(iter(eq.probabilities.values()))))
            return f"mixed: everyone {a} ~ " + parts[0].split(" ~ ")[1]
        return "mixed: " + "; ".join(parts)
    flat = [(p, a, v) for p, acts in eq.path.items() for a, v in acts.items()]
    if len(eq.path) > 1 and len({(a, num_key(v)) for _, a, v in flat}) == len({a for _, a, _ in flat}) and eq.symmetric:
        return ", ".join(f"everyone {a} = {val(v)}" for a, v in next(iter(eq.path.values())).items())
    return ", ".join(f"{p}.{a} = {val(v)}" for p, a, v in flat)


@dataclass(frozen=True)
class Outcome:
    """What one side plays at one point, as the solver found it."""

    keys: frozenset
    text: str
    symmetric_pure: frozenset | None
    selected: dict[str, Any] | None
    error: str | None = None


def outcome_of(sol: Solution, game: GameIR) -> Outcome:
    keys = frozenset(equilibrium_key(e) for e in sol.equilibria)
    texts = [describe_equilibrium(e) for e in sol.equilibria]
    text = " | ".join(texts) if texts else "no equilibrium found"
    sym = None
    if game.symmetric and len({a.name for a in game.actions}) == 1:
        act = game.actions[0].name
        sym = frozenset(num_key(next(iter(e.path.values()))[act]) for e in sol.equilibria if e.is_pure and e.symmetric)
    selected: dict[str, Any] | None = None
    ans = sol.answer
    if ans is not None and ans.is_pure:
        selected = {}
        for p, acts in ans.path.items():
            for a, v in acts.items():
                key = a if game.symmetric else f"{p}.{a}"
                selected.setdefault(key, num_key(v))
    return Outcome(keys, text, sym, selected)


def status_of(a: Outcome, b: Outcome) -> str:
    """``same``, ``overlap`` or ``differ`` for two sets of equilibria (``error`` if a side failed).

    Args:
        a: The first side's outcome.
        b: The second side's outcome.
    """
    if a.error or b.error:
        return "error"
    if a.keys == b.keys:
        return "same"
    return "overlap" if a.keys & b.keys else "differ"
