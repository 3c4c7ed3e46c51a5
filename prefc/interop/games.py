"""Gambit games as prefc specs (``prefc import``).

``prefc import game.nfg -o game.pref`` writes a spec with the game, the two preferences of the
paper (``economicus``, ``moralis``; declared in the file, so it needs no library) and, unless
``--game-only``, a dataset ``sft`` and a rubric ``eval`` sized to the game, so the game compiles
into SFT rows and eval items at once. The written spec is checked by prefc's checker before it is
put in place.

How a game becomes a prefc game:

* a strategic game (``.nfg``, or any ``.efg`` with ``--normal-form``): one named player per player,
  each choosing among its strategies in the same stage, payoffs as ``table(...)``; a two-player game
  with the same strategies whose payoffs are the same under exchange of the players is declared
  ``symmetric`` (``each player chooses``), which gives ``kantian`` its substitution meaning;
* a game tree (``.efg``) whose every level is one player's move with the same actions at every
  node and every path of the same length becomes a game in stages: a level whose information sets
  ignore the moves of the levels before it in the same stage is simultaneous with them (no
  ``then``), a level that sees them opens the next stage (``then ... sees ... and chooses``).
  Payoffs on the way add up. Trees of other shapes (chance moves, early ends, information sets
  that hide an earlier stage's move) are refused with the node's line; ``--normal-form`` imports
  their strategic form instead (expected payoffs over chance, one strategy per plan).

Names become identifiers (letters, digits, ``_``); a player's action is ``<player>_strategy``
(strategic) or ``<player>_move`` (stages, numbered when a player moves more than once); a label used
by two actions gets a number appended, as prefc labels belong to one action.
"""

from __future__ import annotations

import itertools
import os
import re
import tempfile
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

from prefc.compiler.pretty import number
from prefc.interop.gambit import ExtensiveGame, GambitFormatError, Node, StrategicGame, parse_game, to_strategic
from prefc.interop.output import ExportError

__all__ = ["ImportResult", "import_gambit", "spec_text"]

MAX_FILE_BYTES = 10_000_000
MAX_OPTIONS = 200
"""The most options of one decision (prefc's finite solver enumerates at most this many)."""

PARAPHRASES = 4
"""Wordings of each situation in the imported dataset (the rubric draws from the others)."""

_RESERVED = {
    "and",
    "argmax",
    "backward",
    "belief",
    "chooses",
    "dataset",
    "default",
    "each",
    "else",
    "for",
    "game",
    "games",
    "holdout",
    "if",
    "in",
    "items",
    "kantian",
    "let",
    "nash",
    "not",
    "or",
    "param",
    "paraphrases",
    "payoff",
    "per",
    "players",
    "preference",
    "repeat",
    "roles",
    "rounds",
    "rubric",
    "samples",
    "seed",
    "sees",
    "solve",
    "spec",
    "split",
    "step",
    "substitute",
    "symmetric",
    "table",
    "template",
    "then",
    "tolerance",
    "use",
    "vary",
    "where",
    "self",
    "other",
    "others",
    "min",
    "max",
    "abs",
    "exp",
    "log",
    "sqrt",
    "sum",
    "mean",
    "true",
    "false",
}

PREFERENCES = """# The paper's preferences (as in specs/preferences.pref), declared here so the spec stands alone.
preference economicus "Homo economicus" = payoff(self)
preference moralis(kappa in [0, 1] = 0.5) "Homo moralis" =
    (1 - kappa) * payoff(self) + kappa * kantian(payoff(self))
"""


@dataclass
class ImportResult:
    """An imported game.

    Attributes:
        text: The spec's text.
        game: The prefc game's name.
        form: ``strategic`` or ``stages``.
        players: The prefc player names, in the file's order.
        situations: Decisions asked per preference (for the dataset's size).
        notes: What was renamed or assumed, in words.
        path: Where the spec was written (None until written).
    """

    text: str
    game: str
    form: str
    players: list[str]
    situations: int
    notes: list[str] = field(default_factory=list)
    path: Path | None = None


class _Names:
    def __init__(self) -> None:
        self.used: set[str] = set()

    def make(self, text: str, fallback: str) -> str:
        name = re.sub(r"[^A-Za-z0-9_]+", "_", text.strip()).strip("_")
        if not name:
            name = fallback
        if name[0].isdigit():
            name = f"{fallback}_{name}"
        if name.lower() in _RESERVED:
            name = f"{name}_"
        base, k = name, 2
        while name in self.used:
            name, k = f"{base}_{k}", k + 1
        self.used.add(name)
        return name


