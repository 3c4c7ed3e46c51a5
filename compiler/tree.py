"""Stage 1b: lark's parse tree -> typed AST nodes, one short method per grammar rule (as in lark's
examples: the transformer builds the typed objects straight from the tree). Number literals are read
exactly here, and one too long or too large to compute with is E0008.
"""

from __future__ import annotations

import re
from fractions import Fraction

from lark import Token, Transformer, v_args

from prefc.compiler import ast
from prefc.compiler.diagnostics import CompileError, DiagnosticBag
from prefc.compiler.source import SourceFile, Span

__all__ = ["MAX_EXPONENT", "MAX_INT_DIGITS", "MAX_NUMBER_DIGITS", "AstBuilder", "number_problem"]

# Number literals: at most this many digits, and an exponent (`e..`) of at most this size, so a
# literal never turns into a number too large to compute with (`1e999999999`).
MAX_NUMBER_DIGITS = 50
MAX_EXPONENT = 50
# Whole-number settings (`samples`, `items`, `seed`, `paraphrases`): at most this many digits.
MAX_INT_DIGITS = 18

_NUMBER_PARTS = re.compile(r"^([0-9]+)(?:\.([0-9]+))?(?:[eE]([+-]?[0-9]+))?$")


def _fraction(text: str) -> Fraction:
    return Fraction(text)


def number_problem(text: str) -> str | None:
    """Why a number literal cannot be read exactly, or None when it can.

    Args:
        text: The literal as written (``[0-9]+(.[0-9]+)?([eE][+-]?[0-9]+)?``).
    """
    m = _NUMBER_PARTS.match(text)
    if m is None:
        return "it is not a number"
    whole, frac, exp = m.group(1), m.group(2) or "", m.group(3)
    if len(whole) + len(frac) > MAX_NUMBER_DIGITS:
        return f"it has {len(whole) + len(frac):,} digits; numbers have at most {MAX_NUMBER_DIGITS}"
    if exp is not None and (len(exp.lstrip("+-").lstrip("0")) > 3 or abs(int(exp)) > MAX_EXPONENT):
        return f"its exponent is beyond ±{MAX_EXPONENT}"
    return None


