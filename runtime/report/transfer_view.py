"""View model of a run's transfer evaluations (``prefc run --transfer``), from ``run.json``."""

from __future__ import annotations

from typing import Any

from prefc.artefacts import RunTransfer
from prefc.numbers import DASH, fmt_number

from .cells import accuracy_cells, kappa_text

__all__ = ["transfer_view"]


def transfer_view(t: RunTransfer) -> dict[str, Any]:
    """The run's agents on the rubric of a spec no dataset of the run taught (``prefc run --transfer``),
    as ``run.json`` recorded them: accuracy against each preference with the change from the base
    model, nearest type with the lead's interval, and kappa.

    Args:
        t: The recorded transfer.
    """
    labels: list[str] = []
    for a in t.agents:
        labels += [lab for lab in a.accuracy if lab not in labels]
    base = next((a for a in t.agents if a.adapter is None), None)
    rows = []
    for a in t.agents:
        lead = (a.verdict or {}).get("lead")
        cells = accuracy_cells(
            labels, a.accuracy, None if a is base or base is None else base.accuracy, trained=a.label
        )
        rows.append(
            {
                "agent": a.agent,
                "preference": a.label if a.adapter is not None else "base model",
                "parse": fmt_number(a.parse_rate),
                "cells": cells,
                "nearest": a.nearest or DASH,
                "lead": DASH
                if not lead
                else f"{lead['margin']:+.2f} [{lead['low']:+.2f}, {lead['high']:+.2f}]"
                + ("" if lead.get("distinguishable") else " not distinguishable"),
                "kappa": kappa_text(a.kappa),
                "evaluated": a.evaluated or DASH,
            }
        )
    return {
        "spec": t.spec,
        "spec_sha": t.spec_sha256[:12],
        "rubric": t.rubric.get("name") or DASH,
        "labels": labels,
        "rows": rows,
    }
