"""Comparisons of whole specs: which (game, preference) pairs to compare, and the result of all of them."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from prefc.compiler.check import PreferencePoint
from prefc.compiler.compare.game import GameDiff, compare, overall_status
from prefc.compiler.compare.sides import DEFAULT_STEPS, DiffError, Side, build_grid, make_side
from prefc.compiler.ir import BoundPreference
from prefc.compiler.solve import GameSolver, SolveError

# ----------------------------------------------------------------------------- whole specs


@dataclass(frozen=True)
class PreferenceChoice:
    """A preference as chosen on the command line: fixed parameter values and free ones.

    Attributes:
        name: The preference's name.
        fixed: Parameters given a value.
        free: Parameters swept over their domain.
    """

    name: str
    fixed: tuple[tuple[str, Fraction], ...] = ()
    free: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        """``moralis``, ``moralis(kappa=1/2)`` or ``inequity(alpha=1; beta free)``."""
        fixed = dict(self.fixed)
        if not self.free or not fixed:
            return PreferencePoint(self.name, tuple(fixed.items())).label
        return f"{PreferencePoint(self.name, tuple(fixed.items())).label[:-1]}; {', '.join(self.free)} free)"

    @classmethod
    def from_point(cls, point: PreferencePoint) -> PreferenceChoice:
        """Every parameter fixed at the point's values.

        Args:
            point: A preference point.
        """
        return cls(point.name, tuple(point.values))


@dataclass
class SpecDiff:
    """A whole comparison: every game (and preference) compared.

    Attributes:
        kind: ``specs`` (two specs) or ``preferences`` (one spec, two preferences).
        inputs: Each input's path, spec name and sha256.
        games: One entry per compared (game, preference pair).
        skipped: Games that could not be compared, with the reason.
    """

    kind: str
    inputs: list[dict[str, Any]]
    games: list[GameDiff]
    skipped: list[dict[str, str]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        """``diff.json`` for a spec or preference diff."""
        return {
            "kind": self.kind,
            "inputs": self.inputs,
            "summary": {
                "compared": len(self.games),
                "differ": sum(1 for g in self.games if overall_status(g.counts) in ("differ", "overlap")),
                "agree": all(g.agreement.get("agree", True) for g in self.games),
            },
            "skipped": self.skipped,
            "games": [g.to_json() for g in self.games],
        }


def _side_for(ir, game: str, choice: PreferenceChoice, name: str, spec_name: str) -> Side:
    return make_side(
        ir.games[game],
        ir.spec.preferences[choice.name],
        fixed=dict(choice.fixed),
        free=choice.free,
        name=name,
        spec=spec_name,
    )


def total_points(pairs: Sequence[tuple[Side, Side]], *, steps: int = DEFAULT_STEPS) -> int:
    """How many grid points the comparisons will evaluate (for a progress bar).

    Args:
        pairs: The sides to compare.
        steps: Intervals per free preference parameter.
    """
    total = 0
    for a, b in pairs:
        try:
            g = build_grid(a, b, steps=steps)
        except DiffError:
            continue
        total += len(g.game_points()) * len(g.free_points())
    return total


def preference_pairs(
    ir, first: PreferenceChoice, second: PreferenceChoice, *, games: Sequence[str] | None = None
) -> list[tuple[Side, Side]]:
    """The sides of a preference diff: every (chosen) game of one spec, played by two preferences.

    Args:
        ir: The spec's IR (:class:`prefc.compiler.ir.SpecIR`).
        first: The first preference.
        second: The second preference.
        games: Games to compare (default: all).

    Raises:
        DiffError: Both preferences are the same.
    """
    if first == second:
        raise DiffError(f"both sides are `{first.label}`; give two different preferences")
    names = list(games) if games else list(ir.games)
    return [
        (_side_for(ir, g, first, first.label, ir.spec.name), _side_for(ir, g, second, second.label, ir.spec.name))
        for g in names
    ]


def spec_pairs(
    ir_a, ir_b, choices: Sequence[PreferenceChoice], *, names: tuple[str, str], games: Sequence[str] | None = None
) -> list[tuple[Side, Side]]:
    """The sides of a spec diff: every game both specs have, for every preference choice.

    Args:
        ir_a: The first spec's IR.
        ir_b: The second spec's IR.
        choices: The preferences to compare (each must exist in both specs).
        names: How the two specs are called in reports.
        games: Games to compare (default: every game both have).

    Raises:
        DiffError: No shared game, a chosen game missing from a spec, or a preference missing.
    """
    shared = [g for g in ir_a.games if g in ir_b.games]
    if not shared:
        raise DiffError(
            f"the specs share no game: {names[0]} has {', '.join(ir_a.games) or 'none'}; "
            f"{names[1]} has {', '.join(ir_b.games) or 'none'}"
        )
    if games:
        for g in games:
            if g not in shared:
                where = names[0] if g not in ir_a.games else names[1]
                raise DiffError(f"game `{g}` is not in {where}; shared games: {', '.join(shared)}")
        shared = [g for g in shared if g in games]
    if not choices:
        raise DiffError(
            "no preference to compare: the specs' dataset and rubric blocks name none that both "
            "declare; give --preference"
        )
    pairs = []
    for g in shared:
        for c in choices:
            for ir, n in ((ir_a, names[0]), (ir_b, names[1])):
                if c.name not in ir.spec.preferences:
                    raise DiffError(f"preference `{c.name}` is not declared in {n}")
            pairs.append(
                (_side_for(ir_a, g, c, names[0], ir_a.spec.name), _side_for(ir_b, g, c, names[1], ir_b.spec.name))
            )
    return pairs


def build_points(*specs) -> list[PreferenceChoice]:
    """The preference points the specs' dataset and rubric blocks name, whose preference every spec
    declares (in order of first mention, without repeats).

    Args:
        specs: Checked specs.
    """
    out: list[PreferenceChoice] = []
    for spec in specs:
        for build in spec.builds.values():
            for point in build.preferences:
                choice = PreferenceChoice.from_point(point)
                if choice not in out and all(point.name in s.preferences for s in specs):
                    out.append(choice)
    return out


def diff_pairs(
    kind: str,
    inputs: list[dict[str, Any]],
    pairs: Sequence[tuple[Side, Side]],
    *,
    steps: int = DEFAULT_STEPS,
    progress: Callable[[int], None] | None = None,
) -> SpecDiff:
    """Compare every pair of sides.

    Args:
        kind: ``specs`` or ``preferences``.
        inputs: The inputs' descriptions (path, spec, sha256) for the report.
        pairs: The sides to compare.
        steps: Intervals per free preference parameter.
        progress: Called with the number of grid points just evaluated.
    """
    games: list[GameDiff] = []
    skipped: list[dict[str, str]] = []
    for a, b in pairs:
        reason = None
        for side in (a, b):
            try:
                GameSolver(
                    side.game,
                    BoundPreference(
                        side.values(
                            {
                                k: side.pref.domains[k][0]  # type: ignore[index]
                                for k in side.free
                            }
                        ),
                        side.pref,
                    ),
                )
            except SolveError as exc:
                reason = f"{side.name}: {exc}"
                break
        if reason is not None:
            skipped.append({"game": a.game.name, "preference": a.label, "reason": reason})
            continue
        d = compare(a, b, steps=steps, progress=progress)
        errors = [p for p in d.points if p.status == "error"]
        if errors and len(errors) == len(d.points):
            d.error = "no grid point could be solved"
        games.append(d)
    return SpecDiff(kind, inputs, games, skipped)
