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
    read by :func:`prefc.runtime.answers.parse_answer` with the action's bounds as the schema.
    Agents that are one object (the same model) answer both their prompts in one batch. An
    answer that cannot be read is recorded (raw text and reason) and the agent's previous price
    is held (``held: true``); before its first valid answer that is the initial price.

Benchmarks come from the compiler's solvers: the Nash price (homo economicus,
:class:`prefc.compiler.solve.GameSolver`), the joint-profit price (the common price that
maximises a firm's profit when both charge it, which is homo moralis at kappa = 1), and the homo
moralis symmetric prices at kappa 0.25, 0.5, 0.75 and at every theory player's kappa. The
collusion index of a firm is ``(profit - Nash profit) / (joint-profit profit - Nash profit)``,
its profit averaged over the last rounds (Calvano et al. 2020).

:func:`simulate` writes into its output directory ``rounds.jsonl`` (one
:class:`prefc.artefacts.RoundRecord` per line, flushed as it goes, so an interrupted run keeps
its rounds), ``simulation.json`` (the :class:`prefc.artefacts.SimulationSummary`, written
atomically) and ``prices.png``.

Rooms: :mod:`.market` (the game compiled for play, benchmarks), :mod:`.players` (theory pricers,
agents), :mod:`.prompts` (what language models read), :mod:`.loop` (the rounds), :mod:`.output`
(summaries, the plot, the table). Local models reuse the prompt prefix every round shares through
:class:`prefc.runtime.generate.PrefixCachedLocal`.
"""

from prefc.artefacts import AgentMove, AgentSummary, Benchmarks, CollusionIndex, RoundRecord, SimulationSummary

from ..generate import PrefixCachedLocal
from .loop import DEFAULT_HISTORY, DEFAULT_LAST, DEFAULT_MAX_NEW_TOKENS, DEFAULT_ROUNDS, REPLY_MODES, simulate
from .market import PricingMarket, SimulationError
from .output import SimulationResult, plot_prices, print_simulation
from .players import Player, TheoryPricer, make_player
from .prompts import PricePrompter, answer_opening, continues_replies

__all__ = [
    "DEFAULT_HISTORY",
    "DEFAULT_LAST",
    "DEFAULT_MAX_NEW_TOKENS",
    "DEFAULT_ROUNDS",
    "REPLY_MODES",
    "AgentMove",
    "AgentSummary",
    "Benchmarks",
    "CollusionIndex",
    "Player",
    "PrefixCachedLocal",
    "PricePrompter",
    "PricingMarket",
    "RoundRecord",
    "SimulationError",
    "SimulationResult",
    "SimulationSummary",
    "TheoryPricer",
    "answer_opening",
    "continues_replies",
    "make_player",
    "plot_prices",
    "print_simulation",
    "simulate",
]
