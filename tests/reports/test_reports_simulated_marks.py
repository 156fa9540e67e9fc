"""The clause report of the cert plan and the RMA report of a simulated run say SIMULATED
under the title and at the foot of every page; a real bench's say nothing of it (read back
with pypdf)."""

from __future__ import annotations

import io
from pathlib import Path

import pypdf
import pytest
from recordgen import make_record, make_serial

from reports.cert_report import cert_report_bytes
from reports.record import Record
from reports.rma_report import report_bytes


def _record(plan: str, simulated: bool) -> Record:
    r = make_record(make_serial(5))
    r.plan = plan
    r.station.simulated = simulated
    return r


def _pages(pdf: bytes) -> list[str]:
    return [" ".join(p.extract_text().split()) for p in pypdf.PdfReader(io.BytesIO(pdf)).pages]


@pytest.mark.parametrize("plan", ["cert", "rma"])
def test_reports_of_a_simulated_run_say_so_on_every_page(plan: str, tmp_path: Path) -> None:
    def build(simulated: bool) -> bytes:
        r = _record(plan, simulated)
        if plan == "cert":
            return cert_report_bytes(r, "d" * 64, tmp_path)
        return report_bytes(r, tmp_path / "record.json")

    pages = _pages(build(True))
    assert "SIMULATED BENCH: no real pack was tested" in pages[0]
    assert pages[0].count("SIMULATED") >= 2, pages[0]          # the banner and the footer
    assert all("SIMULATED" in p for p in pages[1:]), pages
    assert not any("SIMULATED" in p for p in _pages(build(False)))
