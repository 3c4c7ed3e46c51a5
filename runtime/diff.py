"""Two evaluated agents side by side: where does their measured behaviour part, beyond noise?

:func:`diff_results` reads two directories written by ``prefc eval`` (``results.jsonl`` and
``summary.json``) that ran the same rubric, and compares per game (and role and action):

* **choices**: the distribution over options for discrete actions, the mean and median for
  numeric ones;
* **accuracy** against every preference of the rubric, per game and overall (unparsed answers
  count as wrong, as in :mod:`prefc.runtime.score`);
* **parse rate**, and the **estimated kappa** with its 95% interval.

Every difference comes with a test and its p-value (scipy). When both runs answered exactly the
same rubric items the answers are *paired* by item id and paired tests are used:

=====================  ==================================  =====================================
measure                paired (same items)                 unpaired
=====================  ==================================  =====================================
two-option choice      McNemar exact (binomial on the      Fisher's exact test
                       discordant pairs)
more options           Stuart-Maxwell marginal             chi-square test of independence
                       homogeneity (chi-square)
numeric choice         Wilcoxon signed-rank                Mann-Whitney U
accuracy, parse rate   McNemar exact                       two-proportion z-test (pooled)
kappa                  z-test on the estimates, standard errors from the 95% intervals
                       (``(high - low) / (2 * 1.96)``)
=====================  ==================================  =====================================

The p-values of one comparison are adjusted together (Holm); a difference counts as larger than
noise when its adjusted p-value is below ``alpha``. Runs from different rubrics (rubric name or
spec hash differ) are refused.
"""

from __future__ import annotations

import math
import os
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from prefc.artefacts import (
    ResultRecord,
    Summary,
    read_document,
    read_rows,
    sha256_file,
    validate_document,
    write_document,
)
from prefc.artefacts.diff import diff_model
from prefc.errors import SpecError

from .significance import (
    TestResult,
    holm,
    json_number,
    mcnemar_exact,
    stuart_maxwell,
    two_proportions,
)

__all__ = [
    "Z95",
    "GroupDiff",
    "ResultsDiff",
    "ResultsError",
    "Run",
    "TestResult",
    "diff_results",
    "holm",
    "kappa_test",
    "load_run",
    "mcnemar_exact",
    "stuart_maxwell",
    "two_proportions",
    "write_json",
]

Z95 = 1.959963984540054
"""The 97.5% quantile of the standard normal distribution."""


class ResultsError(SpecError):
    """A results directory that cannot be read or compared (the message names the file)."""


# ----------------------------------------------------------------------------- loading


@dataclass
class Run:
    """One evaluation: its summary and per-item records.

    Attributes:
        path: The results directory.
        summary: ``summary.json`` as a dict (validated against :class:`prefc.runtime.score.Summary`).
        records: ``results.jsonl`` records, by item id, in file order.
        sha256: Hashes of ``results.jsonl`` and ``summary.json``.
    """

    path: Path
    summary: dict[str, Any]
    records: dict[str, dict[str, Any]]
    sha256: dict[str, str]

    @property
    def agent(self) -> str:
        """The agent's name (or the directory's name when the summary has none)."""
        return str(self.summary.get("agent") or self.path.name)

    @property
    def rubric_identity(self) -> tuple[Any, Any, Any]:
        """(rubric name, spec name, spec sha256) as recorded in the summary."""
        return self.summary.get("rubric"), self.summary.get("spec"), self.summary.get("spec_sha256")


def load_run(path: str | os.PathLike[str]) -> Run:
    """Read and check a results directory written by ``prefc eval``.

    Args:
        path: The directory holding ``results.jsonl`` and ``summary.json``.

    Raises:
        ResultsError: A missing directory or file, invalid JSON (with file:line), a summary or a
            record that does not match its model (file:line: field), duplicate ids, or no records
            at all.
    """
    p = Path(path)
    if not p.exists():
        raise ResultsError(f"{p}: no such results directory")
    if not p.is_dir():
        raise ResultsError(f"{p}: not a directory (expected a results directory written by prefc eval)")
    sp, rp = p / "summary.json", p / "results.jsonl"
    for f in (sp, rp):
        if not f.is_file():
            raise ResultsError(f"{f}: missing (is {p} a results directory written by prefc eval?)")
    summary = read_document(sp, Summary, error=ResultsError).to_data()
    records: dict[str, dict[str, Any]] = {}
    for where, _, rec, row in read_rows(rp, ResultRecord, error=ResultsError):
        if row.id in records:
            raise ResultsError(f"{where}: duplicate item id {row.id!r}")
        records[row.id] = rec
    if not records:
        raise ResultsError(f"{rp}: no results")
    return Run(p, summary, records, {"results.jsonl": sha256_file(rp), "summary.json": sha256_file(sp)})


