"""Solved games kept between compiles, content-addressed: a rebuild that changes only what is drawn
from the solutions (a dataset's size or seed, a rubric's items) solves nothing again.

One entry per game and preference point, in ``<cache root>/solved/<key[:2]>/<key>.json``. The key
is the SHA-256 of a canonical serialisation of what the answers depend on:

* the game's lowered IR (its canonical ``.pref`` text without parameter sweeps, its parameters with
  their symbols, defaults and kinds, every action's bounds as ``sympy.srepr``, roles, group size and
  role weights),
* the preference (its label, parameter values and canonical declaration),
* the solver's version: :data:`SOLVER_VERSION`, prefc's version, and a digest of the sources of the
  solver, the IR and the solution models (so a changed solver never reads an older one's answers).

An entry holds, by parameter point, the solutions as :class:`prefc.artefacts.Solution` rows, and by
situation the decisions prompts ask (:class:`prefc.artefacts.Decision`) and the option utilities a
rubric lists. Nothing in it is trusted as it stands:

* a file that is not JSON, whose checksum or key does not match, or that does not validate, is
  ignored (and replaced by the next save);
* every solution is certified again when it is read, by the concept's independent check
  (:mod:`prefc.compiler.solve.certify`), which must reproduce the stored verification exactly;
  a solution that fails is solved again, and so are the decisions at its point (the check of a
  sequential game takes the later movers' replies from the finder, run again without derivations);
* a decision of a first mover must be one of its certified solution's derivation; a later mover's
  finite decision must choose an option of the highest listed utility.

Writes go through :func:`prefc.artefacts.atomic_write_bytes` after merging what is on disk, so
compiles running at the same time never corrupt an entry (one may keep the other's additions out,
which costs a solve next time, never a wrong answer). A directory that another user owns or others
may write is not used.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

import sympy as sp

from prefc.artefacts import Decision, Solution, atomic_write_bytes
from prefc.compiler.ir import BoundPreference, GameIR

__all__ = [
    "SOLVER_VERSION",
    "CachedGame",
    "SolveCache",
    "cache_key",
    "decision_consistent",
    "entry_checksum",
    "game_fingerprint",
    "point_key",
    "preference_fingerprint",
    "recertify",
    "situation_key",
    "solver_digest",
]

SOLVER_VERSION = 2
"""Bumped whenever the solvers' output changes (the source digest catches what a bump forgets)."""

_FORMAT = 1
_SOURCES = (
    "compiler/solve",
    "compiler/ir.py",
    "compiler/lower.py",
    "compiler/exact.py",
    "prefc/artefacts/solution.py",  # in the source tree
    "artefacts/solution.py",  # installed, where compiler/ is prefc/compiler/
)


# ----------------------------------------------------------------------------- keys


def _frac(v: Fraction | int) -> str:
    f = Fraction(v)
    return f"{f.numerator}/{f.denominator}"


def _srepr(expr: sp.Expr | None) -> str | None:
    return None if expr is None else sp.srepr(expr)


def point_key(point: tuple[tuple[str, Fraction], ...]) -> str:
    """A parameter point as exact text (``E=10/1,T=5/1``).

    Args:
        point: ``((name, value), ...)``.
    """
    return ",".join(f"{k}={_frac(v)}" for k, v in point)


def situation_key(
    role: str, stage: int, action: str, point: tuple[tuple[str, Fraction], ...], history: tuple[tuple[str, Any], ...]
) -> str:
    """A decision a prompt asks, as exact text (history values keep whether they are label codes).

    Args:
        role: The decider.
        stage: The stage.
        action: The action's name.
        point: The parameter point.
        history: Earlier actions by key and value (ints are label codes or whole numbers).
    """
    seen = ",".join(f"{k}={'i' if isinstance(v, int) else 'q'}{_frac(v)}" for k, v in history)
    return f"{role}|{stage}|{action}|{point_key(point)}|{seen}"


def game_fingerprint(game: GameIR) -> dict[str, Any]:
    """The canonical serialisation of a game's IR that solutions depend on (sweeps left out: they
    choose points, they do not change the solution at one).

    Args:
        game: The game's IR.
    """
    from prefc.compiler import pretty

    g = game.checked.ast
    bare = g.model_copy(update={"params": [p.model_copy(update={"sweep": None}) for p in g.params]})
    return {
        "text": pretty.game(bare),
        "params": [[p.name, sp.srepr(p.symbol), _frac(p.default), p.integer] for p in game.params.values()],
        "actions": [
            [
                a.owner,
                a.name,
                a.kind,
                list(a.labels),
                _srepr(a.lo),
                _srepr(a.hi),
                _srepr(a.step),
                a.stage,
                list(a.observes),
            ]
            for a in game.actions
        ],
        "roles": list(game.roles),
        "group": game.group,
        "group_size": _srepr(game.group_size),
        "role_weights": {r: sp.srepr(w) for r, w in game.role_weights.items()},
        "rounds": game.rounds,
        "symmetric": game.symmetric,
        "kantian": game.kantian_mode,
    }