def _table(refs: list[str], labels: list[list[str]], values: dict[tuple[int, ...], Fraction]) -> str:
    rows = []
    for combo in itertools.product(*(range(len(options)) for options in labels)):
        rows.append(", ".join(labels[i][k] for i, k in enumerate(combo)) + ": " + number(Fraction(values[combo])))
    body = "\n".join("        " + "; ".join(rows[i : i + 4]) for i in range(0, len(rows), 4))
    return f"table({', '.join(refs)}) {{\n{body}\n    }}"


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ") + '"'


def _strategic(game: StrategicGame, name: str, names: _Names, notes: list[str]) -> tuple[list[str], str, int]:
    players = [names.make(p, f"player{i + 1}") for i, p in enumerate(game.players)]
    for i, options in enumerate(game.strategies):
        if len(options) > MAX_OPTIONS:
            raise GambitFormatError(
                f"player {game.players[i]!r} has {len(options)} strategies; prefc decides among at most {MAX_OPTIONS}",
                line=1,
            )
    label_names = _Names()
    label_names.used |= names.used
    symmetric = (
        len(players) == 2
        and game.strategies[0] == game.strategies[1]
        and all(
            game.payoffs[(a, b)][0] == game.payoffs[(b, a)][1]
            for a in range(len(game.strategies[0]))
            for b in range(len(game.strategies[0]))
        )
    )
    lines = [f"    players {', '.join(players)}" + (" symmetric" if symmetric else "")]
    if symmetric:
        labels = [label_names.make(s, "s") for s in game.strategies[0]]
        lines.append(f"    each player chooses move in {{{', '.join(labels)}}}")
        refs = [f"{p}.move" for p in players]
        values = {prof: pay[0] for prof, pay in game.payoffs.items()}
        lines.append(f"    payoff {players[0]} = {_table(refs, [labels, labels], values)}")
        notes.append("symmetric two-player game: `kantian` substitutes the own strategy into the other's slot")
        return players, "\n".join(lines), 1
    all_labels: list[list[str]] = []
    for p, strategies in zip(players, game.strategies, strict=True):
        own = []
        for s in strategies:
            label = label_names.make(s, "s")
            if label != re.sub(r"[^A-Za-z0-9_]+", "_", s.strip()).strip("_"):
                notes.append(f"{p}'s strategy {s!r} is `{label}`")
            own.append(label)
        all_labels.append(own)
        lines.append(f"    {p} chooses {p}_strategy in {{{', '.join(own)}}}")
    refs = [f"{p}.{p}_strategy" for p in players]
    for i, p in enumerate(players):
        values = {prof: pay[i] for prof, pay in game.payoffs.items()}
        lines.append(f"    payoff {p} = {_table(refs, all_labels, values)}")
    return players, "\n".join(lines), len(players)


@dataclass
class _Level:
    player: int
    actions: list[str]
    observed: list[int]
    stage: int = 0