# ----------------------------------------------------------------------------- the comparison


@dataclass
class GroupDiff:
    """One game/role/action compared."""

    game: str
    role: str
    action: str
    kind: str
    a: dict[str, Any]
    b: dict[str, Any]
    choice: TestResult
    accuracy: list[TestResult] = field(default_factory=list)

    @property
    def scope(self) -> str:
        return f"{self.game}/{self.role}.{self.action}"

    def to_json(self) -> dict[str, Any]:
        return {
            "game": self.game,
            "role": self.role,
            "action": self.action,
            "kind": self.kind,
            "a": self.a,
            "b": self.b,
            "choice": self.choice.to_json(),
            "accuracy": [t.to_json() for t in self.accuracy],
        }


@dataclass
class ResultsDiff:
    """Two evaluations compared."""

    a: Run
    b: Run
    paired: bool
    alpha: float
    groups: list[GroupDiff]
    overall: list[TestResult]
    notes: list[str] = field(default_factory=list)

    @property
    def tests(self) -> list[TestResult]:
        """Every test, groups first."""
        out: list[TestResult] = []
        for g in self.groups:
            out.append(g.choice)
            out.extend(g.accuracy)
        return out + self.overall

    @property
    def significant(self) -> list[TestResult]:
        """The differences larger than noise (after Holm's adjustment)."""
        return [t for t in self.tests if t.significant]

    def to_json(self) -> dict[str, Any]:
        """``diff.json`` for a results diff."""
        rubric, spec, sha = self.a.rubric_identity
        return {
            "kind": "results",
            "inputs": [
                {
                    "path": str(r.path),
                    "agent": r.agent,
                    "sha256": r.sha256,
                    "n_items": len(r.records),
                    "scoring": r.summary.get("scoring"),
                }
                for r in (self.a, self.b)
            ],
            "rubric": {"name": rubric, "spec": spec, "spec_sha256": sha},
            "paired": self.paired,
            "alpha": self.alpha,
            "correction": "Holm",
            "verdict": "differ" if self.significant else "no significant difference",
            "significant": [f"{t.what} @ {t.scope}" for t in self.significant],
            "notes": self.notes,
            "overall": [t.to_json() for t in self.overall],
            "games": [g.to_json() for g in self.groups],
        }


