"""The decision study's report: the confusion matrix, the false rejects with what rejected
them, each fault's catch against its expectation, how close the good units came to the
spec limits, and the JSON file."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt
from matplotlib.figure import Figure

from reports.msa.output import BAD, GOOD, Doc, pct, write_json
from reports.msa.study import ESCAPE, FALSE_REJECT, OK, WRONG_CATCH, StudySummary
from reports.msa.values import numeric_series
from reports.record import Record


def rate(x: float | None) -> str:
    return pct(None if x is None else 100.0 * x)


def matrix_rows(s: StudySummary) -> list[list[str]]:
    """Good and faulty units against shipped (PASS) and rejected (FAIL), errors apart."""
    good_err = sum(r.outcome == "error" for r in s.results if r.case.kind == "good")
    bad_err = sum(r.outcome == "error" for r in s.results if r.case.kind == "fault")
    return [["", "shipped (PASS)", "rejected (FAIL)", "no verdict", "rate"],
            [f"good units ({s.good})", str(s.good_passed), str(s.false_rejects), str(good_err),
             f"false-reject rate {rate(s.false_reject_rate)}"],
            [f"faulty units ({s.faulty})", str(s.escapes), str(s.caught), str(bad_err),
             f"escape rate {rate(s.escape_rate)}, wrong catches {s.wrong_catches}"]]


def false_reject_rows(s: StudySummary) -> list[list[str]]:
    rows = [["serial", "rejected by (value, spec limit)"]]
    for r in s.results:
        if r.outcome == FALSE_REJECT:
            rows.append([r.case.serial, "; ".join(f"{f.name} = {f.value} ({f.limit})"
                                                  for f in r.failing)])
    return rows


def fault_rows(s: StudySummary) -> list[list[str]]:
    rows = [["fault", "description", "should fail first", "failed first", "result", "fault named"]]
    for r in s.results:
        if r.case.kind == "fault":
            rows.append([r.case.id, r.case.description, r.case.expected or "—",
                         r.first_failure or ("— (PASS)" if r.outcome == ESCAPE else "—"),
                         r.outcome, r.fault_named])
    return rows


def matrix_figure(s: StudySummary) -> Figure:
    fig, ax = plt.subplots(figsize=(3.6, 2.4))
    cells = [[s.good_passed, s.false_rejects], [s.escapes, s.caught]]
    good = [[True, False], [False, True]]
    for i in range(2):
        for j in range(2):
            ax.add_patch(plt.Rectangle((j, 1 - i), 1, 1, color=GOOD if good[i][j] else BAD,
                                       alpha=0.25 if cells[i][j] == 0 and not good[i][j] else 0.6))
            ax.text(j + 0.5, 1.5 - i, str(cells[i][j]), ha="center", va="center", fontsize=12)
    ax.set_xlim(0, 2)
    ax.set_ylim(0, 2)
    ax.set_xticks([0.5, 1.5], ["shipped (PASS)", "rejected (FAIL)"], fontsize=7)
    ax.set_yticks([1.5, 0.5], [f"good ({s.good})", f"faulty ({s.faulty})"], fontsize=7)
    ax.set_title("confusion matrix", fontsize=8)
    fig.subplots_adjust(left=0.25, right=0.97, bottom=0.15, top=0.88)
    return fig


def margin_figure(records: Sequence[Record]) -> Figure | None:
    """Each good unit's value of every two-sided numeric measurement as a position in its
    tolerance (−1 low limit, +1 high limit): how close the good units came to rejection."""
    series = [s for s in numeric_series(records).values()
              if s.low is not None and s.high is not None and s.high > s.low and s.taken]
    if not series:
        return None
    fig, ax = plt.subplots(figsize=(7.0, 0.6 + 0.13 * len(series)))
    for i, s in enumerate(series):
        mid, half = (s.high + s.low) / 2.0, (s.high - s.low) / 2.0  # type: ignore[operator]
        us = [(v - mid) / half for v in s.taken]
        ax.scatter(us, [i] * len(us), s=5, color=[BAD if abs(u) > 1 else "#4a6fa5" for u in us])
    for x in (-1, 1):
        ax.axvline(x, color="black", lw=1)
    ax.set_yticks(range(len(series)), [s.name for s in series], fontsize=5)
    ax.set_xlabel("position in the spec tolerance (−1 = low limit, +1 = high limit)", fontsize=6)
    ax.tick_params(axis="x", labelsize=6)
    ax.set_ylim(-1, len(series))
    ax.set_title("good units: where each value sits in its tolerance", fontsize=8)
    fig.subplots_adjust(left=0.3, right=0.98, bottom=0.5 / fig.get_size_inches()[1],
                        top=1 - 0.3 / fig.get_size_inches()[1])
    return fig


def write(s: StudySummary, good_records: Sequence[Record], meta: dict[str, Any], out: Path,
          stem: str) -> tuple[Path, Path]:
    out.mkdir(parents=True, exist_ok=True)
    doc = Doc(f"Decision study: {s.good} good units, {s.faulty} faulty units", wide=True)
    doc.table([["item", "value"]] + [[k, str(v)] for k, v in meta.items()], size=7,
              widths=[0.2, 0.8])
    doc.heading("Confusion matrix")
    doc.table(matrix_rows(s), size=8)
    doc.figure(matrix_figure(s))
    doc.heading("Good units rejected (false rejects)")
    fr = false_reject_rows(s)
    if len(fr) == 1:
        doc.text("none")
    else:
        doc.table(fr, size=6.5, widths=[0.2, 0.8])
    doc.heading("Faulty units: where each was caught, against where it should be")
    doc.table(fault_rows(s), size=6, widths=[0.12, 0.24, 0.16, 0.16, 0.08, 0.24])
    bad = [r.case.id for r in s.results if r.outcome in (ESCAPE, WRONG_CATCH)]
    doc.text(f"{sum(r.outcome == OK for r in s.results if r.case.kind == 'fault')} of "
             f"{s.faulty} faults caught at their covering measurement"
             + (f"; not: {', '.join(bad)}" if bad else "."))
    fig = margin_figure(good_records)
    if fig is not None:
        doc.heading("Margins of the good units")
        doc.figure(fig)
    pdf = doc.write(out / f"{stem}.pdf")
    return pdf, write_json(out / f"{stem}.json", {"study": "decision", **meta, **s.to_dict()})