def _levels(game: ExtensiveGame, source: str) -> tuple[list[_Level], dict[tuple[int, ...], tuple[Fraction, ...]]]:
    """The levels of a regular tree, and each full history's payoffs (summed along the path)."""
    n = len(game.players)
    levels: list[_Level] = []
    by_level: list[list[tuple[tuple[int, ...], Node]]] = []
    leaves: dict[tuple[int, ...], tuple[Fraction, ...]] = {}
    hint = "; import its strategic form with --normal-form"

    def fail(node: Node, message: str) -> GambitFormatError:
        return GambitFormatError(message + hint, source=source, line=node.line, column=1)

    def walk(node: Node, history: tuple[int, ...], acc: tuple[Fraction, ...]) -> None:
        if node.payoffs is not None:
            acc = tuple(a + b for a, b in zip(acc, node.payoffs, strict=True))
        depth = len(history)
        if node.kind == "c":
            raise fail(node, "a chance move: prefc games have no chance moves")
        if node.kind == "t":
            if levels and depth != len(levels):
                raise fail(node, f"the game ends here after {depth} moves, elsewhere after {len(levels)}")
            leaves[history] = acc
            return
        if depth == len(levels):
            if leaves:
                raise fail(node, f"the game goes on here after {depth} moves, elsewhere it ends")
            levels.append(_Level(node.player, list(node.actions), []))
            by_level.append([])
        level = levels[depth]
        if node.player != level.player or node.actions != level.actions:
            raise fail(
                node,
                f"move {depth + 1} is made by player {node.player} with actions {node.actions} here, "
                f"by player {level.player} with {level.actions} elsewhere",
            )
        by_level[depth].append((history, node))
        for k, child in enumerate(node.children):
            walk(child, history + (k,), acc)

    walk(game.root, (), tuple(Fraction(0) for _ in range(n)))
    stage = 0
    stage_levels: list[int] = []
    for d, level in enumerate(levels):
        nodes = by_level[d]
        hidden = set()
        groups: dict[int, list[tuple[int, ...]]] = {}
        for history, node in nodes:
            groups.setdefault(node.infoset, []).append(history)
        for histories in groups.values():
            for k in range(d):
                if len({h[k] for h in histories}) > 1:
                    hidden.add(k)
        observed = [k for k in range(d) if k not in hidden]
        by_projection: dict[tuple[int, ...], set[int]] = {}
        for history, node in nodes:
            by_projection.setdefault(tuple(history[k] for k in observed), set()).add(node.infoset)
        if any(len(s) > 1 for s in by_projection.values()):
            raise fail(
                nodes[0][1], f"the information sets of move {d + 1} are not what seeing some earlier moves gives"
            )
        if any(k in observed for k in stage_levels) or not stage_levels:
            stage += 1
            earlier = list(range(d))
            stage_levels = []
        else:
            earlier = [k for k in range(d) if k not in stage_levels]
        if observed != earlier:
            raise fail(
                nodes[0][1],
                f"move {d + 1} sees moves {[k + 1 for k in observed]} but prefc's stages need it "
                f"to see exactly {[k + 1 for k in earlier]}",
            )
        if any(levels[k].player == level.player for k in stage_levels):
            raise fail(nodes[0][1], f"player {level.player} moves twice in one stage (move {d + 1})")
        level.observed, level.stage = observed, stage
        stage_levels.append(d)
    return levels, leaves


def _stages(game: ExtensiveGame, names: _Names, source: str, notes: list[str]) -> tuple[list[str], str, int]:
    levels, leaves = _levels(game, source)
    players = [names.make(p, f"player{i + 1}") for i, p in enumerate(game.players)]
    label_names = _Names()
    label_names.used |= names.used
    counts: dict[int, int] = {}
    for level in levels:
        counts[level.player] = counts.get(level.player, 0) + 1
    seen: dict[int, int] = {}
    actions, labels = [], []
    for level in levels:
        if len(level.actions) > MAX_OPTIONS:
            raise GambitFormatError(
                f"a move with {len(level.actions)} actions; prefc decides among at most {MAX_OPTIONS}",
                source=source,
                line=game.root.line,
            )
        seen[level.player] = seen.get(level.player, 0) + 1
        owner = players[level.player - 1]
        action = f"{owner}_move" if counts[level.player] == 1 else f"{owner}_move{seen[level.player]}"
        actions.append(action)
        own = []
        for a in level.actions:
            label = label_names.make(a, "a")
            if label != re.sub(r"[^A-Za-z0-9_]+", "_", a.strip()).strip("_"):
                notes.append(f"{players[level.player - 1]}'s action {a!r} is `{label}`")
            own.append(label)
        labels.append(own)
    lines = [f"    players {', '.join(players)}"]
    stage = 0
    for d, level in enumerate(levels):
        mover = players[level.player - 1]
        prefix = "then " if level.stage != stage and level.stage > 1 else ""
        stage = level.stage
        seen_refs = [f"{players[levels[k].player - 1]}.{actions[k]}" for k in level.observed]
        sees = f"sees {', '.join(seen_refs)} and " if seen_refs else ""
        lines.append(f"    {prefix}{mover} {sees}chooses {actions[d]} in {{{', '.join(labels[d])}}}")
    refs = [f"{players[level.player - 1]}.{actions[d]}" for d, level in enumerate(levels)]
    for i, p in enumerate(players):
        values = {history: pay[i] for history, pay in leaves.items()}
        lines.append(f"    payoff {p} = {_table(refs, labels, values)}")
    situations = 0
    for level in levels:
        size = 1
        for k in level.observed:
            size *= len(levels[k].actions)
        situations += size
    return players, "\n".join(lines), situations


