"""The RMA diagnosis report (CERT-RMA "The RMA diagnosis"): identity and claim, gates, the
raw dumps with their hashes, an event timeline, the per-cell table, the capacity curve with
the limiting cell, DCR against the EOL baseline, BMS accuracy, the class with its rule and
evidence, the warranty view, the disposition and everything NOT RUN with its reason.

Built from the record and the files it binds (``diagnosis.json`` and the dumps, each checked
against its SHA-256 first), so ``station report rma SERIAL`` re-renders the same report.
"""

from __future__ import annotations

import hashlib
import io
import json
from datetime import datetime
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import Image, SimpleDocTemplate, Spacer, Table, TableStyle

from reports.exports import atomic_write
from reports.marks import SIMULATED_BANNER, footer_mark
from reports.paragraph import Paragraph
from reports.pdffonts import BOLD, SANS, register_fonts
from reports.record import Measurement, Record


class ReportError(ValueError):
    """A record that is no RMA diagnosis, or whose files do not match their hashes."""


def _attachment(record: Record, record_path: Path, name: str) -> bytes | None:
    entry = next((a for a in record.attachments if a.name == name), None)
    if entry is None:
        return None
    data = (record_path.parent / entry.file).read_bytes()
    if hashlib.sha256(data).hexdigest() != entry.sha256:
        raise ReportError(f"{entry.file}: its SHA-256 is not the one the record binds")
    return data


def _styles() -> dict[str, ParagraphStyle]:
    register_fonts()
    base = ParagraphStyle("body", fontName=SANS, fontSize=8.5, leading=11)
    return {"body": base,
            "small": ParagraphStyle("small", parent=base, fontSize=7, leading=8.5),
            "h1": ParagraphStyle("h1", parent=base, fontName=BOLD, fontSize=14, leading=18),
            "h2": ParagraphStyle("h2", parent=base, fontName=BOLD, fontSize=10.5, leading=14,
                                 spaceBefore=6)}


def _table(rows: list[list[Any]], st: dict[str, ParagraphStyle], widths: list[float] | None = None) -> Table:
    cells = [[Paragraph(escape(str(c)), st["small"]) for c in row] for row in rows]
    t = Table(cells, colWidths=widths, repeatRows=1)
    t.setStyle(TableStyle([("GRID", (0, 0), (-1, -1), 0.25, colors.grey),
                           ("BACKGROUND", (0, 0), (-1, 0), colors.Color(0.9, 0.9, 0.9)),
                           ("VALIGN", (0, 0), (-1, -1), "TOP")]))
    return t


def _m(record: Record, name: str) -> Measurement | None:
    try:
        return record.measurement(name)
    except KeyError:
        return None


def _mrows(record: Record, names: list[str]) -> list[list[Any]]:
    rows: list[list[Any]] = [["measurement", "value", "unit", "limit", "outcome", "note"]]
    for n in names:
        m = _m(record, n)
        if m is not None:
            rows.append([m.name, m.value_text(), m.unit, m.limit.text(), m.outcome, m.message])
    return rows


def _png(fig: Any) -> Image:
    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, metadata={"Software": None})
    plt.close(fig)
    buf.seek(0)
    return Image(buf, width=175 * mm, height=175 * mm * fig.get_figheight() / fig.get_figwidth())


def _timeline(events: list[dict[str, str]]) -> Image | None:
    if not events:
        return None
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    codes = list(dict.fromkeys(e["code"] for e in events))
    fig, ax = plt.subplots(figsize=(8, max(1.8, 0.8 + 0.25 * len(codes))))
    times = [datetime.fromisoformat(e["time"]) for e in events]
    ax.scatter(times, [codes.index(e["code"]) for e in events], marker="|", s=120)  # type: ignore[arg-type]  # datetimes: matplotlib's unit converter
    ax.set_yticks(range(len(codes)), codes, fontsize=7)
    ax.set_title("event log as read at R03", fontsize=8)
    ax.tick_params(axis="x", labelsize=7)
    fig.autofmt_xdate()
    fig.tight_layout()
    return _png(fig)


