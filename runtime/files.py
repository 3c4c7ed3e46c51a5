"""Small file and host helpers shared by the runtime.

Every file the runtime writes goes through the artefacts' one atomic writer
(:func:`prefc.artefacts.atomic_write_with` and its text form, re-exported here): the content lands
in a temporary file in the same directory, is flushed to disk and replaces the target in one
rename, so an interrupt leaves the old file or no file, never a torn one. JSONL reads give located
errors (``file:line: ...``); artefacts are read through their models (:mod:`prefc.artefacts`).
"""

from __future__ import annotations

from ipaddress import ip_address

from prefc.artefacts import atomic_write_text, atomic_write_with
from prefc.artefacts import iter_json_lines as read_jsonl

__all__ = ["atomic_write_text", "atomic_write_with", "is_loopback", "label_slug", "read_jsonl"]


def label_slug(label: str) -> str:
    """A preference label as a file name: ``moralis(kappa=0.5)`` -> ``moralis_kappa0.5``.

    Args:
        label: The label.
    """
    return label.replace("(", "_").replace(")", "").replace("=", "").replace(",", "_")


def is_loopback(host: str) -> bool:
    """Whether a host name or address stays on this machine (``localhost``, 127.0.0.0/8, ``::1``).

    Args:
        host: A host name or an IP address.
    """
    if host == "localhost":
        return True
    try:
        return ip_address(host).is_loopback
    except ValueError:
        return False
