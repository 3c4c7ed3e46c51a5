"""``symmetric-nash`` for symmetric games with finite actions (one stage): every player holds the
preference and the players are interchangeable.

* Two players (two named roles, or a group of two at this point): every equilibrium, mixed and
  asymmetric ones included (:mod:`..nash`); under a Kantian preference, mixed strategies are
  evaluated at the strategy level and pure equilibria that a mixture beats are marked.
* Groups of three or more: every pure equilibrium as a count vector, up to a permutation of the
  members, and for two options every symmetric mixed equilibrium (:mod:`..group`).

The equilibrium taught is a symmetric pure one (:func:`..derive.select`); the derivation is the
representative player's utility of each option against the others' play in it. ``prefc explain``
gives, for each option, the exact condition under which everyone playing it is an equilibrium,
and for two-option two-player games the regimes of the symmetric mixed equilibrium
(:mod:`..closed`).
"""

from __future__ import annotations

from fractions import Fraction

import sympy as sp

from prefc.compiler.ir import GameIR, to_plain
from prefc.compiler.solution import Decision, Equilibrium, OptionValue, Verification
from prefc.compiler.solve import certify
from prefc.compiler.solve.closed import ClosedForm, MixedRegime, isolate, isolate_all, simplify
from prefc.compiler.solve.concept import Concept, Found, Point, concept
from prefc.compiler.solve.derive import argmaxes, select
from prefc.compiler.solve.group import GroupForm
from prefc.compiler.solve.nash import STRATEGY_LEVEL, equilibria, to_models
from prefc.compiler.solve.strategic import StrategicForm, strategic_form
from prefc.compiler.solve.utility import symmetric_split, symmetric_utility
from prefc.numbers import utility_text

__all__ = ["SymmetricFinite"]


def _explicit(game: GameIR) -> str | None:
    return game.checked.ast.concept.name if game.checked.ast.concept is not None else None


