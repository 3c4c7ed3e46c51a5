"""Repeated play of a symmetric two-player pricing game (the logit Bertrand duopoly by default).

Every round each of two agents sets a price having seen the history of earlier rounds; the
market's shares and profits come from the spec's own payoff IR (lowered with
:func:`prefc.compiler.ir.lower_spec` and compiled once with ``sympy.lambdify``). Two kinds of
players take part:

``theory:PREF`` (:class:`TheoryPricer`)
    The myopic best response, under the preference ``PREF`` (its utility built by the compiler,
    the Kantian term by the game's convention), to the rival's last price; e.g.
    ``theory:economicus``, ``theory:moralis(kappa=0.5)``. Two players of one type converge to
    their type's symmetric equilibrium, two of different types to the asymmetric fixed point of
    their best responses.
any agent with ``respond`` (``local:...``, ``openai:...``, :class:`prefc.runtime.agents.ScriptedAgent`)
    Gets a system message and a user message: the market described by the game's prompt
    template (the same sandboxed templates as the compiled datasets), a compact table of the
    recent rounds, and the request to answer with one line ``ANSWER: {"price": <number>}``,
    read by :func:`prefc.runtime.parse.parse_answer` with the action's bounds as the schema.
    Agents that are one object (the same model) answer both their prompts in one batch. An
    answer that cannot be read is recorded (raw text and reason) and the agent's previous price
    is held (``held: true``); before its first valid answer that is the initial price.

Benchmarks come from the compiler's solvers: the Nash price (homo economicus,
:class:`prefc.compiler.solve.GameSolver`), the joint-profit price (the common price that
maximises a firm's profit when both charge it, which is homo moralis at kappa = 1), and the homo
moralis symmetric prices at kappa 0.25, 0.5, 0.75 and at every theory player's kappa. The
collusion index of a firm is ``(profit - Nash profit) / (joint-profit profit - Nash profit)``,
its profit averaged over the last rounds (Calvano et al. 2020).

:func:`simulate` writes into its output directory ``rounds.jsonl`` (one line per round, flushed
as it goes, so an interrupted run keeps its rounds), ``simulation.json`` (the
:class:`SimulationSummary`, written atomically) and ``prices.png``.
"""

from __future__ import annotations

import json
import math
import os
import random
import sys
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from .files import atomic_write_text
from .agents import AgentError, LogitAgent, TheoryAgent, make_agent
from .parse import parse_answer
from .protocol import Agent, Prompt

if TYPE_CHECKING:
    import sympy as sp

    from prefc.compiler.check import CheckedSpec, PreferencePoint
    from prefc.compiler.emit.templates import TemplateSet
    from prefc.compiler.ir import GameIR, SpecIR

__all__ = [
    "DEFAULT_HISTORY",
    "DEFAULT_LAST",
    "DEFAULT_MAX_NEW_TOKENS",
    "REPLY_MODES",
    "AgentMove",
    "AgentSummary",
    "Benchmarks",
    "CollusionIndex",
    "PrefixCachedLocal",
    "PricingMarket",
    "RoundRecord",
    "SimulationError",
    "SimulationResult",
    "SimulationSummary",
    "TheoryPricer",
    "make_player",
    "print_simulation",
    "simulate",
]

DEFAULT_HISTORY = 3
"""Rounds of history shown to a language-model agent."""

DEFAULT_LAST = 50
"""Rounds averaged for the summary (the last ones)."""

DEFAULT_MAX_NEW_TOKENS = 20
"""Tokens a language-model agent may generate per round: the answer line (13 to 15 tokens for
SmolLM2) and a few more. Agents that reason before answering need more (``max_new_tokens``)."""

REPLY_MODES = ("direct", "free")
"""How a local model's reply starts: ``direct`` feeds the opening of the answer line
(``ANSWER: {"p": ``) as the start of its turn, so it writes the price at once (a few tokens per
round); ``free`` lets it write anything (reasoning first needs a larger ``max_new_tokens``).
Agents that cannot be continued (hosted endpoints) always answer freely."""

DEFAULT_ROUNDS = 300
"""Rounds played when neither the caller nor the game (``repeat N rounds``) says how many."""

REFERENCE_KAPPAS = (Fraction(1, 4), Fraction(1, 2), Fraction(3, 4))
"""The homo moralis kappas whose symmetric prices are always reported as benchmarks."""

SHARE_HELPERS = ("share", "demand", "quantity")
"""Names of a one-argument helper (``let share(i) = ...``) reported as a firm's share or quantity."""

RAW_LIMIT = 4000
"""Characters of each raw answer kept in ``rounds.jsonl``."""

INITIAL_RULES = ("low", "mid", "high", "nash", "monopoly")
"""Named initial prices: the action's lower bound (marginal cost in the Bertrand game), the
midpoint, the upper bound, the Nash price, the joint-profit price."""


class SimulationError(Exception):
    """A simulation that cannot run as asked (wrong game, bad agent, failing endpoint, ...)."""


# ----------------------------------------------------------------------------- records


class AgentMove(BaseModel):
    """One agent's part of a round (a line of ``rounds.jsonl`` holds one per agent).

    Attributes:
        agent: The agent's name.
        price: The price in the market this round (the held one when the answer failed).
        held: True when the agent gave no valid price and its previous price was kept.
        raw: The agent's raw answer (None for theory players).
        error: Why the answer was rejected, or None.
        share: The firm's share (or quantity) from the game's helper, None if it has none.
        profit: The firm's material payoff.
    """

    agent: str
    price: float
    held: bool
    raw: str | None
    error: str | None
    share: float | None
    profit: float


class RoundRecord(BaseModel):
    """One round: ``{"round": t, "agents": [AgentMove, AgentMove]}``."""

    round: int
    agents: list[AgentMove]


class AgentSummary(BaseModel):
    """One agent over the run.

    Attributes:
        name: The agent's name.
        kind: ``theory`` or ``agent`` (anything that answers prompts).
        preference: The theory player's preference label, else None.
        mean_price_last: Mean price over the last rounds.
        mean_profit_last: Mean profit over the last rounds.
        mean_share_last: Mean share over the last rounds (None without a share helper).
        failures: Rounds whose answer could not be read (the price was held).
        parse_rate: Share of rounds with a valid answer.
        benchmark_price: The symmetric equilibrium price of a theory player's type, else None.
    """

    name: str
    kind: str
    preference: str | None
    mean_price_last: float | None
    mean_profit_last: float | None
    mean_share_last: float | None
    failures: int
    parse_rate: float | None
    benchmark_price: float | None


