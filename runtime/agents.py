"""Agents that need no model: scripted, fixed, logit-choice and theory agents, and ``make_agent``.

Every agent implements :class:`prefc.runtime.protocol.Agent` (``name`` and ``respond``). The
:class:`LogitAgent` and :class:`TheoryAgent` answer from a rubric item's data rather than from its
prompt text, so they also offer ``respond_items(items)``; the evaluator calls ``respond_items``
whenever an agent has it and ``respond`` otherwise.

Command-line agent specs (:func:`make_agent`):

``theory:LABEL``
    :class:`TheoryAgent` answering every item with its target for preference ``LABEL``, e.g.
    ``theory:economicus``, ``theory:moralis(kappa=0.5)``.
``logit:kappa=K,temperature=T,seed=S``
    :class:`LogitAgent`; ``temperature`` defaults to 1 and ``seed`` to 0.
``local:NAME_OR_PATH[?adapter=DIR]``
    A local transformers model (``local:smollm2-135m-instruct``, ``local:./my-model``), optionally
    with a LoRA adapter directory. torch and transformers are imported only for this kind.
``openai:URL?model=NAME[&timeout=S&concurrency=N&max_retries=N]``
    An OpenAI-compatible chat endpoint, e.g. ``openai:http://127.0.0.1:8000/v1?model=NAME``. The API
    key is read from ``$PREFC_API_KEY`` or ``$OPENAI_API_KEY``; it never appears in names, results or
    error messages.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import numpy as np

from .answers import format_answer
from .protocol import Agent, AgentError, Prompt

__all__ = [
    "AGENT_KINDS",
    "AgentError",
    "FixedAgent",
    "LogitAgent",
    "ScriptedAgent",
    "TheoryAgent",
    "make_agent",
    "logit_probabilities",
]

AGENT_KINDS: dict[str, str] = {
    "theory": "theory:LABEL  (answers with the rubric target of preference LABEL)",
    "logit": "logit:kappa=K,temperature=T,seed=S  (logit choice over the item's utility family)",
    "local": "local:NAME_OR_PATH[?adapter=DIR]  (a local transformers model)",
    "openai": "openai:URL?model=NAME  (an OpenAI-compatible chat endpoint)",
}
"""The agent kinds :func:`make_agent` understands, with their syntax."""


class ScriptedAgent:
    """An agent whose answers come from a Python function of the prompt (tests and demos).

    Args:
        name: Label used in results.
        fn: Maps one prompt (a list of chat messages) to the assistant's text.
    """

    def __init__(self, name: str, fn: Callable[[Prompt], str]) -> None:
        self.name = name
        self._fn = fn

    def respond(self, prompts: Sequence[Prompt], *, max_new_tokens: int = 256) -> list[str]:
        """Answer each prompt with ``fn(prompt)``.

        Args:
            prompts: Conversations ending with a user message.
            max_new_tokens: Ignored (the function decides the length).
        """
        return [str(self._fn(prompt)) for prompt in prompts]

    def __repr__(self) -> str:
        return f"ScriptedAgent(name={self.name!r})"


class FixedAgent:
    """An agent that replies with fixed texts, in turn, whatever the prompt.

    Args:
        name: Label used in results.
        answers: One text for every prompt, or a non-empty sequence of texts used in order and
            cycled (the position carries over between calls).
    """

    def __init__(self, name: str, answers: str | Sequence[str]) -> None:
        texts = [answers] if isinstance(answers, str) else [str(a) for a in answers]
        if not texts:
            raise AgentError("FixedAgent needs at least one answer")
        self.name = name
        self._answers = texts
        self._next = 0

    def respond(self, prompts: Sequence[Prompt], *, max_new_tokens: int = 256) -> list[str]:
        """Answer the prompts with the next texts in the cycle.

        Args:
            prompts: Conversations ending with a user message (their content is ignored).
            max_new_tokens: Ignored.
        """
        out = []
        for _ in prompts:
            out.append(self._answers[self._next % len(self._answers)])
            self._next += 1
        return out

    def __repr__(self) -> str:
        return f"FixedAgent(name={self.name!r}, answers={len(self._answers)})"


def _family_grid(item: Mapping[str, Any], rows: int, grid: Sequence[float] | None) -> np.ndarray:
    values = grid if grid is not None else item.get("family", {}).get("grid")
    if values is None:
        return np.linspace(0.0, 1.0, rows)
    out = np.asarray(values, dtype=float)
    if out.shape != (rows,) or not np.all(np.diff(out) > 0):
        raise AgentError(f"item {item.get('id')!r}: the family grid must be increasing with {rows} points")
    return out


def logit_probabilities(
    item: Mapping[str, Any], *, kappa: float, temperature: float, grid: Sequence[float] | None = None
) -> np.ndarray:
    """Logit choice probabilities over an item's ``family.options`` at one parameter value.

    The utility of each option at ``kappa`` is interpolated linearly between the rows of
    ``family.utilities`` (one row per grid point); ``P(option) = softmax(u / temperature)``. At
    temperature 0 the maximisers share the probability equally.

    Args:
        item: A rubric item with ``family.options`` and ``family.utilities``.
        kappa: The family parameter (within the grid's range).
        temperature: Logit noise (>= 0); the precision is ``1 / temperature``.
        grid: The family's parameter grid (the rubric header's ``family.grid``); defaults to the
            item's ``family.grid`` if present, else evenly spaced points on [0, 1].

    Returns:
        One probability per option, summing to 1.
    """
    family = item.get("family")
    if not isinstance(family, Mapping) or "options" not in family or "utilities" not in family:
        raise AgentError(f"item {item.get('id')!r} has no family (options and utilities)")
    utilities = np.asarray(family["utilities"], dtype=float)
    options = family["options"]
    if utilities.ndim != 2 or utilities.shape[1] != len(options) or not len(options):
        raise AgentError(f"item {item.get('id')!r}: family utilities must be one row of {len(options)} per grid point")
    points = _family_grid(item, utilities.shape[0], grid)
    if not points[0] - 1e-12 <= kappa <= points[-1] + 1e-12:
        raise AgentError(f"kappa={kappa} is outside the family grid [{points[0]}, {points[-1]}]")
    u = np.array([np.interp(kappa, points, utilities[:, j]) for j in range(len(options))])
    if temperature <= 0:
        best = np.isclose(u, u.max(), rtol=0, atol=1e-12)
        return best / best.sum()
    z = (u - u.max()) / temperature
    p = np.exp(z)
    return p / p.sum()


def _schema_order(item: Mapping[str, Any]) -> Mapping[str, Any] | None:
    schema = item.get("schema")
    return schema if isinstance(schema, Mapping) else None


class LogitAgent:
    """Chooses among a rubric item's family options by logit choice at a fixed kappa.

    For each item it draws one option with probability ``softmax(u(option; kappa) / temperature)``
    (see :func:`logit_probabilities`) and answers with a one-line note and ``ANSWER: {...}``.
    Draws come from one seeded stream, one uniform number per item, so the answers depend only on
    the seed and the order of the items, not on how they are batched.

    Args:
        name: Label used in results.
        kappa: The family parameter the agent acts on.
        temperature: Logit noise (0 = always a best option).
        seed: Seed of the random stream.
        grid: The family's parameter grid, if the items do not carry one and it is not evenly
            spaced on [0, 1].
    """

    def __init__(
        self,
        name: str,
        *,
        kappa: float,
        temperature: float = 1.0,
        seed: int = 0,
        grid: Sequence[float] | None = None,
    ) -> None:
        if not math.isfinite(kappa):
            raise AgentError("kappa must be a finite number")
        if not math.isfinite(temperature) or temperature < 0:
            raise AgentError("temperature must be a finite number >= 0")
        self.name = name
        self.kappa = float(kappa)
        self.temperature = float(temperature)
        self.seed = seed
        self.grid = None if grid is None else [float(g) for g in grid]
        self._rng = np.random.default_rng(seed)

    def probabilities(self, item: Mapping[str, Any]) -> list[float]:
        """The agent's choice probabilities over ``item["family"]["options"]``.

        Args:
            item: A rubric item with a utility family.
        """
        return logit_probabilities(item, kappa=self.kappa, temperature=self.temperature, grid=self.grid).tolist()

    def respond_items(self, items: Sequence[Mapping[str, Any]], *, grid: Sequence[float] | None = None) -> list[str]:
        """Answer rubric items by a logit draw among their family options.

        Args:
            items: Rubric items (with ``family`` and ``schema``).
            grid: The rubric header's ``family.grid``, overriding the agent's own ``grid``.
        """
        out = []
        use_grid = self.grid if grid is None else [float(g) for g in grid]
        for item in items:
            p = logit_probabilities(item, kappa=self.kappa, temperature=self.temperature, grid=use_grid)
            k = min(int(np.searchsorted(np.cumsum(p), self._rng.random(), side="right")), len(p) - 1)
            option = item["family"]["options"][k]
            note = f"Logit choice at kappa={self.kappa:g}, temperature={self.temperature:g}."
            out.append(f"{note}\n{format_answer(option, schema=_schema_order(item))}")
        return out

    def respond(self, prompts: Sequence[Prompt], *, max_new_tokens: int = 256) -> list[str]:
        """Not available: this agent answers rubric items, not free prompts (use ``respond_items``).

        Args:
            prompts: Conversations ending with a user message.
            max_new_tokens: Ignored.
        """
        raise AgentError(f"{self.name}: a logit agent answers rubric items; call respond_items(items)")

    def __repr__(self) -> str:
        return f"LogitAgent(name={self.name!r}, kappa={self.kappa}, temperature={self.temperature}, seed={self.seed})"


_LABEL = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*(?:\((.*)\))?\s*$")


def _label_key(label: str) -> tuple[str, tuple[tuple[str, Any], ...]] | None:
    """``"moralis(kappa = .50)"`` -> ``("moralis", (("kappa", 0.5),))``; None if not of that shape."""
    match = _LABEL.match(label)
    if not match:
        return None
    params: list[tuple[str, Any]] = []
    if match.group(2) is not None and match.group(2).strip():
        for part in match.group(2).split(","):
            if "=" not in part:
                return None
            key, _, raw = part.partition("=")
            raw = raw.strip()
            try:
                value: Any = float(raw)
            except ValueError:
                value = raw
            params.append((key.strip(), value))
    return match.group(1), tuple(sorted(params))


def _match_label(wanted: str, available: Sequence[str]) -> str | None:
    if wanted in available:
        return wanted
    key = _label_key(wanted)
    if key is None:
        return None
    hits = [label for label in available if _label_key(label) == key]
    return hits[0] if len(hits) == 1 else None


class TheoryAgent:
    """Answers each rubric item with its target for one preference: the theory playing itself.

    Args:
        name: Label used in results.
        preference_label: The preference whose targets to give, as in the rubric
            (``"economicus"``, ``"moralis(kappa=0.5)"``; spacing and number spelling may differ).
    """

    def __init__(self, name: str, *, preference_label: str) -> None:
        self.name = name
        self.preference_label = preference_label

    def respond_items(self, items: Sequence[Mapping[str, Any]]) -> list[str]:
        """Answer each item with its target for the agent's preference.

        Args:
            items: Rubric items (with ``targets`` and ``schema``).

        Raises:
            AgentError: If an item has no target for the preference (the message lists those it has).
        """
        out = []
        for item in items:
            targets = item.get("targets") or {}
            label = _match_label(self.preference_label, list(targets))
            if label is None:
                raise AgentError(
                    f"item {item.get('id')!r} has no target for {self.preference_label!r}; it has {sorted(targets)}"
                )
            target = {k: v for k, v in targets[label].items() if k != "alternatives"}
            shown = ", ".join(f"{k} = {v}" for k, v in target.items())
            out.append(
                f"Under {label}, the optimal choice is {shown}.\n{format_answer(target, schema=_schema_order(item))}"
            )
        return out

    def respond(self, prompts: Sequence[Prompt], *, max_new_tokens: int = 256) -> list[str]:
        """Not available: this agent answers rubric items, not free prompts (use ``respond_items``).

        Args:
            prompts: Conversations ending with a user message.
            max_new_tokens: Ignored.
        """
        raise AgentError(f"{self.name}: a theory agent answers rubric items; call respond_items(items)")

    def __repr__(self) -> str:
        return f"TheoryAgent(name={self.name!r}, preference_label={self.preference_label!r})"


def _parse_options(text: str, *, kind: str, allowed: Mapping[str, type]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        key, sep, raw = part.partition("=")
        key = key.strip()
        if not sep or key not in allowed:
            raise AgentError(f"{kind}: expected KEY=VALUE with KEY in {sorted(allowed)}, got {part!r}")
        if key in out:
            raise AgentError(f"{kind}: {key!r} given twice")
        try:
            out[key] = allowed[key](raw.strip())
        except ValueError:
            raise AgentError(f"{kind}: {key}={raw.strip()!r} is not a valid {allowed[key].__name__}") from None
    return out


def _public_url(url: str) -> str:
    """The URL without user info (credentials never travel into names or messages)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port is not None:
        host = f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path, "", ""))


