"""The checked model: a spec after its names are resolved and its mistakes reported, the form every
later stage (lowering, solving, emitting, the runtime's players) starts from.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
from functools import cached_property

from prefc.compiler import ast
from prefc.compiler.ast import Let, Move, Param, Player
from prefc.compiler.diagnostics import Diagnostic
from prefc.compiler.source import SourceFile
from prefc.numbers import value_text

__all__ = ["ActionInfo", "CheckedBuild", "CheckedGame", "CheckedPreference", "CheckedSpec", "PreferencePoint"]


@dataclass(frozen=True)
class ActionInfo:
    """One action of one mover (a named player or every member of a group)."""

    name: str
    owner: str
    stage: int
    move: ast.Move

    @property
    def domain(self) -> ast.Interval | ast.IntRange | ast.LabelSet:
        return self.move.domain

    @property
    def is_finite_labels(self) -> bool:
        return isinstance(self.move.domain, ast.LabelSet)

    @property
    def labels(self) -> tuple[str, ...]:
        if isinstance(self.move.domain, ast.LabelSet):
            return tuple(i.name for i in self.move.domain.labels)
        return ()


@dataclass
class CheckedGame:
    """A game with its names resolved."""

    ast: ast.Game
    players: dict[str, Player]
    params: dict[str, Param]
    actions: dict[str, ActionInfo]
    lets: dict[str, Let]
    stages: list[list[Move]]
    labels: dict[str, str]  # label -> action name
    defaults: dict[str, Fraction]

    @property
    def name(self) -> str:
        return self.ast.name.name

    @property
    def title(self) -> str:
        return self.ast.title or self.ast.name.name.replace("_", " ").capitalize()

    @property
    def group(self) -> Player | None:
        """The indexed group, if the game's players are one."""
        return next((p for p in self.players.values() if p.is_group), None)

    @property
    def is_sequential(self) -> bool:
        return len(self.stages) > 1

    @property
    def kantian_mode(self) -> str:
        if self.ast.kantian is not None:
            return self.ast.kantian.mode
        return "substitute" if self.ast.symmetric else "roles"

    def actions_of(self, player: str) -> list[ActionInfo]:
        """The actions a player chooses, in stage order."""
        return [a for a in self.actions.values() if a.owner == player]


@dataclass
class CheckedPreference:
    ast: ast.Preference
    origin: str
    defaults: dict[str, Fraction | None]
    domains: dict[str, tuple[Fraction, Fraction] | None]

    @property
    def name(self) -> str:
        return self.ast.name.name

    @property
    def title(self) -> str:
        return self.ast.title or self.name


@dataclass(frozen=True)
class PreferencePoint:
    """A preference with every parameter fixed: ``moralis(kappa=1/2)``."""

    name: str
    values: tuple[tuple[str, Fraction], ...] = ()

    @cached_property
    def label(self) -> str:
        """``name(param=value, ...)``, the preference point's canonical text (cached: it is a key of
        every solution cache)."""
        if not self.values:
            return self.name
        inner = ", ".join(f"{k}={value_text(v)}" for k, v in self.values)
        return f"{self.name}({inner})"


@dataclass
class CheckedBuild:
    ast: ast.Build
    preferences: list[PreferencePoint]
    games: list[str]

    @property
    def name(self) -> str:
        return self.ast.name.name

    @property
    def kind(self) -> str:
        return self.ast.kind


@dataclass
class CheckedSpec:
    """A whole spec after imports and checks: what every later stage starts from.

    Attributes:
        name: The spec's name (its ``spec`` header, else the file stem).
        title: A human title.
        path: The main file's path.
        sha256: Hash of the spec name and the content of every file read, in import order (see
            :func:`spec_digest`); paths do not enter it.
        sources: Every source file read, by path.
        games, preferences, builds: Resolved declarations by name (games and preferences include
            those of imported files).
        diagnostics: Warnings (errors raise instead).
    """

    name: str
    title: str
    path: str
    sha256: str
    sources: dict[str, SourceFile]
    games: dict[str, CheckedGame]
    preferences: dict[str, CheckedPreference]
    builds: dict[str, CheckedBuild]
    diagnostics: list[Diagnostic] = field(default_factory=list)
