"""The lot report document (PDF or HTML) with its matplotlib figures.

Numbers come from ``reports.analytics``; this module only draws and lays them out.
"""

from __future__ import annotations

import base64
import html
import io
import math
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # no display on a station or in CI
import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.figure import Figure
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import Image, SimpleDocTemplate, Spacer, Table, TableStyle
from reportlab.platypus.flowables import Flowable

from reports.analytics import D2, MIN_N, LotSummary
from reports.exports import atomic_write
from reports.marks import SIMULATED
from reports.paragraph import Paragraph
from reports.pdffonts import BOLD, SANS, register_fonts

PER_FIGURE = 6  # distributions per figure (3 × 2 small multiples)
VERDICT_COLOURS = {"PASS": "#1b7f3b", "FAIL": "#b3261e", "ABORTED": "#a15c00", "ERROR": "#7a1f5c"}


def pct(x: float) -> str:
    return "—" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{100 * x:.1f} %"


def num(x: object, digits: int = 4) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "—"
    if isinstance(x, float):
        return f"{x:.{digits}g}"
    return str(x)


# -- tables (shared by PDF and HTML) -------------------------------------------------------

def headline_rows(s: LotSummary) -> list[tuple[str, str]]:
    return [
        ("Runs", str(s.n_runs)),
        ("Units", str(s.units)),
        ("Yield", pct(s.yield_)),
        ("First-pass yield", pct(s.first_pass_yield)),
        ("Retest rate", pct(s.retest_rate)),
        ("Verdicts", ", ".join(f"{k} {v}" for k, v in s.verdicts.items())),
        ("From", str(s.started_min)),
        ("To", str(s.started_max)),
    ]


def pareto_rows(s: LotSummary) -> list[list[str]]:
    rows = [["Measurement", "Step", "FAIL", "ERROR", "Count", "Share", "Cumulative"]]
    r: Any   # a DataFrame row: its fields have no static type
    for r in s.pareto.itertuples():
        rows.append([r.name, r.step, str(r.fail), str(r.error), str(r.count), pct(r.share),
                     pct(r.cumulative)])
    return rows


def index_text(x: object, note: str) -> str:
    """A capability index, or why there is none ("n < 25", "σ ≈ 0")."""
    return note if note else num(x, 3)


def capability_rows(s: LotSummary) -> list[list[str]]:
    rows = [["Measurement", "Model", "Unit", "n", "Mean", "σ overall", "σ within", "Low", "High",
             "Pp", "Ppk", "Cp", "Cpk", "FAIL", "Excluded"]]
    r: Any   # a DataFrame row
    for r in s.capability.itertuples():
        rows.append([r.name, r.model, r.unit, str(r.n), num(r.mean), num(r.std),
                     num(r.std_within), num(r.low), num(r.high), index_text(r.pp, r.note_p),
                     index_text(r.ppk, r.note_p), index_text(r.cp, r.note_c),
                     index_text(r.cpk, r.note_c), str(r.fails), str(r.excluded)])
    return rows


CAPABILITY_NOTE = (
    f"Per model and measurement, values of runs that took it (PASS or FAIL) in run order; a "
    f"FAIL that measured nothing (a trip timeout) is excluded. Pp, Ppk: overall sample σ. "
    f"Cp, Cpk: within σ = mean moving range / {D2} (consecutive values). No index below "
    f"n = {MIN_N} or with σ ≈ 0. One limit only: Ppk and Cpk alone."
)


def station_rows(s: LotSummary) -> list[list[str]]:
    rows = [["Station", "Runs", "PASS", "Pass rate", "Mean cycle time"]]
    r: Any   # a DataFrame row
    for r in s.stations.itertuples():
        rows.append([r.station, str(r.runs), str(r.passed), pct(r.pass_rate), f"{num(r.cycle_s)} s"])
    return rows


# -- figures -------------------------------------------------------------------------------

def pareto_figure(s: LotSummary) -> Figure:
    fig, ax = plt.subplots(figsize=(7.0, 3.0), dpi=100)
    p = s.pareto.head(15)
    if p.empty:
        ax.text(0.5, 0.5, "no failing measurements", ha="center", va="center")
        ax.set_axis_off()
        return fig
    ax.bar(range(len(p)), p["count"], color="#b3261e")
    ax.set_xticks(range(len(p)), p["name"], rotation=35, ha="right", fontsize=7)
    ax.set_ylabel("runs failing")
    ax2 = ax.twinx()
    ax2.plot(range(len(p)), 100 * p["cumulative"], color="black", marker="o", ms=3)
    ax2.set_ylim(0, 105)
    ax2.set_ylabel("cumulative %")
    ax.set_title("Pareto of failing measurements", fontsize=9)
    fig.subplots_adjust(left=0.08, right=0.92, bottom=0.35, top=0.9)
    return fig


