"""Clause verdicts: one row per clause of the limits document, derived from the record.

A clause row (``[[clause]]`` of ``testplans/limits/cert/base.toml``) names the step that
tests it, optionally the measurements that make its verdict (``judged``; the rest of the
step's measurements are evidence), the fixture or sample it needs (``requires``, with the
reason shown when it is ``absent``), or a ``fixed`` verdict with its ``reason``. The verdict
is PASS, FAIL, NOT APPLICABLE or NOT RUN — never absent — and is computed by this one
function from the record and the limits document the record names, so the report printed
at the end of the run and the one re-rendered from the store agree.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

VERDICTS = ("PASS", "FAIL", "NOT APPLICABLE", "NOT RUN")


@dataclass(frozen=True)
class ClauseVerdict:
    """One row of the clause report."""

    id: str
    clause: str
    edition: str
    required: str
    applied: str
    deviation: str
    verdict: str
    reason: str = ""
    step: str | None = None
    evidence: tuple[str, ...] = field(default_factory=tuple)   # measurement names

    def as_dict(self) -> dict[str, Any]:
        return {k: (list(v) if isinstance(v, tuple) else v) for k, v in self.__dict__.items()}


def _text(row: dict[str, Any], key: str) -> str:
    value = row.get(key, "")
    return value if isinstance(value, str) else ", ".join(value)


def clause_verdicts(rows: Iterable[dict[str, Any]], measurements: Iterable[Any],
                    features: set[str]) -> list[ClauseVerdict]:
    """Each clause row with its verdict: the worst of its judged measurements; NOT RUN with
    the reason when its fixture or sample is absent, or when a judged measurement did not
    complete (an abort, an error); the fixed rows as declared."""
    by_step: dict[str, list[Any]] = {}
    for m in measurements:
        by_step.setdefault(m.step, []).append(m)
    out = []
    for row in rows:
        base: dict[str, Any] = {k: _text(row, k) for k in ("id", "clause", "edition", "required", "applied",
                                           "deviation")}
        if "fixed" in row:
            out.append(ClauseVerdict(**base, verdict=_text(row, "fixed"), reason=_text(row, "reason")))
            continue
        step = _text(row, "step")
        needs = _text(row, "requires")
        if needs and needs not in features:
            out.append(ClauseVerdict(**base, verdict="NOT RUN", reason=_text(row, "absent"), step=step))
            continue
        ms = by_step.get(step, [])
        judged_names = row.get("judged") or [m.name for m in ms]
        judged = [m for m in ms if m.name in judged_names]
        evidence = tuple(m.name for m in ms)
        if not judged:
            out.append(ClauseVerdict(**base, verdict="NOT RUN", reason="no measurement of the step "
                                     "in the record", step=step, evidence=evidence))
            continue
        failed = [m for m in judged if m.outcome == "FAIL"]
        open_ = [m for m in judged if m.outcome in ("ERROR", "NOT_RUN")]
        if failed:
            verdict, reason = "FAIL", "; ".join(f"{m.name}: {m.message}" for m in failed)
        elif open_:
            verdict = "NOT RUN"
            reason = "did not complete: " + "; ".join(f"{m.name}: {m.message}" for m in open_)
        else:
            verdict, reason = "PASS", ""
        out.append(ClauseVerdict(**base, verdict=verdict, reason=reason, step=step, evidence=evidence))
    return out


def features_of(work_order: dict[str, Any], model_breaker: bool = False) -> set[str]:
    """The features a record's work order declares (as :class:`fixtures.session.WorkOrder`)."""
    out = {f for f in str(work_order.get("fixtures", "")).split(",") if f}
    if work_order.get("heater"):
        out.add("heater")
    if model_breaker:
        out.add("breaker")
    return out