@concept
class SymmetricFinite(Concept):
    """Symmetric simultaneous games with finite actions."""

    name = "symmetric-nash"

    @classmethod
    def fits(cls, game: GameIR) -> bool:
        return (
            game.symmetric
            and game.n_stages == 1
            and not game.checked.ast.beliefs
            and _explicit(game) != "argmax"
            and all(a.finite for a in game.actions)
        )

    # -- forms ------------------------------------------------------------------------------------
    def _group(self, point: Point) -> GroupForm:
        return GroupForm(self.game, self.pref, point)

    def _form(self, point: Point) -> StrategicForm | GroupForm:
        if self.game.group is not None:
            group = self._group(point)
            return group.two_player_form() if group.n == 2 else group
        return strategic_form(self.game, self.pref, point)

    # -- finding ----------------------------------------------------------------------------------
    def find(self, point: Point, *, derive: bool) -> Found:
        form = self._form(point)
        if isinstance(form, GroupForm):
            return self._find_group(form, derive)
        result = equilibria(form)
        models = to_models(form, result)
        selected, rule = select(models)
        derivation = self._derive_two(form, models, selected) if derive else []
        exact = all(not isinstance(v, float) for eq in result.equilibria for v in eq.payoffs)
        return Found(models, derivation, selected, rule, exact, notes=result.notes, mixing=result.mixing, witness=form)

    def _derive_two(self, form: StrategicForm, models: list[Equilibrium], selected: int | None) -> list[Decision]:
        if selected is None:
            return []
        eq = models[selected]
        name = form.names[0]
        other_text = (
            next(iter(eq.path[form.names[1]].values()))
            if len(eq.path[form.names[1]]) == 1
            else form.strategies[1][0].text
        )
        j = next(i for i, s in enumerate(form.strategies[1]) if s.shown[form.names[1]] == eq.path[form.names[1]])
        utils = [form.pure(0, (i, j)) for i in range(len(form.strategies[0]))]
        chosen_i = next(i for i, s in enumerate(form.strategies[0]) if s.shown[name] == eq.path[name])
        best = argmaxes(utils)
        return [self._decision(name, form.strategies[0], utils, chosen_i, best, other_text)]

    def _decision(self, player: str, strategies, utils, chosen_i: int, best: list[int], others) -> Decision:
        action = self.game.actions[0]
        value = (
            (lambda s: next(iter(s.shown.values()))[action.name])
            if len([a for a in self.game.actions if a.owner == action.owner]) == 1
            else (lambda s: s.text)
        )
        return Decision(
            player=player,
            action=action.name,
            kind=action.kind,
            given={"others": others},
            options=[
                OptionValue(value=value(s), utility=to_plain(u), exact=utility_text(u))
                for s, u in zip(strategies, utils, strict=False)
            ],
            chosen=value(strategies[chosen_i]),
            ties=[value(strategies[i]) for i in best if i != chosen_i],
        )

    def _find_group(self, form: GroupForm, derive: bool) -> Found:
        counts, complete = form.pure_equilibria()
        notes = (
            []
            if complete
            else ["the group has too many count vectors to enumerate; only symmetric pure equilibria were checked"]
        )
        notes.append("equilibria of a symmetric group game are listed up to a permutation of the members")
        group = self.game.group
        assert group is not None  # a symmetric group game
        members = [form.member(i) for i in range(1, form.n + 1)]
        models: list[Equilibrium] = []
        for c in counts:
            assignment = [b for b, m in enumerate(c) for _ in range(m)]
            path = {members[i]: dict(form.strategies[b].shown[group]) for i, b in enumerate(assignment)}
            utilities = {}
            for i, b in enumerate(assignment):
                others = tuple(x - (1 if j == b else 0) for j, x in enumerate(c))
                utilities[members[i]] = to_plain(form.utility(b, others))
            models.append(Equilibrium(path=path, utilities=utilities, symmetric=len(set(assignment)) == 1))
        mixed, note = form.symmetric_mixed()
        mixing = None
        if note:
            notes.append(note)
        if self.pref.uses_kantian:
            mixing = STRATEGY_LEVEL
        for m in mixed:
            first, second = (s.shown[group] for s in form.strategies)
            ((action, v0),) = first.items() if len(first) == 1 else (("strategy", form.strategies[0].text),)
            v1 = second[action] if len(second) == 1 else form.strategies[1].text
            probs = {member: {action: {str(v0): float(m.p), str(v1): 1 - float(m.p)}} for member in members}
            models.append(
                Equilibrium(probabilities=probs, utilities={member: m.utility for member in members}, symmetric=True)
            )
        selected, rule = select(models)
        derivation: list[Decision] = []
        if derive and selected is not None:
            b = next(i for i, s in enumerate(form.strategies) if s.shown[group] == models[selected].path[members[0]])
            others = form.all_others(b)
            utils = [form.utility(a, others) for a in range(form.k)]
            best = argmaxes(utils)
            shown = (
                next(iter(form.strategies[b].shown[group].values()))
                if len(form.strategies[b].shown[group]) == 1
                else form.strategies[b].text
            )
            derivation = [self._decision(members[0], form.strategies, utils, b, best, shown)]
        exact = all(isinstance(m.p, Fraction) for m in mixed) and all(
            not isinstance(v, float) for eq in models for v in eq.utilities.values()
        )
        return Found(models, derivation, selected, rule, exact, notes=notes, mixing=mixing, witness=form)

    @classmethod
    def closed_form(cls, game: GameIR, lowerer, **kw) -> ClosedForm | None:
        return closed_form(game, lowerer, **kw)

    # -- certificate ---------------------------------------------------------------------------------
    def certify(self, point: Point, found: Found) -> Verification:
        return certify.simultaneous_finite(
            self.game, self.pref, point, found.equilibria, strategy_level=found.mixing is not None
        )

    # -- prompts --------------------------------------------------------------------------------------
    def utilities_against_mix(self, point: Point, found: Found) -> list[float] | None:
        mixed = next((e for e in found.equilibria if e.probabilities and e.symmetric), None)
        if mixed is None or any(e.is_pure and e.symmetric for e in found.equilibria):
            return None
        form = found.witness
        if isinstance(form, GroupForm):
            if form.k != 2:
                return None
            probs = next(iter(next(iter(mixed.probabilities.values())).values()))  # type: ignore[union-attr]
            p = list(probs.values())[0]
            m = form.n - 1
            return [
                float(
                    sum(
                        sp.binomial(m, j) * p**j * (1 - p) ** (m - j) * float(form.utility(a, (j, m - j)))
                        for j in range(m + 1)
                    )
                )
                for a in range(2)
            ]
        other = form.names[1]
        mix = mixed.probabilities[other]  # type: ignore[index]
        strategies = form.strategies[1]
        if len(mix) != 1:
            return None
        ((action, probs),) = mix.items()
        y = [probs.get(str(s.shown[other][action]), 0.0) for s in strategies]
        return [
            float(sum(float(form.pure(0, (a, b))) * q for b, q in enumerate(y))) for a in range(len(form.strategies[0]))
        ]


def _two_players(game: GameIR, subs) -> bool:
    if game.group is None:
        return len(game.roles) == 2
    return game.group_size.xreplace(subs) == 2  # type: ignore[union-attr]


