"""The .pref grammar. ``pref.lark`` beside this file is the single source of truth for the syntax."""

from importlib.resources import files


def grammar_text() -> str:
    """Return the text of the .pref grammar (``pref.lark``)."""
    return files(__name__).joinpath("pref.lark").read_text(encoding="utf-8")
