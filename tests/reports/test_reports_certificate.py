"""Certificates read back with pypdf, and `station verify` over certificate, record, store."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pypdf
import pytest
import sqlalchemy as sa
import typer
from recordgen import DECLARED, make_record, make_serial
from typer.testing import CliRunner

from reports.certificate import (
    NOT_A_CERTIFICATE,
    QrFlowable,
    qr_matrix,
    qr_payload,
    write_certificate,
)
from reports.cli import register
from reports.exports import write_record_json
from reports.record import Record
from reports.signing import key_path, load_or_create, sign_record
from reports.store import open_store
from reports.verify import read_certificate, read_qr_matrices, verify


def _text(path: Path) -> str:
    return "\n".join(p.extract_text() for p in pypdf.PdfReader(path).pages)


def _issue(record: Record, folder: Path) -> tuple[Path, Path, str]:
    """What the station does at the end of a run: store, signed JSON, certificate."""
    stem = folder / f"{record.serial}_{record.started_at:%Y%m%dT%H%M%SZ}"
    key = load_or_create(key_path(record.station.id), record.station.id)  # the session's folder
    record.signature = sign_record(record, key)
    with open_store(None, folder) as store:
        store.begin_run(record)
        sha = write_record_json(record, stem.with_suffix(".json"))
        store.finish_run(record, sha)
    write_certificate(record, sha, stem.with_suffix(".pdf"))
    return stem.with_suffix(".pdf"), stem.with_suffix(".json"), sha


def test_pass_certificate_carries_every_field(tmp_path: Path) -> None:
    r = make_record(make_serial(41))
    pdf, _, sha = _issue(r, tmp_path)
    text = _text(pdf)
    flat = " ".join(text.split())
    assert NOT_A_CERTIFICATE not in text
    assert "End-of-line test certificate" in flat
    for expected in (
        "V5° (v5)", r.serial, "PASS", "2026-01-05 08:00:00 UTC", "eol-1 (simulated bench)",
        "line-A", "A. Tester", r.run_id, "Software version 0.1.0",
        "V1.2.1", "B0.9", "HW-C", "version 2026.1", r.limits.sha256,
        "SIMLAB,EL-600,LD1001,1.0", "2026-09-30", "SIMLAB,DAQ-16,DQ2002,2.1", "2026-06-01",
        f"Record SHA-256: {sha}", pdf.with_suffix(".json").name, "dip=1, heater=False",
    ):
        assert expected in flat, expected
    # every measurement: name, value, unit, spec limit, U, acceptance limit and outcome on one row
    assert "Spec limit U (k = 2) Accepted Outcome" in flat
    for m in r.measurements:
        lim = m.limit
        spec = re.escape(lim.spec_text()) if lim.comparison != "regex" else ".*?"  # wraps
        row = re.search(rf"{re.escape(m.name)} {re.escape(m.value_text())} "
                        rf"(?:{re.escape(m.unit)} )?{spec} {re.escape(lim.uncertainty_text())} "
                        rf"{re.escape(lim.acceptance_text())} PASS", flat)
        assert row, m.name
    guarded = r.measurement("ocv").limit
    assert re.search(r"ocv \S+ V 51\.5 … 53\.6 0\.0032 51\.5032 … 53\.5968 PASS", flat), guarded
    assert pypdf.PdfReader(pdf).metadata["/Keywords"] == qr_payload(r, sha)


def test_failed_unit_document_says_it_is_not_a_certificate(tmp_path: Path) -> None:
    r = make_record(make_serial(42), fail="insulation")  # critical: the rest NOT_RUN
    pdf, _, _ = _issue(r, tmp_path)
    flat = " ".join(_text(pdf).split())
    assert f"{NOT_A_CERTIFICATE}: the unit did not pass (FAIL)" in flat
    assert "End-of-line test report" in flat and "test certificate" not in flat
    assert "insulation 2.0 MΩ ≥ 10 — — FAIL" in flat   # a limit without U: no guard band
    assert flat.count("NOT_RUN") >= len(DECLARED) - 2
    assert "measurement: safety / insulation" in flat
    info = read_certificate(pdf)
    assert (info.serial, info.verdict, info.says_not_certificate) == (r.serial, "FAIL", True)


def test_qr_code_in_the_pdf_encodes_serial_run_and_hash(tmp_path: Path) -> None:
    r = make_record(make_serial(43))
    pdf, _, sha = _issue(r, tmp_path)
    payload = qr_payload(r, sha)
    assert payload == f"VSTATION;SN={r.serial};RUN={r.run_id};SHA256={sha}"
    import qrcode

    qr = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=2)
    qr.add_data(payload)
    (drawn,) = read_qr_matrices(pdf)  # rebuilt from the squares on the page
    assert drawn == qr.get_matrix()
    assert drawn != qr_matrix(qr_payload(r, "0" * 64))


def test_certificate_with_a_foreign_qr_code_fails_verify(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    r = make_record(make_serial(53))
    pdf, _, sha = _issue(r, tmp_path)
    # forge: the same certificate, its QR code drawn for another hash
    from reports.certificate import certificate_bytes

    real = QrFlowable.__init__

    def forged(self: QrFlowable, payload: str, size: float) -> None:
        real(self, payload.replace(sha, "0" * 64), size)

    monkeypatch.setattr(QrFlowable, "__init__", forged)
    pdf.write_bytes(certificate_bytes(r, sha, pdf.with_suffix(".json").name))
    monkeypatch.undo()
    result = verify(pdf)
    assert not result.ok
    assert any("QR code" in p and "does not carry" in p for p in result.problems)

def test_verify_agrees_for_an_untouched_run(tmp_path: Path) -> None:
    pdf, js, _ = _issue(make_record(make_serial(45), fail="ocv"), tmp_path)
    for path in (pdf, js):
        result = verify(path)
        assert result.ok, result.problems


def test_tampered_record_fails_verify(tmp_path: Path) -> None:
    r = make_record(make_serial(46), fail="ocv")
    pdf, js, sha = _issue(r, tmp_path)
    doc = json.loads(js.read_bytes())
    doc["measurements"][6]["value"] = 52.0  # make the failing OCV look good
    doc["measurements"][6]["outcome"] = "PASS"
    js.write_text(json.dumps(doc, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    result = verify(pdf)
    assert not result.ok
    text = "\n".join(result.problems)
    assert f"names record SHA-256 {sha}" in text
    assert "measurements[ocv].value: record file 52.0, store 50.9" in text
    assert "measurements[ocv].outcome: record file 'PASS', store 'FAIL'" in text


def test_swapped_certificate_fails_verify(tmp_path: Path) -> None:
    a_pdf, a_js, _ = _issue(make_record(make_serial(47)), tmp_path)
    b_pdf, _, _ = _issue(make_record(make_serial(48), started=make_record(
        make_serial(47)).finished_at), tmp_path)
    a_pdf.write_bytes(b_pdf.read_bytes())
    result = verify(a_js)
    assert not result.ok
    assert any("says serial" in p for p in result.problems)


def test_store_that_lost_a_measurement_fails_verify(tmp_path: Path) -> None:
    r = make_record(make_serial(49))
    pdf, _, _ = _issue(r, tmp_path)
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'station.sqlite'}")
    with engine.begin() as conn:
        conn.exec_driver_sql("DELETE FROM measurements WHERE name = 'dc_resistance'")
    engine.dispose()
    result = verify(pdf)
    assert not result.ok
    assert any("only in the record file: dc_resistance" in p for p in result.problems)


def test_missing_pieces_fail_verify(tmp_path: Path) -> None:
    pdf, js, _ = _issue(make_record(make_serial(50)), tmp_path)
    (tmp_path / "station.sqlite").rename(tmp_path / "elsewhere.sqlite")
    result = verify(pdf)
    assert not result.ok and any("no results store" in p for p in result.problems)
    assert verify(pdf, f"sqlite:///{tmp_path / 'elsewhere.sqlite'}").ok
    pdf.unlink()
    assert any("certificate" in p and "not found" in p for p in verify(js).problems)


def test_verify_cli_exit_codes(tmp_path: Path) -> None:
    app = typer.Typer()
    register(app)
    pdf, js, _ = _issue(make_record(make_serial(51)), tmp_path)
    runner = CliRunner()
    ok = runner.invoke(app, ["verify", str(pdf)])
    assert ok.exit_code == 0, ok.output
    assert "agree" in ok.output
    js.write_bytes(js.read_bytes().replace(b'"A. Tester"', b'"B. Tester"'))
    bad = runner.invoke(app, ["verify", str(pdf)])
    assert bad.exit_code == 1
    assert "DISAGREE" in bad.output and "operator" in bad.output
    usage = runner.invoke(app, ["verify", str(tmp_path / "x.txt")])
    assert usage.exit_code == 2 and "give a certificate (.pdf) or a record (.json)" in usage.output


@pytest.mark.parametrize("verdict", ["ABORTED", "ERROR"])
def test_aborted_and_error_runs_are_not_certificates(verdict: str, tmp_path: Path) -> None:
    r = make_record(make_serial(52), verdict_override=verdict)
    pdf, _, _ = _issue(r, tmp_path)
    assert f"{NOT_A_CERTIFICATE}: the unit did not pass ({verdict})" in " ".join(_text(pdf).split())
    assert verify(pdf).ok


def test_a_measurement_cell_is_drawn_as_text_only_where_it_fits_its_column() -> None:
    """Short cells are plain text (the cheap path), long ones wrap: none runs into the next."""
    from reportlab.pdfbase.pdfmetrics import stringWidth
    from reportlab.platypus import Table

    from reports.certificate import _SMALL_PADDING, build_story
    from reports.paragraph import Paragraph
    from reports.pdffonts import SANS

    r = make_record(make_serial(44))
    r.measurements[0].name = "a_measurement_name_long_enough_to_need_two_lines_in_its_column"
    story = build_story(r, "0" * 64, "x.json")
    (table,) = [f for f in story if isinstance(f, Table) and len(f._colWidths) == 8]
    kinds = set()
    for row in table._cellvalues[1:]:
        for cell, width in zip(row[:-1], table._colWidths, strict=False):
            if isinstance(cell, str):
                kinds.add("text")
                assert stringWidth(cell, SANS, 7) <= width - 2 * _SMALL_PADDING, cell
            else:
                kinds.add("paragraph")
                assert isinstance(cell, Paragraph)
                _, height = cell.wrap(width - 2 * _SMALL_PADDING, 1000)
                assert height > cell.style.leading   # it needed more than one line
    assert kinds == {"text", "paragraph"}
    assert table._cellvalues[1][1] != r.measurements[0].name   # the long name wraps
