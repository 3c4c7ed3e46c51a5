"""What the solvers return: solutions with their derivations, as plain typed data.

The models are artefact models (the rows of ``solutions.jsonl`` are these solutions), defined once
in :mod:`prefc.artefacts.solution`, which both the compiler and the runtime read.
"""

from prefc.artefacts.solution import ActionValue, Decision, Equilibrium, OptionValue, Solution, Verification

__all__ = ["ActionValue", "Decision", "Equilibrium", "OptionValue", "Solution", "Verification"]
