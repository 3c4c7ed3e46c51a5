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

import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from fractions import Fraction

from prefc.compiler import ast
from prefc.compiler.check import CheckedBuild, CheckedGame, CheckedSpec
from prefc.compiler.diagnostics import CompileError, Diagnostic
from prefc.compiler.ir import GameIR, SpecIR
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
# Beyond these, floating point overflows: exp(709.8) and 1.8e308.
MAX_EXP_ARGUMENT = 709.0
MAX_LOG10 = 300.0


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


# ----------------------------------------------------------------------------- intervals

Interval = tuple[float, float]
_ANY: Interval = (-math.inf, math.inf)


def _finite(iv: Interval) -> bool:
    return math.isfinite(iv[0]) and math.isfinite(iv[1])


def _mul(a: Interval, b: Interval) -> Interval:
    products = []
    for x in a:
        for y in b:
            if (x == 0 and math.isinf(y)) or (y == 0 and math.isinf(x)):
                products.append(0.0)
            else:
                products.append(x * y)
    return min(products), max(products)


def _exp(x: float) -> float:
    try:
        return math.exp(x)
    except OverflowError:
        return math.inf


class _Ranges:
    """Interval evaluation of a game's expressions over every value its parameters and actions
    can take; records ``exp`` arguments and powers that leave floating point."""

    def __init__(self, game: GameIR, values: dict[str, Fraction] | None = None):
        self.game = game
        self.checked: CheckedGame = game.checked
        self.params: dict[str, Interval] = {
            n: (float(min(p.values)), float(max(p.values))) for n, p in game.params.items()
        }
        for name, value in (values or {}).items():
            if name in self.params:
                self.params[name] = (float(value), float(value))
        self.findings: list[tuple[Span, str, str]] = []
        self._seen_spans: set[tuple[int, int, str]] = set()
        self._lets: dict[tuple, Interval] = {}
        self._actions: dict[str, Interval] = {}
        self._busy: set[str] = set()
        self.group_size: Interval = (1.0, 1.0)
        self.group_index: Interval = (1.0, 1.0)
        group = self.checked.group
        if group is not None and group.lo is not None and group.hi is not None:
            lo, hi = self.expr(group.lo, {}), self.expr(group.hi, {})
            self.group_index = (lo[0], hi[1])
            self.group_size = (max(1.0, hi[0] - lo[1] + 1), max(1.0, hi[1] - lo[0] + 1))

    # -- actions ----------------------------------------------------------------------------
    def action(self, name: str) -> Interval:
        """The range of an action (label actions range over their option numbers)."""
        if name in self._actions:
            return self._actions[name]
        infos = [i for i in self.checked.actions.values() if i.name == name]
        if not infos or name in self._busy:
            return _ANY
        dom = infos[0].domain
        if isinstance(dom, ast.LabelSet):
            iv: Interval = (0.0, float(max(0, len(dom.labels) - 1)))
        else:
            self._busy.add(name)
            iv = (self.expr(dom.lo, {})[0], self.expr(dom.hi, {})[1])
            self._busy.discard(name)
        self._actions[name] = iv
        return iv

    def options(self, info) -> int | None:
        """An upper bound on a finite action's options at any point (None when unbounded)."""
        dom = info.domain
        if isinstance(dom, ast.LabelSet):
            return len(dom.labels)
        if not isinstance(dom, ast.IntRange):
            return None
        lo, hi = self.expr(dom.lo, {}), self.expr(dom.hi, {})
        step = self.expr(dom.step, {}) if dom.step is not None else (1.0, 1.0)
        if not (_finite(lo) and _finite(hi)) or not math.isfinite(step[0]) or step[0] <= 0:
            return None
        span = hi[1] - lo[0]
        if span < 0:
            return 0
        count = span / step[0] + 1
        return int(count) if count < 1e18 else 10**18

    # -- expressions ------------------------------------------------------------------------
    def expr(self, e, local: dict[str, Interval]) -> Interval:  # noqa: C901 - one dispatch over node kinds
        """The interval of an expression.

        Args:
            e: The expression.
            local: Intervals of bound names (helper arguments, member indices).
        """
        if isinstance(e, ast.Number):
            v = float(e.value)
            return v, v
        if isinstance(e, ast.Name):
            if e.id in local:
                return local[e.id]
            if e.id in self.params:
                return self.params[e.id]
            if e.id in self.checked.labels:
                return 0.0, float(len(self.checked.labels))
            if e.id in self.checked.lets:
                return self.let(e.id, ())
            if any(i.name == e.id for i in self.checked.actions.values()):
                return self.action(e.id)
            return _ANY
        if isinstance(e, ast.Attr):
            return self.action(e.attr.name)
        if isinstance(e, ast.Neg):
            lo, hi = self.expr(e.operand, local)
            return -hi, -lo
        if isinstance(e, ast.BinOp):
            a, b = self.expr(e.left, local), self.expr(e.right, local)
            if e.op == "+":
                return a[0] + b[0], a[1] + b[1]
            if e.op == "-":
                return a[0] - b[1], a[1] - b[0]
            if e.op == "*":
                return _mul(a, b)
            if e.op == "/":
                if b[0] <= 0 <= b[1]:
                    return _ANY
                return _mul(a, (1 / b[1], 1 / b[0]))
            if e.op == "^":
                return self.power(e, a, b)
            return _ANY
        if isinstance(e, (ast.Compare, ast.BoolOp, ast.Not)):
            for side in _children(e):
                self.expr(side, local)
            return 0.0, 1.0
        if isinstance(e, ast.IfExpr):
            self.expr(e.cond, local)
            a, b = self.expr(e.then, local), self.expr(e.orelse, local)
            return min(a[0], b[0]), max(a[1], b[1])
        if isinstance(e, ast.Table):
            values = [self.expr(r.value, local) for r in e.rows]
            if not values:
                return _ANY
            return min(v[0] for v in values), max(v[1] for v in values)
        if isinstance(e, ast.Call):
            return self.call(e, local)
        if isinstance(e, ast.Index):
            self.expr(e.index, local)
            return _ANY
        return _ANY

    def call(self, e: ast.Call, local: dict[str, Interval]) -> Interval:
        f = e.func.name
        if f in self.checked.lets:
            return self.let(f, tuple(self.expr(a, local) for a in e.args if not isinstance(a, ast.Binder)))
        if len(e.args) == 1 and isinstance(e.args[0], ast.Binder):
            binder = e.args[0]
            inner = {**local, binder.var.name: self.group_index}
            if binder.where is not None:
                self.expr(binder.where, inner)
            body = self.expr(binder.body, inner)
            if f == "sum":
                return _mul(body, (0.0, self.group_size[1]))
            return body
        args = [self.expr(a, local) for a in e.args if not isinstance(a, ast.Binder)]
        if not args:
            return _ANY
        if f == "sum" and len(args) == 1:
            return _mul(args[0], (0.0, self.group_size[1]))
        if f in ("mean", "min", "max") and len(args) == 1:
            return args[0]
        if f == "min":
            return min(a[0] for a in args), min(a[1] for a in args)
        if f == "max":
            return max(a[0] for a in args), max(a[1] for a in args)
        x = args[0]
        if f == "abs":
            if x[0] >= 0:
                return x
            if x[1] <= 0:
                return -x[1], -x[0]
            return 0.0, max(-x[0], x[1])
        if f == "exp":
            if math.isfinite(x[1]) and x[1] > MAX_EXP_ARGUMENT:
                self._find(
                    e.span,
                    f"`exp(...)` reaches e^{x[1]:,.0f} here, beyond e^{MAX_EXP_ARGUMENT:.0f} "
                    "(the largest a floating-point number holds)",
                    f"its argument ranges up to {x[1]:,.4g}",
                )
            return _exp(x[0]), _exp(x[1])
        if f == "log":
            lo = math.log(x[0]) if x[0] > 0 else -math.inf
            hi = math.log(x[1]) if x[1] > 0 and math.isfinite(x[1]) else (math.inf if x[1] > 0 else -math.inf)
            return lo, hi
        if f == "sqrt":
            return math.sqrt(max(0.0, x[0])) if math.isfinite(x[0]) else 0.0, math.sqrt(
                max(0.0, x[1])
            ) if math.isfinite(x[1]) else math.inf
        return _ANY

    def power(self, e: ast.BinOp, base: Interval, exponent: Interval) -> Interval:
        if not (_finite(base) and _finite(exponent)):
            return _ANY
        biggest = max(abs(base[0]), abs(base[1]))
        reach = max(abs(exponent[0]), abs(exponent[1]))
        if biggest > 1 and reach * math.log10(biggest) > MAX_LOG10:
            self._find(
                e.span,
                f"this power reaches about 10^{reach * math.log10(biggest):,.0f}, beyond "
                f"10^{MAX_LOG10:.0f} (floating point)",
                f"base up to {biggest:,.4g}, exponent up to {reach:,.4g}",
            )
            return _ANY
        smallest = min(abs(base[0]), abs(base[1])) if base[0] * base[1] > 0 else 0.0
        if 0 < smallest < 1 and exponent[0] < 0 and -exponent[0] * -math.log10(smallest) > MAX_LOG10:
            self._find(
                e.span,
                "this power of a small number to a negative exponent leaves floating point",
                f"base down to {smallest:,.4g}, exponent down to {exponent[0]:,.4g}",
            )
            return _ANY
        values = []
        for b in base:
            for x in exponent:
                try:
                    values.append(float(b) ** x if b >= 0 or float(x).is_integer() else math.nan)
                except (OverflowError, ZeroDivisionError):
                    return _ANY
        values = [v if isinstance(v, float) else math.nan for v in values]
        if any(math.isnan(v) for v in values):
            return _ANY
        lo, hi = min(values), max(values)
        if base[0] < 0 < base[1]:
            lo, hi = min(lo, -abs(hi)), max(hi, abs(lo))
        return min(lo, 0.0) if base[0] <= 0 <= base[1] else lo, hi

    def let(self, name: str, args: tuple[Interval, ...]) -> Interval:
        key = (name, args)
        if key in self._lets:
            return self._lets[key]
        if name in self._busy:
            return _ANY
        let = self.checked.lets[name]
        local = {p.name: (args[i] if i < len(args) else _ANY) for i, p in enumerate(let.params)}
        self._busy.add(name)
        try:
            iv = self.expr(let.value, local)
        finally:
            self._busy.discard(name)
        self._lets[key] = iv
        return iv

    def _find(self, span: Span, message: str, label: str) -> None:
        key = (span.start, span.end, span.file)
        if key not in self._seen_spans:
            self._seen_spans.add(key)
            self.findings.append((span, message, label))

    def scan(self) -> None:
        """Evaluate every numeric expression of the game once (payoffs, helpers, bounds, weights)."""
        g = self.checked.ast
        for pay in g.payoffs:
            local = {pay.index_var.name: self.group_index} if pay.index_var is not None else {}
            self.expr(pay.value, local)
        for name in self.checked.lets:
            let = self.checked.lets[name]
            self.let(name, tuple(self.group_index for _ in let.params))
        for info in self.checked.actions.values():
            self.action(info.name)
            self.options(info)
        if g.kantian is not None:
            for _, weight in g.kantian.weights:
                self.expr(weight, {})


def _children(e) -> Iterator:
    if isinstance(e, (ast.Compare, ast.BoolOp)):
        yield e.left
        yield e.right
    elif isinstance(e, ast.Not):
        yield e.operand


# ----------------------------------------------------------------------------- estimates


def estimate_game(game: GameIR, values: dict[str, Fraction] | None = None) -> Estimate:
    """The work of solving one game: its parameter points and its move sequences per point.

    Args:
        game: The game's IR.
        values: Fix these parameters (``prefc solve --set``): the estimate is then for that point.
    """
    ranges = _Ranges(game, values)
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
