"""The type-1 study's report: the Cg/Cgk table (rows for ``rich`` and the PDF), run charts
with the tolerance and the ±10 % T band around x_m, and the JSON file."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt
from matplotlib.figure import Figure

from reports.msa.output import BAD, DIM, GOOD, Doc, num, pct, write_json
from reports.msa.type1 import CAPABLE, NO_VARIATION, NOT_CAPABLE, TARGET, K, L, Type1Result

PER_FIGURE = 8
FORMULA = (f"Cg = (K·T)/(L·s), Cgk = (K/2·T − |x̄ − x_m|)/(L/2·s), K = {K:.0%}, L = {L:g}; "
           f"target ≥ {TARGET}. T = high − low of the spec limit; one-sided limits: "
           "T = 2·|limit − x_m|. s: sample standard deviation (n − 1). A measurement that "
           "does not vary is resolution-limited (no s, no index). * x_m not stated by the "
           "reference file: the mean of separate reference runs.")


@dataclass
class Type1Study:
    """Everything the report says: what was run and the result per measurement."""

    serial: str
    model: str
    station: str
    repeats: int
    seeds: list[int]
    reference_file: str
    stated_by: str
    results: list[Type1Result]
    reference_runs: int = 0
    runs: list[str] = field(default_factory=list)
    not_finished: list[str] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for r in self.results:
            out[r.status] = out.get(r.status, 0) + 1
        return out

    @property
    def flagged(self) -> list[str]:
        return [r.name for r in self.results if not r.reference_stated and r.mean is not None]

    @property
    def all_capable(self) -> bool:
        return not any(r.status in (NOT_CAPABLE,) or r.status.startswith("reference outside")
                       for r in self.results)

    def to_dict(self) -> dict[str, Any]:
        return {"study": "type-1", "serial": self.serial, "model": self.model,
                "station": self.station, "repeats": self.repeats, "seeds": self.seeds,
                "reference_file": self.reference_file, "stated_by": self.stated_by,
                "reference_runs": self.reference_runs, "K": K, "L": L, "target": TARGET,
                "counts": self.counts(), "flagged_reference": self.flagged,
                "not_finished": self.not_finished, "runs": self.runs,
                "results": [r.to_dict() for r in self.results]}


def resolution_text(r: Type1Result) -> str:
    if r.resolution is None:
        return "—"
    share = r.resolution_pct_of_t
    src = "" if r.resolution_stated else " (recorded digits)"
    return f"{num(r.resolution)}{src}" + (f", {share:.2g} % T" if share is not None else "")


def status_text(r: Type1Result) -> str:
    if r.status == NO_VARIATION:
        return f"{NO_VARIATION}, resolution {resolution_text(r)}"
    return r.status


HEADER = ["measurement", "unit", "n", "x_m", "x̄", "s", "bias", "T", "Cg", "Cgk", "result"]


def rows(study: Type1Study) -> list[list[str]]:
    """The table: one row per numeric measurement, in plan order."""
    out = []
    for r in study.results:
        flag = "" if r.reference_stated else " *"
        t = f"{num(r.tolerance)}{' (1-sided)' if r.one_sided else ''}"
        out.append([r.name, r.unit, str(r.n), num(r.reference) + flag, num(r.mean, 6),
                    num(r.s, 3), num(r.bias, 3), t, num(r.cg, 3), num(r.cgk, 3), status_text(r)])
    return out


def colour(status: str) -> str:
    return GOOD if status == CAPABLE else BAD if status == NOT_CAPABLE else DIM


def run_charts(results: Sequence[Type1Result]) -> Iterator[Figure]:
    """Values in run order against x_m, x_m ± K/2·T (the ±10 % T band) and the spec limits
    (drawn when in view, else named at the edge they lie beyond), for every measurement
    that varies or is not capable (a constant reading is all in the table); not capable
    first."""
    drawn = [r for r in results if r.values and r.mean is not None
             and (r.status != NO_VARIATION or r.status == NOT_CAPABLE)]
    drawn.sort(key=lambda r: r.status != NOT_CAPABLE)
    for start in range(0, len(drawn), PER_FIGURE):
        chunk = drawn[start:start + PER_FIGURE]
        fig, axes = plt.subplots(2, 4, figsize=(11.0, 5.6))
        for ax, r in zip(axes.flat, chunk, strict=False):
            _run_chart(ax, r)
        for ax in list(axes.flat)[len(chunk):]:
            ax.set_axis_off()
        fig.text(0.5, 0.01, "green: x_m; dashed red: x_m ± 10 % T; black: spec limit",
                 ha="center", fontsize=7)
        fig.subplots_adjust(left=0.06, right=0.99, bottom=0.09, top=0.91, wspace=0.38,
                            hspace=0.55)
        yield fig


def _run_chart(ax: Any, r: Type1Result) -> None:
    x = range(1, len(r.values) + 1)
    ax.plot(x, r.values, color="#4a6fa5", lw=0.8, marker="o", ms=2.5)
    ax.axhline(r.reference, color=GOOD, lw=1)
    band = K / 2 * r.tolerance
    for y in (r.reference - band, r.reference + band):
        ax.axhline(y, color=BAD, lw=0.8, ls="--")
    lo, hi = ax.get_ylim()
    for lim, edge in ((r.low, "low"), (r.high, "high")):
        if lim is None:
            continue
        if lo <= lim <= hi:
            ax.axhline(lim, color="black", lw=1.2)
        else:
            above = lim > hi
            ax.annotate(f"spec {edge} {num(lim)} {'↑' if above else '↓'}",
                        xy=(0.98, 0.97 if above else 0.03), xycoords="axes fraction",
                        ha="right", va="top" if above else "bottom", fontsize=5.5)
    ax.set_ylim(lo, hi)
    ax.set_title(f"{r.name} [{r.unit}]\nCg {num(r.cg, 3)}  Cgk {num(r.cgk, 3)}"
                 f"{'' if r.status in (CAPABLE, NOT_CAPABLE) else '  ' + r.status}",
                 fontsize=6.5, color=colour(r.status))
    ax.tick_params(labelsize=5.5)
    ax.xaxis.get_major_locator().set_params(integer=True)
    ax.set_xlabel("run", fontsize=6)
    ax.ticklabel_format(axis="y", useOffset=False)


def write(study: Type1Study, out: Path, stem: str) -> tuple[Path, Path]:
    """``<stem>.pdf`` and ``<stem>.json`` in ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    doc = Doc(f"Type-1 gauge study: {study.serial} ({study.model}) on station {study.station}",
              wide=True)
    counts = ", ".join(f"{k} {v}" for k, v in sorted(study.counts().items()))
    doc.table([["item", "value"],
               ["master unit", f"{study.serial} ({study.model})"],
               ["repeats", f"{study.repeats} runs of the EOL plan, noise seeds "
                           f"{study.seeds[0]}…{study.seeds[-1]}" if study.seeds else "none"],
               ["reference", f"{study.reference_file} — {study.stated_by}"],
               ["reference runs", str(study.reference_runs)],
               ["results", counts],
               ["x_m not stated (*)", ", ".join(study.flagged) or "none"],
               ["runs without a verdict", ", ".join(study.not_finished) or "none"]])
    doc.text(FORMULA)
    doc.heading("Cg and Cgk per measurement")
    body = rows(study)
    col = HEADER.index("result")
    doc.table([HEADER, *body], size=6,
              colours=[(col, i + 1, colour(r.status)) for i, r in enumerate(study.results)])
    doc.heading("Reference values (x_m) and where they come from")
    doc.table([["measurement", "x_m", "basis"]] +
              [[r.name, num(r.reference, 6), r.reference_basis] for r in study.results],
              size=6, widths=[0.22, 0.1, 0.68])
    doc.heading("Run charts (every measurement that varies; a constant reading is in the table)")
    for fig in run_charts(study.results):
        doc.figure(fig)
    pdf = doc.write(out / f"{stem}.pdf")
    return pdf, write_json(out / f"{stem}.json", study.to_dict())


__all__ = ["HEADER", "Type1Study", "colour", "pct", "rows", "run_charts", "write"]
