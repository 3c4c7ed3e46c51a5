# Over 600 lines: one printer for every node of the language, so fmt, show and the emitters print it one way.
"""Print AST nodes back as canonical .pref text (used by ``prefc show``, the emitters and ``prefc fmt``).

The printer is the parser's inverse up to layout: parsing its output gives the same AST, spans aside.
Single-line forms (:func:`expr`, :func:`domain`, one function per statement) are what prompts and
summaries show; :func:`layout` and :func:`params_lines` lay a statement out over several lines
when it does not fit :data:`WIDTH` (tables as aligned rows, long sums one term per line).
"""

from __future__ import annotations

from fractions import Fraction

from prefc.compiler import ast

__all__ = [
    "INDENT",
    "WIDTH",
    "action_ref",
    "belief",
    "build",
    "build_header",
    "build_settings",
    "chain",
    "domain",
    "expr",
    "file",
    "game",
    "game_header",
    "kantian",
    "layout",
    "let_head",
    "move",
    "number",
    "param",
    "params_lines",
    "payoff_target",
    "players",
    "preference",
    "preference_app",
    "preference_head",
    "repeat",
    "samples",
    "solve",
    "spec_header",
    "string",
    "sweep",
    "table_rows",
    "tolerance",
    "use",
]

INDENT = "    "
WIDTH = 100

# Binding strength of each construct: higher binds tighter.
_PREC = {
    "if": 0,
    "or": 1,
    "and": 2,
    "not": 3,
    "compare": 4,
    "+": 5,
    "-": 5,
    "*": 6,
    "/": 6,
    "neg": 7,
    "^": 8,
    "atom": 9,
}


