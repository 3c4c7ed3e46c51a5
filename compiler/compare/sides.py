"""The two sides of a comparison (a game played by a preference, some parameters free) and the grid
they are compared on."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field
from fractions import Fraction

from prefc.compiler.check import CheckedPreference, PreferencePoint
from prefc.compiler.ir import GameIR
from prefc.numbers import fraction_text

DEFAULT_STEPS = 20
"""Intervals in the grid over a free preference parameter (21 points)."""


class DiffError(ValueError):
    """Two sides that cannot be compared (the message says why)."""


# ----------------------------------------------------------------------------- sides


@dataclass(frozen=True)
class Side:
    """One side of a comparison: a game played by a preference.

    Attributes:
        name: How the side is called in reports (a preference label, or a spec's name).
        game: The game's IR.
        pref: The checked preference.
        fixed: Preference parameters with a value.
        free: Preference parameters swept over their domain.
        spec: The spec's name (for reports).
    """

    name: str
    game: GameIR
    pref: CheckedPreference
    fixed: tuple[tuple[str, Fraction], ...] = ()
    free: tuple[str, ...] = ()
    spec: str = ""

    @property
    def label(self) -> str:
        """The preference as written, free parameters marked: ``moralis`` or ``moralis(kappa=1/2)``."""
        fixed = dict(self.fixed)
        if not self.free:
            return PreferencePoint(self.pref.name, tuple(fixed.items())).label
        if not fixed:
            return self.pref.name
        given = PreferencePoint(self.pref.name, tuple(fixed.items())).label
        return f"{given[:-1]}; {', '.join(self.free)} free)"

    def values(self, free_values: dict[str, Fraction]) -> PreferencePoint:
        """The preference point at given values of the free parameters.

        Args:
            free_values: A value for every free parameter (extra names are ignored).
        """
        fixed = dict(self.fixed)
        out = []
        for k, default in self.pref.defaults.items():
            if k in self.free:
                out.append((k, Fraction(free_values[k])))
            elif k in fixed:
                out.append((k, Fraction(fixed[k])))
            elif default is not None:
                out.append((k, Fraction(default)))
            else:
                raise DiffError(f"preference `{self.pref.name}` needs a value for `{k}`")
        return PreferencePoint(self.pref.name, tuple(out))


def make_side(
    game: GameIR,
    pref: CheckedPreference,
    *,
    fixed: dict[str, Fraction] | None = None,
    free: Sequence[str] | None = None,
    name: str | None = None,
    spec: str = "",
) -> Side:
    """Build a side, checking the free parameters.

    Args:
        game: The game's IR.
        pref: The checked preference.
        fixed: Parameters with a value.
        free: Parameters to sweep (default: none). Each needs a declared domain.
        name: Display name (default: the preference label).
        spec: The spec's name.

    Raises:
        DiffError: A free parameter without a domain, or one that is also fixed.
    """
    fixed = {k: Fraction(v) for k, v in (fixed or {}).items()}
    free_t = tuple(free or ())
    for k in free_t:
        if k in fixed:
            raise DiffError(f"parameter `{k}` of `{pref.name}` is both fixed and free")
        if k not in pref.defaults:
            raise DiffError(f"preference `{pref.name}` has no parameter `{k}`")
        if pref.domains.get(k) is None:
            raise DiffError(f"parameter `{k}` of `{pref.name}` has no domain to sweep; give it a value")
    side = Side(name or "", game, pref, tuple(fixed.items()), free_t, spec)
    if not name:
        side = Side(side.label, game, pref, side.fixed, free_t, spec)
    return side


# ----------------------------------------------------------------------------- the grid


@dataclass
class Grid:
    """The points a comparison is evaluated at.

    Attributes:
        axes: Swept game parameters and their values (shared coordinates).
        shared: Game parameters that are constant and equal on both sides (they stay symbols in
            the closed forms).
        own: Per side, game parameters fixed at that side's own value (substituted in its closed form).
        free: Free preference parameters and their grid values.
        domains: The free parameters' domains.
    """

    axes: dict[str, list[Fraction]]
    shared: dict[str, Fraction]
    own: tuple[dict[str, Fraction], dict[str, Fraction]]
    free: dict[str, list[Fraction]]
    domains: dict[str, tuple[Fraction, Fraction]]
    notes: list[str] = field(default_factory=list)

    def game_points(self) -> list[dict[str, Fraction]]:
        """Every combination of the swept game parameters."""
        names = list(self.axes)
        return [dict(zip(names, combo, strict=False)) for combo in itertools.product(*(self.axes[n] for n in names))]

    def free_points(self) -> list[dict[str, Fraction]]:
        """Every combination of the free preference parameters (one empty point when none)."""
        names = list(self.free)
        return [dict(zip(names, combo, strict=False)) for combo in itertools.product(*(self.free[n] for n in names))]


def build_grid(a: Side, b: Side, *, steps: int = DEFAULT_STEPS) -> Grid:
    """The grid of a comparison: swept game parameters, shared constants, free preference parameters.

    Args:
        a: The first side.
        b: The second side.
        steps: Intervals in the grid over each free preference parameter.

    Raises:
        DiffError: ``steps`` below 1, or a free parameter whose domains differ between the sides.
    """
    if steps < 1:
        raise DiffError("the grid needs at least one step")
    pa, pb = a.game.params, b.game.params
    axes: dict[str, list[Fraction]] = {}
    shared: dict[str, Fraction] = {}
    own: tuple[dict[str, Fraction], dict[str, Fraction]] = ({}, {})
    notes: list[str] = []
    for name in list(pa) + [n for n in pb if n not in pa]:
        in_a, in_b = name in pa, name in pb
        swept = (in_a and pa[name].sweep) or (in_b and pb[name].sweep)
        if swept:
            vals = set(pa[name].sweep if in_a and pa[name].sweep else ())
            vals |= set(pb[name].sweep if in_b and pb[name].sweep else ())
            if in_a and not pa[name].sweep:
                vals.add(pa[name].default)
            if in_b and not pb[name].sweep:
                vals.add(pb[name].default)
            axes[name] = sorted(vals)
        elif in_a and in_b and pa[name].default == pb[name].default:
            shared[name] = pa[name].default
        else:
            if in_a:
                own[0][name] = pa[name].default
            if in_b:
                own[1][name] = pb[name].default
            if in_a and in_b:
                notes.append(
                    f"{name} = {fraction_text(pa[name].default)} for {a.name}, "
                    f"{fraction_text(pb[name].default)} for {b.name}"
                )
            else:
                notes.append(
                    f"{name} exists only for {a.name if in_a else b.name} "
                    f"(= {fraction_text((pa if in_a else pb)[name].default)})"
                )
    free: dict[str, list[Fraction]] = {}
    domains: dict[str, tuple[Fraction, Fraction]] = {}
    for side in (a, b):
        for k in side.free:
            dom = side.pref.domains[k]
            assert dom is not None
            lo, hi = Fraction(dom[0]), Fraction(dom[1])
            if k in domains and domains[k] != (lo, hi):
                raise DiffError(
                    f"free parameter `{k}` has domain [{fraction_text(domains[k][0])}, {fraction_text(domains[k][1])}] "
                    f"on one side and [{fraction_text(lo)}, {fraction_text(hi)}] on the other"
                )
            domains[k] = (lo, hi)
            free[k] = [lo + (hi - lo) * i / steps for i in range(steps + 1)] if hi > lo else [lo]
    clash = set(free) & (set(pa) | set(pb))
    if clash:
        raise DiffError(
            f"`{sorted(clash)[0]}` names both a game parameter and a free preference parameter; "
            "give the preference parameter a value"
        )
    return Grid(axes, shared, own, free, domains, notes)