class Benchmarks(BaseModel):
    """Theory benchmarks of the market.

    Attributes:
        nash_price: The symmetric Nash price (homo economicus).
        monopoly_price: The common price maximising joint profit (= homo moralis at kappa 1).
        nash_profit: A firm's profit when both charge the Nash price.
        monopoly_profit: A firm's profit when both charge the joint-profit price.
        moralis: kappa (as text, e.g. ``"0.5"``) -> homo moralis symmetric price.
    """

    nash_price: float
    monopoly_price: float
    nash_profit: float
    monopoly_profit: float
    moralis: dict[str, float]


class CollusionIndex(BaseModel):
    """``(profit - Nash profit) / (monopoly profit - Nash profit)`` over the last rounds.

    Attributes:
        per_agent: One index per agent, in play order.
        joint: The index of the two firms' mean profit.
    """

    per_agent: list[float | None]
    joint: float | None


class SimulationSummary(BaseModel):
    """The content of ``simulation.json``."""

    spec: str
    spec_sha256: str
    game: str
    rounds: int
    rounds_requested: int
    last: int
    interrupted: bool
    elapsed_s: float
    params: dict[str, Any]
    agents: list[AgentSummary]
    benchmarks: Benchmarks
    collusion_index: CollusionIndex


@dataclass
class SimulationResult:
    """What :func:`simulate` produced.

    Attributes:
        summary: The summary (also in ``simulation.json``).
        rounds: Every round played.
        out_dir: The output directory.
        rounds_path: ``rounds.jsonl``.
        summary_path: ``simulation.json``.
        plot_path: ``prices.png`` (None when plots were off).
    """

    summary: SimulationSummary
    rounds: list[RoundRecord]
    out_dir: Path
    rounds_path: Path
    summary_path: Path
    plot_path: Path | None


# ----------------------------------------------------------------------------- the market


def _rational(v: Fraction | int | float) -> sp.Rational:
    import sympy as sp

    f = Fraction(v) if not isinstance(v, float) else Fraction(repr(v))
    return sp.Rational(f.numerator, f.denominator)


def _load_ir(spec: str | os.PathLike[str] | CheckedSpec | SpecIR) -> SpecIR:
    from prefc.compiler.check import CheckedSpec, check_file
    from prefc.compiler.diagnostics import CompileError
    from prefc.compiler.ir import SpecIR, lower_spec

    if isinstance(spec, SpecIR):
        return spec
    if isinstance(spec, CheckedSpec):
        return lower_spec(spec)
    try:
        checked = check_file(str(spec))
    except CompileError as exc:
        first = next((d for d in exc.diagnostics if d.is_error), None)
        where = f"{first.span.file}:{first.span.line}: " if first is not None and first.span is not None else ""
        what = first.message if first is not None else "cannot be read"
        raise SimulationError(f"{spec}: {where}{what} (run `prefc check` for every problem)") from None
    return lower_spec(checked)


def _is_eligible(game: GameIR, point: Mapping[str, Fraction]) -> str | None:
    """Why a game cannot be simulated, or None when it can."""
    if not game.symmetric:
        return "its players are not declared `symmetric`"
    if game.n_stages != 1:
        return "its moves are sequential"
    if len(game.actions) != 1:
        return f"each player has {len(game.actions)} actions"
    action = game.actions[0]
    if action.kind != "interval":
        return f"its action `{action.name}` is not continuous (an interval)"
    if game.group is not None:
        assert game.group_size is not None
        n = game.group_size.subs({game.params[k].symbol: _rational(v) for k, v in point.items()})
        if n != 2:
            return f"it has {n} players"
    elif len(game.roles) != 2:
        return f"it has {len(game.roles)} players"
    return None


def _eligible_games(ir: SpecIR) -> list[str]:
    return [name for name, g in ir.games.items() if _is_eligible(g, g.defaults()) is None]


_BENCHMARKS: dict[tuple, float] = {}


