"""Rich renderings of solutions and explanations for the terminal."""

from __future__ import annotations

from rich.console import Group
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from prefc.compiler.solution import Solution
from prefc.numbers import fmt_number


def _value(v: object) -> str:
    return fmt_number(v, style="general", digits=4)


def render_solution(sol: Solution) -> Panel:
    """A solution with its equilibria and derivation.

    Args:
        sol: The solution.
    """
    head = Table.grid(padding=(0, 2))
    head.add_column(style="bold cyan")
    head.add_column()
    head.add_row("parameters", ", ".join(f"{k} = {_value(v)}" for k, v in sol.params.items()) or "—")
    head.add_row("concept", sol.concept)
    head.add_row("kantian", sol.kantian)
    if sol.mixing:
        head.add_row("mixing", sol.mixing)
    if sol.verified is not None:
        v = sol.verified
        gain = f"largest gain {v.max_gain:.3g}" + (f", tolerance {v.tolerance:g}" if v.tolerance else "")
        head.add_row("verified", f"{v.method} ({v.deviations:,} deviations, {gain})")
    eqs = Table(title="equilibria" if len(sol.equilibria) != 1 else "solution", title_justify="left")
    eqs.add_column("#")
    eqs.add_column("play")
    eqs.add_column("utilities")
    for i, eq in enumerate(sol.equilibria):
        if eq.probabilities:
            play = "; ".join(
                f"{p}: " + ", ".join(f"{o} {q:.4g}" for o, q in probs.items())
                for p, acts in eq.probabilities.items()
                for probs in acts.values()
            )
        else:
            play = ", ".join(f"{p}.{a} = {_value(v)}" for p, acts in eq.path.items() for a, v in acts.items())
        if eq.strategy:
            play += "\n" + "; ".join(f"{p}: {plan}" for p, plan in eq.strategy.items())
        if eq.mixture_gain is not None:
            play += f"\n(a mixture gains {eq.mixture_gain:.4g}: not an equilibrium against mixed strategies)"
        mark = "→ " if i == sol.selected else ""
        eqs.add_row(f"{mark}{i}", play, ", ".join(f"{p} {_value(u)}" for p, u in eq.utilities.items()))
    parts: list = [head, eqs, Text(f"selected: {sol.selection}", style="dim")]
    parts += [Text(f"note: {n}", style="dim") for n in sol.notes]
    for d in sol.derivation:
        given = ", ".join(f"{k} = {_value(v)}" for k, v in d.given.items()) if d.given else ""
        lines = [f"{d.player} chooses {d.action}" + (f" given {given}" if given else "")]
        if d.options:
            lines += [f"  {o.value}: utility {o.exact or _value(o.utility)}" for o in d.options]
        if d.utility:
            lines.append(f"  utility: {d.utility}")
        if d.marginal:
            lines.append(f"  marginal utility: {d.marginal}")
        if d.regime:
            lines.append(f"  regime: {d.regime}")
        lines.append(f"  → {d.action} = {_value(d.chosen)}" + (f" (ties: {d.ties})" if d.ties else ""))
        parts.append(Text("\n".join(lines)))
    return Panel(Group(*parts), title=f"[bold]{sol.game}[/bold] for [bold]{sol.preference}[/bold]", title_align="left")


def render_explanation(exp) -> Panel:
    """An explanation: the regimes of the solution in closed form.

    Args:
        exp: A :class:`prefc.compiler.solve.explain.Explanation`.
    """
    head = Table.grid(padding=(0, 2))
    head.add_column(style="bold cyan")
    head.add_column()
    head.add_row("concept", exp.concept)
    head.add_row("kantian", exp.kantian)
    if getattr(exp, "mixing", None):
        head.add_row("mixing", exp.mixing)
    if exp.utility:
        head.add_row("utility", exp.utility)
    head.add_row("method", exp.method)
    if exp.assumptions:
        head.add_row("assuming", ", ".join(exp.assumptions))
    table = Table(title="regimes", title_justify="left")
    table.add_column("when")
    table.add_column("outcome")
    table.add_column("why", style="dim")
    for r in exp.regimes:
        table.add_row(r.condition, r.outcome, r.note)
    return Panel(
        Group(head, table), title=f"[bold]{exp.game}[/bold] for [bold]{exp.preference}[/bold]", title_align="left"
    )