def number(v: Fraction) -> str:
    """Write an exact number as a .pref literal: an exact decimal where there is one, else a quotient.

    Args:
        v: The value.
    """
    if v.denominator == 1:
        return str(v.numerator)
    den, twos, fives = v.denominator, 0, 0
    while den % 2 == 0:
        den, twos = den // 2, twos + 1
    while den % 5 == 0:
        den, fives = den // 5, fives + 1
    if den != 1:
        return f"{v.numerator}/{v.denominator}"
    places = max(twos, fives)
    digits = str(abs(v.numerator) * 10**places // v.denominator).rjust(places + 1, "0")
    sign = "-" if v < 0 else ""
    return f"{sign}{digits[:-places]}.{digits[-places:]}".rstrip("0")


def string(text: str) -> str:
    """Write a string literal, escaping ``\\`` and ``"``.

    Args:
        text: The string's value.
    """
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _prec(e) -> int:
    if isinstance(e, ast.IfExpr):
        return _PREC["if"]
    if isinstance(e, ast.BoolOp):
        return _PREC[e.op]
    if isinstance(e, ast.Not):
        return _PREC["not"]
    if isinstance(e, ast.Compare):
        return _PREC["compare"]
    if isinstance(e, ast.BinOp):
        return _PREC[e.op]
    if isinstance(e, ast.Neg):
        return _PREC["neg"]
    if isinstance(e, ast.Number) and e.value < 0:
        return _PREC["neg"]
    if isinstance(e, ast.Number) and e.value.denominator != 1 and "/" in number(e.value):
        return _PREC["/"]
    return _PREC["atom"]


def _wrap(sub, minimum: int) -> str:
    text = expr(sub)
    return f"({text})" if _prec(sub) < minimum else text


def expr(e) -> str:
    """Write an expression on one line with the fewest parentheses that keep its meaning.

    Args:
        e: An expression node.
    """
    if isinstance(e, ast.Number):
        return number(e.value)
    if isinstance(e, ast.Name):
        return e.id
    if isinstance(e, ast.Attr):
        return f"{_wrap(e.base, _PREC['atom'])}.{e.attr.name}"
    if isinstance(e, ast.Index):
        return f"{e.base.name}[{expr(e.index)}]"
    if isinstance(e, ast.Binder):
        where = f" where {expr(e.where)}" if e.where is not None else ""
        return f"{e.var.name} in {e.group.name}{where}: {expr(e.body)}"
    if isinstance(e, ast.Call):
        return f"{e.func.name}({', '.join(expr(a) for a in e.args)})"
    if isinstance(e, ast.BinOp):
        p = _PREC[e.op]
        if e.op == "^":
            return f"{_wrap(e.left, p + 1)} ^ {_wrap(e.right, _PREC['neg'])}"
        return f"{_wrap(e.left, p)} {e.op} {_wrap(e.right, p + 1)}"
    if isinstance(e, ast.Neg):
        return f"-{_wrap(e.operand, _PREC['neg'])}"
    if isinstance(e, ast.Compare):
        return f"{_wrap(e.left, _PREC['+'])} {e.op} {_wrap(e.right, _PREC['+'])}"
    if isinstance(e, ast.BoolOp):
        p = _PREC[e.op]
        return f"{_wrap(e.left, p)} {e.op} {_wrap(e.right, p + 1)}"
    if isinstance(e, ast.Not):
        return f"not {_wrap(e.operand, _PREC['not'])}"
    if isinstance(e, ast.IfExpr):
        return f"if {expr(e.cond)} then {expr(e.then)} else {expr(e.orelse)}"
    if isinstance(e, ast.Table):
        rows = "; ".join(_row(r) for r in e.rows)
        return f"{_table_head(e)} {{ {rows} }}"
    raise TypeError(type(e))


def _row(r: ast.TableRow) -> str:
    return f"{', '.join(label.name for label in r.labels)}: {expr(r.value)}"


def _table_head(t: ast.Table) -> str:
    return f"table({', '.join(expr(k) for k in t.keys)})"


# ----------------------------------------------------------------------------- multi-line layout


def table_rows(t: ast.Table) -> list[str]:
    """The rows of a table, one string each, labels padded so that the columns line up.

    Args:
        t: The table.
    """
    width = [0] * max((len(r.labels) for r in t.rows), default=0)
    for r in t.rows:
        for i, label in enumerate(r.labels[:-1]):
            width[i] = max(width[i], len(label.name) + 1)
    out = []
    for r in t.rows:
        labels = [f"{label.name},".ljust(width[i]) for i, label in enumerate(r.labels[:-1])]
        out.append(" ".join([*labels, f"{r.labels[-1].name}: {expr(r.value)}"]))
    return out


def _table_lines(t: ast.Table, indent: str, width: int) -> list[str]:
    """Rows sharing their first label share a line (a grid for two-key tables), cells aligned in columns."""
    cells = table_rows(t)
    lines: list[list[str]] = []
    for i, r in enumerate(t.rows):
        same = i > 0 and len(t.keys) > 1 and r.labels[0].name == t.rows[i - 1].labels[0].name
        if same:
            lines[-1].append(cells[i])
        else:
            lines.append([cells[i]])
    columns = max(len(line) for line in lines) if lines else 0
    cell_width = [max((len(line[c]) for line in lines if c < len(line)), default=0) for c in range(columns)]
    text = [
        ";  ".join(cell.ljust(cell_width[c]) if c < len(line) - 1 else cell for c, cell in enumerate(line))
        for line in lines
    ]
    if any(len(indent) + len(line) > width for line in text) and columns > 1:
        text = cells
    return [indent + line for line in text]


def chain(e) -> list[tuple[str, object]]:
    """The terms of a top-level sum (or else of an ``or``, then an ``and`` chain), in order.

    Args:
        e: An expression.

    Returns:
        (operator, operand) pairs, the first with operator ``""``; one pair if ``e`` is no such chain.
    """
    for ops, kind in ((("+", "-"), ast.BinOp), (("or",), ast.BoolOp), (("and",), ast.BoolOp)):
        parts: list[tuple[str, object]] = []
        node = e
        while isinstance(node, kind) and node.op in ops:
            parts.append((node.op, node.right))
            node = node.left
        if parts:
            return [("", node), *parts[::-1]]
    return [("", e)]


def _term_texts(terms: list[tuple[str, object]]) -> list[str]:
    if len(terms) == 1:
        return [expr(terms[0][1])]
    p = _PREC[terms[1][0]]
    return [_wrap(terms[0][1], p), *(f"{op} {_wrap(node, p + 1)}" for op, node in terms[1:])]


def layout(
    head: str,
    e,
    *,
    indent: str = INDENT,
    width: int = WIDTH,
    body_on_next_line: bool = False,
    grid: bool = True,
    break_terms: bool = False,
) -> list[str]:
    """Lay out ``head`` followed by an expression, over several lines where it does not fit.

    A table gets one line per row (rows that share their first label share a line when ``grid``);
    a sum (or an ``and``/``or`` chain, see :func:`chain`) that is too long gets one term per line,
    each continuation line starting with its operator. Anything else stays on one line, however long.

    Args:
        head: The text before the expression (``payoff row = ``), without the indentation.
        e: The expression.
        indent: The indentation of the first line.
        width: The line width to fit.
        body_on_next_line: Break after ``head`` (a preference's ``=``) before breaking the expression;
            the terms of a broken sum then all start at the same column.
        grid: Whether a table may put several rows on one line.
        break_terms: Put every term of a chain on its own line even where the whole fits.
    """
    if isinstance(e, ast.Table):
        rows = _table_lines(e, indent + INDENT, width) if grid else [indent + INDENT + r for r in table_rows(e)]
        return [f"{indent}{head}{_table_head(e)} {{", *rows, f"{indent}}}"]
    terms = chain(e)
    one = f"{indent}{head}{expr(e)}"
    if len(one) <= width and not (break_terms and len(terms) > 1):
        return [one]
    lines: list[str] = []
    first_indent, rest_indent = indent, indent + INDENT
    if body_on_next_line:
        lines.append(f"{indent}{head}".rstrip())
        head, first_indent = "", indent + INDENT
        rest_indent = first_indent
        if len(first_indent) + len(expr(e)) <= width and not (break_terms and len(terms) > 1):
            return [*lines, first_indent + expr(e)]
    texts = _term_texts(terms)
    return [*lines, f"{first_indent}{head}{texts[0]}", *(rest_indent + t for t in texts[1:])]


# ----------------------------------------------------------------------------- declarations


def domain(d) -> str:
    """Write an action or parameter domain.

    Args:
        d: An interval, integer range or label set.
    """
    if isinstance(d, ast.Interval):
        return f"[{expr(d.lo)}, {expr(d.hi)}]"
    if isinstance(d, ast.IntRange):
        step = f" step {expr(d.step)}" if d.step is not None else ""
        return f"{_range_end(d.lo)}..{_range_end(d.hi)}{step}"
    return "{" + ", ".join(i.name for i in d.labels) + "}"


def _range_end(e) -> str:
    text = expr(e)
    return text if _prec(e) >= _PREC["atom"] else f"({text})"


def sweep(s: ast.Sweep) -> str:
    """Write a parameter sweep (``vary ...``).

    Args:
        s: The sweep.
    """
    if s.values is not None:
        return "vary {" + ", ".join(number(v) for v in s.values) + "}"
    assert s.lo is not None and s.hi is not None
    step = f" step {number(s.step)}" if s.step is not None else ""
    return f"vary {number(s.lo)}..{number(s.hi)}{step}"


def _title(t: str | None) -> str:
    return f" {string(t)}" if t is not None else ""


def param(p: ast.Param) -> str:
    """Write one parameter declaration (``n in 2..20 = 4 vary 2..8``).

    Args:
        p: The parameter.
    """
    dom = f" in {domain(p.domain)}" if p.domain is not None else ""
    sw = f" {sweep(p.sweep)}" if p.sweep is not None else ""
    return f"{p.name.name}{dom} = {expr(p.default)}{sw}"


def params_lines(params: list[ast.Param], *, indent: str = INDENT, width: int = WIDTH) -> list[str]:
    """A ``param`` statement: one line, or one parameter per line aligned under the first.

    Args:
        params: The parameters of the statement.
        indent: The indentation of the statement.
        width: The line width to fit.
    """
    texts = [param(p) for p in params]
    one = f"{indent}param {', '.join(texts)}"
    if len(one) <= width or len(texts) == 1:
        return [one]
    pad = indent + " " * len("param ")
    return [f"{indent}param {texts[0]},", *(f"{pad}{t}," for t in texts[1:-1]), f"{pad}{texts[-1]}"]


def preference_app(app: ast.PrefApp) -> str:
    """Write a preference applied to values (``moralis(kappa = 0.25, 0.5)``).

    Args:
        app: The application.
    """
    if not app.args:
        return app.name.name
    args = ", ".join(f"{a.name.name} = {', '.join(number(v) for v in a.values)}" for a in app.args)
    return f"{app.name.name}({args})"


def action_ref(r: ast.ActionRef) -> str:
    """Write a reference to an action (``offer``, ``row.move``, ``member[i].give``).

    Args:
        r: The reference.
    """
    if r.player is None:
        return r.action.name
    if r.index is not None:
        return f"{r.player.name}[{expr(r.index)}].{r.action.name}"
    return f"{r.player.name}.{r.action.name}"


def spec_header(h: ast.SpecHeader) -> str:
    """Write a ``spec`` header.

    Args:
        h: The header.
    """
    return f"spec {h.name.name}{_title(h.title)}"


def use(u: ast.Use) -> str:
    """Write a ``use`` import.

    Args:
        u: The import.
    """
    return f"use {string(u.path)}"


def players(decls: list[ast.Player], symmetric: bool) -> str:
    """Write a ``players`` statement.

    Args:
        decls: The declared roles or group.
        symmetric: Whether the statement says ``symmetric``.
    """
    names = ", ".join(
        p.name.name if not p.is_group else f"{p.name.name}[{_range_end(p.lo)}..{_range_end(p.hi)}]" for p in decls
    )
    return f"players {names}{' symmetric' if symmetric else ''}"


def move(m: ast.Move) -> str:
    """Write a move statement (``then responder sees offer and chooses accept in {yes, no}``).

    Args:
        m: The move.
    """
    sees = f" sees {', '.join(action_ref(r) for r in m.observes)} and" if m.observes else ""
    then = "then " if m.then else ""
    each = "each " if m.each else ""
    return f"{then}{each}{m.mover.name}{sees} chooses {m.action.name} in {domain(m.domain)}"


def let_head(let: ast.Let) -> str:
    """The text of a ``let`` statement before its value (``let share(i) = ``).

    Args:
        let: The helper.
    """
    params = f"({', '.join(p.name for p in let.params)})" if let.params else ""
    return f"let {let.name.name}{params} = "


def payoff_target(pay: ast.Payoff) -> str:
    """The text of a ``payoff`` statement before its ``=`` (``payoff member[i]``).

    Args:
        pay: The payoff.
    """
    idx = f"[{pay.index_var.name}]" if pay.index_var is not None else ""
    return f"payoff {pay.player.name}{idx}"


def belief(b: ast.Belief) -> str:
    """Write a ``belief`` statement.

    Args:
        b: The belief.
    """
    return f"belief {action_ref(b.ref)} = {expr(b.value)}"


def kantian(k: ast.KantianSetting) -> str:
    """Write a ``kantian`` statement.

    Args:
        k: The setting.
    """
    weights = ", ".join(f"{n.name}: {expr(w)}" for n, w in k.weights)
    return f"kantian {k.mode}{' ' + weights if weights else ''}"


def solve(concept: ast.Ident) -> str:
    """Write a ``solve`` statement.

    Args:
        concept: The concept's name.
    """
    return f"solve {concept.name}"


def repeat(rounds) -> str:
    """Write a ``repeat N rounds`` statement.

    Args:
        rounds: The number of rounds (an expression).
    """
    return f"repeat {expr(rounds)} rounds"


def game_header(g: ast.Game) -> str:
    """The first line of a game block, with its ``{``.

    Args:
        g: The game.
    """
    return f"game {g.name.name}{_title(g.title)} {{"


def game(g: ast.Game) -> str:
    """Write a game block, statements grouped by kind.

    Args:
        g: The game.
    """
    out = [game_header(g), INDENT + players(g.players, g.symmetric)]
    if g.params:
        out.append(INDENT + "param " + ", ".join(param(p) for p in g.params))
    out.extend(INDENT + move(m) for m in g.moves)
    out.extend(INDENT + let_head(let) + expr(let.value) for let in g.lets)
    out.extend(f"{INDENT}{payoff_target(pay)} = {expr(pay.value)}" for pay in g.payoffs)
    out.extend(INDENT + belief(b) for b in g.beliefs)
    if g.kantian is not None:
        out.append(INDENT + kantian(g.kantian))
    if g.concept is not None:
        out.append(INDENT + solve(g.concept))
    if g.repeat is not None:
        out.append(INDENT + repeat(g.repeat))
    out.append("}")
    return "\n".join(out)


def preference_head(p: ast.Preference) -> str:
    """The text of a preference declaration before its body, ending with ``= ``.

    Args:
        p: The preference.
    """
    params = ""
    if p.params:
        parts = []
        for q in p.params:
            dom = f" in {domain(q.domain)}" if q.domain is not None else ""
            default = f" = {expr(q.default)}" if q.default is not None else ""
            parts.append(f"{q.name.name}{dom}{default}")
        params = f"({', '.join(parts)})"
    return f"preference {p.name.name}{params}{_title(p.title)} = "


def preference(p: ast.Preference) -> str:
    """Write a preference declaration, the body on its own line.

    Args:
        p: The preference.
    """
    return f"{preference_head(p).rstrip()}\n{INDENT}{expr(p.body)}"


def build_header(b: ast.Build) -> str:
    """The first line of a dataset or rubric block, with its ``{``.

    Args:
        b: The build.
    """
    return f"{b.kind} {b.name.name} for {', '.join(preference_app(a) for a in b.preferences)} {{"


def build_settings(b: ast.Build) -> list[str]:
    """The settings of a build, one line each, in canonical order.

    Args:
        b: The build.
    """
    out = []
    if b.games:
        out.append(f"games {', '.join(g.name for g in b.games)}")
    if b.samples is not None:
        out.append(samples(b.samples, b.samples_per))
    if b.items is not None:
        out.append(f"items {b.items}")
    if b.seed is not None:
        out.append(f"seed {b.seed}")
    if b.split:
        out.append("split " + ", ".join(f"{n.name} {number(v)}" for n, v in b.split))
    if b.paraphrases is not None:
        out.append(f"paraphrases {b.paraphrases}")
    if b.template is not None:
        out.append(f"template {string(b.template)}")
    if b.tolerance is not None:
        out.append(tolerance(b.tolerance))
    if b.holdout_games:
        out.append(f"holdout games {', '.join(g.name for g in b.holdout_games)}")
    out.extend(f"holdout where {expr(cond)}" for cond in b.holdout_where)
    if b.holdout_paraphrases:
        out.append(f"holdout paraphrases {', '.join(str(p) for p in b.holdout_paraphrases)}")
    if b.select is not None:
        out.append(f"select {b.select.name}")
    if b.repeat_rounds is not None:
        history = "" if b.repeat_history is None else f" history {b.repeat_history}"
        out.append(f"repeat {b.repeat_rounds} rounds{history}")
    return out


def samples(count: int, per: str | None) -> str:
    """Write a ``samples`` setting.

    Args:
        count: The number of rows.
        per: ``preference``, ``game``, or None to leave the unit (``preference``) unsaid.
    """
    return f"samples {count}" + (f" per {per}" if per is not None else "")


def tolerance(value: Fraction, *, percent: bool = True) -> str:
    """Write a ``tolerance`` setting.

    Args:
        value: The tolerance as a fraction of the action's range.
        percent: Write it as a percentage (``5%``) rather than a fraction (``0.05``).
    """
    return f"tolerance {number(value * 100)}%" if percent else f"tolerance {number(value)}"


def build(b: ast.Build) -> str:
    """Write a dataset or rubric block.

    Args:
        b: The build.
    """
    return "\n".join([build_header(b), *(INDENT + s for s in build_settings(b)), "}"])


def file(f: ast.File) -> str:
    """Write a whole file in canonical layout, declarations grouped by kind (``prefc fmt`` keeps
    the file's own order and its comments instead).

    Args:
        f: The parsed file.
    """
    parts: list[str] = []
    if f.header is not None:
        parts.append(spec_header(f.header))
    parts.extend(use(u) for u in f.uses)
    parts.extend(preference(p) for p in f.preferences)
    parts.extend(game(g) for g in f.games)
    parts.extend(build(b) for b in f.builds)
    return "\n\n".join(parts) + "\n"
