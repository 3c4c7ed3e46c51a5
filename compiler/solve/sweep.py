"""Parameter sweeps in bulk: the answer of one game for one preference at many parameter points,
numpy arrays in and out, every answer checked.

A sweep is planned once per solver, from the game's closed form:

``regimes`` (continuous games: backward induction, symmetric games)
    The closed form's pieces (condition, answer) are compiled to numpy; at every point the
    conditions are evaluated as arrays and the one piece that holds gives the answer.
``conditions`` (symmetric finite games)
    For each option, the condition under which everyone playing it is an equilibrium; among the
    options that are, the one with the highest utility (the selection rule of :func:`.derive.select`).
``distinct``
    A game without such a closed form is solved by the per-point solver once per distinct point
    (games whose parameters take a few values, such as the sizes of a finite game).

Every vectorised answer passes a certificate computed as arrays, independent of the closed form:
the utility of every pure deviation (finite games) or of a grid of deviations (continuous games,
each later move replying by its closed-form reply) does not beat the answer. A point the
vectorised path cannot decide (a condition within rounding of its boundary, a tie, an
indifferent regime, a failed certificate) is solved by the per-point solver; the result counts
those points. Answers are those of :attr:`..solution.Solution.answer`: one number per action (the
label's index for label actions), NaN where no pure equilibrium is taught.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from fractions import Fraction
from typing import TYPE_CHECKING, Any, Protocol

import sympy as sp

from prefc.compiler.lazy import lazy_module
from prefc.compiler.solution import Solution

if TYPE_CHECKING:
    from prefc.compiler.ir import BoundPreference, GameIR
    from prefc.compiler.solve.concept import Concept

np = lazy_module("numpy", globals(), "np")

__all__ = ["SweepPlan", "SweepResult", "answer_of", "exact", "plan_sweep", "run_sweep"]


class PointSolver(Protocol):
    """What a sweep needs of the per-point solver (:class:`prefc.compiler.solve.GameSolver`): its
    game, preference and concept, and its answer at one point for the points a sweep leaves to it."""

    game: GameIR
    pref: BoundPreference
    concept: Concept

    def solve(self, values: dict[str, Any] | None = None, *, derive: bool = True) -> Solution: ...


GRID = 33
"""Deviations per continuous action in the certificate (the bounds included)."""

CHUNK = 8192
"""Points evaluated together (arrays of this length stay in the processor's cache)."""

REL_TOL = 1e-9
"""How close (relative to the sides' size) a condition's two sides may be before the point is left
to the per-point solver."""


@dataclass
class SweepResult:
    """The answers of one game for one preference at many points.

    Attributes:
        game: The game.
        preference: The preference's label.
        method: How the points were solved (``regimes``, ``conditions`` or ``distinct``).
        keys: The action keys (``dictator.give``; a group's action once, ``member.give``).
        values: Action key -> answer at every point (label actions: the label's index; NaN where
            no pure equilibrium is taught).
        answered: Whether a pure equilibrium is taught at the point.
        per_point: Whether the per-point solver answered the point (a fallback or a distinct point).
        fallback: Points the vectorised path could not decide (ties, boundaries), solved per point.
        labels: Action key -> labels, for label actions.
        solves: Calls of the per-point solver (one per distinct point it answered).
    """

    game: str
    preference: str
    method: str
    keys: tuple[str, ...]
    values: dict[str, Any]
    answered: Any
    per_point: Any
    fallback: Any
    labels: dict[str, tuple[str, ...]] = field(default_factory=dict)
    solves: int = 0

    @property
    def size(self) -> int:
        """The number of points."""
        return int(len(self.answered))

    @property
    def fallbacks(self) -> int:
        """Points the vectorised path left to the per-point solver."""
        return int(self.fallback.sum())

    @property
    def solved_per_point(self) -> int:
        """Points the per-point solver answered (fallbacks and distinct points)."""
        return int(self.per_point.sum())

    def answer(self, i: int) -> dict[str, float] | None:
        """The answer at point ``i`` as :func:`answer_of` gives it.

        Args:
            i: The point's index.
        """
        if not self.answered[i]:
            return None
        return {k: float(self.values[k][i]) for k in self.keys}


def exact(value: float) -> Fraction:
    """The number a float given to a sweep stands for: the shortest decimal that rounds to it
    (``0.1`` is 1/10, not the binary fraction nearest to it), as the per-point solver receives it.

    Args:
        value: A finite float.
    """
    return Fraction(repr(float(value)))


def _keys(game) -> tuple[str, ...]:
    return tuple(dict.fromkeys(a.key for a in game.actions))


def answer_of(game, solution: Solution) -> dict[str, float] | None:
    """The selected equilibrium's action values as a sweep reports them, or None.

    Args:
        game: The game's IR.
        solution: A per-point solution of it.
    """
    eq = solution.answer
    if eq is None:
        return None
    out: dict[str, float] = {}
    for a in game.actions:
        if game.group is not None and a.owner == game.group:
            values = {repr(acts[a.name]) for acts in eq.path.values() if a.name in acts}
            v = next(acts[a.name] for acts in eq.path.values() if a.name in acts)
            if len(values) != 1:
                raise ValueError(f"the members of `{game.group}` play different `{a.name}`")
        else:
            v = eq.path[a.owner][a.name]
        out[a.key] = float(a.labels.index(v)) if a.kind == "labels" else float(v)
    return out


# -- compiled pieces ----------------------------------------------------------------------------------


class _Fn:
    """A sympy expression compiled to numpy over the game's parameters (and extra symbols)."""

    def __init__(self, expr: sp.Basic, symbols: list[sp.Symbol]):
        self.fn = sp.lambdify(symbols, expr, modules="numpy")
        self.constant = not (expr.free_symbols & set(symbols))

    def __call__(self, *args: Any) -> Any:
        with np.errstate(all="ignore"):
            out = np.asarray(self.fn(*args), dtype=float)
        return np.broadcast_to(out, np.broadcast_shapes(*(np.shape(a) for a in args), out.shape))


class _Truth:
    """A condition as arrays: (holds, decided), decided False within rounding of a boundary."""

    def __init__(self, cond: sp.Basic, symbols: list[sp.Symbol]):
        self.cond = cond
        self.kids: list[_Truth] = []
        self.sides: tuple[_Fn, _Fn] | None = None
        if isinstance(cond, (sp.And, sp.Or, sp.Not)):
            self.kids = [_Truth(c, symbols) for c in cond.args]
        elif isinstance(cond, sp.core.relational.Relational):
            self.sides = (_Fn(cond.lhs, symbols), _Fn(cond.rhs, symbols))
        elif cond not in (sp.true, sp.false):
            raise TypeError(f"not a condition: {cond}")

    def __call__(self, args: list[Any], n: int) -> tuple[Any, Any]:
        c = self.cond
        if c is sp.true or c is sp.false:
            return np.full(n, c is sp.true), np.ones(n, dtype=bool)
        if self.sides is not None:
            lhs, rhs = (np.broadcast_to(s(*args), (n,)) for s in self.sides)
            d = lhs - rhs
            tol = REL_TOL * (1.0 + np.abs(lhs) + np.abs(rhs))
            near = ~(np.abs(d) > tol)  # NaN is never decided
            op = c.rel_op
            holds = {">": d > 0, ">=": d > 0, "<": d < 0, "<=": d < 0, "==": near, "!=": ~near}[op]
            return holds & ~near if op != "==" else holds, ~near
        parts = [k(args, n) for k in self.kids]
        if isinstance(c, sp.Not):
            holds, decided = parts[0]
            return ~holds & decided, decided
        if isinstance(c, sp.And):
            false = np.any([~h & d for h, d in parts], axis=0)
            true = np.all([h & d for h, d in parts], axis=0)
        else:
            true = np.any([h & d for h, d in parts], axis=0)
            false = np.all([~h & d for h, d in parts], axis=0)
        return true, true | false


@dataclass
class _Piece:
    """One regime: where it holds, the answer there, and each move's reply to earlier moves."""

    truth: _Truth
    answer: dict[str, _Fn]
    replies: dict[str, _Fn]
    indifferent: bool


@dataclass
class SweepPlan:
    """How one solver's game is swept (built once by :func:`plan_sweep`).

    Attributes:
        method: ``regimes``, ``conditions`` or ``distinct``.
        params: The game's parameter symbols, in the order the arrays are passed.
        pieces: For ``regimes``: the closed form's pieces.
        options: For ``conditions``: (option index, condition, utility of everyone playing it).
        table: For ``conditions``: the payoff table u(own option, everyone else's option) as numpy.
        exact_table: The same table in exact arithmetic (for points that tie within rounding).
        check: For ``regimes``: the certificate, (parameter arrays, answer, piece) -> passes.
    """

    method: str
    params: list[sp.Symbol]
    pieces: list[_Piece] = field(default_factory=list)
    options: list[tuple[Any, _Truth, _Fn]] = field(default_factory=list)
    table: list[list[_Fn]] = field(default_factory=list)
    exact_table: list[list[Callable[[Any], Any]]] = field(default_factory=list)
    check: Callable[[list[Any], dict[str, Any], Any], Any] | None = None


def _symbols(game) -> list[sp.Symbol]:
    return [p.symbol for p in game.params.values()]


def _domains(game) -> dict:
    from prefc.compiler.solve.concepts.symmetric_continuous import declared_domains

    return dict(declared_domains(game))


def plan_sweep(solver: PointSolver) -> SweepPlan:
    """How a solver's game is swept: its closed form compiled to numpy, or per distinct point.

    Args:
        solver: The per-point solver (its game, preference and concept).
    """
    from prefc.compiler.solve.concepts.backward import Backward
    from prefc.compiler.solve.concepts.symmetric_continuous import SymmetricContinuous
    from prefc.compiler.solve.concepts.symmetric_finite import SymmetricFinite

    game, params = solver.game, _symbols(solver.game)
    try:
        if isinstance(solver.concept, Backward) and not any(a.finite for a in game.actions):
            return _plan_backward(solver, params)
        if isinstance(solver.concept, SymmetricContinuous) and len(game.actions) == 1:
            return _plan_symmetric_continuous(solver, params)
        if isinstance(solver.concept, SymmetricFinite) and len({a.name for a in game.actions}) == 1:
            return _plan_symmetric_finite(solver, params)
    except (NotImplementedError, TypeError, ValueError, RecursionError, AttributeError, KeyError):
        pass
    return SweepPlan("distinct", params)


def _plan_backward(solver: PointSolver, params: list[sp.Symbol]) -> SweepPlan:
    from prefc.compiler.solve.concepts.backward import profile_of, symbolic_backward
    from prefc.compiler.solve.utility import role_utility

    game, lowerer = solver.game, solver.pref.lowerer
    result = symbolic_backward(game, lowerer, params=params, domain=_domains(game) or None, pref=None)
    if result is None:
        raise ValueError("no closed form")
    stages = [game.movers(k)[0] for k in range(game.n_stages)]
    acts = [a.symbol for a in stages]
    every = params + acts
    plan = SweepPlan("regimes", params)
    for cond, answer, replies in result:
        if set(answer) != set(_keys(game)):
            raise ValueError("a regime does not give every action")
        plan.pieces.append(
            _Piece(
                _Truth(cond, params),
                {k: _Fn(v, params) for k, v in answer.items()},
                {k: _Fn(v, every) for k, v in replies.items()},
                False,
            )
        )
    prof = profile_of(game, {a.key: a.symbol for a in stages})
    utils = {a.key: _Fn(role_utility(game, lowerer, role=a.owner, actual=prof, self_play=prof), every) for a in stages}
    bounds = {a.key: (_Fn(a.lo, every), _Fn(a.hi, every)) for a in stages}

    def check(args: list[Any], answer: dict[str, Any], piece: Any) -> Any:
        """Each mover against a grid of its own moves, the later moves replying as in the regime."""
        n = len(answer[stages[0].key])
        ok = np.ones(n, dtype=bool)
        path = [np.asarray(answer[a.key], dtype=float) for a in stages]
        for k, a in enumerate(stages):
            env = [np.broadcast_to(x, (n,))[:, None] for x in args]
            lo = bounds[a.key][0](*env, *[p[:, None] for p in path])
            hi = bounds[a.key][1](*env, *[p[:, None] for p in path])
            grid = lo + (hi - lo) * np.linspace(0.0, 1.0, GRID)[None, :]
            moves = [np.broadcast_to(p[:, None], grid.shape) for p in path[:k]] + [grid]
            for later in stages[k + 1 :]:
                reply = piece.replies[later.key](*env, *moves, *[np.zeros_like(grid)] * (len(stages) - len(moves)))
                moves.append(np.broadcast_to(reply, grid.shape))
            dev = utils[a.key](*env, *moves)
            here = utils[a.key](*env, *[p[:, None] for p in path])[:, 0]
            ok &= _not_beaten(here, dev)
        return ok

    plan.check = check
    return plan


def _not_beaten(here: Any, deviations: Any) -> Any:
    """No deviation gains more than rounding (NaN never passes)."""
    best = np.max(deviations, axis=1)
    return (best - here) <= REL_TOL * (1.0 + np.abs(here) + np.abs(best))


def _plan_symmetric_continuous(solver: PointSolver, params: list[sp.Symbol]) -> SweepPlan:
    from prefc.compiler.solve.concepts.symmetric_continuous import SymmetricContinuous
    from prefc.compiler.solve.utility import symmetric_utility

    game, lowerer = solver.game, solver.pref.lowerer
    form = SymmetricContinuous.closed_form(
        game, lowerer, free=[], consts={}, ranges=_domains(game), sign_of=lambda e: None
    )
    if form is None or form.kind != "regimes":
        raise ValueError("no closed form")
    action = game.actions[0]
    plan = SweepPlan("regimes", params)
    for cond, answer, indifferent in form.regimes:
        (expr,) = [answer[k] for k in (action.key, action.name) if k in answer]
        plan.pieces.append(_Piece(_Truth(cond, params), {action.key: _Fn(expr, params)}, {}, bool(indifferent)))
    x, y = sp.Symbol("own_", real=True), sp.Symbol("rest_", real=True)
    u = _Fn(symmetric_utility(game, lowerer, own={action.name: x}, rest={action.name: y}), [*params, x, y])
    lo, hi = _Fn(action.lo, params), _Fn(action.hi, params)

    def check(args: list[Any], answer: dict[str, Any], piece: Any) -> Any:
        """Everyone playing the answer: no own move on a grid of the bounds does better."""
        star = np.asarray(answer[action.key], dtype=float)
        n = len(star)
        env = [np.broadcast_to(a, (n,))[:, None] for a in args]
        low, high = lo(*env), hi(*env)
        grid = low + (high - low) * np.linspace(0.0, 1.0, GRID)[None, :]
        dev = u(*env, grid, star[:, None])
        here = u(*env, star[:, None], star[:, None])[:, 0]
        return _not_beaten(here, dev) & (star >= low[:, 0]) & (star <= high[:, 0])

    plan.check = check
    return plan


def _plan_symmetric_finite(solver: PointSolver, params: list[sp.Symbol]) -> SweepPlan:
    from prefc.compiler.solve.concepts.symmetric_finite import SymmetricFinite
    from prefc.compiler.solve.utility import symmetric_utility

    game, lowerer = solver.game, solver.pref.lowerer
    action = game.actions[0]
    if action.kind != "labels" or game.group is not None:
        raise ValueError("options move with the parameters, or a group")
    form = SymmetricFinite.closed_form(game, lowerer, free=[], consts={}, ranges={}, sign_of=lambda e: None)
    if form is None or form.kind != "conditions":
        raise ValueError("no closed form")
    codes = [sp.Integer(i) for i in range(len(action.labels))]
    table = [
        [_Fn(symmetric_utility(game, lowerer, own={action.name: a}, rest={action.name: b}), params) for b in codes]
        for a in codes
    ]
    from prefc.compiler.exact import compile_exact

    exact_table = [
        [compile_exact(symmetric_utility(game, lowerer, own={action.name: a}, rest={action.name: b})) for b in codes]
        for a in codes
    ]
    plan = SweepPlan("conditions", params, table=table, exact_table=exact_table)
    for i in range(len(action.labels)):
        plan.options.append((i, _Truth(form.conditions[action.display(codes[i])], params), table[i][i]))
    return plan


# -- running ---------------------------------------------------------------------------------------------


def _columns(solver: PointSolver, points: Mapping[str, Any]) -> tuple[list[Any], int]:
    """Every parameter's values as float arrays (defaults where a parameter is not given), checked."""
    from prefc.compiler.check import NotConstant, eval_const
    from prefc.compiler.solve.concept import SolveError
    from prefc.compiler.solve.points import validate_point

    game = solver.game
    for k in points:
        if k not in game.params:
            validate_point(game, {k: 0})
    arrays = {k: np.asarray(v, dtype=float).reshape(-1) for k, v in points.items()}
    sizes = {len(v) for v in arrays.values()}
    if len(sizes) > 1:
        raise SolveError(f"game `{game.name}`: the swept parameters have different numbers of points", game=game)
    n = sizes.pop() if sizes else 1
    defaults = game.defaults()
    cols = [arrays[k] if k in arrays else np.full(n, float(defaults[k])) for k in game.params]
    bad = np.zeros(n, dtype=bool)
    for col in cols:
        bad |= ~np.isfinite(col)
    slow = False
    for (name, p), col in zip(game.params.items(), cols, strict=True):
        dom = game.checked.params[name].domain
        if p.integer:
            bad |= col != np.round(col)
        if dom is not None:
            try:
                lo, hi = float(eval_const(dom.lo, {})), float(eval_const(dom.hi, {}))
            except NotConstant:  # bounds in other parameters: checked point by point
                slow = True
                continue
            bad |= ~((col >= lo) & (col <= hi))
    if game.group_size is not None:
        size = _Fn(game.group_size, _symbols(game))(*cols)
        bad |= (size != np.round(size)) | (size < 1) | (size > 64)
    for a in game.actions:
        if a.kind == "labels" or a.lo is None or a.hi is None:
            continue
        if not ((a.lo.free_symbols | a.hi.free_symbols) - set(_symbols(game))):
            bad |= ~(_Fn(a.lo, _symbols(game))(*cols) <= _Fn(a.hi, _symbols(game))(*cols))
    for i in np.flatnonzero(bad):  # the per-point solver's error for the first point it refuses
        row = [float(c[i]) for c in cols]
        if not all(math.isfinite(v) for v in row):
            shown = ", ".join(f"{k} = {v}" for k, v in zip(game.params, row, strict=True))
            raise SolveError(f"game `{game.name}` at {shown}: a value is not a finite number", game=game)
        validate_point(game, _point(game, cols, int(i)))
    if slow:
        for row in np.unique(np.stack(cols, axis=1), axis=0):
            validate_point(game, {k: exact(v) for k, v in zip(game.params, row, strict=True)})
    return cols, n


def _point(game, cols: list[Any], i: int) -> dict[str, Fraction]:
    return {name: exact(col[i]) for name, col in zip(game.params, cols, strict=True)}


def run_sweep(solver: PointSolver, plan: SweepPlan, points: Mapping[str, Any]) -> SweepResult:
    """Answer every point: vectorised where the plan decides it, per point where it cannot.

    Args:
        solver: The per-point solver.
        plan: Its sweep plan (:func:`plan_sweep`).
        points: Parameter name -> values (one value per point; parameters left out take their defaults).

    Raises:
        SolveError: for a point the per-point solver refuses (outside a domain, unsolvable).
    """
    game = solver.game
    cols, n = _columns(solver, points)
    keys = _keys(game)
    values = {k: np.full(n, np.nan) for k in keys}
    answered = np.zeros(n, dtype=bool)
    decided = np.zeros(n, dtype=bool)
    for start in range(0, n if plan.method != "distinct" else 0, CHUNK):
        part = slice(start, min(start + CHUNK, n))
        chunk = [c[part] for c in cols]
        m = part.stop - part.start
        if plan.method == "regimes":
            view = {k: v[part] for k, v in values.items()}  # views: the chunk's answers land in place
            decided[part] = _run_regimes(plan, chunk, m, view, answered[part])
        else:
            decided[part] = _run_conditions(plan, game, chunk, m, values[keys[0]][part], answered[part])
    for k in keys[1:] if plan.method == "conditions" else ():
        values[k] = values[keys[0]].copy()
    fallback = ~decided if plan.method != "distinct" else np.zeros(n, dtype=bool)
    todo = np.flatnonzero(~decided)
    solves = 0
    if len(todo):
        first, inverse = _distinct([c[todo] for c in cols], len(todo))
        solves = len(first)
        found = np.full((len(first), len(keys)), np.nan)
        some = np.zeros(len(first), dtype=bool)
        for j, at in enumerate(first):
            point = {name: exact(c[todo[at]]) for name, c in zip(game.params, cols, strict=True)}
            got = answer_of(game, solver.solve(point, derive=False))
            if got is not None:
                some[j] = True
                found[j] = [got[k] for k in keys]
        answered[todo] = some[inverse]
        for m, k in enumerate(keys):
            values[k][todo] = found[inverse, m]
    per_point = ~decided
    labels = {a.key: tuple(a.labels) for a in game.actions if a.kind == "labels"}
    return SweepResult(
        game.name, solver.pref.label, plan.method, keys, values, answered, per_point, fallback, labels, solves
    )


def _distinct(cols: list[Any], n: int) -> tuple[Any, Any]:
    """The distinct rows of the columns: the index of each one's first point, and every point's row."""
    key = np.zeros(n, dtype=np.int64)
    for c in cols:  # one integer code per distinct row, column by column (mixed radix, renumbered)
        _, code = np.unique(c, return_inverse=True)
        _, key = np.unique(key * (int(code.max()) + 1) + code.reshape(-1), return_inverse=True)
    _, first, inverse = np.unique(key.reshape(-1), return_index=True, return_inverse=True)
    return first, inverse.reshape(-1)


def _run_regimes(plan: SweepPlan, cols: list[Any], n: int, values: dict[str, Any], answered: Any) -> Any:
    holds = [p.truth(cols, n) for p in plan.pieces]
    count = np.sum([h & d for h, d in holds], axis=0)
    clear = np.all([d for _, d in holds], axis=0) & (count == 1)
    decided = np.zeros(n, dtype=bool)
    for piece, (h, _) in zip(plan.pieces, holds, strict=True):
        mine = np.flatnonzero(clear & h)
        if piece.indifferent or not len(mine):
            continue
        args = [c[mine] for c in cols]
        answer = {k: np.broadcast_to(f(*args), (len(mine),)).astype(float) for k, f in piece.answer.items()}
        assert plan.check is not None
        ok = plan.check(args, answer, piece) & np.all([np.isfinite(v) for v in answer.values()], axis=0)
        idx = mine[ok]
        for k, v in answer.items():
            values[k][idx] = v[ok]
        answered[idx] = True
        decided[idx] = True
    return decided


def _run_conditions(plan: SweepPlan, game, cols: list[Any], n: int, out: Any, answered: Any) -> Any:
    """Symmetric pure equilibria from the closed form, certified by the payoff tables, then selected;
    a point where a deviation ties (within rounding) is decided again from the exact payoff table."""
    k = len(plan.table)
    table = np.stack([np.stack([np.broadcast_to(f(*cols), (n,)) for f in row]) for row in plan.table])  # own, rest, n
    decided = np.all(np.isfinite(table), axis=(0, 1))
    marginal = np.zeros(n, dtype=bool)
    eq = np.zeros((k, n), dtype=bool)
    others = np.arange(k)
    for i, truth, _ in plan.options:
        holds, sure = truth(cols, n)
        # the certificate, from the payoff tables: no pure deviation from everyone playing i gains
        here = table[i, i]
        gains = table[others != i, i, :] - here[None, :]
        tol = REL_TOL * (1.0 + np.abs(table[others != i, i, :]) + np.abs(here)[None, :])
        beaten = np.any(gains > tol, axis=0)
        near = np.any(np.abs(gains) <= tol, axis=0)
        marginal |= near | ~sure
        decided &= ~near & sure & (holds == ~beaten)
        eq[i] = holds & ~beaten
    own = np.stack([table[i, i] for i in range(k)])
    utils = np.where(eq, own, -np.inf)
    best = np.argmax(utils, axis=0)
    top = own[best, np.arange(n)]
    ties = np.sum(eq & (np.abs(own - top[None, :]) <= REL_TOL * (1.0 + np.abs(top[None, :]))), axis=0)
    decided &= ties <= 1
    some = eq.any(axis=0)
    out[decided & some] = best[decided & some]
    answered[decided & some] = True
    redo = np.flatnonzero(marginal & ~decided & np.all(np.isfinite(table), axis=(0, 1)))
    if len(redo):
        first, inverse = _distinct([c[redo] for c in cols], len(redo))
        choices = [_exact_choice(plan, game, [c[redo[at]] for c in cols]) for at in first]
        known = np.array([c is not None for c in choices])[inverse]
        pick = np.array([-1 if c is None else c for c in choices])[inverse]
        idx = redo[known]
        decided[idx] = True
        answered[idx] = pick[known] >= 0
        out[idx] = np.where(pick[known] >= 0, pick[known], np.nan)
    return decided


def _exact_choice(plan: SweepPlan, game, row: list[float]) -> int | None:
    """The selected option at one point from the exact payoff table (-1: no symmetric pure
    equilibrium), or None where the utilities are not exact numbers."""
    env = {p.symbol: exact(v) for p, v in zip(game.params.values(), row, strict=True)}
    try:
        u = [[f(env) for f in line] for line in plan.exact_table]
    except (ZeroDivisionError, OverflowError, ValueError, TypeError):
        return None
    if not all(isinstance(v, Fraction) for line in u for v in line):
        return None
    k = len(u)
    equilibria = [i for i in range(k) if all(u[i][i] >= u[d][i] for d in range(k))]
    if not equilibria:
        return -1
    # the payoff-dominant one, as the per-point selection compares it (floats; ties: option order)
    return max(equilibria, key=lambda i: (float(u[i][i]), -i))
