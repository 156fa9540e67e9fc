"""The gauge R&R report: the table per measurement, plots by part, by appraiser and the
range chart for the measurements that miss a target, and the JSON file."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.figure import Figure

from reports.msa.grr import (
    ACCEPTABLE,
    NO_GAUGE_VARIATION,
    NO_VARIATION,
    TARGET_NDC,
    TARGET_PCT,
    GrrResult,
)
from reports.msa.output import BAD, DIM, GOOD, Doc, num, pct, write_json

#: D4 of a range of r trials (upper control limit of the range chart = D4 · R̄).
D4 = {2: 3.267, 3: 2.574, 4: 2.282, 5: 2.114, 6: 2.004, 7: 1.924, 8: 1.864, 9: 1.816, 10: 1.777}
FORMULA = ("Two-way ANOVA with interaction, random effects (AIAG MSA 4th ed.); the interaction "
           "is pooled into repeatability when its p-value exceeds α = {alpha:g}. EV, AV, INT, "
           "GRR, PV, TV are standard deviations; %GRR of TV = 100·GRR/TV; %GRR of tolerance = "
           "100·6·GRR/T (one-sided: 100·3·GRR/|limit − x̄|); ndc = 1.41·PV/GRR (whole number: "
           f"its integer part). Targets: %GRR < {TARGET_PCT:g} %, ndc ≥ {TARGET_NDC}.")
RESOLUTION_LIMITED = (NO_VARIATION, NO_GAUGE_VARIATION)
MAX_PLOTS = 12
HEADER = ["measurement", "unit", "EV", "AV", "INT", "GRR", "PV", "TV", "%GRR TV", "%GRR tol",
          "ndc", "p int.", "result"]


@dataclass
class GrrStudy:
    parts: list[str]
    appraisers: list[str]
    trials: int
    alpha: float
    results: list[GrrResult]
    data: dict[str, pd.DataFrame] = field(default_factory=dict)   # measurement → long frame
    skipped: dict[str, str] = field(default_factory=dict)         # measurement → why
    runs: list[str] = field(default_factory=list)

    @property
    def all_acceptable(self) -> bool:
        return all(r.status in (ACCEPTABLE, *RESOLUTION_LIMITED) for r in self.results)

    def to_dict(self) -> dict[str, Any]:
        return {"study": "gauge R&R (crossed, ANOVA)", "parts": self.parts,
                "appraisers": self.appraisers, "trials": self.trials,
                "alpha_interaction": self.alpha, "targets": {"pct": TARGET_PCT,
                                                             "ndc": TARGET_NDC},
                "skipped": self.skipped, "runs": self.runs,
                "results": [r.to_dict() for r in self.results]}


def rows(study: GrrStudy) -> list[list[str]]:
    out = []
    for r in study.results:
        p = num(r.interaction_p, 3) + (" (pooled)" if r.pooled and r.interaction_p else "")
        ndc = "—" if r.ndc is None else f"{r.ndc_whole} ({r.ndc:.2f})"
        out.append([r.name, r.unit, num(r.ev, 3), num(r.av, 3), num(r.interaction, 3),
                    num(r.grr, 3), num(r.pv, 3), num(r.tv, 3), pct(r.pct_tv), pct(r.pct_tolerance),
                    ndc, p, r.status])
    return out


def colour(status: str) -> str:
    return GOOD if status == ACCEPTABLE else DIM if status in RESOLUTION_LIMITED else BAD


def figure(r: GrrResult, data: pd.DataFrame) -> Figure:
    """By part (every trial, part means), by appraiser (every trial, appraiser means) and the
    range chart of the part × appraiser cells with R̄ and its upper control limit."""
    fig, (a1, a2, a3) = plt.subplots(1, 3, figsize=(7.4, 2.5))
    parts = sorted(data.part.unique(), key=str)
    apprs = sorted(data.appraiser.unique(), key=str)
    for i, part in enumerate(parts):
        ys = data[data.part == part].value
        a1.scatter([i] * len(ys), ys, s=6, color="#4a6fa5")
    a1.plot(range(len(parts)), [data[data.part == p].value.mean() for p in parts], color="black",
            lw=0.8)
    a1.set_xticks(range(len(parts)), [str(p)[-4:] for p in parts], fontsize=5, rotation=45)
    a1.set_title("by part", fontsize=7)
    for i, ap in enumerate(apprs):
        ys = data[data.appraiser == ap].value
        a2.scatter([i] * len(ys), ys, s=6, color="#a15c00")
    a2.plot(range(len(apprs)), [data[data.appraiser == a].value.mean() for a in apprs],
            color="black", lw=0.8)
    a2.set_xticks(range(len(apprs)), apprs, fontsize=5, rotation=30)
    a2.set_title("by appraiser", fontsize=7)
    ranges = data.groupby(["appraiser", "part"]).value.agg(lambda v: v.max() - v.min())
    a3.plot(range(1, len(ranges) + 1), ranges.values, marker="o", ms=2.5, lw=0.7)
    rbar = float(ranges.mean())
    a3.axhline(rbar, color=GOOD, lw=1)
    a3.axhline(D4.get(r.trials, D4[10]) * rbar, color=BAD, lw=0.8, ls="--")
    a3.set_title("range chart (R̄, UCL)", fontsize=7)
    a3.set_xlabel("appraiser × part", fontsize=6)
    for ax in (a1, a2, a3):
        ax.tick_params(labelsize=5.5)
        ax.ticklabel_format(axis="y", useOffset=False)
    fig.suptitle(f"{r.name} [{r.unit}]: %GRR {pct(r.pct_tv)} of TV, {pct(r.pct_tolerance)} of "
                 f"tolerance, ndc {r.ndc_whole if r.ndc is not None else '—'}", fontsize=7.5,
                 color=colour(r.status))
    fig.subplots_adjust(left=0.07, right=0.99, bottom=0.22, top=0.8, wspace=0.35)
    return fig


def plotted(results: Sequence[GrrResult], everything: bool,
            most: int = MAX_PLOTS) -> list[GrrResult]:
    """The measurements drawn: every one with variation, or the (at most ``most``) worst
    of those missing a target."""
    if everything:
        return [r for r in results if r.status != NO_VARIATION]
    missing = [r for r in results if r.status not in (ACCEPTABLE, *RESOLUTION_LIMITED)]
    missing.sort(key=lambda r: -max(r.pct_tv or 0.0, r.pct_tolerance or 0.0))
    return missing[:max(0, most)]


def write(study: GrrStudy, out: Path, stem: str, *, all_plots: bool = False,
          plots: int = MAX_PLOTS) -> tuple[Path, Path]:
    out.mkdir(parents=True, exist_ok=True)
    doc = Doc(f"Gauge R&R (crossed, ANOVA): {len(study.parts)} parts × "
              f"{len(study.appraisers)} appraisers × {study.trials} trials", wide=True)
    doc.table([["item", "value"], ["parts", ", ".join(study.parts)],
               ["appraisers", ", ".join(study.appraisers)], ["trials", str(study.trials)],
               ["runs", str(len(study.runs))],
               ["not analysed", "; ".join(f"{k}: {v}" for k, v in study.skipped.items()) or "none"]],
              size=7, widths=[0.15, 0.85])
    doc.text(FORMULA.format(alpha=study.alpha))
    doc.heading("Results per measurement")
    col = HEADER.index("result")
    doc.table([HEADER, *rows(study)], size=6,
              colours=[(col, i + 1, colour(r.status)) for i, r in enumerate(study.results)])
    drawn = plotted(study.results, all_plots, plots)
    doc.heading("Plots" + ("" if all_plots else
                           f": the measurements that miss a target (the {plots} worst at most; "
                           "--all-plots draws every one)"))
    if not drawn:
        doc.text("Every measurement meets the targets (or does not vary): nothing to draw.")
    for r in drawn:
        doc.figure(figure(r, study.data[r.name]))
        doc.table([["source", "df", "SS", "MS", "F", "p"]] +
                  [[a.source, str(a.df), num(a.ss), num(a.ms), num(a.f), num(a.p, 3)]
                   for a in r.anova], size=6)
    pdf = doc.write(out / f"{stem}.pdf")
    return pdf, write_json(out / f"{stem}.json", study.to_dict())