def _capacity_curve(curve: list[list[float]], limiting: int | None) -> Image | None:
    if not curve:
        return None
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 3.2))
    ah = [p[0] for p in curve]
    ax.plot(ah, [p[1] for p in curve], label="pack (DAQ)")
    ax2 = ax.twinx()
    ax2.plot(ah, [p[2] for p in curve], color="tab:red",
             label=f"lowest cell (limiting: cell {limiting:02d})" if limiting else "lowest cell")
    ax2.annotate(f"cell {limiting:02d} at the cut-off" if limiting else "cut-off",
                 (ah[-1], curve[-1][2]), fontsize=7, ha="right", va="bottom")
    ax.set_xlabel("Ah discharged at 0.2 C", fontsize=8)
    ax.set_ylabel("pack V", fontsize=8)
    ax2.set_ylabel("lowest cell V", fontsize=8)
    ax.tick_params(labelsize=7)
    ax2.tick_params(labelsize=7)
    fig.legend(fontsize=7, loc="lower left")
    fig.tight_layout()
    return _png(fig)


def _cell_rows(cells: dict[str, list[Any]], limiting: int | None) -> list[list[Any]]:
    def col(name: str, i: int, scale: float = 1.0, fmt: str = "{:.3f}") -> str:
        values = cells.get(name)
        if not values or i >= len(values) or values[i] is None:
            return "—"
        v = values[i]
        return fmt.format(v * scale) if isinstance(v, int | float) else str(v)

    rows: list[list[Any]] = [["cell", "rest V", "drift mV/day", "DCIR 1 s mΩ", "× median",
                              "× median at EOL", "DCIR 10 s mΩ", "end of discharge V",
                              "capacity share", "SOHCount"]]
    for i in range(16):
        mark = " ◄ limiting" if limiting == i + 1 else ""
        rows.append([f"{i + 1:02d}{mark}", col("rest_v", i), col("drift_v_per_day", i, 1e3, "{:+.2f}"),
                     col("dcir_1s_ohm", i, 1e3, "{:.2f}"), col("dcir_ratio", i, 1, "{:.2f}"),
                     col("dcir_ratio_eol", i, 1, "{:.2f}"), col("dcir_10s_ohm", i, 1e3, "{:.2f}"),
                     col("end_of_discharge_v", i),
                     "—", col("soh_count", i, 1, "{}")])
    return rows