class PricingMarket:
    """A symmetric two-player game with one continuous action, compiled for repeated play.

    Args:
        ir: The spec's IR.
        game: The game's name.
        params: Game parameter values; missing ones take their defaults.

    Raises:
        SimulationError: For an unknown game, an unknown parameter, or a game that is not a
            symmetric two-player game with one continuous action.
    """

    def __init__(self, ir: SpecIR, game: str, *, params: Mapping[str, Fraction | int | float] | None = None) -> None:
        import sympy as sp

        from prefc.compiler.lower import group_profile, named_profile

        if game not in ir.games:
            raise SimulationError(f"unknown game `{game}`; the games of spec `{ir.spec.name}` are: "
                                  f"{', '.join(ir.games) or 'none'}")
        g = ir.games[game]
        point = g.defaults()
        for k, v in (params or {}).items():
            if k not in g.params:
                raise SimulationError(f"game `{game}` has no parameter `{k}`; its parameters: {', '.join(g.params)}")
            point[k] = Fraction(v) if not isinstance(v, float) else Fraction(repr(v))
        why = _is_eligible(g, point)
        if why is not None:
            usable = _eligible_games(ir)
            raise SimulationError(
                f"game `{game}` cannot be simulated: {why}; simulate plays symmetric two-player games with one "
                f"continuous action" + (f" (in this spec: {', '.join(usable)})" if usable else ""))
        self.ir = ir
        self.game = g
        self.action = g.actions[0]
        self.point = point
        self.values = {k: _rational(v) for k, v in point.items()}
        subs = {g.params[k].symbol: v for k, v in self.values.items()}
        self.lo = float(self.action.lo.subs(subs))
        self.hi = float(self.action.hi.subs(subs))
        if not (math.isfinite(self.lo) and math.isfinite(self.hi) and self.lo < self.hi):
            raise SimulationError(f"game `{game}`: the action `{self.action.name}` has empty bounds "
                                  f"[{self.lo}, {self.hi}] at these parameters")
        self.own = sp.Symbol("own_action_", real=True)
        self.rival = sp.Symbol("rival_action_", real=True)
        low = g.lowerer(self.values)
        own, rest = {self.action.name: self.own}, {self.action.name: self.rival}
        if g.group is not None:
            profile, me, _ = group_profile(g.group, sp.Integer(2), own, rest)
        else:
            profile = named_profile({g.roles[0]: own, g.roles[1]: rest})
            me = profile.tokens[0]
        self.profit_expr: sp.Expr = low.payoff(me, profile)
        self._profit = sp.lambdify((self.own, self.rival), self.profit_expr, modules="math")
        self.share_name: str | None = None
        self._share: Callable[[float, float], float] | None = None
        for name in SHARE_HELPERS:
            let = g.checked.lets.get(name)
            if let is not None and len(let.params) == 1:
                expr = low.expr(let.value, profile, {let.params[0].name: me})
                self._share = sp.lambdify((self.own, self.rival), expr, modules="math")
                self.share_name = name
                break

    @property
    def name(self) -> str:
        """The game's name."""
        return self.game.name

    def profit(self, price: float, rival: float) -> float:
        """A firm's material payoff when it charges ``price`` and the rival ``rival``.

        Args:
            price: The firm's price.
            rival: The rival's price.
        """
        return float(self._profit(float(price), float(rival)))

    def share(self, price: float, rival: float) -> float | None:
        """A firm's share (the game's ``share`` helper), or None if the game has none.

        Args:
            price: The firm's price.
            rival: The rival's price.
        """
        return None if self._share is None else float(self._share(float(price), float(rival)))

    def utility(self, point: PreferencePoint) -> sp.Expr:
        """A player's utility under a preference, in the own and the rival's action.

        Args:
            point: The preference with its parameter values.
        """
        from prefc.compiler.solve.utility import symmetric_utility

        bound = self.ir.preference(point)
        return symmetric_utility(self.game, bound.lowerer, own={self.action.name: self.own},
                                 rest={self.action.name: self.rival}, params=dict(self.values))

    def symmetric_price(self, point: PreferencePoint) -> float:
        """The symmetric equilibrium price when both players hold the preference (compiler's solver).

        Args:
            point: The preference with its parameter values.

        Raises:
            SimulationError: When the solver finds no equilibrium.
        """
        from prefc.compiler.solve import GameSolver, SolveError

        key = (self.ir.spec.sha256, self.name, tuple(sorted(self.point.items())), point)
        if key not in _BENCHMARKS:
            try:
                sol = GameSolver(self.game, self.ir.preference(point)).solve(self.point, derive=False)
            except SolveError as exc:
                raise SimulationError(f"cannot solve `{self.name}` for {point.label}: {exc}") from None
            if sol.answer is None:
                raise SimulationError(f"`{self.name}` has no equilibrium for {point.label}")
            first = next(iter(sol.answer.path.values()))
            _BENCHMARKS[key] = float(first[self.action.name])
        return _BENCHMARKS[key]

    def nash_price(self) -> float:
        """The symmetric Nash price: homo economicus when the spec declares it, else the material payoff."""
        from prefc.compiler.check import PreferencePoint
        from prefc.compiler.solve import continuous

        if "economicus" in self.ir.spec.preferences:
            return self.symmetric_price(PreferencePoint("economicus", ()))
        key = (self.ir.spec.sha256, self.name, tuple(sorted(self.point.items())), "nash")
        if key not in _BENCHMARKS:
            try:
                eqs = continuous.solve_symmetric_numeric(self.profit_expr, own=self.own, other=self.rival,
                                                         lo=self.lo, hi=self.hi, values={})
            except continuous.NoConvergence as exc:
                raise SimulationError(f"`{self.name}`: no Nash equilibrium: {exc}") from None
            _BENCHMARKS[key] = float(eqs[0].action)
        return _BENCHMARKS[key]

    def monopoly_price(self) -> float:
        """The common price that maximises a firm's (hence the joint) profit when both charge it."""
        from prefc.compiler.solve import continuous

        key = (self.ir.spec.sha256, self.name, tuple(sorted(self.point.items())), "joint")
        if key not in _BENCHMARKS:
            joint = self.profit_expr.xreplace({self.rival: self.own})
            _BENCHMARKS[key] = float(continuous.best_response(joint, own=self.own, lo=self.lo, hi=self.hi, values={}))
        return _BENCHMARKS[key]

    def moralis_point(self, kappa: Fraction) -> PreferencePoint | None:
        """``moralis(kappa=K)`` when the spec declares a ``moralis`` preference with a ``kappa``.

        Args:
            kappa: The kappa value.
        """
        from prefc.compiler.check import PreferencePoint

        pref = self.ir.spec.preferences.get("moralis")
        if pref is None or "kappa" not in pref.defaults:
            return None
        values = [(k, kappa if k == "kappa" else v) for k, v in pref.defaults.items()]
        if any(v is None for _, v in values):
            return None
        return PreferencePoint("moralis", tuple((k, Fraction(v)) for k, v in values))

    def clip(self, price: float) -> float:
        """The price within the action's bounds.

        Args:
            price: Any price.
        """
        return min(max(float(price), self.lo), self.hi)


# ----------------------------------------------------------------------------- players


class TheoryPricer:
    """Sets each round's price as the myopic best response, under its preference, to the rival's
    last price: ``argmax_p u(p, p_rival)`` with the utility the compiler builds for the preference
    (homo moralis: ``(1 - kappa) * pi(p, p_rival) + kappa * pi(p, p)``).

    Args:
        market: The market.
        point: The preference with its parameter values.
        name: Label used in results (default ``theory:<label>``).
    """

    def __init__(self, market: PricingMarket, point: PreferencePoint, *, name: str | None = None) -> None:
        self.market = market
        self.point = point
        self.name = name or f"theory:{point.label}"
        self.utility = market.utility(point)
        self._cache: dict[float, float] = {}

    @property
    def preference(self) -> str:
        """The preference label."""
        return self.point.label

    def best_response(self, rival: float) -> float:
        """The price maximising the utility against the rival's price (grid plus Brent refinement).

        Args:
            rival: The rival's price.
        """
        from prefc.compiler.solve import continuous

        rival = float(rival)
        hit = self._cache.get(rival)
        if hit is None:
            m = self.market
            hit = float(continuous.best_response(self.utility, own=m.own, lo=m.lo, hi=m.hi, values={m.rival: rival}))
            if len(self._cache) > 10_000:
                self._cache.clear()
            self._cache[rival] = hit
        return hit

    def __repr__(self) -> str:
        return f"TheoryPricer(name={self.name!r})"