def preference_fingerprint(pref: BoundPreference) -> dict[str, Any]:
    """The canonical serialisation of a preference point.

    Args:
        pref: The preference with its parameter values.
    """
    from prefc.compiler import pretty

    return {
        "label": pref.label,
        "values": [[k, _frac(v)] for k, v in pref.point.values],
        "defaults": {k: None if v is None else _frac(v) for k, v in pref.checked.defaults.items()},
        "text": pretty.preference(pref.checked.ast),
    }


_DIGEST: list[str] = []


def solver_digest() -> str:
    """SHA-256 of the solver's, the IR's and the solution models' sources (computed once)."""
    if not _DIGEST:
        root = Path(__file__).resolve().parent.parent
        h = hashlib.sha256()
        for rel in _SOURCES:
            path = root / rel
            files = sorted(path.rglob("*.py")) if path.is_dir() else [path]
            for f in files:
                try:
                    data = f.read_bytes()
                except OSError:  # not in this layout: the version still counts
                    continue
                h.update(f.relative_to(root).as_posix().encode() + b"\0" + data + b"\0")
        _DIGEST.append(h.hexdigest())
    return _DIGEST[0]


def cache_key(game: GameIR, pref: BoundPreference) -> str:
    """The key of a game's entry for one preference point.

    Args:
        game: The game's IR.
        pref: The preference point.
    """
    from prefc.version import __version__

    doc = {
        "format": _FORMAT,
        "solver": SOLVER_VERSION,
        "prefc": __version__,
        "sources": solver_digest(),
        "game": game_fingerprint(game),
        "preference": preference_fingerprint(pref),
    }
    return hashlib.sha256(_dumps(doc)).hexdigest()


