"""The PDF certificate of one run, fit for a customer or an auditor.

A passed unit gets a certificate; any other verdict gets a test report that says plainly,
at the top, that it is not a certificate. Either way the document carries the SHA-256 of
the JSON record's exact bytes, as text and in a QR code, so a printed page can be checked
against the record and the store (``station verify``), and the fingerprint of the station
key that signed the record. The bytes depend on the record alone (reportlab's invariant mode,
the creation date the run's start), so ``station verify`` rebuilds the document from the
record and compares it byte for byte with the one presented.
"""

from __future__ import annotations

import hashlib
import io
import re
from datetime import UTC
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.lib.utils import TimeStamp
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    Flowable,
    KeepTogether,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from common.models import MODELS
from reports.exports import atomic_write
from reports.marks import SIMULATED_BANNER, footer_mark
from reports.paragraph import Paragraph
from reports.pdffonts import BOLD, MONO, SANS, register_fonts
from reports.qrmask import qr_matrix
from reports.record import Record

NOT_A_CERTIFICATE = "THIS DOCUMENT IS NOT A CERTIFICATE"
PLAN_TITLES = {"eol": "End-of-line test", "cert": "Certification pre-check", "rma": "RMA diagnosis"}
OUTCOME_COLOURS = {"PASS": colors.HexColor("#1b7f3b"), "FAIL": colors.HexColor("#b3261e"),
                   "ERROR": colors.HexColor("#b3261e"), "NOT_RUN": colors.HexColor("#6b6b6b")}
VERDICT_COLOURS = {"PASS": OUTCOME_COLOURS["PASS"], "FAIL": OUTCOME_COLOURS["FAIL"],
                   "ABORTED": colors.HexColor("#a15c00"), "ERROR": OUTCOME_COLOURS["FAIL"]}
_SHA = re.compile(r"^[0-9a-f]{64}$")


def qr_payload(record: Record, record_sha256: str) -> str:
    """What the QR code carries: enough to find the run and check the record file."""
    return f"VSTATION;SN={record.serial};RUN={record.run_id};SHA256={record_sha256}"


def is_certificate(record: Record) -> bool:
    return record.verdict == "PASS"


QR_TAG = "VSQRCode"  # marked-content tag around the QR's squares, so verify can read them


class QrFlowable(Flowable):
    """A QR code drawn as vector squares (sharp at any print size, no image codec).

    The squares sit in a marked-content section tagged :data:`QR_TAG` that states the
    module count, so ``station verify`` can rebuild the code from the PDF itself."""

    def __init__(self, payload: str, size: float) -> None:
        super().__init__()
        self.matrix = qr_matrix(payload)
        self.size = size
        self.width = self.height = size

    def draw(self) -> None:
        n = len(self.matrix)
        cell = self.size / n
        c = self.canv
        c.addLiteral(f"/{QR_TAG} <</Modules {n} /Size {self.size:.4f}>> BDC")
        c.setFillColor(colors.black)
        c.setStrokeColor(colors.black)
        for row, line in enumerate(self.matrix):
            for col, dark in enumerate(line):
                if dark:
                    c.rect(col * cell, self.size - (row + 1) * cell, cell, cell, stroke=0, fill=1)
        c.addLiteral("EMC")


def _styles() -> dict[str, ParagraphStyle]:
    register_fonts()
    base = ParagraphStyle("base", fontName=SANS, fontSize=8.5, leading=10.5)
    return {
        "base": base,
        "title": ParagraphStyle("title", parent=base, fontName=BOLD, fontSize=15, leading=19),
        "h2": ParagraphStyle("h2", parent=base, fontName=BOLD, fontSize=10.5, leading=14,
                             spaceBefore=6, spaceAfter=3),
        "verdict": ParagraphStyle("verdict", parent=base, fontName=BOLD, fontSize=34,
                                  leading=40, alignment=1, textColor=colors.white),
        "warn": ParagraphStyle("warn", parent=base, fontName=BOLD, fontSize=12, leading=15,
                               alignment=1, textColor=OUTCOME_COLOURS["FAIL"]),
        "mono": ParagraphStyle("mono", parent=base, fontName=MONO, fontSize=7.5, leading=9.5),
        "cell": ParagraphStyle("cell", parent=base, fontSize=7.5, leading=9),
        "small": ParagraphStyle("small", parent=base, fontSize=7, leading=SMALL_LEADING),
    }


