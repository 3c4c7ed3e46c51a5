"""Random games written as a user would write them, for differential tests and
``bench/solver_differential.py``: finite games of two and three roles (with distinct or shared action
names), symmetric games, quadratic continuous duopolies and two-stage sequential games, each as
``.pref`` text together with the numbers an independent reference needs."""

from __future__ import annotations

import random
from dataclasses import dataclass


@dataclass
class FiniteGame:
    """A finite simultaneous game: the spec text and every player's payoff tensor.

    Attributes:
        text: The ``.pref`` source (one game called ``g``).
        payoffs: ``payoffs[i][profile]`` for player i, profile a tuple of option indices.
        sizes: Options per player.
        roles: The roles' names.
    """

    text: str
    payoffs: list[dict[tuple[int, ...], int]]
    sizes: list[int]
    roles: list[str]


def finite_game(
    rng: random.Random,
    *,
    players: int = 2,
    shared: bool = False,
    sizes: list[int] | None = None,
    low: int = -5,
    high: int = 5,
) -> FiniteGame:
    """A random finite game of distinct roles (not declared symmetric).

    Args:
        rng: The random source.
        players: How many roles (2 or 3).
        shared: Every role names its action ``move`` (the natural way to write many games).
        sizes: Options per role (default: 2 to 4 each; shared names use one label set).
        low: Smallest payoff.
        high: Largest payoff.
    """
    roles = ["row", "col", "third"][:players]
    if sizes is None:
        sizes = [rng.randint(2, 4) for _ in roles]
    if shared:
        sizes = [sizes[0]] * players
    actions = ["move" if shared else f"a{i}" for i in range(players)]
    labels = [
        [f"x{j}" for j in range(sizes[i])] if shared else [f"o{i}_{j}" for j in range(sizes[i])] for i in range(players)
    ]
    lines = ["spec rand", 'use "preferences.pref"', "game g {", f"    players {', '.join(roles)}"]
    if shared:
        lines.append(f"    each player chooses move in {{{', '.join(labels[0])}}}")
    else:
        for i, r in enumerate(roles):
            lines.append(f"    {r} chooses {actions[i]} in {{{', '.join(labels[i])}}}")
    keys = ", ".join(f"{r}.{a}" for r, a in zip(roles, actions, strict=False))
    payoffs: list[dict[tuple[int, ...], int]] = [{} for _ in roles]
    profiles = [()]
    for s in sizes:
        profiles = [p + (j,) for p in profiles for j in range(s)]
    for i, r in enumerate(roles):
        rows = []
        for prof in profiles:
            v = rng.randint(low, high)
            payoffs[i][prof] = v
            rows.append(", ".join(labels[k][j] for k, j in enumerate(prof)) + f": {v}")
        lines.append(f"    payoff {r} = table({keys}) {{ " + "; ".join(rows) + " }")
    lines.append("}")
    return FiniteGame("\n".join(lines) + "\n", payoffs, sizes, roles)


def symmetric_game(rng: random.Random, *, size: int = 2, low: int = -5, high: int = 5) -> tuple[str, list[list[int]]]:
    """A random symmetric two-player game ``A[own][other]`` written with ``players a, b symmetric``.

    Args:
        rng: The random source.
        size: Options.
        low: Smallest payoff.
        high: Largest payoff.
    """
    labels = [f"s{j}" for j in range(size)]
    A = [[rng.randint(low, high) for _ in range(size)] for _ in range(size)]
    rows = "; ".join(f"{labels[i]}, {labels[j]}: {A[i][j]}" for i in range(size) for j in range(size))
    text = (
        f'spec rand\nuse "preferences.pref"\ngame g {{\n    players a, b symmetric\n'
        f"    each player chooses move in {{{', '.join(labels)}}}\n"
        f"    payoff a = table(a.move, b.move) {{ {rows} }}\n}}\n"
    )
    return text, A


@dataclass
class Duopoly:
    """A quadratic duopoly ``u_i = a_i q_i - b_i q_i^2 - c_i q_i q_j`` on ``[0, cap]``."""

    text: str
    a: tuple[int, int]
    b: tuple[int, int]
    c: tuple[int, int]
    cap: int


def duopoly(rng: random.Random) -> Duopoly:
    """A random quadratic duopoly of two firms with their own parameters (bounds that may bind).

    Args:
        rng: The random source.
    """
    a = (rng.randint(-2, 12), rng.randint(-2, 12))
    b = (rng.randint(1, 3), rng.randint(1, 3))
    c = (rng.randint(0, 2), rng.randint(0, 2))
    cap = rng.randint(1, 4)
    text = (
        f'spec rand\nuse "preferences.pref"\ngame g {{\n    players f1, f2\n'
        f"    param a1 = {a[0]}, a2 = {a[1]}, b1 = {b[0]}, b2 = {b[1]}, c1 = {c[0]}, c2 = {c[1]}, cap = {cap}\n"
        f"    f1 chooses q in [0, cap]\n    f2 chooses q in [0, cap]\n"
        f"    payoff f1 = a1 * f1.q - b1 * f1.q ^ 2 - c1 * f1.q * f2.q\n"
        f"    payoff f2 = a2 * f2.q - b2 * f2.q ^ 2 - c2 * f1.q * f2.q\n}}\n"
    )
    return Duopoly(text, a, b, c, cap)


@dataclass
class TwoStage:
    """A two-stage finite game: the leader picks one of ``k1`` options, the follower sees it and picks
    one of ``k2``; ``payoffs[i][(x, y)]``."""

    text: str
    payoffs: list[dict[tuple[int, int], int]]
    k1: int
    k2: int


def two_stage(rng: random.Random, *, low: int = -5, high: int = 5) -> TwoStage:
    """A random two-stage game whose movers both call their action ``m``.

    Args:
        rng: The random source.
        low: Smallest payoff.
        high: Largest payoff.
    """
    k1, k2 = rng.randint(2, 4), rng.randint(2, 4)
    payoffs: list[dict[tuple[int, int], int]] = [{}, {}]
    lines = [
        "spec rand",
        'use "preferences.pref"',
        "game g {",
        "    players leader, follower",
        "    leader chooses m in 0.." + str(k1 - 1),
        "    then follower sees leader.m and chooses m in 0.." + str(k2 - 1),
    ]
    for i, r in enumerate(("leader", "follower")):
        terms = []
        for x in range(k1):
            for y in range(k2):
                v = rng.randint(low, high)
                payoffs[i][(x, y)] = v
                terms.append((x, y, v))
        expr = "0"
        for x, y, v in reversed(terms):
            expr = f"(if leader.m == {x} and follower.m == {y} then {v} else {expr})"
        lines.append(f"    payoff {r} = {expr}")
    lines.append("}")
    return TwoStage("\n".join(lines) + "\n", payoffs, k1, k2)
