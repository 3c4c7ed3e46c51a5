"""How an evaluation is scored, in words: the text every ``summary.json`` carries as ``conventions``."""

__all__ = ["CONVENTIONS"]

CONVENTIONS = """\
Scoring an agent's answers against a rubric: pure functions over parsed results (no torch).

Conventions (also shown in every ``summary.json``):

* **Correctness.** Choice and integer actions must equal the target exactly; number actions must lie
  within ``tolerance * (max - min)`` of the target, where ``min``/``max`` come from the item's answer
  schema. A target may carry ``"alternatives"`` (equally good answers): matching any one counts.
  An item with several actions is correct when every action is.
* **Distance** (numeric actions only): ``|answer - target| / (max - min)``, averaged over the item's
  numeric actions, the smallest over the target and its alternatives.
* **Soft answers.** When an agent's choice distribution over the item's ``family.options`` is known
  (log-probability scoring), the answer is the most probable option, ``expected_correct`` is the
  probability mass on correct options, and the kappa estimator uses the whole distribution.
* **Nearest type.** The preference with the highest accuracy, when it leads every other one: a tie
  (accuracies within 1e-9) or an agent with no correct answer against any preference has no
  nearest type (the summary says why). ``margin`` is the accuracy lead over the runner-up and
  ``margin_se`` its standard error, from the per-item differences over the items both score.
* **Kappa.** Maximum likelihood under logit choice, ``P(option | kappa, lambda) =
  softmax(lambda * u(kappa))`` with ``u(kappa)`` interpolated linearly between the family grid
  points. The precision ``lambda >= 0`` is profiled out exactly (the log-likelihood is concave in
  lambda) up to a bound so large that reaching it means deterministic play (every answer a best
  reply). Deterministic answers at a kappa where options tie make the profile jump there (a tie
  costs each tied item log(options) at that kappa, while just beside it the answer is strictly
  best), so the profile is used through its upper envelope: at every point also its limits from
  either side. Kappa is maximised on a fine grid and refined with a bounded scalar optimiser. The
  95% interval is the closure of the profile-likelihood (likelihood-ratio) set
  ``2 * (max - profile(kappa)) <= 3.841``, reported as its outermost crossings inside the grid; it
  holds the estimate. Unparsed answers are excluded and counted.
* **Incentive sensitivity.** Per game, role and first action: the OLS slopes (with an intercept, all
  varying numeric parameters jointly when the design allows, else one at a time) of the agent's
  numeric choice (choice actions: 1 for the schema's first option, else 0; soft answers: the
  expected value) on the item parameters, next to the same regression of each preference's targets
  (over all items of the group; with ties, the mean of the equally good answers)."""
"""The conventions, as every ``summary.json`` repeats them."""