Player = TheoryPricer | Agent


def _theory_point(ir: SpecIR, spec: str, label: str) -> PreferencePoint:
    from prefc.compiler.check import Checker
    from prefc.compiler.diagnostics import CompileError, DiagnosticBag
    from prefc.compiler.parse import parse_preference_app

    def fail(diags) -> SimulationError:
        d = next((x for x in diags if x.is_error), None)
        if d is None:
            return SimulationError(f"agent {spec!r}: cannot read the preference {label!r}")
        extra = f" ({d.label})" if d.label and "did you mean" in d.label else ""
        hint = f"; {d.hint}" if d.hint else ""
        return SimulationError(f"agent {spec!r}: {d.message}{extra}{hint}")

    if not label:
        raise SimulationError("theory: needs a preference, e.g. theory:economicus or theory:moralis(kappa=0.5)")
    try:
        _, app = parse_preference_app(label, origin="--agent")
    except CompileError as exc:
        raise fail(exc.diagnostics) from None
    bag = DiagnosticBag()
    points = Checker(bag)._check_pref_app(app, ir.spec.preferences)
    if bag.has_errors:
        raise fail(bag.items)
    if len(points) != 1:
        raise SimulationError(f"agent {spec!r}: a theory player needs one value per parameter, not {len(points)} "
                              "combinations")
    return points[0]


def make_player(spec: str, market: PricingMarket) -> Player:
    """Build a player from a command-line spec.

    ``theory:PREF`` gives a :class:`TheoryPricer` (the preference is checked against the spec,
    e.g. ``theory:moralis(kappa=0.5)``); ``local:...`` and ``openai:...`` give the runtime's agents
    (see :func:`prefc.runtime.agents.make_agent`).

    Args:
        spec: The agent spec.
        market: The market the player will play in.

    Raises:
        SimulationError: For an unknown kind, a malformed spec, an unknown preference, or an agent
            that answers only rubric items.
    """
    kind, sep, rest = spec.partition(":")
    if sep and kind.strip().lower() == "theory":
        point = _theory_point(market.ir, spec, rest.strip())
        return TheoryPricer(market, point)
    try:
        agent = make_agent(spec)
    except AgentError as exc:
        raise SimulationError(str(exc)) from None
    if isinstance(agent, LogitAgent | TheoryAgent) or not callable(getattr(agent, "respond", None)):
        raise SimulationError(f"agent {spec!r} answers rubric items only; simulate plays theory:PREF, local:MODEL "
                              "or openai:URL?model=NAME agents")
    return agent


# ----------------------------------------------------------------------------- prompts


def _template_set(market: PricingMarket) -> TemplateSet:
    """The template set of the first build that covers the game (the shipped set otherwise)."""
    from prefc.compiler.emit.templates import TemplateSet, resolve_directory

    for build in market.ir.spec.builds.values():
        if market.name in build.games and build.ast.template not in (None, "default"):
            try:
                return TemplateSet(resolve_directory(build.ast.template, build.ast.span.file))
            except FileNotFoundError:
                continue
    return TemplateSet(None)


def _num(v: float | None, digits: int = 3) -> str:
    return "-" if v is None else f"{v:.{digits}f}"


class PricePrompter:
    """Writes the prompts of language-model agents: the market, the recent rounds, the answer line.

    Args:
        market: The market.
        history: Rounds of history shown.
        paraphrase: The template wording number.
        templates: A template set (default: the spec's, else the shipped one).
    """

    def __init__(self, market: PricingMarket, *, history: int, paraphrase: int = 0,
                 templates: TemplateSet | None = None) -> None:
        from prefc.compiler.emit.context import answer_format, answer_schema, prompt_context, system_context
        from prefc.compiler.emit.situations import Situation

        g = market.game
        role = g.group if g.group is not None else g.roles[0]
        point = tuple((k, market.point[k]) for k in g.params)
        situation = Situation(g.name, role, 0, market.action.name, point)
        tset = templates or _template_set(market)
        self.schema: dict[str, dict[str, Any]] = answer_schema(g, situation)
        self.system = tset.render("system", system_context(self.schema, paraphrase))
        self.market_text = tset.render(g.name, prompt_context(g, situation, paraphrase, self.schema))
        self.answer_line = answer_format(self.schema)
        self.history = history
        self.action = market.action.name
        self.share_name = market.share_name

    def messages(self, t: int, me: int, rounds: Sequence[RoundRecord]) -> Prompt:
        """The prompt of player ``me`` (0 or 1) in round ``t``.

        Args:
            t: The round about to be played (1-based).
            me: The player's position.
            rounds: The rounds played so far.
        """
        shown = list(rounds[-self.history:]) if self.history > 0 else []
        a = self.action
        lines = [self.market_text, ""]
        if not shown:
            lines.append(f"The market repeats every round against the same rival. This is round {t}"
                         + ("; there is no history yet." if t == 1 else "."))
        else:
            cols = ["round", f"your {a}", f"rival's {a}"]
            if self.share_name:
                cols.append(f"your {self.share_name}")
            cols += ["your profit", "rival's profit", "your answer"]
            lines.append(f"The market repeats every round against the same rival. This is round {t}; "
                         f"the last {len(shown)} round{'s' if len(shown) != 1 else ''}:")
            lines.append(" | ".join(cols))
            for r in shown:
                mine, theirs = r.agents[me], r.agents[1 - me]
                # words, not a marker next to the price, and no round numbers near the end of the
                # prompt: a small model copies what sits next to the number it copies
                row = [str(r.round), _num(mine.price, 2), _num(theirs.price, 2)]
                if self.share_name:
                    row.append(_num(mine.share, 2))
                row += [_num(mine.profit, 2), _num(theirs.profit, 2), f"not valid, {a} kept" if mine.held else "valid"]
                lines.append(" | ".join(row))
        lines += ["", f"Your {a} for this round? Reply with the ANSWER line."]
        return [{"role": "system", "content": self.system}, {"role": "user", "content": "\n".join(lines)}]