@v_args(meta=True, inline=True)
class AstBuilder(Transformer):
    """Builds AST nodes from the parse tree; every node gets its span from lark's positions."""

    def __init__(self, src: SourceFile, bag: DiagnosticBag):
        super().__init__()
        self.src = src
        self.bag = bag

    # helpers ------------------------------------------------------------------
    def _span(self, meta) -> Span:
        if getattr(meta, "empty", False) or not hasattr(meta, "start_pos"):
            return self.src.span(0, 0)
        return self.src.span(meta.start_pos, meta.end_pos)

    def _tok_span(self, tok: Token) -> Span:
        return self.src.span(tok.start_pos or 0, tok.end_pos or 0)

    def _ident(self, tok: Token) -> ast.Ident:
        return ast.Ident(span=self._tok_span(tok), name=str(tok))

    def _number(self, tok: Token) -> Fraction:
        """A number literal read exactly; one too long or too large is E0008 (and reads as 0)."""
        problem = number_problem(str(tok))
        if problem is None:
            return _fraction(str(tok))
        text = str(tok)
        shown = text if len(text) <= 24 else text[:20] + "..."
        self.bag.add(
            "E0008",
            f"the number `{shown}` cannot be used: {problem}",
            self._tok_span(tok),
            hint=f"numbers are at most {MAX_NUMBER_DIGITS} digits with an exponent of at most "
            f"±{MAX_EXPONENT}, e.g. `1e-3`, `2.5e6`",
        )
        return Fraction(0)

    def _int(self, tok: Token) -> int:
        """A whole-number setting; one with more than :data:`MAX_INT_DIGITS` digits is E0008."""
        text = str(tok)
        if len(text.lstrip("0")) > MAX_INT_DIGITS:
            shown = text if len(text) <= 24 else text[:20] + "..."
            self.bag.add(
                "E0008",
                f"the number `{shown}` cannot be used: it has {len(text):,} digits; "
                f"whole-number settings have at most {MAX_INT_DIGITS}",
                self._tok_span(tok),
            )
            return 0
        return int(text)

    @staticmethod
    def _string(tok: Token) -> str:
        raw = str(tok)[1:-1]
        return raw.replace('\\"', '"').replace("\\\\", "\\")

    # file ---------------------------------------------------------------------
    def start(self, meta, *items):
        headers = [i for i in items if isinstance(i, ast.SpecHeader)]
        return ast.File(
            span=self.src.span(0, len(self.src.text)),
            path=self.src.path,
            header=headers[0] if headers else None,
            headers=headers,
            uses=[i for i in items if isinstance(i, ast.Use)],
            preferences=[i for i in items if isinstance(i, ast.Preference)],
            games=[i for i in items if isinstance(i, ast.Game)],
            builds=[i for i in items if isinstance(i, ast.Build)],
        )

    def title(self, meta, tok):
        return ("title", self._string(tok))

    def spec_decl(self, meta, name, title=None):
        return ast.SpecHeader(span=self._span(meta), name=self._ident(name), title=title[1] if title else None)

    def use_decl(self, meta, tok):
        return ast.Use(span=self._span(meta), path=self._string(tok))

    # preferences ----------------------------------------------------------------
    def default_value(self, meta, expr):
        return ("default", expr)

    def pref_param(self, meta, name, *rest):
        domain = next((r for r in rest if isinstance(r, ast.Interval)), None)
        default = next((r[1] for r in rest if isinstance(r, tuple) and r[0] == "default"), None)
        return ast.PrefParam(span=self._span(meta), name=self._ident(name), domain=domain, default=default)

    def pref_params(self, meta, *params):
        return ("params", list(params))

    def preference_decl(self, meta, name, *rest):
        params, title = [], None
        for r in rest[:-1]:
            if r[0] == "params":
                params = r[1]
            elif r[0] == "title":
                title = r[1]
        return ast.Preference(span=self._span(meta), name=self._ident(name), title=title, params=params, body=rest[-1])

    # games ----------------------------------------------------------------------
    def game_decl(self, meta, name, *rest):
        fields: dict = {"players": [], "params": [], "moves": [], "payoffs": [], "lets": [], "beliefs": []}
        title = None
        for r in rest:
            if isinstance(r, tuple) and r[0] == "title":
                title = r[1]
            elif isinstance(r, tuple) and r[0] == "players":
                fields["players"].extend(r[1])
                fields["symmetric"] = fields.get("symmetric", False) or r[2]
                fields.setdefault("players_span", r[3])
            elif isinstance(r, tuple) and r[0] == "params":
                fields["params"].extend(r[1])
            elif isinstance(r, ast.Move):
                fields["moves"].append(r)
            elif isinstance(r, ast.Payoff):
                fields["payoffs"].append(r)
            elif isinstance(r, ast.Let):
                fields["lets"].append(r)
            elif isinstance(r, ast.Belief):
                fields["beliefs"].append(r)
            elif isinstance(r, tuple) and r[0] == "repeat":
                fields["repeat"] = r[1]
            elif isinstance(r, ast.KantianSetting):
                fields["kantian"] = r
            elif isinstance(r, tuple) and r[0] == "concept":
                fields["concept"] = r[1]
        return ast.Game(span=self._span(meta), name=self._ident(name), title=title, **fields)

    def players_stmt(self, meta, *rest):
        symmetric = bool(rest) and rest[-1] == "symmetric"
        players = [r for r in rest if isinstance(r, ast.Player)]
        return ("players", players, symmetric, self._span(meta))

    def symmetric_flag(self, meta, tok):
        return "symmetric"

    def player_decl(self, meta, name):
        return ast.Player(span=self._span(meta), name=self._ident(name))

    def group_decl(self, meta, name, lo, _dots, hi):
        return ast.Player(span=self._span(meta), name=self._ident(name), lo=lo, hi=hi)

    def param_stmt(self, meta, *decls):
        return ("params", list(decls))

    def param_decl(self, meta, name, *rest):
        domain = next((r for r in rest if isinstance(r, (ast.Interval, ast.IntRange))), None)
        sweep = next((r for r in rest if isinstance(r, ast.Sweep)), None)
        default = [r for r in rest if not isinstance(r, (ast.Interval, ast.IntRange, ast.Sweep))][0]
        return ast.Param(span=self._span(meta), name=self._ident(name), domain=domain, default=default, sweep=sweep)

    def param_domain(self, meta, dom):
        return dom

    def sweep(self, meta, value):
        return value

    def value_set(self, meta, *values):
        return ast.Sweep(span=self._span(meta), values=list(values))

    def number_range(self, meta, lo, _dots, hi, step=None):
        return ast.Sweep(span=self._span(meta), lo=lo, hi=hi, step=step)

    def step(self, meta, value):
        return value

    def signed_number(self, meta, tok):
        return self._number(tok)

    def negative_number(self, meta, _minus, tok):
        return -self._number(tok)

    def then_flag(self, meta, tok):
        return "then"

    def single_mover(self, meta, name):
        return (False, self._ident(name))

    def each_mover(self, meta, _each, name):
        return (True, self._ident(name))

    def observes(self, meta, *refs):
        return ("observes", list(refs))

    def move_stmt(self, meta, *rest):
        then = rest[0] == "then"
        rest = rest[1:] if then else rest
        each, mover = rest[0]
        observes: list = []
        if isinstance(rest[1], tuple) and rest[1][0] == "observes":
            observes = rest[1][1]
            rest = rest[1:]
        action, domain = rest[1], rest[2]
        return ast.Move(
            span=self._span(meta),
            then=then,
            each=each,
            mover=mover,
            observes=observes,
            action=self._ident(action),
            domain=domain,
        )

    def label_set(self, meta, *names):
        return ast.LabelSet(span=self._span(meta), labels=[self._ident(n) for n in names])

    def int_range(self, meta, lo, _dots, hi, step=None):
        return ast.IntRange(span=self._span(meta), lo=lo, hi=hi, step=step)

    def step_expr(self, meta, value):
        return value

    def interval(self, meta, lo, hi):
        return ast.Interval(span=self._span(meta), lo=lo, hi=hi)

    def payoff_stmt(self, meta, name, value):
        return ast.Payoff(span=self._span(meta), player=self._ident(name), value=value)

    def payoff_indexed(self, meta, name, var, value):
        return ast.Payoff(span=self._span(meta), player=self._ident(name), index_var=self._ident(var), value=value)

    def let_params(self, meta, *names):
        return [self._ident(n) for n in names]

    def let_stmt(self, meta, name, *rest):
        params = rest[0] if len(rest) == 2 else []
        return ast.Let(span=self._span(meta), name=self._ident(name), params=params, value=rest[-1])

    def repeat_stmt(self, meta, value):
        return ("repeat", value)

    def kantian_stmt(self, meta, mode, weights=None):
        return ast.KantianSetting(span=self._span(meta), mode=str(mode), weights=weights or [])  # type: ignore[arg-type]

    def role_weights(self, meta, *weights):
        return list(weights)

    def role_weight(self, meta, name, value):
        return (self._ident(name), value)

    def solve_stmt(self, meta, concept):
        return ("concept", self._ident(concept))

    def belief_stmt(self, meta, ref, value):
        return ast.Belief(span=self._span(meta), ref=ref, value=value)

    def bare_ref(self, meta, action):
        return ast.ActionRef(span=self._span(meta), action=self._ident(action))

    def player_ref(self, meta, player, action):
        return ast.ActionRef(span=self._span(meta), player=self._ident(player), action=self._ident(action))

    def member_ref(self, meta, player, index, action):
        return ast.ActionRef(span=self._span(meta), player=self._ident(player), index=index, action=self._ident(action))

    # builds ---------------------------------------------------------------------
    def _build(self, kind, meta, name, prefs, stmts):
        fields: dict = {"settings_spans": {}}
        for key, value, span in stmts:
            if key in ("games", "holdout_games", "holdout_where", "holdout_paraphrases", "split"):
                fields.setdefault(key, []).extend(value)
            elif key == "samples":
                fields["samples"], fields["samples_per"] = value
            elif key == "repeat":
                fields["repeat_rounds"], fields["repeat_history"] = value
            else:
                fields[key] = value
            fields["settings_spans"].setdefault(key, span)
        if "samples_per" in fields and fields["samples_per"] is None:
            del fields["samples_per"]
        return ast.Build(span=self._span(meta), kind=kind, name=self._ident(name), preferences=prefs, **fields)

    def dataset_decl(self, meta, name, prefs, *stmts):
        return self._build("dataset", meta, name, prefs, stmts)

    def rubric_decl(self, meta, name, prefs, *stmts):
        return self._build("rubric", meta, name, prefs, stmts)

    def pref_apps(self, meta, *apps):
        return list(apps)

    def pref_app(self, meta, name, *items):
        args: list[ast.PrefArg] = []
        for item in items:
            if isinstance(item, ast.PrefArg):
                args.append(item)
            elif args:  # a further value of the parameter named before it
                last = args[-1]
                value, span = item
                merged = last.span.model_copy(
                    update={"end": span.end, "end_line": span.end_line, "end_column": span.end_column}
                )
                args[-1] = ast.PrefArg(span=merged, name=last.name, values=[*last.values, value])
            else:
                bag = DiagnosticBag()
                bag.add(
                    "E0001",
                    "a value needs the parameter's name first",
                    item[1],
                    label="expected NAME = NUMBER",
                    hint="write e.g. `moralis(kappa = 0.5)`",
                )
                raise CompileError(bag.items)
        return ast.PrefApp(span=self._span(meta), name=self._ident(name), args=args)

    def pref_arg(self, meta, name, value):
        return ast.PrefArg(span=self._span(meta), name=self._ident(name), values=[value])

    def pref_more(self, meta, value):
        return (value, self._span(meta))

    def games_stmt(self, meta, *names):
        return ("games", [self._ident(n) for n in names], self._span(meta))

    def samples_stmt(self, meta, count, unit=None):
        return ("samples", (self._int(count), None if unit is None else str(unit)), self._span(meta))

    def items_stmt(self, meta, count):
        return ("items", self._int(count), self._span(meta))

    def seed_stmt(self, meta, value):
        return ("seed", self._int(value), self._span(meta))

    def split_stmt(self, meta, *parts):
        return ("split", list(parts), self._span(meta))

    def split_part(self, meta, name, value):
        return (self._ident(name), value)

    def template_stmt(self, meta, tok):
        return ("template", self._string(tok), self._span(meta))

    def paraphrases_stmt(self, meta, count):
        return ("paraphrases", self._int(count), self._span(meta))

    def tolerance_stmt(self, meta, value, percent=None):
        return ("tolerance", value / 100 if percent is not None else value, self._span(meta))

    def select_stmt(self, meta, name):
        return ("select", self._ident(name), self._span(meta))

    def build_repeat_stmt(self, meta, rounds, history=None):
        return ("repeat", (self._int(rounds), None if history is None else self._int(history)), self._span(meta))

    def holdout_games(self, meta, *names):
        return ("holdout_games", [self._ident(n) for n in names], self._span(meta))

    def holdout_where(self, meta, expr):
        return ("holdout_where", [expr], self._span(meta))

    def holdout_paraphrases(self, meta, *values):
        return ("holdout_paraphrases", [self._int(v) for v in values], self._span(meta))

    # expressions ------------------------------------------------------------------
    def number(self, meta, tok):
        return ast.Number(span=self._tok_span(tok), value=self._number(tok), text=str(tok))

    def name(self, meta, tok):
        return ast.Name(span=self._tok_span(tok), id=str(tok))

    def attr(self, meta, base, name):
        return ast.Attr(span=self._span(meta), base=base, attr=self._ident(name))

    def index(self, meta, name, idx):
        return ast.Index(span=self._span(meta), base=self._ident(name), index=idx)

    def call(self, meta, func, args=None):
        return ast.Call(span=self._span(meta), func=self._ident(func), args=args or [])

    def call_args(self, meta, *args):
        return list(args)

    def filter(self, meta, expr):
        return ("where", expr)

    def binder(self, meta, var, group, *rest):
        where = rest[0][1] if len(rest) == 2 else None
        return ast.Binder(
            span=self._span(meta), var=self._ident(var), group=self._ident(group), where=where, body=rest[-1]
        )

    def binop(self, meta, left, op, right):
        return ast.BinOp(span=self._span(meta), op=str(op), left=left, right=right)  # type: ignore[arg-type]

    def pow_op(self, meta, left, right):
        return ast.BinOp(span=self._span(meta), op="^", left=left, right=right)

    def neg(self, meta, _minus, operand):
        if isinstance(operand, ast.Number):
            return ast.Number(span=self._span(meta), value=-operand.value, text="-" + operand.text)
        return ast.Neg(span=self._span(meta), operand=operand)

    def compare(self, meta, left, op, right):
        return ast.Compare(span=self._span(meta), op=str(op), left=left, right=right)  # type: ignore[arg-type]

    def and_op(self, meta, left, right):
        return ast.BoolOp(span=self._span(meta), op="and", left=left, right=right)

    def or_op(self, meta, left, right):
        return ast.BoolOp(span=self._span(meta), op="or", left=left, right=right)

    def not_op(self, meta, operand):
        return ast.Not(span=self._span(meta), operand=operand)

    def if_expr(self, meta, cond, then, orelse):
        return ast.IfExpr(span=self._span(meta), cond=cond, then=then, orelse=orelse)

    def table(self, meta, *parts):
        keys = [p for p in parts if not isinstance(p, ast.TableRow)]
        rows = [p for p in parts if isinstance(p, ast.TableRow)]
        return ast.Table(span=self._span(meta), keys=keys, rows=rows)

    def table_row(self, meta, *parts):
        return ast.TableRow(span=self._span(meta), labels=[self._ident(p) for p in parts[:-1]], value=parts[-1])
