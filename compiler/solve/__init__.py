"""Solvers: optimal actions and equilibria, with derivations."""