class PrefixCachedLocal:
    """Greedy generation for a local transformers agent that keeps the key/value cache of the prompt
    prefix every round shares (the system message and the market description).

    Round after round only the history and the question are new, so each round's prompts are
    computed from the cached prefix (expanded to the batch) plus their own suffix, padded in the
    middle. The answers are those of :meth:`prefc.runtime.generate.LocalAgent.respond` (greedy
    decoding of the same token ids). The prefix is the longest token prefix shared by every prompt
    seen so far (recomputed when a round's prompts share less); when the shared part
    is short, or the cached path fails, the agent's own ``respond`` answers.

    Args:
        agent: A :class:`prefc.runtime.generate.LocalAgent` (``model`` and ``tokenizer``).
        min_prefix: The fewest shared tokens worth caching.
    """

    def __init__(self, agent: Any, *, min_prefix: int = 32) -> None:
        self.agent = agent
        self.name = agent.name
        self.min_prefix = min_prefix
        self._ids: list[int] | None = None
        self._cache: Any = None
        self._disabled = False

    def respond(self, prompts: Sequence[Prompt], *, max_new_tokens: int = DEFAULT_MAX_NEW_TOKENS,
                reply_prefix: str = "", stop: Sequence[str] = ()) -> list[str]:
        """Answer each prompt greedily, reusing the cached prefix.

        Args:
            prompts: Conversations ending with a user message.
            max_new_tokens: Upper bound on the length of each answer (after the prefix).
            reply_prefix: Text every reply begins with (see :func:`prefc.runtime.generate.generate`).
            stop: Strings that end a reply once written (kept in it).
        """
        if not self._disabled:
            try:
                out = self._cached(list(prompts), max_new_tokens, reply_prefix, stop)
            except (RuntimeError, ValueError, TypeError, AttributeError, IndexError) as exc:
                import warnings

                warnings.warn(f"{self.name}: prompt-prefix caching turned off ({exc.__class__.__name__}: {exc}); "
                              "answering without it", RuntimeWarning, stacklevel=2)
                self._disabled, self._cache, self._ids = True, None, None
                out = None
            if out is not None:
                return out
        return self.agent.respond(prompts, max_new_tokens=max_new_tokens, reply_prefix=reply_prefix, stop=stop)

    def _cached(self, prompts: list[Prompt], max_new_tokens: int, reply_prefix: str,
                stop: Sequence[str]) -> list[str] | None:
        import copy

        import torch
        from transformers import GenerationConfig

        from .generate import _device, _prompt_ids, _reply, stop_token_ids

        model, tok = self.agent.model, self.agent.tokenizer
        encoded = [_prompt_ids(tok, p, reply_prefix) for p in prompts]
        device = _device(model)
        with torch.inference_mode():
            if self._ids is None:
                first = encoded[0][:-1]
                if len(first) < self.min_prefix:
                    return None
                out = model(input_ids=torch.tensor([first], device=device), use_cache=True)
                self._ids, self._cache = first, out.past_key_values
            shared = len(self._ids)
            for ids in encoded:
                n = 0
                limit = min(shared, len(ids) - 1)
                while n < limit and ids[n] == self._ids[n]:
                    n += 1
                shared = n
            if shared < self.min_prefix:
                return None
            if shared < len(self._ids):  # recomputed, not cropped: cache cropping differs between versions
                self._ids = self._ids[:shared]
                self._cache = model(input_ids=torch.tensor([self._ids], device=device), use_cache=True).past_key_values
            stops = stop_token_ids(model, tok)
            pad = tok.pad_token_id if tok.pad_token_id is not None else stops[0]
            suffixes = [ids[shared:] for ids in encoded]
            width = max(len(x) for x in suffixes)
            ids = torch.full((len(prompts), shared + width), pad, dtype=torch.long)
            mask = torch.zeros((len(prompts), shared + width), dtype=torch.long)
            for row, suffix in enumerate(suffixes):
                ids[row, :shared] = torch.tensor(self._ids)
                mask[row, :shared] = 1
                ids[row, shared + width - len(suffix):] = torch.tensor(suffix)
                mask[row, shared + width - len(suffix):] = 1
            cache = copy.deepcopy(self._cache)
            if len(prompts) > 1:
                cache.batch_repeat_interleave(len(prompts))
            config = GenerationConfig(max_new_tokens=max_new_tokens, do_sample=False, num_beams=1,
                                      eos_token_id=stops, pad_token_id=pad, stop_strings=list(stop) or None)
            generated = model.generate(input_ids=ids.to(device), attention_mask=mask.to(device),
                                       past_key_values=cache, generation_config=config, tokenizer=tok)
        texts = []
        for tokens in generated[:, shared + width:].tolist():
            for j, t in enumerate(tokens):
                if t in stops:
                    tokens = tokens[:j]
                    break
            texts.append(_reply(tok, tokens, reply_prefix))
        return texts

    def __repr__(self) -> str:
        return f"PrefixCachedLocal({self.agent!r})"


def answer_opening(schema: Mapping[str, Mapping[str, Any]]) -> str:
    """The start of the answer line up to its first value, e.g. ``ANSWER: {"p": `` (the spacing of
    the compiled completions, so a fine-tuned model continues where it would have written the number).

    Args:
        schema: An answer schema (the first action is the one opened).
    """
    return "ANSWER: {" + json.dumps(next(iter(schema)), ensure_ascii=False) + ": "


def continues_replies(agent: Any) -> bool:
    """Whether an agent's ``respond`` takes ``reply_prefix`` (:class:`prefc.runtime.protocol.ContinuesReplies`).

    Args:
        agent: Any agent.
    """
    import inspect

    try:
        return "reply_prefix" in inspect.signature(agent.respond).parameters
    except (TypeError, ValueError, AttributeError):
        return False