def spec_text(
    game: StrategicGame | ExtensiveGame,
    *,
    name: str,
    source: str = "<game>",
    normal_form: bool = False,
    builds: bool = True,
) -> ImportResult:
    """The prefc spec of a Gambit game.

    Args:
        game: The parsed game.
        name: The spec's and the game's name (an identifier).
        source: The file it came from (for messages and the header comment).
        normal_form: Import a game tree in strategic form.
        builds: Add the dataset ``sft`` and the rubric ``eval``.

    Raises:
        GambitFormatError: A game prefc cannot state (located at the node).
    """
    notes: list[str] = []
    names = _Names()
    names.used.add(name)
    if isinstance(game, ExtensiveGame) and normal_form:
        game = to_strategic(game, max_strategies=MAX_OPTIONS)
        notes.append("imported in strategic form: a strategy is a plan of actions at every information set")
    if isinstance(game, StrategicGame):
        players, body, situations = _strategic(game, name, names, notes)
        form = "strategic"
    else:
        players, body, situations = _stages(game, names, source, notes)
        form = "stages"
    title = game.title or name
    out = [
        f"# Imported by `prefc import` from {Path(source).name} (Gambit {'.efg' if form == 'stages' else 'game'}).",
        *(f"# {note}" for note in notes),
        f"spec {name} {_quote(title)}",
        "",
        PREFERENCES,
        f"game {name} {_quote(title)} {{",
        body,
        "}",
        "",
    ]
    if builds:
        out += [
            "dataset sft for economicus, moralis(kappa = 0.5) {",
            f"    games {name}",
            f"    samples {situations * PARAPHRASES} per preference   seed 1",
            f"    paraphrases {PARAPHRASES}",
            "}",
            "",
            "rubric eval for economicus, moralis(kappa = 0.25, 0.5, 0.75) {",
            f"    games {name}",
            f"    items {min(situations * 8, 200)}   tolerance 5%",
            "    seed 2",
            "}",
            "",
        ]
    return ImportResult(text="\n".join(out), game=name, form=form, players=players, situations=situations, notes=notes)


def import_gambit(
    path: str | os.PathLike[str],
    out: str | os.PathLike[str],
    *,
    name: str | None = None,
    normal_form: bool = False,
    builds: bool = True,
) -> ImportResult:
    """Read a Gambit ``.nfg``/``.efg`` file and write it as a checked prefc spec.

    Args:
        path: The game file.
        out: The ``.pref`` file to write (its directory is created).
        name: The spec's and game's name (default: from the file name).
        normal_form: Import a game tree in strategic form.
        builds: Add the dataset ``sft`` and the rubric ``eval``.

    Returns:
        The imported game, with ``path`` set.

    Raises:
        GambitFormatError: The file is not a game prefc can state (located).
        ExportError: The file cannot be read, or the spec fails prefc's checker (a bug: reported
            with the diagnostics).
    """
    src = Path(path)
    target = Path(out)
    if target.suffix != ".pref":
        raise ExportError(f"{target}: the output is a .pref file")
    try:
        if src.stat().st_size > MAX_FILE_BYTES:
            raise ExportError(f"{src}: larger than {MAX_FILE_BYTES} bytes")
        text = src.read_text(encoding="utf-8")
    except OSError as exc:
        raise ExportError(f"{src}: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise ExportError(f"{src}: not UTF-8 text") from None
    game = parse_game(text, source=str(src))
    spec_name = name or _Names().make(src.stem.lower(), "game")
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", spec_name) or spec_name in _RESERVED:
        raise ExportError(f"--name {spec_name!r}: a name is letters, digits and _, not a keyword")
    result = spec_text(game, name=spec_name, source=str(src), normal_form=normal_form, builds=builds)
    _write_checked(target, result.text)
    result.path = target
    return result


def _write_checked(target: Path, text: str) -> None:
    from prefc.compiler.check import check_file
    from prefc.compiler.diagnostics import CompileError

    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.stem}.", suffix=".pref", dir=target.parent)
    os.close(fd)
    try:
        Path(tmp).write_text(text, encoding="utf-8")
        try:
            spec = check_file(tmp)
        except CompileError as exc:
            raise ExportError(
                "the imported spec does not check: " + "; ".join(d.message for d in exc.diagnostics[:5])
            ) from None
        errors = [d for d in spec.diagnostics if d.is_error]
        if errors:
            raise ExportError("the imported spec does not check: " + "; ".join(d.message for d in errors[:5]))
        os.chmod(tmp, 0o644)
        os.replace(tmp, target)
    finally:
        Path(tmp).unlink(missing_ok=True)
