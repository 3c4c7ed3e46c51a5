"""``diff.json``: where two specs or two preferences part (``kind`` ``specs`` or ``preferences``),
or whether two evaluated agents differ beyond noise (``kind`` ``results``)."""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from .base import Document, Part

__all__ = [
    "DiffGame",
    "DiffInput",
    "DiffPoint",
    "DiffSide",
    "DiffSummary",
    "GroupDiffRecord",
    "ResultsDiffDocument",
    "ResultsInput",
    "RubricIdentity",
    "SpecDiffDocument",
    "TestRecord",
    "diff_model",
]


# ----------------------------------------------------------------------------- spec and preference diffs


class DiffInput(Part):
    """One spec compared."""

    path: str
    """The spec file."""
    spec: str
    """Its name."""
    sha256: str
    """SHA-256 of its source."""


class DiffSide(Part):
    """One side of a game's comparison: a spec and a preference."""

    name: str
    """How the side is shown (a preference label or a spec name)."""
    spec: str
    """The spec."""
    preference: str
    """The preference (its free parameters swept)."""
    free: list[str]
    """The preference parameters swept over their domain."""


class DiffPoint(Part):
    """The two sides' answers at one grid point."""

    params: dict[str, Any]
    """The game's parameter values."""
    free: dict[str, Any]
    """The swept preference parameters' values."""
    status: str
    """``same``, ``overlap``, ``differ`` or ``error``."""
    a: str
    """The first side's answer, in words."""
    b: str
    """The second side's."""
    closed_form: str | None = None
    """What the closed-form regions say here, when there are some."""


class DiffGame(Part):
    """One game compared."""

    game: str
    """The game."""
    a: DiffSide
    """The first side."""
    b: DiffSide
    """The second side."""
    error: str | None
    """Why the game could not be compared."""
    grid: dict[str, Any]
    """The grid swept: ``params``, ``shared``, ``own``, ``free``, ``domains``, ``notes``."""
    counts: dict[str, int]
    """Points per status."""
    share_differ: float | None
    """Share of points where the sides differ."""
    status: str
    """The game's overall status."""
    example: DiffPoint | None
    """One point where they differ."""
    closed_form: dict[str, Any] | None
    """The closed-form regions where they differ (the compiler's comparison), when known."""
    closed_form_note: str
    """Why there are none, or a caveat."""
    agreement: dict[str, Any]
    """How the closed form and the grid agree (``checked``, ``mismatched``, ``agree``, ...)."""
    points: list[DiffPoint]
    """Every grid point."""


class DiffSummary(Part):
    """The comparison in three numbers."""

    compared: int
    """Games compared."""
    differ: int
    """Games where the sides differ somewhere."""
    agree: bool
    """Whether closed forms and grids agree in every game."""


class SpecDiffDocument(Document):
    """A spec diff (``A.pref B.pref``) or preference diff (``SPEC --preference P1 --preference P2``)."""

    WHAT: ClassVar[str] = "a prefc diff"

    kind: Literal["specs", "preferences"]
    """What was compared."""
    inputs: list[DiffInput]
    """The specs."""
    summary: DiffSummary
    """In short."""
    skipped: list[dict[str, str]]
    """Games not compared (``game``, ``preference``, ``reason``)."""
    games: list[DiffGame]
    """Every game compared."""


# ----------------------------------------------------------------------------- results diffs


class ResultsInput(Part):
    """One evaluation compared."""

    path: str
    """Its results directory."""
    agent: str
    """The agent's name."""
    sha256: dict[str, str]
    """SHA-256 of ``results.jsonl`` and ``summary.json``."""
    n_items: int
    """Items answered."""
    scoring: str | None
    """``generate`` or ``logprob``."""


class RubricIdentity(Part):
    """The rubric both evaluations ran."""

    name: str | None
    """The rubric's name."""
    spec: str | None
    """Its spec."""
    spec_sha256: str | None
    """The spec's SHA-256."""


class TestRecord(Part):
    """One difference and the test that judges it."""

    what: str
    """The measure (``choice``, ``accuracy vs economicus``, ``parse rate``, ``kappa``)."""
    scope: str
    """Where (``all`` or ``game/role.action``)."""
    test: str
    """The test's name."""
    statistic: float | None
    """Its statistic (None for exact tests without one)."""
    p: float | None
    """The two-sided p-value (None when no test applies)."""
    p_adjusted: float | None
    """The Holm-adjusted p-value."""
    significant: bool
    """Whether the adjusted p-value is below ``alpha``."""
    a: Any
    """The measure on the first side."""
    b: Any
    """The measure on the second side."""
    n: int | None
    """Observations used (pairs for paired tests)."""
    note: str
    """Why no test, or a caveat."""


class GroupDiffRecord(Part):
    """One game/role/action compared."""

    game: str
    """The game."""
    role: str
    """The role."""
    action: str
    """The action."""
    kind: str
    """``discrete`` (choice shares) or ``continuous`` (mean and median)."""
    a: dict[str, Any]
    """The first run's choices there."""
    b: dict[str, Any]
    """The second run's."""
    choice: TestRecord
    """The test on the choices."""
    accuracy: list[TestRecord]
    """The tests on accuracy against each preference."""


class ResultsDiffDocument(Document):
    """Two evaluations of one rubric side by side (``prefc diff RESULTS_A RESULTS_B``)."""

    WHAT: ClassVar[str] = "a prefc diff"

    kind: Literal["results"]
    """What was compared."""
    inputs: list[ResultsInput]
    """The two evaluations."""
    rubric: RubricIdentity
    """The rubric they ran."""
    paired: bool
    """Whether both answered the same items (paired tests)."""
    alpha: float
    """The level of the adjusted p-values."""
    correction: str
    """The multiple-testing correction."""
    verdict: str
    """``differ`` or ``no significant difference``."""
    significant: list[str]
    """The differences beyond noise (``what @ scope``)."""
    notes: list[str]
    """Caveats."""
    overall: list[TestRecord]
    """Tests over every item."""
    games: list[GroupDiffRecord]
    """Tests per game, role and action."""


def diff_model(value: object) -> type[SpecDiffDocument] | type[ResultsDiffDocument]:
    """The form of parsed ``diff.json`` data, by its ``kind``.

    Args:
        value: The parsed JSON object.
    """
    if isinstance(value, dict) and value.get("kind") == "results":
        return ResultsDiffDocument
    return SpecDiffDocument
