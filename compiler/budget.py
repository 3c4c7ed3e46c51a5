"""Early refusal of huge work: estimates of what solving and compiling a spec will cost, checked
against limits before any of it starts.

Everything here is arithmetic on the IR (parameter sweeps, action domains, stage structure) and on
the builds' sizes; nothing is solved or enumerated, so an estimate takes milliseconds whatever the
spec asks for. A refusal is a located E0501 diagnostic that states the estimate and the limit;
``--allow-large`` (``allow_large=True`` in Python) lifts the limits for users who mean it.

What is estimated, per game:

- **parameter points**: the product of the number of values of every parameter;
- **move sequences** at one point: the nodes of the game tree over its finite actions (a stage of
  simultaneous moves counts the product of the movers' options; a symmetric group counts the
  own-versus-others matrix the solver builds, options squared);
- **solver steps** of a compile: parameter points x preference points x move sequences x stages,
  summed over the games of every build;
- **rows**: dataset rows (samples x preference points, x games with ``per game``) plus rubric items;
- **numeric range**: in a game with a continuous action, ``exp(...)`` arguments and powers bounded
  by interval arithmetic over the parameters' values and the actions' domains; an ``exp`` beyond
  e^709 or a power beyond 10^300 leaves floating point and is refused (a finite game is evaluated
  exactly at finitely many profiles, and the solver refuses a non-finite payoff itself). Interval
  bounds can be loose, so this errs on the side of refusing; ``--allow-large`` overrides it too.

:func:`check_rounds` bounds the rounds of a simulation.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from fractions import Fraction

from prefc.compiler.check import CheckedBuild, CheckedGame, CheckedSpec
from prefc.compiler.diagnostics import CompileError, Diagnostic
from prefc.compiler.ir import GameIR, SpecIR
from prefc.compiler.ranges import Ranges
from prefc.compiler.source import Span
from prefc.errors import WorkTooLarge

__all__ = [
    "Limits",
    "LIMITS",
    "Estimate",
    "WorkRefused",
    "estimate_game",
    "estimate_spec",
    "check_spec",
    "check_game",
    "check_rounds",
]

# The solver refuses a finite decision with more options than this (compiler/solve); larger counts
# cost nothing more, so estimates cap an action's options here.
SOLVER_OPTIONS = 200


@dataclass(frozen=True)
class Limits:
    """The most work a command starts without ``--allow-large``.

    Attributes:
        parameter_points: Parameter points of one game.
        sequences: Move sequences (game-tree nodes) of one game at one parameter point.
        options: Options of one finite action at one point (the IR enumerates at most 10,000).
        solver_steps: Points x preference points x sequences x stages over a whole compile.
        rows: Dataset rows and rubric items of one compile.
        rounds: Rounds of one simulation.
    """

    parameter_points: int = 100_000
    sequences: int = 1_000_000
    options: int = 10_000
    solver_steps: int = 2_000_000
    rows: int = 1_000_000
    rounds: int = 100_000


LIMITS = Limits()


class WorkRefused(CompileError, WorkTooLarge):
    """Work refused before it started: E0501 diagnostics with the estimate and the limit."""


@dataclass
class Estimate:
    """The estimated work of one game (or of a whole compile when summed).

    Attributes:
        game: The game's name.
        points: Parameter points.
        sequences: Move sequences at the worst parameter point.
        stages: Stages.
        widest: (action, options) of the finite action with the most options, if any.
        shape: A few words on how ``sequences`` was counted.
        findings: Numeric-range problems: (span, message, label).
    """

    game: str
    points: int
    sequences: int
    stages: int
    widest: tuple[str, int] | None = None
    shape: str = ""
    findings: list[tuple[Span, str, str]] = field(default_factory=list)


# ----------------------------------------------------------------------------- estimates


def estimate_game(game: GameIR, values: dict[str, Fraction] | None = None) -> Estimate:
    """The work of solving one game: its parameter points and its move sequences per point.

    Args:
        game: The game's IR.
        values: Fix these parameters (``prefc solve --set``): the estimate is then for that point.
    """
    ranges = Ranges(game, values)
    points = 1
    for name, p in game.params.items():
        points *= 1 if values and name in values else len(p.values)
    ranges.scan()
    if all(a.finite for a in game.actions):
        # finite games are evaluated exactly at finitely many profiles, and the solver refuses a
        # non-finite payoff itself (a located error); only continuous actions run away with it
        ranges.findings.clear()
    infos = {(i.owner, i.name): i for i in game.checked.actions.values()}
    per_stage: list[int] = []
    widest: tuple[str, int] | None = None
    for stage in range(game.n_stages):
        product = 1
        for act in game.movers(stage):
            info = infos.get((act.owner, act.name))
            if info is None or not act.finite:
                continue
            count = ranges.options(info)
            if count is None:
                continue
            if widest is None or count > widest[1]:
                widest = (act.name, count)
            count = min(count, SOLVER_OPTIONS)
            if game.group is not None:
                count = count * count  # the own-versus-others matrix of a symmetric group
            product *= max(1, count)
        per_stage.append(product)
    sequences, reach = 0, 1
    for product in per_stage:
        reach *= product
        sequences += reach
    sequences = max(1, sequences)
    shape = (f"{game.n_stages} stages" if game.n_stages > 1 else "one stage") + (
        f", up to {widest[1]:,} options an action" if widest else ""
    )
    return Estimate(game.name, points, sequences, game.n_stages, widest, shape, ranges.findings)


def _build_rows(build: CheckedBuild, samples: int | None) -> int:
    if build.kind == "rubric":
        return build.ast.items or 100
    per = samples or build.ast.samples or 100
    units = len(build.games) if build.ast.samples_per == "game" else 1
    return per * max(1, len(build.preferences)) * max(1, units)


@dataclass
class SpecEstimate:
    """The work of compiling a spec.

    Attributes:
        games: Per-game estimates, for the games the builds use.
        solver_steps: Points x preference points x sequences x stages, summed.
        rows: Dataset rows plus rubric items.
        per_build_rows: Build name -> rows.
    """

    games: dict[str, Estimate]
    solver_steps: int
    rows: int
    per_build_rows: dict[str, int]


def estimate_spec(ir: SpecIR, *, samples: int | None = None, builds: Iterable[str] | None = None) -> SpecEstimate:
    """The work of compiling a spec's builds.

    Args:
        ir: The spec's IR.
        samples: Overrides every dataset's ``samples`` (as ``prefc compile --samples`` does).
        builds: Only these builds (default: every build).
    """
    spec: CheckedSpec = ir.spec
    chosen = [b for n, b in spec.builds.items() if builds is None or n in set(builds)]
    prefs_of: dict[str, set[str]] = {}
    for b in chosen:
        for g in b.games:
            prefs_of.setdefault(g, set()).update(p.label for p in b.preferences)
    games = {g: estimate_game(ir.games[g]) for g in prefs_of if g in ir.games}
    steps = sum(e.points * max(1, len(prefs_of[g])) * e.sequences * e.stages for g, e in games.items())
    per_build = {b.name: _build_rows(b, samples) for b in chosen}
    return SpecEstimate(games, steps, sum(per_build.values()), per_build)


# ----------------------------------------------------------------------------- refusals


def _n(value: int) -> str:
    return f"{value:,}" if value < 10**15 else f"about 10^{len(str(value)) - 1}"


_OVERRIDE = "pass --allow-large (allow_large=True in Python) to run it anyway"


def _game_diagnostics(estimate: Estimate, game: CheckedGame, limits: Limits) -> list[Diagnostic]:
    out: list[Diagnostic] = []
    where = game.ast.name.span
    if estimate.points > limits.parameter_points:
        sweeps = [
            f"{p.name.name} ({len(p.sweep.points()) if p.sweep else 1})" for p in game.ast.params if p.sweep is not None
        ]
        out.append(
            Diagnostic(
                "E0501",
                f"game `{game.name}` has {_n(estimate.points)} parameter points; "
                f"the limit is {limits.parameter_points:,}",
                where,
                label="the product of its sweeps: " + " x ".join(sweeps) if sweeps else "",
                hint=f"sweep fewer values, or {_OVERRIDE}",
            )
        )
    if estimate.widest is not None and estimate.widest[1] > limits.options:
        out.append(
            Diagnostic(
                "E0501",
                f"action `{estimate.widest[0]}` of game `{game.name}` has up to "
                f"{_n(estimate.widest[1])} options; the limit is {limits.options:,}",
                where,
                hint=f"use a `step` or a continuous domain `[lo, hi]`, or {_OVERRIDE}",
            )
        )
    if estimate.sequences > limits.sequences:
        out.append(
            Diagnostic(
                "E0501",
                f"game `{game.name}` has about {_n(estimate.sequences)} move sequences to "
                f"search at one parameter point ({estimate.shape}); the limit is "
                f"{limits.sequences:,}",
                where,
                hint=f"use fewer stages or options, or {_OVERRIDE}",
            )
        )
    for span, message, label in estimate.findings:
        out.append(
            Diagnostic(
                "E0501",
                message,
                span,
                label=label,
                hint=f"rescale the expression (smaller coefficients or domains), or {_OVERRIDE}",
            )
        )
    return out


def check_spec(
    ir: SpecIR, *, samples: int | None = None, allow_large: bool = False, limits: Limits = LIMITS
) -> SpecEstimate:
    """Estimate a compile and refuse it when an estimate is above its limit.

    Args:
        ir: The spec's IR.
        samples: Overrides every dataset's ``samples`` (``prefc compile --samples``).
        allow_large: Return the estimate without refusing.
        limits: The limits.

    Raises:
        WorkRefused: E0501 diagnostics, each with the estimate and the limit.
    """
    est = estimate_spec(ir, samples=samples)
    if allow_large:
        return est
    spec = ir.spec
    diags: list[Diagnostic] = []
    for name, e in est.games.items():
        diags.extend(_game_diagnostics(e, spec.games[name], limits))
    if not diags and est.solver_steps > limits.solver_steps:
        worst = max(est.games.values(), key=lambda e: e.points * e.sequences * e.stages)
        first = next(b for b in spec.builds.values() if worst.game in b.games)
        diags.append(
            Diagnostic(
                "E0501",
                f"compiling needs about {_n(est.solver_steps)} solver steps "
                f"(parameter points x preference points x move sequences x stages); the limit is "
                f"{limits.solver_steps:,}",
                first.ast.name.span,
                label=f"game `{worst.game}`: {_n(worst.points)} points x {_n(worst.sequences)} sequences",
                hint=f"sweep fewer values or compare fewer preferences, or {_OVERRIDE}",
            )
        )
    if est.rows > limits.rows:
        name, rows = max(est.per_build_rows.items(), key=lambda kv: kv[1])
        build = spec.builds[name]
        key = "items" if build.kind == "rubric" else "samples"
        span = build.ast.settings_spans.get(key, build.ast.name.span)
        detail = (
            f"{_n(rows)} items"
            if build.kind == "rubric"
            else f"{_n(rows)} rows: {_n(build.ast.samples or 100)} samples x {len(build.preferences)} "
            "preference point(s)" + (f" x {len(build.games)} games" if build.ast.samples_per == "game" else "")
        )
        diags.append(
            Diagnostic(
                "E0501",
                f"this compile writes {_n(est.rows)} rows and items; the limit is {limits.rows:,}",
                span,
                label=f"{build.kind} `{name}`: {detail}",
                hint=f"ask for fewer, or {_OVERRIDE}",
            )
        )
    if diags:
        raise WorkRefused(diags, spec.sources)
    return est


def check_game(
    game: GameIR,
    values: dict[str, Fraction] | None = None,
    *,
    allow_large: bool = False,
    limits: Limits = LIMITS,
    sources=None,
) -> Estimate:
    """Estimate solving one game at one parameter point and refuse it above the limits.

    Args:
        game: The game's IR.
        values: The parameter values given (the rest take their defaults).
        allow_large: Return the estimate without refusing.
        limits: The limits.
        sources: Source files by path, for the diagnostics' source lines.

    Raises:
        WorkRefused: E0501 diagnostics.
    """
    fixed = {name: p.default for name, p in game.params.items()}
    fixed.update(values or {})
    est = estimate_game(game, fixed)
    if allow_large:
        return est
    diags = _game_diagnostics(est, game.checked, limits)
    if diags:
        raise WorkRefused(diags, sources)
    return est


def check_rounds(
    rounds: int | None, *, allow_large: bool = False, limits: Limits = LIMITS, source: str | None = None
) -> None:
    """Refuse a simulation of more rounds than the limit.

    Args:
        rounds: The rounds asked for (None: the default, always allowed).
        allow_large: Do not refuse.
        limits: The limits.
        source: Who asked for them, when not the caller (e.g. a game's ``repeat`` setting).

    Raises:
        WorkTooLarge: Above the limit.
    """
    if rounds is None or allow_large:
        return
    if rounds > limits.rounds:
        by = f" (by {source})" if source else ""
        raise WorkTooLarge(
            f"{_n(rounds)} rounds asked for{by}; the limit is {limits.rounds:,}: "
            "pass --allow-large (allow_large=True in Python) to play them anyway, "
            "or fewer with --rounds"
        )