def _is_num(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(float(v))


def _action_values(rec: Mapping[str, Any]) -> dict[str, Any] | None:
    v = rec.get("parsed")
    return dict(v) if isinstance(v, Mapping) else None


def _check_same_rubric(a: Run, b: Run) -> None:
    ia, ib = a.rubric_identity, b.rubric_identity
    if ia[2] is None or ib[2] is None:
        missing = a if ia[2] is None else b
        raise ResultsError(
            f"{missing.path / 'summary.json'}: no spec_sha256 recorded; cannot tell which rubric the run used"
        )
    if ia != ib:

        def show(i):
            return f"rubric {i[0]!r} of spec {i[1]!r} ({str(i[2])[:12]}…)"

        raise ResultsError(
            f"the runs come from different rubrics: {a.path} ran {show(ia)}, {b.path} ran {show(ib)}; "
            "compare runs of the same rubric"
        )
    for key in set(a.records) & set(b.records):
        ra, rb = a.records[key], b.records[key]
        if ra.get("game") != rb.get("game") or (ra.get("params") or {}) != (rb.get("params") or {}):
            raise ResultsError(
                f"item {key!r} differs between {a.path} and {b.path} although both name the same "
                "rubric (game or parameters); the results are corrupt"
            )


def diff_results(
    a: Run | str | os.PathLike[str], b: Run | str | os.PathLike[str], *, alpha: float = 0.05
) -> ResultsDiff:
    """Compare two evaluations of the same rubric, with a test for every difference.

    Args:
        a: The first results directory (or a loaded :class:`Run`).
        b: The second.
        alpha: Level at which an adjusted p-value counts as a difference larger than noise.

    Raises:
        ResultsError: Unreadable directories, or runs of different rubrics.
    """
    if not 0 < alpha < 1:
        raise ResultsError(f"alpha must lie strictly between 0 and 1, got {alpha}")
    ra = a if isinstance(a, Run) else load_run(a)
    rb = b if isinstance(b, Run) else load_run(b)
    _check_same_rubric(ra, rb)
    paired = set(ra.records) == set(rb.records)
    notes = []
    if not paired:
        shared = len(set(ra.records) & set(rb.records))
        notes.append(
            f"the runs answered different item sets ({len(ra.records)} and {len(rb.records)} items, "
            f"{shared} shared): unpaired tests"
        )
    labels = [str(p.get("label")) for p in ra.summary.get("preferences") or []]
    groups = _groups(ra, rb, paired, labels)
    overall = _overall_tests(ra, rb, paired, labels)
    diff = ResultsDiff(ra, rb, paired, alpha, groups, overall, notes)
    tests = diff.tests
    adjusted = holm([t.p for t in tests])
    for t, q in zip(tests, adjusted, strict=True):
        t.p_adjusted = q
        t.significant = q is not None and q < alpha
    return diff


def _groups(a: Run, b: Run, paired: bool, labels: list[str]) -> list[GroupDiff]:
    # the actions of a (game, role): from any parsed answer of either run
    actions: dict[tuple[str, str], list[str]] = defaultdict(list)
    members: dict[tuple[str, str], set[str]] = defaultdict(set)
    for run in (a, b):
        for key, rec in run.records.items():
            gr = (str(rec.get("game")), str(rec.get("role")))
            members[gr].add(key)
            for name in _action_values(rec) or {}:
                if name not in actions[gr]:
                    actions[gr].append(name)
    out = []
    for gr in members:
        ids = sorted(members[gr])
        for action in actions[gr] or ["(none parsed)"]:
            out.append(_group(a, b, gr[0], gr[1], action, ids, paired, labels))
    return out


def _values(run: Run, ids: list[str], action: str) -> dict[str, Any]:
    out = {}
    for i in ids:
        rec = run.records.get(i)
        if rec is None:
            continue
        v = _action_values(rec)
        out[i] = v.get(action) if v else None
    return out


def _group(
    a: Run, b: Run, game: str, role: str, action: str, ids: list[str], paired: bool, labels: list[str]
) -> GroupDiff:
    va, vb = _values(a, ids, action), _values(b, ids, action)
    parsed_a = {k: v for k, v in va.items() if v is not None}
    parsed_b = {k: v for k, v in vb.items() if v is not None}
    every = list(parsed_a.values()) + list(parsed_b.values())
    numeric = bool(every) and all(_is_num(v) for v in every)
    scope = f"{game}/{role}.{action}"
    if numeric:
        kind = "continuous"
        sa, sb = _numeric_stats(list(parsed_a.values()), len(va)), _numeric_stats(list(parsed_b.values()), len(vb))
        choice = _numeric_test(parsed_a, parsed_b, paired, scope)
    else:
        kind = "discrete"
        options = list(dict.fromkeys(str(v) for v in every))
        sa, sb = _counts(parsed_a, options, len(va)), _counts(parsed_b, options, len(vb))
        choice = _discrete_test(parsed_a, parsed_b, options, paired, scope)
    acc = []
    for label in labels:
        acc.append(_binary_test(_flags(a, ids, label), _flags(b, ids, label), paired, f"accuracy vs {label}", scope))
    return GroupDiff(game, role, action, kind, sa, sb, choice, acc)


def _numeric_stats(xs: list[float], n_items: int) -> dict[str, Any]:
    import numpy as np

    rate = len(xs) / n_items if n_items else None
    if not xs:
        return {"n": 0, "n_items": n_items, "parse_rate": rate, "mean": None, "median": None, "sd": None}
    arr = np.asarray(xs, dtype=float)
    return {
        "n": len(xs),
        "n_items": n_items,
        "parse_rate": rate,
        "mean": float(arr.mean()),
        "median": float(np.median(arr)),
        "sd": float(arr.std(ddof=1)) if len(xs) > 1 else None,
    }


def _counts(parsed: dict[str, Any], options: list[str], n_items: int) -> dict[str, Any]:
    counts = {o: 0 for o in options}
    for v in parsed.values():
        counts[str(v)] += 1
    n = len(parsed)
    return {
        "n": n,
        "n_items": n_items,
        "parse_rate": n / n_items if n_items else None,
        "counts": counts,
        "proportions": {o: (c / n if n else None) for o, c in counts.items()},
    }


def _numeric_test(pa: dict[str, Any], pb: dict[str, Any], paired: bool, scope: str) -> TestResult:
    from scipy.stats import mannwhitneyu, wilcoxon

    if paired:
        keys = sorted(set(pa) & set(pb))
        if len(keys) < 1:
            return TestResult("choice", scope, "Wilcoxon signed-rank", None, n=0, note="no item parsed in both runs")
        d = [float(pa[k]) - float(pb[k]) for k in keys]
        if all(x == 0 for x in d):
            return TestResult(
                "choice",
                scope,
                "Wilcoxon signed-rank",
                1.0,
                statistic=0.0,
                n=len(keys),
                note="identical answers on every paired item",
            )
        res = wilcoxon(d, zero_method="wilcox", alternative="two-sided")
        return TestResult(
            "choice", scope, "Wilcoxon signed-rank", float(res.pvalue), statistic=float(res.statistic), n=len(keys)
        )
    xa, xb = [float(v) for v in pa.values()], [float(v) for v in pb.values()]
    if not xa or not xb:
        return TestResult(
            "choice", scope, "Mann-Whitney U", None, n=len(xa) + len(xb), note="a run has no parsed answer"
        )
    if len(set(xa) | set(xb)) == 1:
        return TestResult(
            "choice", scope, "Mann-Whitney U", 1.0, statistic=None, n=len(xa) + len(xb), note="every answer is the same"
        )
    res = mannwhitneyu(xa, xb, alternative="two-sided")
    return TestResult(
        "choice", scope, "Mann-Whitney U", float(res.pvalue), statistic=float(res.statistic), n=len(xa) + len(xb)
    )


def _discrete_test(pa: dict[str, Any], pb: dict[str, Any], options: list[str], paired: bool, scope: str) -> TestResult:
    from scipy.stats import chi2_contingency, fisher_exact

    if paired:
        keys = sorted(set(pa) & set(pb))
        xa, xb = [str(pa[k]) for k in keys], [str(pb[k]) for k in keys]
        if not keys:
            return TestResult("choice", scope, "McNemar exact", None, n=0, note="no item parsed in both runs")
        if len(options) <= 2:
            first = options[0]
            p, only_a, only_b = mcnemar_exact([x == first for x in xa], [x == first for x in xb])
            return TestResult(
                "choice",
                scope,
                "McNemar exact",
                p,
                n=len(keys),
                note=f"discordant pairs: {only_a} chose {first} only in the first run, {only_b} only in the second",
            )
        stat, p, df = stuart_maxwell(xa, xb, options)
        return TestResult("choice", scope, "Stuart-Maxwell", p, statistic=stat, n=len(keys), note=f"{df} df")
    ca = [sum(1 for v in pa.values() if str(v) == o) for o in options]
    cb = [sum(1 for v in pb.values() if str(v) == o) for o in options]
    n = sum(ca) + sum(cb)
    if not sum(ca) or not sum(cb):
        return TestResult("choice", scope, "Fisher's exact", None, n=n, note="a run has no parsed answer")
    cols = [i for i in range(len(options)) if ca[i] + cb[i] > 0]
    if len(cols) < 2:
        return TestResult("choice", scope, "Fisher's exact", 1.0, n=n, note="every answer is the same option")
    if len(cols) == 2:
        table = [[ca[i] for i in cols], [cb[i] for i in cols]]
        res = fisher_exact(table)
        return TestResult(
            "choice", scope, "Fisher's exact", float(res.pvalue), statistic=json_number(float(res.statistic)), n=n
        )
    table = [[ca[i] for i in cols], [cb[i] for i in cols]]
    stat, p, dof, _ = chi2_contingency(table)
    return TestResult("choice", scope, "chi-square", float(p), statistic=float(stat), n=n, note=f"{dof} df")


def _flags(run: Run, ids: list[str], label: str) -> dict[str, bool]:
    out = {}
    for i in ids:
        rec = run.records.get(i)
        if rec is None:
            continue
        correct = rec.get("correct") or {}
        if label in correct or rec.get("parsed") is None:
            out[i] = bool(correct.get(label, False))
    return out


def _binary_test(fa: dict[str, bool], fb: dict[str, bool], paired: bool, what: str, scope: str) -> TestResult:
    ka, na, kb, nb = sum(fa.values()), len(fa), sum(fb.values()), len(fb)
    ra = ka / na if na else None
    rb = kb / nb if nb else None
    if paired:
        keys = sorted(set(fa) & set(fb))
        if not keys:
            return TestResult(what, scope, "McNemar exact", None, a=ra, b=rb, n=0, note="no shared item")
        p, only_a, only_b = mcnemar_exact([fa[k] for k in keys], [fb[k] for k in keys])
        return TestResult(
            what,
            scope,
            "McNemar exact",
            p,
            a=ra,
            b=rb,
            n=len(keys),
            note=f"discordant pairs: {only_a} only in the first run, {only_b} only in the second",
        )
    z, p_z = two_proportions(ka, na, kb, nb)
    return TestResult(what, scope, "two-proportion z-test", p_z, a=ra, b=rb, statistic=z, n=na + nb)


def _overall_tests(a: Run, b: Run, paired: bool, labels: list[str]) -> list[TestResult]:
    ids = sorted(set(a.records) | set(b.records))
    out = []
    for label in labels:
        out.append(_binary_test(_flags(a, ids, label), _flags(b, ids, label), paired, f"accuracy vs {label}", "all"))
    ok_a = {k: r.get("parsed") is not None for k, r in a.records.items()}
    ok_b = {k: r.get("parsed") is not None for k, r in b.records.items()}
    out.append(_binary_test(ok_a, ok_b, paired, "parse rate", "all"))
    out.append(kappa_test(a.summary.get("kappa"), b.summary.get("kappa")))
    return out


def kappa_test(ka: Mapping[str, Any] | None, kb: Mapping[str, Any] | None) -> TestResult:
    """z-test on two kappa estimates, standard errors read off their 95% intervals.

    Args:
        ka: The first summary's ``kappa`` object (``estimate``, ``ci_low``, ``ci_high``), or None.
        kb: The second's.
    """
    name = "z-test (SE from the 95% intervals)"
    if not ka or not kb:
        return TestResult(
            "kappa",
            "all",
            name,
            None,
            a=_kappa_json(ka),
            b=_kappa_json(kb),
            note="no kappa estimate in "
            + ("either run" if not ka and not kb else "the first run" if not ka else "the second run"),
        )
    ea, eb = float(ka["estimate"]), float(kb["estimate"])
    sa = (float(ka["ci_high"]) - float(ka["ci_low"])) / (2 * Z95)
    sb = (float(kb["ci_high"]) - float(kb["ci_low"])) / (2 * Z95)
    se = math.hypot(sa, sb)
    note = ""
    if any(k.get("ci_low_at_bound") or k.get("ci_high_at_bound") for k in (ka, kb)):
        note = "an interval ends at the grid's bound: the normal approximation is rough there"
    if se == 0:
        same = math.isclose(ea, eb, abs_tol=1e-9)
        return TestResult(
            "kappa",
            "all",
            name,
            1.0 if same else 0.0,
            a=_kappa_json(ka),
            b=_kappa_json(kb),
            statistic=None,
            note="both intervals have zero width" + ("" if same else "; the estimates differ"),
        )
    from scipy.stats import norm

    z = (ea - eb) / se
    return TestResult(
        "kappa", "all", name, float(2 * norm.sf(abs(z))), a=_kappa_json(ka), b=_kappa_json(kb), statistic=z, note=note
    )


def _kappa_json(k: Mapping[str, Any] | None) -> dict[str, Any] | None:
    if not k:
        return None
    return {
        "estimate": k.get("estimate"),
        "ci_low": k.get("ci_low"),
        "ci_high": k.get("ci_high"),
        "param": k.get("param"),
    }


# ----------------------------------------------------------------------------- files


def write_json(path: str | os.PathLike[str], data: dict[str, Any]) -> Path:
    """Write ``diff.json`` atomically, validated against its model (a spec, preference or results diff).

    Args:
        path: Destination (its directory is created).
        data: The diff as plain data (``to_json()`` of a spec or results diff).

    Raises:
        ResultsError: Data that is not a diff (the message names the field).
    """
    p = Path(path)
    document = validate_document(diff_model(data), data, where=str(p), error=ResultsError)
    p.parent.mkdir(parents=True, exist_ok=True)
    return write_document(p, document)
