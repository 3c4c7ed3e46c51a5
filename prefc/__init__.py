"""prefc: a declarative preference-spec compiler."""

__version__ = "0.1.0"
