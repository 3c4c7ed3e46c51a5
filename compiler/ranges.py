"""Interval ranges of a game's expressions over every value its parameters and actions can take,
for the budget's numeric-range check (:mod:`prefc.compiler.budget`): ``exp`` arguments and powers
that leave floating point are recorded where they are written, and each finite action's options
are counted.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from fractions import Fraction

from prefc.compiler import ast
from prefc.compiler.check import CheckedGame
from prefc.compiler.ir import GameIR
from prefc.compiler.source import Span

__all__ = ["MAX_EXP_ARGUMENT", "MAX_LOG10", "Interval", "Ranges"]

# Beyond these, floating point overflows: exp(709.8) and 1.8e308.
MAX_EXP_ARGUMENT = 709.0
MAX_LOG10 = 300.0

Interval = tuple[float, float]
_ANY: Interval = (-math.inf, math.inf)


def _finite(iv: Interval) -> bool:
    return math.isfinite(iv[0]) and math.isfinite(iv[1])


def _mul(a: Interval, b: Interval) -> Interval:
    products = []
    for x in a:
        for y in b:
            if (x == 0 and math.isinf(y)) or (y == 0 and math.isinf(x)):
                products.append(0.0)
            else:
                products.append(x * y)
    return min(products), max(products)


def _exp(x: float) -> float:
    try:
        return math.exp(x)
    except OverflowError:
        return math.inf


class Ranges:
    """Interval evaluation of a game's expressions over every value its parameters and actions
    can take; records ``exp`` arguments and powers that leave floating point."""

    def __init__(self, game: GameIR, values: dict[str, Fraction] | None = None):
        self.game = game
        self.checked: CheckedGame = game.checked
        self.params: dict[str, Interval] = {
            n: (float(min(p.values)), float(max(p.values))) for n, p in game.params.items()
        }
        for name, value in (values or {}).items():
            if name in self.params:
                self.params[name] = (float(value), float(value))
        self.findings: list[tuple[Span, str, str]] = []
        self._seen_spans: set[tuple[int, int, str]] = set()
        self._lets: dict[tuple, Interval] = {}
        self._actions: dict[str, Interval] = {}
        self._busy: set[str] = set()
        self.group_size: Interval = (1.0, 1.0)
        self.group_index: Interval = (1.0, 1.0)
        group = self.checked.group
        if group is not None and group.lo is not None and group.hi is not None:
            lo, hi = self.expr(group.lo, {}), self.expr(group.hi, {})
            self.group_index = (lo[0], hi[1])
            self.group_size = (max(1.0, hi[0] - lo[1] + 1), max(1.0, hi[1] - lo[0] + 1))

    # -- actions ----------------------------------------------------------------------------
    def action(self, name: str) -> Interval:
        """The range of an action (label actions range over their option numbers)."""
        if name in self._actions:
            return self._actions[name]
        infos = [i for i in self.checked.actions.values() if i.name == name]
        if not infos or name in self._busy:
            return _ANY
        dom = infos[0].domain
        if isinstance(dom, ast.LabelSet):
            iv: Interval = (0.0, float(max(0, len(dom.labels) - 1)))
        else:
            self._busy.add(name)
            iv = (self.expr(dom.lo, {})[0], self.expr(dom.hi, {})[1])
            self._busy.discard(name)
        self._actions[name] = iv
        return iv

    def options(self, info) -> int | None:
        """An upper bound on a finite action's options at any point (None when unbounded)."""
        dom = info.domain
        if isinstance(dom, ast.LabelSet):
            return len(dom.labels)
        if not isinstance(dom, ast.IntRange):
            return None
        lo, hi = self.expr(dom.lo, {}), self.expr(dom.hi, {})
        step = self.expr(dom.step, {}) if dom.step is not None else (1.0, 1.0)
        if not (_finite(lo) and _finite(hi)) or not math.isfinite(step[0]) or step[0] <= 0:
            return None
        span = hi[1] - lo[0]
        if span < 0:
            return 0
        count = span / step[0] + 1
        return int(count) if count < 1e18 else 10**18

    # -- expressions ------------------------------------------------------------------------
    def expr(self, e, local: dict[str, Interval]) -> Interval:  # noqa: C901 - one dispatch over node kinds
        """The interval of an expression.

        Args:
            e: The expression.
            local: Intervals of bound names (helper arguments, member indices).
        """
        if isinstance(e, ast.Number):
            v = float(e.value)
            return v, v
        if isinstance(e, ast.Name):
            if e.id in local:
                return local[e.id]
            if e.id in self.params:
                return self.params[e.id]
            if e.id in self.checked.labels:
                return 0.0, float(len(self.checked.labels))
            if e.id in self.checked.lets:
                return self.let(e.id, ())
            if any(i.name == e.id for i in self.checked.actions.values()):
                return self.action(e.id)
            return _ANY
        if isinstance(e, ast.Attr):
            return self.action(e.attr.name)
        if isinstance(e, ast.Neg):
            lo, hi = self.expr(e.operand, local)
            return -hi, -lo
        if isinstance(e, ast.BinOp):
            a, b = self.expr(e.left, local), self.expr(e.right, local)
            if e.op == "+":
                return a[0] + b[0], a[1] + b[1]
            if e.op == "-":
                return a[0] - b[1], a[1] - b[0]
            if e.op == "*":
                return _mul(a, b)
            if e.op == "/":
                if b[0] <= 0 <= b[1]:
                    return _ANY
                return _mul(a, (1 / b[1], 1 / b[0]))
            if e.op == "^":
                return self.power(e, a, b)
            return _ANY
        if isinstance(e, (ast.Compare, ast.BoolOp, ast.Not)):
            for side in _children(e):
                self.expr(side, local)
            return 0.0, 1.0
        if isinstance(e, ast.IfExpr):
            self.expr(e.cond, local)
            a, b = self.expr(e.then, local), self.expr(e.orelse, local)
            return min(a[0], b[0]), max(a[1], b[1])
        if isinstance(e, ast.Table):
            values = [self.expr(r.value, local) for r in e.rows]
            if not values:
                return _ANY
            return min(v[0] for v in values), max(v[1] for v in values)
        if isinstance(e, ast.Call):
            return self.call(e, local)
        if isinstance(e, ast.Index):
            self.expr(e.index, local)
            return _ANY
        return _ANY

    def call(self, e: ast.Call, local: dict[str, Interval]) -> Interval:
        f = e.func.name
        if f in self.checked.lets:
            return self.let(f, tuple(self.expr(a, local) for a in e.args if not isinstance(a, ast.Binder)))
        if len(e.args) == 1 and isinstance(e.args[0], ast.Binder):
            binder = e.args[0]
            inner = {**local, binder.var.name: self.group_index}
            if binder.where is not None:
                self.expr(binder.where, inner)
            body = self.expr(binder.body, inner)
            if f == "sum":
                return _mul(body, (0.0, self.group_size[1]))
            return body
        args = [self.expr(a, local) for a in e.args if not isinstance(a, ast.Binder)]
        if not args:
            return _ANY
        if f == "sum" and len(args) == 1:
            return _mul(args[0], (0.0, self.group_size[1]))
        if f in ("mean", "min", "max") and len(args) == 1:
            return args[0]
        if f == "min":
            return min(a[0] for a in args), min(a[1] for a in args)
        if f == "max":
            return max(a[0] for a in args), max(a[1] for a in args)
        x = args[0]
        if f == "abs":
            if x[0] >= 0:
                return x
            if x[1] <= 0:
                return -x[1], -x[0]
            return 0.0, max(-x[0], x[1])
        if f == "exp":
            if math.isfinite(x[1]) and x[1] > MAX_EXP_ARGUMENT:
                self._find(
                    e.span,
                    f"`exp(...)` reaches e^{x[1]:,.0f} here, beyond e^{MAX_EXP_ARGUMENT:.0f} "
                    "(the largest a floating-point number holds)",
                    f"its argument ranges up to {x[1]:,.4g}",
                )
            return _exp(x[0]), _exp(x[1])
        if f == "log":
            lo = math.log(x[0]) if x[0] > 0 else -math.inf
            hi = math.log(x[1]) if x[1] > 0 and math.isfinite(x[1]) else (math.inf if x[1] > 0 else -math.inf)
            return lo, hi
        if f == "sqrt":
            return math.sqrt(max(0.0, x[0])) if math.isfinite(x[0]) else 0.0, math.sqrt(
                max(0.0, x[1])
            ) if math.isfinite(x[1]) else math.inf
        return _ANY

    def power(self, e: ast.BinOp, base: Interval, exponent: Interval) -> Interval:
        if not (_finite(base) and _finite(exponent)):
            return _ANY
        biggest = max(abs(base[0]), abs(base[1]))
        reach = max(abs(exponent[0]), abs(exponent[1]))
        if biggest > 1 and reach * math.log10(biggest) > MAX_LOG10:
            self._find(
                e.span,
                f"this power reaches about 10^{reach * math.log10(biggest):,.0f}, beyond "
                f"10^{MAX_LOG10:.0f} (floating point)",
                f"base up to {biggest:,.4g}, exponent up to {reach:,.4g}",
            )
            return _ANY
        smallest = min(abs(base[0]), abs(base[1])) if base[0] * base[1] > 0 else 0.0
        if 0 < smallest < 1 and exponent[0] < 0 and -exponent[0] * -math.log10(smallest) > MAX_LOG10:
            self._find(
                e.span,
                "this power of a small number to a negative exponent leaves floating point",
                f"base down to {smallest:,.4g}, exponent down to {exponent[0]:,.4g}",
            )
            return _ANY
        values = []
        for b in base:
            for x in exponent:
                try:
                    values.append(float(b) ** x if b >= 0 or float(x).is_integer() else math.nan)
                except (OverflowError, ZeroDivisionError):
                    return _ANY
        values = [v if isinstance(v, float) else math.nan for v in values]
        if any(math.isnan(v) for v in values):
            return _ANY
        lo, hi = min(values), max(values)
        if base[0] < 0 < base[1]:
            lo, hi = min(lo, -abs(hi)), max(hi, abs(lo))
        return min(lo, 0.0) if base[0] <= 0 <= base[1] else lo, hi

    def let(self, name: str, args: tuple[Interval, ...]) -> Interval:
        key = (name, args)
        if key in self._lets:
            return self._lets[key]
        if name in self._busy:
            return _ANY
        let = self.checked.lets[name]
        local = {p.name: (args[i] if i < len(args) else _ANY) for i, p in enumerate(let.params)}
        self._busy.add(name)
        try:
            iv = self.expr(let.value, local)
        finally:
            self._busy.discard(name)
        self._lets[key] = iv
        return iv

    def _find(self, span: Span, message: str, label: str) -> None:
        key = (span.start, span.end, span.file)
        if key not in self._seen_spans:
            self._seen_spans.add(key)
            self.findings.append((span, message, label))

    def scan(self) -> None:
        """Evaluate every numeric expression of the game once (payoffs, helpers, bounds, weights)."""
        g = self.checked.ast
        for pay in g.payoffs:
            local = {pay.index_var.name: self.group_index} if pay.index_var is not None else {}
            self.expr(pay.value, local)
        for name in self.checked.lets:
            let = self.checked.lets[name]
            self.let(name, tuple(self.group_index for _ in let.params))
        for info in self.checked.actions.values():
            self.action(info.name)
            self.options(info)
        if g.kantian is not None:
            for _, weight in g.kantian.weights:
                self.expr(weight, {})


def _children(e) -> Iterator:
    if isinstance(e, (ast.Compare, ast.BoolOp)):
        yield e.left
        yield e.right
    elif isinstance(e, ast.Not):
        yield e.operand
