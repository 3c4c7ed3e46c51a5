"""Print AST nodes back as canonical .pref text (used by ``prefc show`` and ``prefc fmt``).

The printer is the parser's inverse up to layout: parsing its output gives the same AST, spans aside.
"""

from __future__ import annotations

from fractions import Fraction

from prefc.compiler import ast

# Binding strength of each construct: higher binds tighter.
_PREC = {"if": 0, "or": 1, "and": 2, "not": 3, "compare": 4, "+": 5, "-": 5, "*": 6, "/": 6, "neg": 7, "^": 8,
         "atom": 9}


def number(v: Fraction) -> str:
    """Write an exact number as a .pref literal (decimal where exact, else a quotient).

    Args:
        v: The value.
    """
    if v.denominator == 1:
        return str(v.numerator)
    den = v.denominator
    while den % 2 == 0:
        den //= 2
    while den % 5 == 0:
        den //= 5
    if den == 1:
        text = f"{float(v):.12f}".rstrip("0")
        return text
    return f"{v.numerator}/{v.denominator}"


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


def expr(e) -> str:
    """Write an expression with the fewest parentheses that keep its meaning.

    Args:
        e: An expression node.
    """
    def wrap(sub, minimum: int) -> str:
        text = expr(sub)
        return f"({text})" if _prec(sub) < minimum else text

    if isinstance(e, ast.Number):
        return number(e.value)
    if isinstance(e, ast.Name):
        return e.id
    if isinstance(e, ast.Attr):
        return f"{wrap(e.base, _PREC['atom'])}.{e.attr.name}"
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
            return f"{wrap(e.left, p + 1)} ^ {wrap(e.right, _PREC['neg'])}"
        return f"{wrap(e.left, p)} {e.op} {wrap(e.right, p + 1)}"
    if isinstance(e, ast.Neg):
        return f"-{wrap(e.operand, _PREC['neg'])}"
    if isinstance(e, ast.Compare):
        return f"{wrap(e.left, _PREC['+'])} {e.op} {wrap(e.right, _PREC['+'])}"
    if isinstance(e, ast.BoolOp):
        p = _PREC[e.op]
        return f"{wrap(e.left, p)} {e.op} {wrap(e.right, p + 1)}"
    if isinstance(e, ast.Not):
        return f"not {wrap(e.operand, _PREC['not'])}"
    if isinstance(e, ast.IfExpr):
        return f"if {expr(e.cond)} then {expr(e.then)} else {expr(e.orelse)}"
    if isinstance(e, ast.Table):
        rows = "; ".join(f"{', '.join(l.name for l in r.labels)}: {expr(r.value)}" for r in e.rows)
        return f"table({', '.join(expr(k) for k in e.keys)}) {{ {rows} }}"
    raise TypeError(type(e))


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
    return f' "{t}"' if t else ""


def param(p: ast.Param) -> str:
    dom = f" in {domain(p.domain)}" if p.domain is not None else ""
    sw = f" {sweep(p.sweep)}" if p.sweep is not None else ""
    return f"{p.name.name}{dom} = {expr(p.default)}{sw}"


def preference_app(app: ast.PrefApp) -> str:
    if not app.args:
        return app.name.name
    args = ", ".join(f"{a.name.name} = {', '.join(number(v) for v in a.values)}" for a in app.args)
    return f"{app.name.name}({args})"


def action_ref(r: ast.ActionRef) -> str:
    if r.player is None:
        return r.action.name
    if r.index is not None:
        return f"{r.player.name}[{expr(r.index)}].{r.action.name}"
    return f"{r.player.name}.{r.action.name}"


def game(g: ast.Game) -> str:
    """Write a game block.

    Args:
        g: The game.
    """
    out = [f"game {g.name.name}{_title(g.title)} {{"]
    players = ", ".join(p.name.name if not p.is_group else f"{p.name.name}[{_range_end(p.lo)}..{_range_end(p.hi)}]"
                        for p in g.players)
    out.append(f"    players {players}{' symmetric' if g.symmetric else ''}")
    if g.params:
        out.append("    param " + ", ".join(param(p) for p in g.params))
    for m in g.moves:
        sees = f" sees {', '.join(action_ref(r) for r in m.observes)} and" if m.observes else ""
        then = "then " if m.then else ""
        each = "each " if m.each else ""
        out.append(f"    {then}{each}{m.mover.name}{sees} chooses {m.action.name} in {domain(m.domain)}")
    for let in g.lets:
        params = f"({', '.join(p.name for p in let.params)})" if let.params else ""
        out.append(f"    let {let.name.name}{params} = {expr(let.value)}")
    for pay in g.payoffs:
        idx = f"[{pay.index_var.name}]" if pay.index_var is not None else ""
        out.append(f"    payoff {pay.player.name}{idx} = {expr(pay.value)}")
    for b in g.beliefs:
        out.append(f"    belief {action_ref(b.ref)} = {expr(b.value)}")
    if g.kantian is not None:
        weights = ", ".join(f"{n.name}: {expr(w)}" for n, w in g.kantian.weights)
        out.append(f"    kantian {g.kantian.mode}{' ' + weights if weights else ''}")
    if g.concept is not None:
        out.append(f"    solve {g.concept.name}")
    if g.repeat is not None:
        out.append(f"    repeat {expr(g.repeat)} rounds")
    out.append("}")
    return "\n".join(out)


def preference(p: ast.Preference) -> str:
    """Write a preference declaration.

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
    return f"preference {p.name.name}{params}{_title(p.title)} =\n    {expr(p.body)}"


def build(b: ast.Build) -> str:
    """Write a dataset or rubric block.

    Args:
        b: The build.
    """
    out = [f"{b.kind} {b.name.name} for {', '.join(preference_app(a) for a in b.preferences)} {{"]
    if b.games:
        out.append(f"    games {', '.join(g.name for g in b.games)}")
    if b.samples is not None:
        out.append(f"    samples {b.samples} per {b.samples_per}")
    if b.items is not None:
        out.append(f"    items {b.items}")
    if b.seed is not None:
        out.append(f"    seed {b.seed}")
    if b.split:
        out.append("    split " + ", ".join(f"{n.name} {number(v)}" for n, v in b.split))
    if b.paraphrases is not None:
        out.append(f"    paraphrases {b.paraphrases}")
    if b.template is not None:
        out.append(f'    template "{b.template}"')
    if b.tolerance is not None:
        out.append(f"    tolerance {number(b.tolerance * 100)}%")
    if b.holdout_games:
        out.append(f"    holdout games {', '.join(g.name for g in b.holdout_games)}")
    for cond in b.holdout_where:
        out.append(f"    holdout where {expr(cond)}")
    if b.holdout_paraphrases:
        out.append(f"    holdout paraphrases {', '.join(str(p) for p in b.holdout_paraphrases)}")
    out.append("}")
    return "\n".join(out)


def file(f: ast.File) -> str:
    """Write a whole file in canonical layout.

    Args:
        f: The parsed file.
    """
    parts: list[str] = []
    if f.header is not None:
        parts.append(f"spec {f.header.name.name}{_title(f.header.title)}")
    parts.extend(f'use "{u.path}"' for u in f.uses)
    parts.extend(preference(p) for p in f.preferences)
    parts.extend(game(g) for g in f.games)
    parts.extend(build(b) for b in f.builds)
    return "\n\n".join(parts) + "\n"