def report_bytes(record: Record, record_path: Path) -> bytes:
    """The report as PDF bytes."""
    if record.plan != "rma":
        raise ReportError(f"record {record.run_id} is a {record.plan} run, not an RMA diagnosis")
    st = _styles()
    raw = _attachment(record, record_path, "diagnosis.json")
    diag: dict[str, Any] = json.loads(raw) if raw else {}
    intake = diag.get("intake", {})
    findings = diag.get("findings", {})
    story: list[Any] = [Paragraph(f"RMA diagnosis — {escape(record.serial)}", st["h1"])]
    if record.station.simulated:
        story.append(Paragraph(escape(SIMULATED_BANNER), st["h2"]))
    started = record.started_at.strftime("%Y-%m-%d %H:%M UTC")
    story.append(Paragraph(escape(
        f"{record.model} · RMA {intake.get('rma_number') or 'not given'} · {started} · "
        f"station {record.station.id} · operator {record.operator} · run {record.run_id} · "
        f"limits {record.limits.file} v{record.limits.version}"), st["small"]))

    p = lambda text, style="body": story.append(Paragraph(escape(text), st[style]))  # noqa: E731
    story.append(Paragraph("Diagnosis", st["h2"]))
    if diag:
        p(f"Class: {diag['primary']}    rule: {diag['rule']}    disposition: {diag['disposition']}")
        story.append(_table([["class", "rule", "evidence"]] +
                            [[m["cls"], m["rule"], m["evidence"]] for m in diag["matches"]], st,
                            [25 * mm, 35 * mm, 120 * mm]))
        if diag.get("system_side_causes"):
            p("System side to check: " + "; ".join(diag["system_side_causes"]))
    else:
        p(f"No classification: the run ended {record.verdict} ({record.failure.message if record.failure else ''})")

    story.append(Paragraph("Identity and claim", st["h2"]))
    fw = record.firmware
    p(f"Firmware main {fw.main or '—'}, boot {fw.boot or '—'}, BMS board {fw.bms_board or '—'}")
    p(f"Claim: {intake.get('claim') or 'not given'} · installed {intake.get('install_date') or 'not given'}"
      f" · inverter {intake.get('inverter') or 'not given'}")
    checklist = intake.get("checklist", {})
    story.append(_table([["checklist item", "answer"]] + [
        [k, "not given" if v is None else ("yes" if v else "no")] for k, v in checklist.items()], st))
    baseline = intake.get("baseline")
    p("EOL baseline: " + (f"run {baseline['run_id']} of {baseline['started_at']}"
                          if isinstance(baseline, dict) else str(baseline or "not looked up")))

    story.append(Paragraph("Gates and identity", st["h2"]))
    story.append(_table(_mrows(record, [m.name for m in record.measurements
                                        if m.step in ("intake", "gates", "identity")]), st))

    story.append(Paragraph("Dumps (read-only, R03) and their SHA-256", st["h2"]))
    story.append(_table([["file", "command", "SHA-256"]] + [
        [a.name, a.description, a.sha256] for a in record.attachments
        if a.name.startswith(("dump_", "after_"))], st, [45 * mm, 50 * mm, 85 * mm]))
    image = _timeline(diag.get("events", []))
    if image is not None:
        story.append(image)
    story.append(_table(_mrows(record, [m.name for m in record.measurements if m.step == "history"]), st))

    story.append(Paragraph("Cells", st["h2"]))
    story.append(_table(_cell_rows(diag.get("cells", {}), findings.get("limiting_cell")), st))
    p("Capacity share per cell: NOT RUN (a closed pack has no cell taps; the limiting cell is "
      "the one at the cut-off).", "small")

    story.append(Paragraph("Capacity", st["h2"]))
    image = _capacity_curve(diag.get("series", {}).get("capacity", []), findings.get("limiting_cell"))
    if image is not None:
        story.append(image)
    story.append(_table(_mrows(record, [m.name for m in record.measurements
                                        if m.step in ("charge", "capacity", "self_discharge")]), st))

    story.append(Paragraph("DC resistance against the EOL baseline", st["h2"]))
    story.append(_table(_mrows(record, [m.name for m in record.measurements if m.step == "dcir"]), st))
    story.append(Paragraph("BMS accuracy", st["h2"]))
    story.append(_table(_mrows(record, [m.name for m in record.measurements
                                        if m.step in ("rest", "accuracy")]), st))

    story.append(Paragraph("Targeted checks (R11)", st["h2"]))
    story.append(_table(_mrows(record, [m.name for m in record.measurements
                                        if m.step in ("targeted_at_rest", "targeted")]), st))

    story.append(Paragraph("Warranty view", st["h2"]))
    soh = findings.get("measured_soh_pct")
    age, cycles = findings.get("age_years"), findings.get("cycles")
    p(f"Age {age:.1f} years (of 10) · {cycles} cycles (of 6000) · measured SOH "
      f"{'NOT RUN' if soh is None else f'{soh:.1f} %'} against the 70 % Pytes promises over "
      f"10 years or 6000 cycles" if age is not None else "Age and cycles not read.")

    story.append(Paragraph("Finish and NOT RUN", st["h2"]))
    story.append(_table(_mrows(record, [m.name for m in record.measurements if m.step == "finish"]), st))
    story.append(_table([["NOT RUN", "why"]] + [
        [m.name, m.message] for m in record.measurements if m.outcome == "NOT_RUN"] + [
        [f"rule {r['rule']}", r["why"]] for r in diag.get("not_run", [])], st, [50 * mm, 130 * mm]))

    buf = io.BytesIO()
    doc = SimpleDocTemplate(buf, pagesize=A4, leftMargin=15 * mm, rightMargin=15 * mm,
                            topMargin=14 * mm, bottomMargin=14 * mm, invariant=1,
                            title=f"{record.serial} RMA diagnosis", author=f"station {record.station.id}",
                            subject=f"{record.serial} {diag.get('primary', record.verdict)}")
    story.append(Spacer(1, 4 * mm))
    mark = footer_mark(record.station.simulated).strip(" ·")

    def footer(canvas: Any, doc_: Any) -> None:   # a simulated run says so on every page
        if mark:
            canvas.setFont(BOLD, 8)
            canvas.drawString(15 * mm, 7 * mm, f"{record.serial} RMA diagnosis  ·  {mark}")

    doc.build(story, onFirstPage=footer, onLaterPages=footer)
    return buf.getvalue()


def write_rma_report(record: Record, record_path: Path, path: Path) -> None:
    atomic_write(path, report_bytes(record, record_path))


def latest_rma_record(results: Path, serial: str) -> tuple[Record, Path]:
    """The newest RMA record file of ``serial`` in ``results``."""
    found: list[tuple[datetime, Record, Path]] = []
    for f in results.glob(f"{serial}_*.json"):
        try:
            r = Record.from_json_bytes(f.read_bytes())
        except ValueError:
            continue
        if r.plan == "rma" and r.serial == serial:
            found.append((r.started_at, r, f))
    if not found:
        raise ReportError(f"no RMA record of {serial} in {results}")
    _, record, path = max(found, key=lambda x: x[0])
    return record, path
