"""The certification pre-check's clause report (PDF): one row per clause with its verdict.

The rows come from :func:`testplans.cert.clauses.clause_verdicts` over the record and the
limits document it names, so the report written at the end of a run and one re-rendered
from the store say the same. Every page says "pre-check, not a certification" and that the
clause wording is to be checked against the purchased standard. Under the table: the bench
(instruments, serials, calibration due dates), the NOT RUN list, and a plot of the traces
each verdict was judged on (``reports/cert_plots.py``) from the Parquet files beside the
record (``<out>/attachments/<run id>/``, each hashed into the signed JSON record).
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import SimpleDocTemplate, Spacer, Table, TableStyle

from reports.marks import SIMULATED_BANNER, footer_mark
from reports.paragraph import Paragraph
from reports.pdffonts import BOLD, SANS, register_fonts
from reports.record import Record

FOOTER = ("PRE-CHECK, NOT A CERTIFICATION. Clause wording is to be checked against the "
          "purchased standard (IEC 62619:2022, UL 1973:2022).")
COLOURS = {"PASS": colors.green, "FAIL": colors.red, "NOT RUN": colors.grey,
           "NOT APPLICABLE": colors.darkgrey}


def clause_rows(record: Record) -> list[Any]:
    """The clause verdicts of a cert record, from the limits document of its model."""
    from common.models import get_model
    from testplans.cert.clauses import clause_verdicts, features_of
    from testplans.limits import load_limits

    limits = load_limits(record.model, "cert")
    features = features_of(record.work_order, get_model(record.model).breaker)
    return clause_verdicts(limits.data.clause, record.measurements, features)


def write_cert_report(record: Record, record_sha256: str | None, path: Path,
                      attachments: Path | None = None) -> Path:
    """The clause report of ``record`` at ``path``; the traces from ``attachments`` (default:
    ``attachments/<run id>/`` beside ``path``)."""
    from reports.exports import atomic_write

    folder = attachments or path.parent / "attachments" / record.run_id
    atomic_write(path, cert_report_bytes(record, record_sha256, folder))
    return path


def cert_report_bytes(record: Record, record_sha256: str | None, folder: Path) -> bytes:
    """The PDF as bytes, deterministic for the same record and traces (``station verify``
    rebuilds it and compares)."""
    from reportlab.platypus import Image

    from reports.cert_plots import plot_step, thresholds, trace_files
    from testplans.limits import load_limits

    register_fonts()
    small = ParagraphStyle("small", fontName=SANS, fontSize=7, leading=8.5)
    head = ParagraphStyle("head", fontName=BOLD, fontSize=12, leading=15)
    rows = clause_rows(record)
    values = {m.name: m for m in record.measurements}

    def cell(text: str) -> Paragraph:
        return Paragraph(escape(text), small)

    data = [[cell(h) for h in ("clause", "edition", "required / applied", "deviation",
                               "evidence", "verdict")]]
    for r in rows:
        evidence = "; ".join(f"{n} = {values[n].value_text()} {values[n].unit} ({values[n].outcome})"
                             for n in r.evidence if n in values)
        verdict = r.verdict + (f": {r.reason}" if r.reason else "")
        data.append([cell(f"{r.id} {r.clause}"), cell(r.edition),
                     cell(f"{r.required} / {r.applied}"), cell(r.deviation), cell(evidence),
                     cell(verdict)])
    table = Table(data, colWidths=[45 * mm, 28 * mm, 70 * mm, 35 * mm, 60 * mm, 35 * mm],
                  repeatRows=1)
    style: list[tuple[Any, ...]] = [("GRID", (0, 0), (-1, -1), 0.3, colors.grey), ("VALIGN", (0, 0), (-1, -1), "TOP")]
    for k, r in enumerate(rows, start=1):
        style.append(("TEXTCOLOR", (5, k), (5, k), COLOURS.get(r.verdict, colors.black)))
    table.setStyle(TableStyle(style))
    not_run = [f"{r.id}: {r.reason}" for r in rows if r.verdict == "NOT RUN"]
    sim = "simulated bench" if record.station.simulated else "bench"
    story = [Paragraph(escape(f"Certification pre-check {record.serial} ({record.model}): "
                              f"{record.verdict}"), head),
             *([Paragraph(escape(SIMULATED_BANNER), head)] if record.station.simulated else []),
             cell(f"station {record.station.id} ({sim}), operator {record.operator}, started "
                  f"{record.started_at:%Y-%m-%d %H:%M} UTC, bench time {record.duration_s or 0:.0f} s "
                  f"({(record.duration_s or 0) / 86400:.1f} days), wall {record.wall_duration_s or 0:.0f} s"),
             cell(f"limits {record.limits.file} {record.limits.version} sha256 {record.limits.sha256}"),
             cell(f"record sha256 {record_sha256 or '—'} (the signed JSON record; "
                  f"Ed25519 key {record.signature.key_fingerprint[:16] + '…' if record.signature else 'none'}; "
                  "`station verify` checks it and every trace)"),
             cell("instruments: " + "; ".join(f"{i.role} {i.dialect} {i.serial} cal. due "
                                              f"{i.calibration_due}" for i in record.instruments)),
             Spacer(1, 3 * mm), table, Spacer(1, 3 * mm),
             cell("NOT RUN: " + ("; ".join(not_run) or "none"))]
    doc = load_limits(record.model, "cert").data
    spec = {d.name: (d.low if d.low is not None else d.high) for d in doc.measurement}
    for r in rows:
        if r.step is None or r.verdict in ("NOT RUN", "NOT APPLICABLE"):
            continue
        png = plot_step(trace_files(folder, r.step), thresholds(r.step, doc.conditions, spec),
                        f"{r.id} {r.clause}: {r.verdict}")
        if png is not None:
            story += [Spacer(1, 3 * mm), Image(io.BytesIO(png), width=240 * mm, height=131 * mm)]

    def footer(canvas: Any, doc: Any) -> None:
        canvas.setFont(BOLD, 8)
        canvas.drawString(10 * mm, 7 * mm, FOOTER + footer_mark(record.station.simulated))
        canvas.drawRightString(287 * mm, 7 * mm, f"page {doc.page}")

    buf = io.BytesIO()
    SimpleDocTemplate(buf, pagesize=landscape(A4), leftMargin=10 * mm, rightMargin=10 * mm,
                      topMargin=10 * mm, bottomMargin=14 * mm, invariant=1,
                      title=f"cert pre-check {record.serial}").build(story, onFirstPage=footer,
                                                                     onLaterPages=footer)
    return buf.getvalue()
