"""The installed prefc version, in a module of its own: artefacts record it and the command line
prints it, and importing it loads nothing else."""

__all__ = ["__version__"]

__version__ = "0.1.0"