def _accelerated(agent: Any) -> Any:
    """A local transformers agent wrapped in :class:`PrefixCachedLocal`; any other agent as it is."""
    generate_mod = sys.modules.get("prefc.runtime.generate")
    if generate_mod is not None and isinstance(agent, generate_mod.LocalAgent):
        return PrefixCachedLocal(agent)
    return agent


# ----------------------------------------------------------------------------- summaries


def _mean(values: Sequence[float | None]) -> float | None:
    vals = [v for v in values if v is not None]
    return sum(vals) / len(vals) if vals else None


def _index(profit: float | None, b: Benchmarks) -> float | None:
    span = b.monopoly_profit - b.nash_profit
    if profit is None or abs(span) < 1e-12:
        return None
    return (profit - b.nash_profit) / span


def _kappa_key(k: Fraction) -> str:
    return f"{float(k):g}"


def _benchmarks(market: PricingMarket, theory: Sequence[TheoryPricer]) -> Benchmarks:
    nash, mono = market.nash_price(), market.monopoly_price()
    kappas = set(REFERENCE_KAPPAS)
    for p in theory:
        if p.point.name == "moralis":
            kappas.add(Fraction(dict(p.point.values).get("kappa", Fraction(1, 2))))
    moralis: dict[str, float] = {}
    for k in sorted(kappas):
        point = market.moralis_point(k)
        if point is not None:
            moralis[_kappa_key(k)] = market.symmetric_price(point)
    return Benchmarks(nash_price=nash, monopoly_price=mono, nash_profit=market.profit(nash, nash),
                      monopoly_profit=market.profit(mono, mono), moralis=moralis)


def _summarize(rounds: Sequence[RoundRecord], players: Sequence[Player], names: Sequence[str],
               benchmarks: Benchmarks, last: int) -> tuple[list[AgentSummary], CollusionIndex]:
    window = list(rounds[-last:]) if rounds else []
    agents = []
    for i, (player, name) in enumerate(zip(players, names, strict=True)):
        moves = [r.agents[i] for r in rounds]
        recent = [r.agents[i] for r in window]
        theory = isinstance(player, TheoryPricer)
        failures = sum(1 for m in moves if m.error is not None)
        agents.append(AgentSummary(
            name=name, kind="theory" if theory else "agent",
            preference=player.preference if theory else None,
            mean_price_last=_mean([m.price for m in recent]), mean_profit_last=_mean([m.profit for m in recent]),
            mean_share_last=_mean([m.share for m in recent]), failures=failures,
            parse_rate=(1 - failures / len(moves)) if moves else None,
            benchmark_price=player.market.symmetric_price(player.point) if theory else None,
        ))
    joint = _mean([_mean([m.profit for m in r.agents]) for r in window])
    index = CollusionIndex(per_agent=[_index(a.mean_profit_last, benchmarks) for a in agents],
                           joint=_index(joint, benchmarks))
    return agents, index


# ----------------------------------------------------------------------------- files




def plot_prices(summary: SimulationSummary, rounds: Sequence[RoundRecord], path: Path) -> Path:
    """Price paths of both agents with the benchmark prices as horizontal lines, as a PNG.

    Args:
        summary: The simulation summary (benchmarks, agents).
        rounds: The rounds played.
        path: Where to write the PNG (atomically).

    Returns:
        The path written.
    """
    from .plots import new_figure, save_png

    fig = new_figure(8.0, 4.5)
    ax = fig.add_subplot()
    start = summary.params.get("initial_price")
    xs = ([0] if start is not None else []) + [r.round for r in rounds]
    colours = ["tab:blue", "tab:orange"]
    for i, agent in enumerate(summary.agents):
        ys = ([start] if start is not None else []) + [r.agents[i].price for r in rounds]
        ax.plot(xs, ys, color=colours[i % 2], linewidth=1.3, label=f"{agent.name}")
        held = [(r.round, r.agents[i].price) for r in rounds if r.agents[i].held]
        if held:
            ax.plot([h[0] for h in held], [h[1] for h in held], linestyle="none", marker="x", markersize=4,
                    color=colours[i % 2], label=f"{agent.name}: held ({len(held)})")
    b = summary.benchmarks
    drawn: list[float] = []

    def hline(y: float, label: str, **style: Any) -> None:
        if any(abs(y - d) < 1e-6 for d in drawn):
            return
        drawn.append(y)
        ax.axhline(y, linewidth=1.0, label=f"{label} {y:.4f}", **style)

    hline(b.nash_price, "Nash", color="black", linestyle="--")
    hline(b.monopoly_price, "joint profit", color="tab:red", linestyle="--")
    for agent in summary.agents:
        if agent.benchmark_price is not None:
            hline(agent.benchmark_price, f"{agent.preference}", color="tab:green", linestyle=":")
    ax.set_xlabel("round")
    ax.set_ylabel(summary.params.get("action", "price"))
    ax.set_title(f"{summary.game}: {summary.agents[0].name} vs {summary.agents[1].name}", fontsize="medium")
    ax.set_xlim(0, max(xs + [1]))
    ax.legend(fontsize="small", loc="upper left", bbox_to_anchor=(1.0, 1.0))
    return save_png(fig, path)


def print_simulation(summary: SimulationSummary, *, console: Any = None) -> None:
    """Print the result table: mean prices and profits, collusion index, failures, benchmarks.

    Args:
        summary: The simulation summary.
        console: A ``rich.console.Console`` (default: a new one on stdout).
    """
    from rich.console import Console
    from rich.table import Table

    con = console or Console()
    table = Table(title=f"{summary.game}: {summary.rounds} rounds, means over the last {summary.last}")
    table.add_column("agent", no_wrap=True)
    for col in ("price", "profit", "collusion", "failures", "benchmark"):
        table.add_column(col, justify="right", min_width=len(col))
    for agent, index in zip(summary.agents, summary.collusion_index.per_agent, strict=True):
        bench = f"{agent.benchmark_price:.4f}" if agent.benchmark_price is not None else "-"
        table.add_row(agent.name, _num(agent.mean_price_last, 4), _num(agent.mean_profit_last, 4), _num(index),
                      f"{agent.failures}/{summary.rounds}", bench)
    con.print(table)
    b = summary.benchmarks
    moralis = ", ".join(f"kappa {k}: {v:.4f}" for k, v in b.moralis.items())
    con.print(f"Nash {b.nash_price:.4f} (profit {b.nash_profit:.4f}); joint profit {b.monopoly_price:.4f} "
              f"(profit {b.monopoly_profit:.4f})" + (f"; homo moralis {moralis}" if moralis else ""))
    con.print(f"joint collusion index {_num(summary.collusion_index.joint)}"
              + ("  (interrupted)" if summary.interrupted else ""))


