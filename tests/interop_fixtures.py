"""Shared inputs of the interoperability tests: a small spec with a dataset and a rubric, and a
scripted agent that answers a rubric's prompts as one preference would."""

from __future__ import annotations

import shutil
from pathlib import Path

try:
    from spec_blocks import DICTATOR
except ImportError:  # tests/ is a package: import it by path
    from tests.spec_blocks import DICTATOR

SPECS = Path(__file__).resolve().parent.parent / "specs"

SPEC = (
    """spec small "Small games"

use "preferences.pref"

"""
    + DICTATOR
    + """
game prisoners_dilemma "Prisoner's dilemma" {
    players row, col symmetric
    param T = 5 vary {4, 5, 6, 8}, R = 3, P = 1, S = 0 vary {0, -1}
    each player chooses move in {cooperate, defect}
    payoff row = table(row.move, col.move) {
        cooperate, cooperate: R;  cooperate, defect: S
        defect,    cooperate: T;  defect,    defect: P
    }
}

dataset sft for economicus, moralis(kappa = 0.5) {
    games dictator, prisoners_dilemma
    samples 24 per preference   seed 5
    split train 0.8, val 0.2
    paraphrases 3
}

rubric eval for economicus, moralis(kappa = 0.25, 0.75) {
    games prisoners_dilemma, dictator
    items 16   tolerance 5%
    seed 7
}
"""
)


def write_spec(tmp: Path) -> Path:
    tmp.mkdir(parents=True, exist_ok=True)
    shutil.copy(SPECS / "preferences.pref", tmp / "preferences.pref")
    (tmp / "small.pref").write_text(SPEC)
    return tmp / "small.pref"


def theory_answers(rubric_path: Path, preference: str) -> dict[str, str]:
    """User message -> the answer line of ``preference``, for every item of a rubric."""
    from prefc.interop.rubric import load_rubric, reference_answer

    rubric = load_rubric(rubric_path)
    out = {}
    for item in rubric.items:
        user = next(m["content"] for m in item["prompt"] if m["role"] == "user")
        out[user] = "I follow my preference.\n" + reference_answer(item, preference)
    return out


def theory_agent(rubric_path: Path, preference: str):
    """A prefc agent that answers each rubric prompt with ``preference``'s target (by its user message)."""
    from prefc.runtime.agents import ScriptedAgent

    answers = theory_answers(rubric_path, preference)

    def answer(prompt) -> str:
        user = next(m["content"] for m in reversed(prompt) if m["role"] == "user")
        return answers.get(user, "I do not know this prompt.")

    return ScriptedAgent(f"theory-{preference}", answer)
