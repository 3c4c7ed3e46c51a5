"""The prefc runtime: agents, fine-tuning, scoring, simulation, diff and reports."""