# ----------------------------------------------------------------------------- the loop


def _initial_price(initial: str | float, market: PricingMarket) -> float:
    if isinstance(initial, int | float) and not isinstance(initial, bool):
        value = float(initial)
    else:
        text = str(initial).strip().lower()
        rules: dict[str, Callable[[], float]] = {
            "low": lambda: market.lo, "mid": lambda: (market.lo + market.hi) / 2, "high": lambda: market.hi,
            "nash": market.nash_price, "monopoly": market.monopoly_price,
        }
        if text in rules:
            return float(rules[text]())
        try:
            value = float(text)
        except ValueError:
            raise SimulationError(f"initial price {initial!r}: expected a number or one of "
                                  f"{', '.join(INITIAL_RULES)}") from None
    if not (math.isfinite(value) and market.lo <= value <= market.hi):
        raise SimulationError(f"initial price {value:g} is outside [{market.lo:g}, {market.hi:g}]")
    return value


def _seed_everything(seed: int) -> None:
    random.seed(seed)
    try:
        import numpy as np

        np.random.seed(seed % 2**32)
    except ImportError:  # pragma: no cover - numpy is a dependency
        pass
    torch = sys.modules.get("torch")
    if torch is not None:
        torch.manual_seed(seed)


@contextmanager
def _progress(total: int, enabled: bool) -> Iterator[Callable[[str], None]]:
    if not enabled:
        yield lambda text: None
        return
    from rich.progress import (BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn,
                               TimeRemainingColumn)

    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  TimeRemainingColumn(), transient=True) as bar:
        task = bar.add_task("simulating", total=total)
        yield lambda text: bar.update(task, advance=1, description=text)


def _clean(text: Any) -> str:
    s = text if isinstance(text, str) else repr(text)
    return s.encode("utf-8", errors="replace").decode("utf-8")[:RAW_LIMIT]


def _unique_names(players: Sequence[Player]) -> list[str]:
    names = [str(getattr(p, "name", type(p).__name__)) for p in players]
    if len(set(names)) < len(names):
        names = [f"{n}#{i + 1}" for i, n in enumerate(names)]
    return names


