"""Where prefc keeps what it can rebuild: the parser tables, converted models."""

from __future__ import annotations

import os
from pathlib import Path


def cache_root(cache_dir: str | os.PathLike[str] | None = None) -> Path:
    """The prefc cache directory.

    Args:
        cache_dir: Explicit directory; overrides the environment.

    Returns:
        ``cache_dir`` if given, else ``$PREFC_CACHE``, else ``$XDG_CACHE_HOME/prefc``, else
        ``~/.cache/prefc``.
    """
    if cache_dir is not None:
        return Path(cache_dir).expanduser()
    if os.environ.get("PREFC_CACHE"):
        return Path(os.environ["PREFC_CACHE"]).expanduser()
    if os.environ.get("XDG_CACHE_HOME"):
        return Path(os.environ["XDG_CACHE_HOME"]).expanduser() / "prefc"
    return Path.home() / ".cache" / "prefc"