def distribution_figures(s: LotSummary) -> Iterator[Figure]:
    """Histograms of the capability values, per model and measurement (never an empty one:
    a measurement without numeric values has no capability row)."""
    cap = s.capability[s.capability.n > 0] if not s.capability.empty else s.capability
    for start in range(0, len(cap), PER_FIGURE):
        chunk = cap.iloc[start:start + PER_FIGURE]
        fig, axes = plt.subplots(2, 3, figsize=(7.0, 4.2), dpi=100)
        row: Any   # a DataFrame row
        for ax, row in zip(axes.flat, chunk.itertuples(), strict=False):
            counts, edges = row.hist   # binned where computed (in SQL for a large lot)
            ax.stairs(counts, edges, fill=True, color="#4a6fa5")
            for limit in (row.low, row.high):
                if limit is not None and not pd.isna(limit):
                    ax.axvline(limit, color="#b3261e", lw=1.2)
            ax.set_title(f"{row.name} ({row.model}, n {row.n})\n"
                         f"Ppk {index_text(row.ppk, row.note_p)}  "
                         f"Cpk {index_text(row.cpk, row.note_c)}", fontsize=7)
            ax.tick_params(labelsize=6)
            ax.set_xlabel(row.unit, fontsize=6)
        for ax in list(axes.flat)[len(chunk):]:
            ax.set_axis_off()
        fig.subplots_adjust(left=0.06, right=0.98, bottom=0.1, top=0.9, wspace=0.3, hspace=0.65)
        yield fig


def run_chart_figures(s: LotSummary) -> Iterator[Figure]:
    """Per station: cycle time of each run in order, coloured by verdict, and the rolling
    pass rate, so a drifting station or fixture shows up (a large lot: each point is a
    bucket of consecutive runs, its mean cycle time and pass rate)."""
    for chart in s.run_charts:
        fig, ax = plt.subplots(figsize=(7.0, 2.4), dpi=100)
        x = chart.x
        ax.plot(x, chart.cycle_s, color="#999999", lw=0.8)
        ax.scatter(x, chart.cycle_s, s=10, zorder=3,
                   c=[VERDICT_COLOURS.get(v, "grey") if v else "#4a6fa5" for v in chart.verdicts])
        ax.set_xlabel("run" if chart.per_point == 1 else f"run (a point: ~{chart.per_point} runs)",
                      fontsize=7)
        ax.set_ylabel("cycle time (s)", fontsize=7)
        ax2 = ax.twinx()
        ax2.plot(x, [100 * r for r in chart.pass_rate], color="#1b7f3b", lw=1)
        ax2.set_ylim(0, 105)
        ax2.set_ylabel("pass rate, last 10 (%)" if chart.per_point == 1 else "pass rate (%)",
                       fontsize=7)
        ax.set_title(f"Run chart: station {chart.station}", fontsize=9)
        ax.tick_params(labelsize=6)
        ax2.tick_params(labelsize=6)
        fig.subplots_adjust(left=0.09, right=0.9, bottom=0.18, top=0.88)
        yield fig


def figures(s: LotSummary) -> Iterator[Figure]:
    yield pareto_figure(s)
    yield from distribution_figures(s)
    yield from run_chart_figures(s)


def png(fig: Figure) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    plt.close(fig)
    return buf.getvalue()


# -- documents -----------------------------------------------------------------------------

def _table(rows: list[list[str]], widths: list[float] | None = None, size: float = 7) -> Table:
    t = Table(rows, colWidths=widths, repeatRows=1)
    t.setStyle(TableStyle([
        ("FONT", (0, 0), (-1, -1), SANS, size),
        ("FONT", (0, 0), (-1, 0), BOLD, size),
        ("LEFTPADDING", (0, 0), (-1, -1), 2 if size < 7 else 6),
        ("RIGHTPADDING", (0, 0), (-1, -1), 2 if size < 7 else 6),
        ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e6e6e6")),
        ("GRID", (0, 0), (-1, -1), 0.25, colors.HexColor("#9a9a9a")),
        ("TOPPADDING", (0, 0), (-1, -1), 1),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 1),
    ]))
    return t


def simulated_text(s: LotSummary) -> str:
    """The mark of a lot with runs from a simulated bench (empty when it has none)."""
    if not s.simulated_runs:
        return ""
    which = "all" if s.simulated_runs == s.n_runs else f"{s.simulated_runs} of {s.n_runs}"
    return (f"{SIMULATED}: {which} runs in this lot come from a simulated bench; "
            "their figures say nothing about real packs")