def make_agent(spec: str) -> Agent:
    """Build an agent from a command-line spec such as ``theory:moralis(kappa=0.5)``.

    Args:
        spec: ``KIND:REST``; the kinds and their syntax are listed in :data:`AGENT_KINDS` and the
            module docstring.

    Returns:
        The agent. Its ``name`` is the spec (for ``openai:`` with any credentials in the URL removed;
        for ``local:`` the model's label, e.g. ``smollm2-135m-instruct+ADAPTER``).

    Raises:
        AgentError: For an unknown kind (the message lists the kinds) or a malformed spec.
    """
    kinds = "; ".join(AGENT_KINDS.values())
    kind, sep, rest = spec.partition(":")
    kind = kind.strip().lower()
    if not sep or kind not in AGENT_KINDS:
        raise AgentError(f"unknown agent {spec.split(':', 1)[0]!r}; agent specs are: {kinds}")
    rest = rest.strip()
    if kind == "theory":
        if not rest:
            raise AgentError("theory: needs a preference label, e.g. theory:moralis(kappa=0.5)")
        return TheoryAgent(f"theory:{rest}", preference_label=rest)
    if kind == "logit":
        opts = _parse_options(rest, kind="logit", allowed={"kappa": float, "temperature": float, "seed": int})
        if "kappa" not in opts:
            raise AgentError("logit: needs kappa, e.g. logit:kappa=0.3,temperature=0.1,seed=1")
        name = f"logit:kappa={opts['kappa']:g},temperature={opts.get('temperature', 1.0):g},seed={opts.get('seed', 0)}"
        return LogitAgent(name, **opts)
    if kind == "local":
        target, _, query = rest.partition("?")
        if not target:
            raise AgentError("local: needs a model name or directory, e.g. local:smollm2-135m-instruct")
        opts = _parse_options(query.replace("&", ","), kind="local", allowed={"adapter": str})
        return _local_agent(target, adapter=opts.get("adapter"))
    url, _, query = rest.partition("?")
    if urlsplit(url).scheme not in ("http", "https") or not urlsplit(url).hostname:
        raise AgentError("openai: expected an http(s) base URL, e.g. openai:http://127.0.0.1:8000/v1?model=NAME")
    opts = _parse_options(
        query.replace("&", ","),
        kind="openai",
        allowed={"model": str, "timeout": float, "concurrency": int, "max_retries": int},
    )
    if not opts.get("model"):
        raise AgentError("openai: needs ?model=NAME (GET /v1/models on the server lists the names)")
    from .http_agent import OpenAIChatAgent

    model = opts.pop("model")
    return OpenAIChatAgent(url, model, name=f"openai:{_public_url(url)}?model={model}", **opts)


def _local_agent(target: str, *, adapter: str | None) -> Agent:
    try:
        from .generate import LocalAgent
    except ImportError as exc:  # the ML extra is not installed
        raise AgentError(f"local: needs the ML stack (pip install 'prefc[train]'): {exc}") from None
    from .models import ModelError

    try:
        return LocalAgent(target, adapter=adapter)
    except ModelError as exc:  # a missing or corrupt model or adapter, already explained
        raise AgentError(f"local:{target}: {exc}") from exc
    except (OSError, ValueError) as exc:  # anything else the loaders reject
        raise AgentError(f"local:{target}: cannot load ({exc.__class__.__name__}: {exc})") from exc
