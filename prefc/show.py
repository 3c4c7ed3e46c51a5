"""``prefc show``: a checked spec rendered for people (rich renderables)."""

from __future__ import annotations

from rich.console import Group
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from prefc.compiler import pretty
from prefc.compiler.check import CheckedGame, CheckedSpec


def _game_panel(game: CheckedGame) -> Panel:
    g = game.ast
    lines = Table.grid(padding=(0, 2))
    lines.add_column(style="bold cyan", no_wrap=True)
    lines.add_column()
    players = ", ".join(
        p.name.name if not p.is_group else f"{p.name.name}[{pretty.expr(p.lo)}..{pretty.expr(p.hi)}]" for p in g.players
    )
    lines.add_row("players", players + ("  (symmetric)" if g.symmetric else ""))
    for name, p in game.params.items():
        dom = f" in {pretty.domain(p.domain)}" if p.domain is not None else ""
        sw = f"  {pretty.sweep(p.sweep)}" if p.sweep is not None else ""
        lines.add_row("param", f"{name}{dom} = {pretty.expr(p.default)}{sw}")
    for i, stage in enumerate(game.stages, start=1):
        for m in stage:
            sees = f", seeing {', '.join(pretty.action_ref(r) for r in m.observes)}" if m.observes else ""
            who = f"each {m.mover.name}" if m.each else m.mover.name
            lines.add_row(f"stage {i}", f"{who} chooses {m.action.name} in {pretty.domain(m.domain)}{sees}")
    for let in g.lets:
        params = f"({', '.join(p.name for p in let.params)})" if let.params else ""
        lines.add_row("let", f"{let.name.name}{params} = {pretty.expr(let.value)}")
    for pay in g.payoffs:
        idx = f"[{pay.index_var.name}]" if pay.index_var is not None else ""
        lines.add_row("payoff", f"{pay.player.name}{idx} = {pretty.expr(pay.value)}")
    if g.symmetric and len(g.payoffs) < len(g.players) and game.group is None:
        lines.add_row("", Text("other payoffs by permutation", style="dim"))
    lines.add_row("kantian", game.kantian_mode + ("" if g.kantian else "  (default)"))
    if g.repeat is not None:
        lines.add_row("repeat", f"{pretty.expr(g.repeat)} rounds")
    if g.concept is not None:
        lines.add_row("solve", g.concept.name)
    return Panel(lines, title=f"[bold]game {game.name}[/bold] — {game.title}", title_align="left")


def render_spec(spec: CheckedSpec) -> Group:
    """Render a checked spec: header, preferences, games and builds.

    Args:
        spec: The checked spec.
    """
    parts: list = [
        Text.assemble(
            ("spec ", "bold"),
            (spec.name, "bold magenta"),
            f"  {spec.title}\n",
            (f"{spec.path}  sha256 {spec.sha256[:16]}…", "dim"),
        )
    ]
    prefs = Table(title="preferences", title_justify="left", show_lines=False)
    prefs.add_column("name", style="bold", no_wrap=True)
    prefs.add_column("parameters", overflow="fold")
    prefs.add_column("utility", overflow="fold")
    prefs.add_column("from", style="dim")
    for p in spec.preferences.values():
        params = ", ".join(
            f"{k}{' in [' + pretty.number(d[0]) + ', ' + pretty.number(d[1]) + ']' if (d := p.domains[k]) else ''}"
            f"{' = ' + pretty.number(v) if v is not None else ''}"
            for k, v in p.defaults.items()
        )
        prefs.add_row(p.name, params or "—", pretty.expr(p.ast.body), p.origin)
    parts.append(prefs)
    parts.extend(_game_panel(g) for g in spec.games.values())
    if spec.builds:
        builds = Table(title="builds", title_justify="left")
        builds.add_column("kind")
        builds.add_column("name", no_wrap=True)
        builds.add_column("preferences", no_wrap=True)
        builds.add_column("games", no_wrap=True)
        for col in ("size", "settings"):
            builds.add_column(col, overflow="fold")
        for b in spec.builds.values():
            a = b.ast
            size = f"{a.samples} per {a.samples_per}" if b.kind == "dataset" else f"{a.items or '—'} items"
            settings = []
            if a.seed is not None:
                settings.append(f"seed {a.seed}")
            if a.split:
                settings.append("split " + ", ".join(f"{n.name} {pretty.number(v)}" for n, v in a.split))
            if a.paraphrases:
                settings.append(f"paraphrases {a.paraphrases}")
            if a.tolerance is not None:
                settings.append(f"tolerance {pretty.number(a.tolerance * 100)}%")
            if a.holdout_games:
                settings.append("holdout games " + ", ".join(g.name for g in a.holdout_games))
            for cond in a.holdout_where:
                settings.append(f"holdout where {pretty.expr(cond)}")
            if a.select is not None:
                settings.append(f"select {a.select.name}")
            builds.add_row(
                b.kind, b.name, "\n".join(p.label for p in b.preferences), "\n".join(b.games), size, "\n".join(settings)
            )
        parts.append(builds)
    return Group(*parts)


def spec_json(spec: CheckedSpec) -> dict:
    """``prefc show --json``: what :func:`render_spec` shows, as plain JSON data.

    Args:
        spec: The checked spec.
    """
    preferences = [
        {
            "name": p.name,
            "title": p.title,
            "origin": p.origin,
            "parameters": {
                k: {
                    "default": None if v is None else pretty.number(v),
                    "domain": [pretty.number(d) for d in domain] if (domain := p.domains[k]) else None,
                }
                for k, v in p.defaults.items()
            },
            "utility": pretty.expr(p.ast.body),
        }
        for p in spec.preferences.values()
    ]
    games = []
    for game in spec.games.values():
        g = game.ast
        games.append(
            {
                "name": game.name,
                "title": game.title,
                "symmetric": bool(g.symmetric),
                "players": [p.name.name for p in g.players],
                "params": {
                    name: {
                        "default": pretty.expr(p.default),
                        "domain": pretty.domain(p.domain) if p.domain is not None else None,
                        "sweep": pretty.sweep(p.sweep) if p.sweep is not None else None,
                    }
                    for name, p in game.params.items()
                },
                "stages": [
                    [
                        {
                            "mover": m.mover.name,
                            "each": bool(m.each),
                            "action": m.action.name,
                            "domain": pretty.domain(m.domain),
                            "observes": [pretty.action_ref(r) for r in m.observes],
                        }
                        for m in stage
                    ]
                    for stage in game.stages
                ],
                "payoffs": {
                    f"{pay.player.name}"
                    + (f"[{pay.index_var.name}]" if pay.index_var is not None else ""): pretty.expr(pay.value)
                    for pay in g.payoffs
                },
                "kantian": game.kantian_mode,
                "repeat": pretty.expr(g.repeat) if g.repeat is not None else None,
                "concept": g.concept.name if g.concept is not None else None,
            }
        )
    builds = [
        {
            "kind": b.kind,
            "name": b.name,
            "preferences": [p.label for p in b.preferences],
            "games": list(b.games),
            "samples": b.ast.samples if b.kind == "dataset" else None,
            "samples_per": b.ast.samples_per if b.kind == "dataset" else None,
            "items": b.ast.items if b.kind == "rubric" else None,
            "seed": b.ast.seed,
        }
        for b in spec.builds.values()
    ]
    return {
        "spec": spec.name,
        "title": spec.title,
        "path": str(spec.path),
        "sha256": spec.sha256,
        "preferences": preferences,
        "games": games,
        "builds": builds,
    }