def count_simulated_runs(store: object, *, since: object = None, model: str | None = None,
                         plan: str | None = "eol") -> int:
    """Runs in the lot's scope (as ``reports.lot_sql.lot_summary`` takes it) whose station
    file declared a simulated bench."""
    import sqlalchemy as sa

    from reports.store.store import RUNS, _where

    filters = {"since": since, "model": model, "plan": plan, "finished": True,
               "development": False}
    with store._reader.connect() as conn:  # type: ignore[attr-defined]
        scope = _where(filters, measurement=False)
        n = conn.execute(sa.select(sa.func.count()).where(*scope, RUNS.c.station_simulated)).scalar()
        conn.rollback()
    return int(n or 0)


def pdf_bytes(s: LotSummary) -> bytes:
    register_fonts()
    base = ParagraphStyle("b", fontName=SANS, fontSize=9, leading=12)
    h1 = ParagraphStyle("h1", parent=base, fontName=BOLD, fontSize=15, leading=19)
    h2 = ParagraphStyle("h2", parent=base, fontName=BOLD, fontSize=11, leading=14, spaceBefore=6,
                        spaceAfter=3)
    story: list[Flowable] = [Paragraph(html.escape(s.title), h1), Spacer(1, 3 * mm)]
    mark = simulated_text(s)
    if mark:
        story += [Paragraph(html.escape(mark), ParagraphStyle(
            "sim", parent=h2, textColor=colors.HexColor("#b3261e"))), Spacer(1, 2 * mm)]
    story.append(_table([["Figure", "Value"]] + [list(r) for r in headline_rows(s)],
                        [40 * mm, 130 * mm]))
    story += [Paragraph("Pareto of failing measurements", h2), _table(pareto_rows(s))]
    story += [Paragraph("Stations", h2), _table(station_rows(s))]
    story += [Paragraph("Capability against limits", h2), _table(capability_rows(s), size=5.5),
              Paragraph(html.escape(CAPABILITY_NOTE), base)]
    story.append(Paragraph("Figures", h2))
    for fig in figures(s):
        w, h = fig.get_size_inches()
        data = png(fig)
        width = 170 * mm
        story.append(Image(io.BytesIO(data), width=width, height=width * h / w))
        story.append(Spacer(1, 2 * mm))
    buf = io.BytesIO()
    SimpleDocTemplate(buf, pagesize=A4, leftMargin=20 * mm, rightMargin=20 * mm,
                      topMargin=15 * mm, bottomMargin=15 * mm, title=s.title,
                      creator="vstation reports", invariant=1).build(
        story, onFirstPage=_footer(s), onLaterPages=_footer(s))
    return buf.getvalue()


def _footer(s: LotSummary) -> Callable[[Any, Any], None]:
    """Every page of a lot with simulated runs says SIMULATED at its foot."""
    def draw(canvas: Any, doc: Any) -> None:
        if s.simulated_runs:
            canvas.saveState()
            canvas.setFont(BOLD, 8)
            canvas.drawString(20 * mm, 8 * mm, f"{s.title}  ·  {SIMULATED}")
            canvas.restoreState()
    return draw


def _html_table(rows: list[list[str]]) -> str:
    head = "".join(f"<th>{html.escape(c)}</th>" for c in rows[0])
    body = "".join("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in r) + "</tr>"
                   for r in rows[1:])
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def html_text(s: LotSummary) -> str:
    imgs = "".join(f'<img alt="figure" src="data:image/png;base64,{base64.b64encode(png(f)).decode()}">'
                   for f in figures(s))
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        f"<title>{html.escape(s.title)}</title><style>"
        "body{font-family:sans-serif;margin:2em}table{border-collapse:collapse;margin:.5em 0}"
        "td,th{border:1px solid #999;padding:2px 6px;font-size:12px}img{display:block;max-width:100%}"
        "</style></head><body>"
        f"<h1>{html.escape(s.title)}</h1>"
        + (f'<p class="simulated"><strong>{html.escape(simulated_text(s))}</strong></p>'
           if s.simulated_runs else "") +
        f"<h2>Summary</h2>{_html_table([['Figure', 'Value']] + [list(r) for r in headline_rows(s)])}"
        f"<h2>Pareto of failing measurements</h2>{_html_table(pareto_rows(s))}"
        f"<h2>Stations</h2>{_html_table(station_rows(s))}"
        f"<h2>Capability against limits</h2>{_html_table(capability_rows(s))}"
        f"<p>{html.escape(CAPABILITY_NOTE)}</p>"
        f"<h2>Figures</h2>{imgs}</body></html>\n"
    )


def write_lot_report(s: LotSummary, out: str | Path) -> Path:
    """Write the report as PDF or HTML, by the file's suffix."""
    path = Path(out)
    suffix = path.suffix.lower()
    if suffix == ".pdf":
        atomic_write(path, pdf_bytes(s))
    elif suffix in (".html", ".htm"):
        atomic_write(path, html_text(s).encode("utf-8"))
    else:
        raise ValueError(f"{path}: the lot report is written as .pdf or .html")
    return path
