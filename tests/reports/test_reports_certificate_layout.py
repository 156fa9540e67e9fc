"""The certificate read back as a reader sees it (pypdf text and its positions on the page):
no column drawn over another, the unit's serial on one line, "page i of n", issuer,
conformity statement and test conditions, and SIMULATED on every page of a simulated run."""

from __future__ import annotations

from pathlib import Path

import pypdf
from recordgen import make_record, make_serial
from reportlab.pdfbase.pdfmetrics import stringWidth

from reports.certificate import write_certificate
from reports.pdffonts import SANS, register_fonts
from reports.record import Instrument, Limit, Record

SHA = "c" * 64
#: serials as long as real ones (the simulated bench's, a vendor's with its option code)
LONG_SERIALS = ("SIM-SUPPLY-0001", "MY59123456-OPT1")


def _record(serial_seq: int = 7, **kwargs: object) -> Record:
    r = make_record(make_serial(serial_seq), **kwargs)  # type: ignore[arg-type]
    extra = [Instrument(role=role, dialect=f"sim-{role}", resource=f"TCPIP0::127.0.0.1::4100{n}::SOCKET",
                        idn=f"SIMLAB,X-{n},{sn},1.0", serial=sn, calibration_due=r.instruments[0].calibration_due)
             for n, (role, sn) in enumerate(zip(("supply", "safety"), LONG_SERIALS, strict=True))]
    r.instruments.extend(extra)
    m = r.measurement("serial_rs485")   # as the EOL plan judges it: equal to the work order's
    m.limit = Limit(comparison="eq", expect=r.serial)
    return r


def _runs(pdf: Path) -> list[tuple[int, float, float, str]]:
    """(page, x, y, text) of every text run, in page coordinates (pt)."""
    out: list[tuple[int, float, float, str]] = []
    for page_no, page in enumerate(pypdf.PdfReader(pdf).pages):
        def visit(text: str, cm: list[float], tm: list[float], _fd: object, _fs: object,
                  page_no: int = page_no) -> None:
            if text.strip():
                x = cm[0] * tm[4] + cm[2] * tm[5] + cm[4]
                y = cm[1] * tm[4] + cm[3] * tm[5] + cm[5]
                out.append((page_no, x, y, text.strip()))
        page.extract_text(visitor_text=visit)
    return out


def _write(record: Record, tmp_path: Path) -> Path:
    pdf = tmp_path / f"{record.serial}.pdf"
    write_certificate(record, SHA, pdf)
    return pdf


def test_instrument_serials_end_before_the_resource_column(tmp_path: Path) -> None:
    register_fonts()
    record = _record()
    runs = _runs(_write(record, tmp_path))
    checked = 0
    for inst in record.instruments:
        page, x, y, _ = next(r for r in runs if r[3] == inst.serial)
        resource = next(r for r in runs if r[0] == page and abs(r[2] - y) < 0.5
                        and r[3].startswith("TCPIP0::"))
        end = x + stringWidth(inst.serial, SANS, 7.5)
        assert end < resource[1], f"serial {inst.serial} ends at {end:.1f} pt, Resource starts at {resource[1]:.1f}"
        checked += 1
    assert checked == 4


def test_unit_serial_is_never_broken_across_lines(tmp_path: Path) -> None:
    record = _record()
    runs = _runs(_write(record, tmp_path))
    sn = record.serial
    partial = [r for r in runs if any(sn[:k] in r[3] for k in range(4, len(sn))) and sn not in r[3]]
    assert not partial, partial
    # the spec limit of the serial measurement: "= <serial>" on one line of its cell
    assert any(r[3] == f"= {sn}".replace(" ", "\u00a0") or r[3] == f"= {sn}" for r in runs), \
        [r for r in runs if sn in r[3]]


def test_every_page_says_page_i_of_n_and_simulated(tmp_path: Path) -> None:
    record = _record()
    pdf = _write(record, tmp_path)
    pages = pypdf.PdfReader(pdf).pages
    assert len(pages) >= 2
    for i, page in enumerate(pages, start=1):
        text = page.extract_text()
        assert f"page {i} of {len(pages)}" in text, text[-200:]
        assert f"{record.serial}  ·  PASS  ·  certificate  ·  SIMULATED" in text   # the footer
    first = " ".join(pages[0].extract_text().split())
    assert "SIMULATED BENCH: no real pack was tested" in first


def test_a_real_bench_certificate_says_nothing_of_simulation(tmp_path: Path) -> None:
    record = _record()
    record.station.simulated = False
    text = " ".join(p.extract_text() for p in pypdf.PdfReader(_write(record, tmp_path)).pages)
    assert "SIMULATED" not in text


def test_issuer_conformity_statement_and_test_conditions(tmp_path: Path) -> None:
    good = _record()
    text = " ".join(" ".join(p.extract_text() for p in pypdf.PdfReader(_write(good, tmp_path)).pages).split())
    assert "Issued by test station eol-1 (line line-A, a SIMULATED bench), operator A. Tester" in text
    assert f"The unit {good.serial} conforms to {good.limits.file} version {good.limits.version}" in text
    assert "guarded acceptance" in text
    assert "Test conditions End-of-line test as" in text and "work order dip=1, heater=False" in text

    bad = _record(8, fail="ocv")
    text = " ".join(" ".join(p.extract_text() for p in pypdf.PdfReader(_write(bad, tmp_path)).pages).split())
    assert f"The unit {bad.serial} is not shown to conform" in text and "verdict FAIL" in text
    assert "conforms to" not in text