def closed_form(game: GameIR, lowerer, *, free, consts, ranges, sign_of) -> ClosedForm | None:
    """For each option, the condition under which everyone playing it is an equilibrium; with two
    options and two players also the symmetric mixed equilibrium and, under the strategy-level
    Kantian term, the conditions against mixtures.

    Args:
        game: A symmetric finite game with one action.
        lowerer: The preference, free parameters symbolic.
        free: The free preference parameters.
        consts: Game parameters to substitute.
        ranges: Unused here (the conditions are exact).
        sign_of: The sign oracle for isolating a free parameter.
    """
    if len({a.name for a in game.actions}) != 1:
        return None
    action = game.actions[0]
    subs = {
        game.params[n].symbol: sp.Rational(v.numerator, v.denominator) for n, v in consts.items() if n in game.params
    }
    if action.kind == "labels":
        options = [sp.Integer(i) for i in range(len(action.labels))]
    else:
        bounds = [e.xreplace(subs) for e in (action.lo, action.hi, action.step) if e is not None]
        if any(e.free_symbols for e in bounds):
            return None  # the options move with the parameters: no fixed list of conditions
        options = action.options({}, limit=50)
    a, b = sp.Symbol("own_", real=True), sp.Symbol("rest_", real=True)
    u = symmetric_utility(game, lowerer, own={action.name: a}, rest={action.name: b}).xreplace(subs)
    assumptions: list[sp.Basic] = []
    conditions: dict = {}
    for opt in options:
        conds = []
        for dev in options:
            if dev == opt:
                continue
            gain = simplify(u.xreplace({a: opt, b: opt}) - u.xreplace({a: dev, b: opt}))
            conds.append(isolate(sp.Ge(gain, 0), free, sign_of, assumptions))
        conditions[action.display(opt)] = sp.And(*conds) if conds else sp.true
    form = ClosedForm(
        "conditions",
        "closed form (every pure deviation from a symmetric profile weakly loses)",
        conditions=conditions,
        assumptions=assumptions,
        utility="; ".join(
            f"u({action.display(o1)}, {action.display(o2)}) = {_text(sp.factor(simplify(u.xreplace({a: o1, b: o2}))))}"
            for o1 in options
            for o2 in options
        )
        + f"  (own {action.name} first, the others' second)",
    )
    if len(options) == 2 and _two_players(game, subs):
        _mixed_2x2(game, lowerer, action, options, subs, free, sign_of, form)
    return form


def _text(e) -> str:
    from prefc.compiler.solve.closed import text

    return text(e)


def _mixed_2x2(game, lowerer, action, options, subs, free, sign_of, form: ClosedForm) -> None:
    """The symmetric mixed equilibrium of a symmetric 2x2 game and, under the strategy-level
    Kantian term, the pure equilibria's conditions against mixtures."""
    a, b = sp.Symbol("own_", real=True), sp.Symbol("rest_", real=True)
    ua, ub = sp.Symbol("uown_", real=True), sp.Symbol("urest_", real=True)
    split = symmetric_split(
        game,
        lowerer,
        own={action.name: a},
        rest={action.name: b},
        universal=({action.name: ua}, {action.name: ub}),
        actions={a, b, ua, ub},
    )
    if split is None:
        return
    o0, o1 = options
    M = [[simplify(split.actual.xreplace({a: x, b: y}).xreplace(subs)) for y in options] for x in options]
    G = [[simplify(split.universal.xreplace({ua: x, ub: y}).xreplace(subs)) for y in options] for x in options]
    kantian = any(g != 0 for row in G for g in row)
    H = [[M[i][j] + G[i][j] + G[j][i] for j in range(2)] for i in range(2)]
    den = simplify(H[0][0] - H[0][1] - H[1][0] + H[1][1])
    assumptions = form.assumptions
    if den != 0:
        p = sp.factor(simplify((H[1][1] - H[0][1]) / den))
        curvature = simplify(G[0][0] - G[0][1] - G[1][0] + G[1][1])
        parts = [sp.Gt(p, 0), sp.Lt(p, 1)]
        if kantian and curvature != 0:
            parts.append(sp.Le(curvature, 0))
        cond = sp.And(*[isolate_all(c, free, sign_of, assumptions) for c in parts])
        if cond is not sp.false:
            form.mixed.append(MixedRegime(cond, p, action.display(o0), action.display(o1)))
    if kantian:
        form.method += (
            "; mixed strategies at the strategy level (kantian(X) is the expectation of X when "
            "everyone draws from the evaluator's mixture)"
        )
        # option 0 against every mixture (q = weight on option 0, others at option 0): the best q is 1
        # iff u(1) >= u(0) and u'(1) >= 0; option 1 likewise at q = 0
        first = sp.And(
            isolate(sp.Ge(simplify(M[0][0] + G[0][0] - M[1][0] - G[1][1]), 0), free, sign_of, assumptions),
            isolate(
                sp.Ge(simplify(M[0][0] - M[1][0] + 2 * G[0][0] - G[0][1] - G[1][0]), 0), free, sign_of, assumptions
            ),
        )
        second = sp.And(
            isolate(sp.Ge(simplify(M[1][1] + G[1][1] - M[0][1] - G[0][0]), 0), free, sign_of, assumptions),
            isolate(
                sp.Le(simplify(M[0][1] - M[1][1] + G[0][1] + G[1][0] - 2 * G[1][1]), 0), free, sign_of, assumptions
            ),
        )
        form.against_mixtures = {action.display(o0): first, action.display(o1): second}