SMALL_LEADING = 8.5   # the measurement table's lines, pt
_SMALL_PADDING = 2.0  # its cells' left and right padding, pt


def _grid(data: list[list[Any]], widths: list[float], header: bool = True,
          size: float = 7.5) -> Table:
    t = Table(data, colWidths=widths, repeatRows=1 if header else 0)
    style: list[tuple[Any, ...]] = [
        ("FONT", (0, 0), (-1, -1), SANS, size),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("GRID", (0, 0), (-1, -1), 0.25, colors.HexColor("#9a9a9a")),
        ("TOPPADDING", (0, 0), (-1, -1), 1.5),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 1.5),
    ]
    if size < 7.5:   # the wide measurement table: narrow side padding, the paragraphs' leading
        style += [("FONT", (0, 0), (-1, -1), SANS, size, SMALL_LEADING),
                  ("LEFTPADDING", (0, 0), (-1, -1), _SMALL_PADDING),
                  ("RIGHTPADDING", (0, 0), (-1, -1), _SMALL_PADDING)]
    if header:
        style += [("FONT", (0, 0), (-1, 0), BOLD, size),
                  ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e6e6e6"))]
    t.setStyle(TableStyle(style))
    return t


def _small_cell(text: str, width: float, style: ParagraphStyle) -> str | Paragraph:
    """A measurement-table cell: the text as it is when it fits the column on one line (the
    table draws it in the same font and leading), a wrapping paragraph when it does not.
    Laying out a paragraph per cell, seven a measurement, was half of what a certificate
    cost."""
    if "\n" not in text and stringWidth(text, style.fontName, style.fontSize) \
            <= width - 2 * _SMALL_PADDING:
        return text
    return Paragraph(escape(text), style)


def _pairs(rows: list[tuple[str, str]], s: dict[str, ParagraphStyle]) -> Table:
    data = [[Paragraph(f"<b>{escape(k)}</b>", s["cell"]), Paragraph(escape(v), s["cell"])]
            for k, v in rows]
    t = _grid(data, [38 * mm, 132 * mm], header=False)
    return t


def _model_name(model_id: str) -> str:
    info = MODELS.get(model_id)
    return f"{info.name} ({model_id})" if info else model_id


def _when(record: Record) -> str:
    return record.started_at.strftime("%Y-%m-%d %H:%M:%S UTC")


def build_story(record: Record, record_sha256: str, record_file: str) -> list[Flowable]:
    s = _styles()
    verdict = record.verdict or "RUNNING"
    plan = PLAN_TITLES.get(record.plan, record.plan)
    title = f"{plan} certificate" if is_certificate(record) else f"{plan} report"
    story: list[Flowable] = [
        Paragraph(escape(f"Pytes V-series LFP battery pack: {title}"), s["title"]),
        Spacer(1, 2 * mm),
    ]
    if record.station.simulated:
        story.append(Paragraph(escape(SIMULATED_BANNER), s["warn"]))
        story.append(Spacer(1, 2 * mm))
    if not is_certificate(record):
        story.append(Paragraph(
            f"{NOT_A_CERTIFICATE}: the unit did not pass ({escape(verdict)}). "
            "It must not be shipped on the strength of this document.", s["warn"]))
        story.append(Spacer(1, 2 * mm))
    box = Table([[Paragraph(escape(verdict), s["verdict"])]], colWidths=[170 * mm],
                rowHeights=[18 * mm])
    box.setStyle(TableStyle([
        ("BACKGROUND", (0, 0), (-1, -1), VERDICT_COLOURS.get(verdict, colors.grey)),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE")]))
    story += [box, Spacer(1, 3 * mm)]

    duration = f"{record.duration_s:.1f} s" if record.duration_s is not None else "—"
    work = ", ".join(f"{k}={v}" for k, v in record.work_order.items()) or "—"
    story += [Paragraph("Unit and run", s["h2"]), _pairs([
        ("Model", _model_name(record.model)),
        ("Serial number", record.serial),
        ("Verdict", verdict),
        ("Date", _when(record)),
        ("Station", f"{record.station.id}" + (" (simulated bench)" if record.station.simulated else "")),
        ("Line", record.station.line),
        ("Operator", record.operator),
        ("Run", record.run_id),
        ("Retest index", str(record.retest_index)),
        ("Cycle time", duration),
        ("Work order", work),
        ("Software version", record.software_version),
        *([("Software", _software_text(record))] if record.software is not None else []),
        ("Issued by", _issuer(record)),
        ("Test conditions", _conditions(record)),
        ("Statement", _statement(record)),
    ], s)]
    if record.failure is not None:
        f = record.failure
        where = " / ".join(x for x in (f.step, f.measurement) if x)
        story += [Paragraph("Why the unit did not pass", s["h2"]), Paragraph(
            escape(f"{f.kind}: {where + ': ' if where else ''}{f.message}"), s["base"])]

    fw = record.firmware
    story += [Paragraph("Identity and firmware", s["h2"]), _pairs([
        ("Firmware (main)", fw.main or "—"), ("Boot loader", fw.boot or "—"),
        ("BMS board", fw.bms_board or "—"),
        ("Limits", f"{record.limits.file}, version {record.limits.version}"),
        ("Limits SHA-256", record.limits.sha256),
    ], s)]

    inst: list[list[Any]] = [["Role", "Identity (*IDN?)", "Serial", "Resource", "Calibration due"]]
    for i in record.instruments:
        inst.append([i.role, Paragraph(escape(i.idn), s["cell"]), i.serial,
                     Paragraph(escape(i.resource), s["cell"]), i.calibration_due.isoformat()])
    story += [Paragraph("Instruments", s["h2"]), _grid(inst, _instrument_widths(record))]

    counts = record.counts()
    story.append(Paragraph(
        "Measurements: " + ", ".join(f"{n} {k}" for k, n in counts.items()), s["h2"]))
    story.append(Paragraph(escape(
        "Spec limit: what a good pack does. U: the expanded uncertainty of the measurement "
        "on this station (k = 2). Accepted: the spec limit shrunk by U on each side; a value "
        "between the two is in the guard band and does not pass (ISO 14253-1)."), s["base"]))
    story.append(Spacer(1, 1.5 * mm))
    rows: list[list[object]] = [["Step", "Measurement", "Value", "Unit", "Spec limit", "U (k = 2)",
                                 "Accepted", "Outcome"]]
    style: list[tuple[Any, ...]] = []
    outcome = len(rows[0]) - 1
    # a 16-character serial fits whole as a value and after "= " (the SPEC's serial length)
    widths = [23.5 * mm, 41 * mm, 27 * mm, 6.5 * mm, 29.5 * mm, 12 * mm, 26 * mm, 14.5 * mm]
    for r, m in enumerate(record.measurements, start=1):
        lim = m.limit
        cells = (m.step, m.name, m.value_text(), m.unit, _unbroken_sign(lim.spec_text()),
                 lim.uncertainty_text(), lim.acceptance_text())
        row: list[object] = [_small_cell(str(c), w, s["small"])
                             for c, w in zip(cells, widths, strict=False)]
        rows.append([*row, m.outcome])
        style.append(("TEXTCOLOR", (outcome, r), (outcome, r), OUTCOME_COLOURS[m.outcome]))
        style.append(("FONT", (outcome, r), (outcome, r), BOLD, 7, SMALL_LEADING))
    rows[0] = [Paragraph(f"<b>{escape(str(h))}</b>", s["small"]) for h in rows[0]]  # wrap, never overlap
    table = _grid(rows, widths, size=7)
    table.setStyle(TableStyle(style))
    story.append(table)

    signer = record.signature.key_fingerprint if record.signature else "— (record not signed)"
    check = [
        Paragraph("Record", s["h2"]),
        Paragraph(escape(f"Record file: {record_file}"), s["base"]),
        Paragraph(f"Record SHA-256: {record_sha256}", s["mono"]),
        Paragraph(f"Signed by station key SHA-256: {signer}", s["mono"]),
        Paragraph(escape(f"Serial {record.serial}, run {record.run_id}. The QR code carries "
                         "the serial, the run and this hash; `station verify` checks the "
                         "record's signature and rebuilds this document from the record "
                         "file, and compares both with the results store."), s["base"]),
        Spacer(1, 2 * mm),
        QrFlowable(qr_payload(record, record_sha256), 32 * mm),
    ]
    story.append(KeepTogether(check))
    return story


#: the instrument table's columns: 170 mm in all, Serial and Resource share what is left
_INSTRUMENT_FIXED = {"role": 16 * mm, "idn": 48 * mm, "due": 24 * mm}
_CELL_PADDING = 12.0   # reportlab's default left + right padding of a cell, pt


def _instrument_widths(record: Record) -> list[float]:
    """Widths that give the Serial column its longest serial on one line (a serial is never
    wrapped nor drawn over the Resource column, which wraps); the rest to Resource."""
    fixed = sum(_INSTRUMENT_FIXED.values())
    longest = max([stringWidth(i.serial, SANS, 7.5) for i in record.instruments]
                  + [stringWidth("Serial", BOLD, 7.5)])
    serial = min(longest + _CELL_PADDING + 1.0, 170 * mm - fixed - 30 * mm)
    f = _INSTRUMENT_FIXED
    return [f["role"], f["idn"], serial, 170 * mm - fixed - serial, f["due"]]


def _unbroken_sign(text: str) -> str:
    """``= PV5S…`` with a no-break space: the sign and the value stay on one line."""
    return text[:1] + "\u00a0" + text[2:] if text[:2] in ("= ", "~ ") else text


def _software_text(record: Record) -> str:
    sw = record.software
    assert sw is not None
    state = {True: " (uncommitted changes)", False: "", None: " (state unknown)"}[sw.dirty]
    commit = sw.commit if sw.commit != "unknown" else "unknown (no git checkout)"
    lock = {True: "as requirements.lock", False: "differs from requirements.lock",
            None: "no lock file"}[sw.lock_matches]
    return (f"commit {commit}{state}; plan files SHA-256 {sw.plan_sha256}; "
            f"{len(sw.dependencies)} dependencies, SHA-256 {sw.dependencies_sha256} ({lock})")


def _issuer(record: Record) -> str:
    sim = ", a SIMULATED bench" if record.station.simulated else ""
    return (f"test station {record.station.id} (line {record.station.line}{sim}), "
            f"operator {record.operator}, vstation {record.software_version}")


def _conditions(record: Record) -> str:
    """What the run was done under: the plan and the document fixing its methods and
    conditions (hashed above), the bench, the work order."""
    plan = PLAN_TITLES.get(record.plan, record.plan)
    bench = "a SIMULATED bench" if record.station.simulated else f"bench {record.station.id}"
    work = ", ".join(f"{k}={v}" for k, v in record.work_order.items()) or "none"
    ambient = " at the bench's ambient temperature (no chamber conditioning)" \
        if record.plan == "eol" else ""
    return (f"{plan} as {record.limits.file} version {record.limits.version} prescribes "
            f"(methods, currents, dwells and limits){ambient}, on {bench}; work order {work}")


def _statement(record: Record) -> str:
    """The conformity statement, with its decision rule."""
    rule = ("decision rule: guarded acceptance, each value within its spec limit shrunk by U, "
            "ISO 14253-1")
    if is_certificate(record):
        return (f"The unit {record.serial} conforms to {record.limits.file} version "
                f"{record.limits.version}: every measurement passed ({rule}).")
    return (f"The unit {record.serial} is not shown to conform to {record.limits.file} "
            f"version {record.limits.version} (verdict {record.verdict or 'RUNNING'}; {rule}).")


def _fixed_canvas(record: Record) -> type[Canvas]:
    """A canvas whose creation date and document id come from the run's start, whatever the
    clock or ``SOURCE_DATE_EPOCH`` say: the same record always gives the same bytes. It
    keeps each page until the last, so every footer says "page i of n"."""
    epoch = record.started_at.timestamp()
    verdict = record.verdict or "RUNNING"
    label = "certificate" if is_certificate(record) else "NOT A CERTIFICATE"
    left = f"{record.serial}  ·  {verdict}  ·  {label}{footer_mark(record.station.simulated)}"

    class FixedCanvas(Canvas):
        def showPage(self) -> None:
            self._pages.append(dict(self.__dict__))
            self._startPage()  # type: ignore[attr-defined]  # Canvas's own page reset: not in the stubs

        def save(self) -> None:
            n = len(self._pages)
            for i, page in enumerate(self._pages, start=1):
                self.__dict__.update(page)
                self.saveState()
                self.setFont(SANS, 7)
                self.drawString(15 * mm, 9 * mm, left)
                self.drawRightString(195 * mm, 9 * mm, f"page {i} of {n}")
                self.restoreState()
                Canvas.showPage(self)
            Canvas.save(self)

        def __init__(self, *args: object, **kwargs: object) -> None:
            super().__init__(*args, **kwargs)  # type: ignore[arg-type]
            self._pages: list[dict[str, object]] = []
            doc = self._doc  # type: ignore[attr-defined]  # the canvas's document: not in the stubs
            stamp = TimeStamp(invariant=True)
            stamp.t = epoch
            stamp.lt = record.started_at.astimezone(UTC).timetuple()   # as reportlab's own gmtime()
            stamp.YMDhms, stamp.dhh, stamp.dmm = stamp.lt[:6], 0, 0
            doc._timeStamp = stamp
            doc.signature = hashlib.md5(b"a reportlab document" + ascii(epoch).encode(),
                                        usedforsecurity=False)

    return FixedCanvas


def certificate_bytes(record: Record, record_sha256: str, record_file: str = "") -> bytes:
    """The PDF as bytes (deterministic for the same inputs)."""
    if not _SHA.match(record_sha256):
        raise ValueError(f"record_sha256 must be 64 lower-case hex digits, got {record_sha256!r}")
    buf = io.BytesIO()
    verdict = record.verdict or "RUNNING"
    doc = SimpleDocTemplate(
        buf, pagesize=A4, leftMargin=15 * mm, rightMargin=15 * mm, topMargin=16 * mm,
        bottomMargin=16 * mm, title=f"{record.serial} {PLAN_TITLES.get(record.plan, record.plan)}",
        author=f"station {record.station.id}", subject=f"{record.serial} {verdict}",
        keywords=[qr_payload(record, record_sha256)], creator="vstation reports",
        invariant=1,
    )

    story = build_story(record, record_sha256, record_file)   # footers: the canvas's
    doc.build(story, canvasmaker=_fixed_canvas(record))
    return buf.getvalue()


def write_certificate(record: Record, record_sha256: str, path: str | Path,
                      record_file: str | None = None) -> None:
    """Write the certificate (or, for a unit that did not pass, the report) to ``path``.

    ``record_file`` is the JSON record's name as printed (default: ``path`` with .json)."""
    target = Path(path)
    name = record_file if record_file is not None else target.with_suffix(".json").name
    atomic_write(target, certificate_bytes(record, record_sha256, name))