def simulate(
    spec: str | os.PathLike[str] | CheckedSpec | SpecIR,
    agents: Sequence[str | Player],
    *,
    out_dir: str | os.PathLike[str],
    rounds: int | None = None,
    game: str | None = None,
    params: Mapping[str, Fraction | int | float] | None = None,
    history: int = DEFAULT_HISTORY,
    last: int = DEFAULT_LAST,
    max_new_tokens: int = DEFAULT_MAX_NEW_TOKENS,
    initial: str | float = "low",
    seed: int = 0,
    paraphrase: int = 0,
    progress: bool = True,
    plot: bool = True,
    prefix_cache: bool = True,
    reply: str = "direct",
) -> SimulationResult:
    """Play a symmetric two-player pricing game repeatedly between two agents.

    Args:
        spec: A ``.pref`` path, a checked spec or its IR.
        agents: Two players: agent specs (``theory:economicus``, ``theory:moralis(kappa=0.5)``,
            ``local:smollm2-135m-instruct[?adapter=DIR]``, ``openai:URL?model=NAME``), or built
            players (:class:`TheoryPricer`, any agent with ``respond``). The same spec twice, or
            the same object twice, is one agent answering both prompts in one batch.
        out_dir: Directory for ``rounds.jsonl``, ``simulation.json`` and ``prices.png`` (created).
        rounds: Rounds to play (default: the game's ``repeat N rounds``, else 300).
        game: The game (default ``bertrand``, or the spec's only eligible game).
        params: Game parameter values; missing ones take their defaults.
        history: Rounds of history shown to language-model agents.
        last: Rounds (the last ones) averaged for the summary.
        max_new_tokens: Tokens a language-model agent may generate per round.
        initial: The price before the first round (held by an agent until its first valid answer,
            and answered by the theory players in round 1): a number, or ``low`` (the action's lower
            bound: marginal cost in the Bertrand game), ``mid``, ``high``, ``nash``, ``monopoly``.
        seed: Seeds Python's, numpy's and (when loaded) torch's random streams.
        paraphrase: The prompt template's wording number.
        progress: Show a progress bar and print the result table.
        plot: Write ``prices.png``.
        prefix_cache: Let local transformers agents reuse the key/value cache of the prompt prefix
            shared by every round (:class:`PrefixCachedLocal`; same answers, less prompt work).
        reply: ``direct`` or ``free`` (see :data:`REPLY_MODES`).

    Returns:
        The :class:`SimulationResult`.

    Raises:
        SimulationError: For bad input (game, parameters, agents, sizes), an agent that fails to
            answer at all (an unreachable endpoint) or returns the wrong number of answers; the
            rounds played before a failure are on disk with their summary.
        KeyboardInterrupt: Re-raised after the rounds so far and their summary are written.
    """
    if len(agents) != 2:
        raise SimulationError(f"simulate needs exactly two agents, got {len(agents)}")
    for label, value, low in (("history", history, 0), ("last", last, 1), ("max_new_tokens", max_new_tokens, 1),
                              ("paraphrase", paraphrase, 0)):
        if not isinstance(value, int) or value < low:
            raise SimulationError(f"{label} must be an integer >= {low}, got {value!r}")
    if reply not in REPLY_MODES:
        raise SimulationError(f"reply must be one of {', '.join(REPLY_MODES)}, got {reply!r}")
    ir = _load_ir(spec)
    if game is None:
        usable = _eligible_games(ir)
        if "bertrand" in ir.games:
            game = "bertrand"
        elif len(usable) == 1:
            game = usable[0]
        else:
            raise SimulationError(f"spec `{ir.spec.name}` has " + (
                f"several games to simulate ({', '.join(usable)}); choose one" if usable else
                "no symmetric two-player game with one continuous action"))
    market = PricingMarket(ir, game, params=params)
    n_rounds = rounds if rounds is not None else (market.game.rounds or DEFAULT_ROUNDS)
    if not isinstance(n_rounds, int) or n_rounds < 1:
        raise SimulationError(f"rounds must be an integer >= 1, got {n_rounds!r}")
    players: list[Player] = []
    built: dict[str, Player] = {}
    for a in agents:
        if isinstance(a, str):
            if a not in built:
                built[a] = make_player(a, market)
            players.append(built[a])
        elif isinstance(a, TheoryPricer) or callable(getattr(a, "respond", None)):
            players.append(a)
        else:
            raise SimulationError(f"{a!r} is neither an agent spec, a TheoryPricer nor an agent with respond()")
    start = _initial_price(initial, market)
    names = _unique_names(players)
    if prefix_cache:
        wrapped: dict[int, Any] = {}
        players = [p if isinstance(p, TheoryPricer) else wrapped.setdefault(id(p), _accelerated(p)) for p in players]
    theory = [p for p in players if isinstance(p, TheoryPricer)]
    benchmarks = _benchmarks(market, theory)
    prompter = PricePrompter(market, history=history, paraphrase=paraphrase) \
        if any(not isinstance(p, TheoryPricer) for p in players) else None
    schema = prompter.schema if prompter is not None else None
    opening = answer_opening(schema) if schema is not None and reply == "direct" else ""
    continued = {id(p) for p in players if opening and not isinstance(p, TheoryPricer) and continues_replies(p)}
    _seed_everything(seed)

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    rounds_path, summary_path, plot_path = out / "rounds.jsonl", out / "simulation.json", out / "prices.png"
    run_params: dict[str, Any] = {
        "game_params": {k: (v.numerator if v.denominator == 1 else float(v)) for k, v in market.point.items()},
        "action": market.action.name, "bounds": [market.lo, market.hi], "initial": initial if isinstance(initial, str)
        else float(initial), "initial_price": start, "history": history, "max_new_tokens": max_new_tokens,
        "seed": seed, "paraphrase": paraphrase, "reply": reply,
    }
    played: list[RoundRecord] = []
    last_price = [start, start]
    interrupted = False
    failure: SimulationError | None = None
    began = time.perf_counter()
    with rounds_path.open("w", encoding="utf-8") as fh, _progress(n_rounds, progress) as advance:
        try:
            for t in range(1, n_rounds + 1):
                answers: dict[int, str] = {}
                groups: dict[int, list[int]] = {}
                for i, p in enumerate(players):
                    if not isinstance(p, TheoryPricer):
                        groups.setdefault(id(p), []).append(i)
                for members in groups.values():
                    agent = players[members[0]]
                    assert prompter is not None
                    prompts = [prompter.messages(t, i, played) for i in members]
                    options: dict[str, Any] = {"max_new_tokens": max_new_tokens}
                    if id(agent) in continued:
                        options.update(reply_prefix=opening, stop=("}",))
                    try:
                        texts = list(agent.respond(prompts, **options))  # type: ignore[union-attr]
                    except AgentError as exc:
                        raise SimulationError(f"agent {names[members[0]]!r} failed in round {t}: {exc}") from None
                    if len(texts) != len(prompts):
                        raise SimulationError(f"agent {names[members[0]]!r} returned {len(texts)} answers for "
                                              f"{len(prompts)} prompts")
                    answers.update(zip(members, texts, strict=True))
                prices: list[float] = []
                meta: list[tuple[bool, str | None, str | None]] = []
                for i, p in enumerate(players):
                    if isinstance(p, TheoryPricer):
                        prices.append(p.best_response(last_price[1 - i]))
                        meta.append((False, None, None))
                        continue
                    raw = _clean(answers[i])
                    assert schema is not None
                    parsed = parse_answer(answers[i] if isinstance(answers[i], str) else raw, schema)
                    if parsed.ok and parsed.value is not None:
                        prices.append(float(parsed.value[market.action.name]))
                        meta.append((False, raw, None))
                    else:
                        prices.append(last_price[i])
                        meta.append((True, raw, parsed.error or "no answer"))
                moves = []
                for i in range(2):
                    held, raw, error = meta[i]
                    moves.append(AgentMove(agent=names[i], price=prices[i], held=held, raw=raw, error=error,
                                           share=market.share(prices[i], prices[1 - i]),
                                           profit=market.profit(prices[i], prices[1 - i])))
                record = RoundRecord(round=t, agents=moves)
                fh.write(json.dumps(record.model_dump(mode="json"), ensure_ascii=False, allow_nan=False) + "\n")
                fh.flush()
                played.append(record)
                last_price = prices
                advance(f"round {t}: {prices[0]:.3f} / {prices[1]:.3f}")
        except KeyboardInterrupt:
            interrupted = True
        except SimulationError as exc:
            failure = exc
    elapsed = time.perf_counter() - began
    agent_summaries, index = _summarize(played, players, names, benchmarks, last)
    summary = SimulationSummary(
        spec=ir.spec.name, spec_sha256=ir.spec.sha256, game=market.name, rounds=len(played),
        rounds_requested=n_rounds, last=min(last, len(played)), interrupted=interrupted or failure is not None,
        elapsed_s=round(elapsed, 3), params=run_params, agents=agent_summaries, benchmarks=benchmarks,
        collusion_index=index,
    )
    atomic_write_text(summary_path, summary.model_dump_json(indent=2) + "\n")
    written = plot_prices(summary, played, plot_path) if plot else None
    if failure is not None:
        raise SimulationError(f"{failure} ({len(played)} rounds kept in {rounds_path})")
    if interrupted:
        raise KeyboardInterrupt
    if progress:
        print_simulation(summary)
    return SimulationResult(summary=summary, rounds=played, out_dir=out, rounds_path=rounds_path,
                            summary_path=summary_path, plot_path=written)