def _dumps(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


# ----------------------------------------------------------------------------- checks


def recertify(solver: Any, point: dict[str, Fraction], solution: Solution) -> bool:
    """Whether a stored solution passes its concept's independent check again, with the same
    verification, and names this game, preference, point and concept.

    Args:
        solver: The :class:`prefc.compiler.solve.GameSolver` of the game and preference.
        point: The validated parameter point.
        solution: The stored solution.
    """
    from prefc.compiler.ir import to_plain
    from prefc.compiler.solve.concept import Found

    if (
        solution.game != solver.game.name
        or solution.preference != solver.pref.label
        or solution.concept != solver.concept_name
        or solution.params != {k: to_plain(v) for k, v in point.items()}
        or solution.verified is None
    ):
        return False
    found = Found(
        equilibria=solution.equilibria,
        derivation=solution.derivation,
        selected=solution.selected,
        selection=solution.selection,
        exact=solution.exact,
        notes=list(solution.notes),
        mixing=solution.mixing,
    )
    try:
        if _needs_witness(solver.concept):
            # the sequential check evaluates the later movers' replies the finder derived (closed
            # forms where it has them); without them it would search every history again
            found.witness = solver.concept.find(point, derive=False).witness
        verification = solver.concept.certify(point, found)
    except Exception:  # noqa: BLE001 - a doctored entry may break the check anywhere; it is then not used
        return False
    return verification == solution.verified


def _needs_witness(concept: Any) -> bool:
    from prefc.compiler.solve.concepts.backward import Backward

    return isinstance(concept, Backward)


def decision_consistent(decision: Decision, solution: Solution, *, later: bool) -> bool:
    """Whether a stored decision agrees with its certified solution.

    A first mover's decision (no history) is one of the derivation's decisions; a later mover's
    decision over finite options chooses an option of the highest utility, and so does every tie.

    Args:
        decision: The stored decision.
        solution: The certified solution at its point.
        later: Whether it follows an observed history.
    """
    if not later:
        return decision in solution.derivation
    if decision.options is None:
        return True
    utilities = {o.value: o.utility for o in decision.options}
    known = [u for u in utilities.values() if u is not None]
    if not known:
        return False
    best = max(known)

    def top(v: Any) -> bool:
        u = utilities.get(v)
        return u is not None and u >= best - 1e-9 * max(1.0, abs(best))

    return top(decision.chosen) and all(top(t) for t in decision.ties)


# ----------------------------------------------------------------------------- entries


def _private(path: Path) -> bool:
    st = os.stat(path)
    owner_ok = not hasattr(os, "getuid") or st.st_uid == os.getuid()
    return owner_ok and not st.st_mode & (stat.S_IWGRP | stat.S_IWOTH)


def entry_checksum(payload: dict[str, Any]) -> str:
    """The SHA-256 an entry file records over its answers (catches a truncated or spoiled file).

    Args:
        payload: ``{"solutions": ..., "decisions": ..., "utilities": ...}``.
    """
    return hashlib.sha256(_dumps(payload)).hexdigest()


_PARTS = ("solutions", "decisions", "utilities")


def _read(path: Path, key: str) -> dict[str, dict[str, Any]] | None:
    """An entry file's payload, or None when it is missing, foreign, spoiled or not this key's."""
    try:
        data = json.loads(path.read_bytes())
    except (OSError, ValueError, RecursionError):
        return None
    if not isinstance(data, dict) or data.get("format") != _FORMAT or data.get("key") != key:
        return None
    payload = {p: data.get(p) for p in _PARTS}
    if not all(isinstance(v, dict) for v in payload.values()) or data.get("checksum") != entry_checksum(payload):
        return None
    return payload  # type: ignore[return-value]


@dataclass
class CachedGame:
    """The stored answers of one game for one preference point.

    Args:
        path: The entry's file (None: kept in memory only).
        key: Its key.
        game: The game's name (recorded for people reading the file).
        preference: The preference's label (likewise).
    """

    path: Path | None
    key: str
    game: str
    preference: str
    stored: dict[str, dict[str, Any]] = field(default_factory=lambda: {p: {} for p in _PARTS})
    added: dict[str, dict[str, Any]] = field(default_factory=lambda: {p: {} for p in _PARTS})
    rejected: set[str] = field(default_factory=set)

    def load(self) -> None:
        """Read the entry's file (nothing when it is missing or spoiled)."""
        if self.path is not None:
            self.stored = _read(self.path, self.key) or {p: {} for p in _PARTS}

    def get(self, part: str, key: str) -> Any:
        """A stored value as JSON data, or None.

        Args:
            part: ``solutions``, ``decisions`` or ``utilities``.
            key: Its key within the part.
        """
        return self.stored[part].get(key)

    def has(self, part: str, key: str) -> bool:
        """Whether a value is stored (a stored decision may be ``null``).

        Args:
            part: The part.
            key: Its key.
        """
        return key in self.stored[part]

    def drop(self, point: str) -> None:
        """Forget everything stored at a parameter point (its solution failed a check).

        Args:
            point: The point's key.
        """
        self.rejected.add(point)
        self.stored["solutions"].pop(point, None)
        for part in ("decisions", "utilities"):
            for k in [k for k in self.stored[part] if k.split("|")[3] == point]:
                del self.stored[part][k]

    def put(self, part: str, key: str, value: Any) -> None:
        """Record a computed value (JSON data) for the next save.

        Args:
            part: The part.
            key: Its key.
            value: The value.
        """
        self.added[part][key] = value
        self.stored[part][key] = value

    @property
    def dirty(self) -> bool:
        """Whether anything was added or rejected since loading."""
        return bool(self.rejected) or any(self.added[p] for p in _PARTS)

    def save(self) -> None:
        """Merge the additions into the file as it is now on disk and replace it atomically."""
        if self.path is None or not self.dirty:
            return
        current = _read(self.path, self.key) or {p: {} for p in _PARTS}
        for point in self.rejected:
            current["solutions"].pop(point, None)
            for part in ("decisions", "utilities"):
                for k in [k for k in current[part] if k.split("|")[3] == point]:
                    del current[part][k]
        for part in _PARTS:
            current[part].update(self.added[part])
        doc = {
            "format": _FORMAT,
            "key": self.key,
            "game": self.game,
            "preference": self.preference,
            **current,
            "checksum": entry_checksum(current),
        }
        self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        atomic_write_bytes(self.path, _dumps(doc))
        self.added = {p: {} for p in _PARTS}
        self.rejected = set()


class SolveCache:
    """The solved-games cache of one compile: entries loaded on first use, saved together.

    Args:
        root: The cache root (:func:`prefc.compiler.cache.cache_root`); None: that function's answer.
    """

    def __init__(self, root: str | os.PathLike[str] | None = None) -> None:
        from prefc.compiler.cache import cache_root

        self.directory: Path | None = cache_root(root) / "solved"
        try:
            self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
            if not _private(self.directory) or not os.access(self.directory, os.W_OK):
                self.directory = None
        except OSError:
            self.directory = None
        self._entries: dict[tuple[str, str], CachedGame] = {}

    def entry(self, game: GameIR, pref: BoundPreference) -> CachedGame:
        """The entry of a game for a preference point (loaded on first use).

        Args:
            game: The game's IR.
            pref: The preference point.
        """
        ident = (game.name, pref.label)
        hit = self._entries.get(ident)
        if hit is None:
            key = cache_key(game, pref)
            path = None if self.directory is None else self.directory / key[:2] / f"{key}.json"
            hit = self._entries[ident] = CachedGame(path, key, game.name, pref.label)
            hit.load()
        return hit

    def save(self) -> None:
        """Write every entry that gained answers (a cache that cannot be written is left as it is)."""
        for entry in self._entries.values():
            try:
                entry.save()
            except OSError:
                continue
