"""Scoring an agent's answers against a rubric: pure functions over parsed results (no torch).

The conventions (correctness, distance, soft answers, nearest type, kappa, incentive
sensitivity) are written in :mod:`.conventions` and repeated in every ``summary.json``.

Modules: :mod:`.conventions` (that text), :mod:`.correctness` (one item), :mod:`.accuracy`
(accuracy, nearest type), :mod:`.kappa` (the estimator), :mod:`.incentives` (slopes),
:mod:`.summary` (all of it in one summary). The result models live in :mod:`prefc.artefacts`
(``summary.json`` is one).
"""

from prefc.artefacts import (
    BinPoint,
    IncentiveSlope,
    KappaEstimate,
    NearestType,
    PreferenceScore,
    ProfilePoint,
    SlopeSE,
    Summary,
)

from .accuracy import TIE, nearest_note, nearest_type, preference_scores
from .conventions import CONVENTIONS
from .correctness import (
    Item,
    ItemOutcome,
    acceptable_answers,
    answer_distance,
    answer_matches,
    choice_options,
    is_number,
    score_item,
    snap_to_option,
)
from .incentives import incentive_slopes, numeric_choice, ols
from .kappa import CHI2_1_95, estimate_kappa
from .summary import summarize

__all__ = [
    "CHI2_1_95",
    "CONVENTIONS",
    "TIE",
    "BinPoint",
    "IncentiveSlope",
    "Item",
    "ItemOutcome",
    "KappaEstimate",
    "NearestType",
    "PreferenceScore",
    "ProfilePoint",
    "SlopeSE",
    "Summary",
    "acceptable_answers",
    "answer_distance",
    "answer_matches",
    "choice_options",
    "estimate_kappa",
    "incentive_slopes",
    "is_number",
    "nearest_note",
    "nearest_type",
    "numeric_choice",
    "ols",
    "preference_scores",
    "score_item",
    "snap_to_option",
    "summarize",
]
