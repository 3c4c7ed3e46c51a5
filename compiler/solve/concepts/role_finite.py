"""``nash`` for simultaneous games of distinct roles with finite actions (one stage).

Two movers: every equilibrium, mixed ones included (:mod:`..nash`); three or more: every pure
equilibrium. Roles are told apart by who chooses, never by an action's name, so two roles may both
choose ``move``. Under a Kantian preference with role randomisation (the default for distinct
roles) the players choose plans for every role before the roles are drawn, and the equilibria are
the symmetric equilibria of that ex-ante plan game (Alger & Weibull 2013), pure and, at the
strategy level, mixed.
"""

from __future__ import annotations

from prefc.compiler.ir import GameIR, to_plain
from prefc.compiler.solution import ActionValue, Decision, Equilibrium, OptionValue, Verification
from prefc.compiler.solve import certify
from prefc.compiler.solve.concept import Concept, Found, Point, concept
from prefc.compiler.solve.derive import argmaxes, select
from prefc.compiler.solve.nash import equilibria, to_models
from prefc.compiler.solve.strategic import StrategicForm, strategic_form
from prefc.numbers import utility_text

__all__ = ["RoleFinite"]


@concept
class RoleFinite(Concept):
    """Simultaneous finite games of distinct roles."""

    name = "nash"

    @classmethod
    def fits(cls, game: GameIR) -> bool:
        explicit = game.checked.ast.concept.name if game.checked.ast.concept is not None else None
        owners = {a.owner for a in game.actions}
        return (
            not game.symmetric
            and game.group is None
            and game.n_stages == 1
            and len(owners) >= 2
            and not game.checked.ast.beliefs
            and explicit != "argmax"
            and all(a.finite for a in game.actions)
        )

    def find(self, point: Point, *, derive: bool) -> Found:
        form = strategic_form(self.game, self.pref, point)
        result = equilibria(form, symmetric_only=form.plan_game)
        models = to_models(form, result)
        selected, rule = select(models, require_symmetric=False)
        if form.plan_game:
            rule += " (symmetric equilibria of the plan game)"
        derivation = self._derive(form, models, selected) if derive and not form.plan_game else []
        exact = all(not isinstance(v, float) for eq in result.equilibria for v in eq.payoffs)
        return Found(models, derivation, selected, rule, exact, notes=result.notes, mixing=result.mixing, witness=form)

    def _derive(self, form: StrategicForm, models: list[Equilibrium], selected: int | None) -> list[Decision]:
        """Each mover's utility of its options against the others' play in the selected equilibrium."""
        if selected is None:
            return []
        eq = models[selected]
        profile = tuple(
            next(i for i, s in enumerate(form.strategies[p]) if s.shown[name] == eq.path[name])
            for p, name in enumerate(form.names)
        )
        out = []
        for p, name in enumerate(form.names):
            acts = [a for a in self.game.actions if a.owner == name]
            utils = [form.pure(p, profile[:p] + (d,) + profile[p + 1 :]) for d in range(len(form.strategies[p]))]
            best = argmaxes(utils)

            def value(s, name=name, acts=acts):
                return s.shown[name][acts[0].name] if len(acts) == 1 else s.text

            given: dict[str, ActionValue] = {
                other: form.strategies[q][profile[q]].text for q, other in enumerate(form.names) if q != p
            }
            chosen = profile[p]
            out.append(
                Decision(
                    player=name,
                    action=acts[0].name if len(acts) == 1 else "strategy",
                    kind=acts[0].kind,
                    given=given,
                    options=[
                        OptionValue(value=value(s), utility=to_plain(u), exact=utility_text(u))
                        for s, u in zip(form.strategies[p], utils, strict=False)
                    ],
                    chosen=value(form.strategies[p][chosen]),
                    ties=[value(form.strategies[p][i]) for i in best if i != chosen],
                )
            )
        return out

    def certify(self, point: Point, found: Found) -> Verification:
        return certify.simultaneous_finite(
            self.game, self.pref, point, found.equilibria, strategy_level=found.mixing is not None
        )
