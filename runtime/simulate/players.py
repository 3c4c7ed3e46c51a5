"""The players: theory pricers (the compiler's best response under a preference) and agents that
answer prompts."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from ..agents import AgentError, LogitAgent, TheoryAgent, make_agent
from ..protocol import Agent
from .market import PricingMarket, SimulationError

if TYPE_CHECKING:
    from prefc.compiler.check import PreferencePoint
    from prefc.compiler.ir import SpecIR

__all__ = ["Player", "TheoryPricer", "make_player", "shared_local_players"]


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

    @property
    def preference(self) -> str:
        """The preference label."""
        return self.point.label

    def best_response(self, rival: float) -> float:
        """The price maximising the utility against the rival's price (grid plus Brent refinement).

        Args:
            rival: The rival's price.
        """
        return self.market.best_response(self.point, rival)

    def __repr__(self) -> str:
        return f"TheoryPricer(name={self.name!r})"


Player = TheoryPricer | Agent


def _theory_point(ir: SpecIR, spec: str, label: str) -> PreferencePoint:
    from prefc.compiler.check import check_preference_application
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
    points = check_preference_application(app, ir.spec.preferences, bag=bag)
    if bag.has_errors:
        raise fail(bag.items)
    if len(points) != 1:
        raise SimulationError(
            f"agent {spec!r}: a theory player needs one value per parameter, not {len(points)} combinations"
        )
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
        raise SimulationError(
            f"agent {spec!r} answers rubric items only; simulate plays theory:PREF, local:MODEL "
            "or openai:URL?model=NAME agents"
        )
    return agent


def _local_parts(spec: str) -> tuple[str, str | None] | None:
    """``(model, adapter)`` of a plain ``local:MODEL[?adapter=DIR]`` spec, else None."""
    kind, sep, rest = spec.partition(":")
    if not sep or kind.strip().lower() != "local":
        return None
    target, _, query = rest.strip().partition("?")
    if not target:
        return None
    if not query:
        return target, None
    key, eq, value = query.partition("=")
    if key != "adapter" or not eq or not value or "&" in value or "," in value:
        return None
    return target, value


def shared_local_players(specs: Sequence[str]) -> list[Player] | None:
    """Two ``local:`` specs of one base model with different adapters, as two agents of one
    :class:`prefc.runtime.adapter_bank.AdapterBank` (both answer in one batch each round); None
    for any other pair.

    Args:
        specs: The agent specs.

    Raises:
        SimulationError: When the model or an adapter cannot be loaded.
    """
    parts = [_local_parts(s) for s in specs]
    if len(specs) != 2 or specs[0] == specs[1] or any(p is None for p in parts):
        return None
    models = {p[0] for p in parts if p is not None}
    if len(models) != 1:
        return None
    from ..adapter_bank import AdapterBank
    from ..models import ModelError

    try:
        bank = AdapterBank(models.pop(), adapters=[p[1] for p in parts if p is not None])
    except ModelError as exc:
        raise SimulationError(str(exc)) from None
    return list(bank.agents)
