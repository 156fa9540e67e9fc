"""The certification pre-check: limits and plan agree, clause rows, NOT RUN reasons and the
flip of a NOT RUN row when its fixture is declared, the clause report read back.

A full cert run costs minutes of wall time on this bench (docs/cert-plan.md), so these
tests run development runs of a few steps, one per module."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pypdf
import pytest
import tomli_w

from fixtures.engine import execute
from fixtures.session import RunRequest
from reports.cert_report import FOOTER, clause_rows, write_cert_report
from testplans.cert import PLAN
from testplans.limits import load_limits

ROOT = Path(__file__).resolve().parents[2]
STATION = ROOT / "stations" / "sim-cert.toml"
SERIAL = "PV5S260100000013"


@pytest.mark.parametrize("model", ["v5", "v5-alpha", "v5-alpha-plus"])
def test_every_cert_measurement_is_declared_and_every_step_has_a_clause_row(model: str) -> None:
    limits = load_limits(model, "cert")
    PLAN.check_against([d.name for d in limits.data.measurement], limits.label)
    steps = {d.step for d in limits.data.measurement}
    rows = {r["step"] for r in limits.data.clause if "step" in r}
    assert steps <= rows, f"steps without a clause row: {steps - rows}"


@pytest.fixture(scope="module")
def identity_run(tmp_path_factory: pytest.TempPathFactory):
    out = tmp_path_factory.mktemp("cert")
    return execute(RunRequest(plan="cert", serial=SERIAL, station_file=STATION, out_dir=out),
                   select=["-k", "c01 or c02"])


def test_a_clause_whose_fixture_is_absent_is_not_run_with_its_reason(identity_run) -> None:
    record = identity_run.record
    assert record is not None and record.development
    rows = {r.id: r for r in clause_rows(record)}
    assert rows["C01"].verdict == rows["C02"].verdict == "PASS"
    assert rows["C08"].verdict == "NOT RUN" and "short-circuit fixture absent" in rows["C08"].reason
    assert rows["C05b"].verdict == "NOT RUN" and "prepared sample" in rows["C05b"].reason
    for clause in ("C12", "C13"):
        assert rows[clause].verdict == "NOT RUN" and "prepared sample" in rows[clause].reason
    assert rows["C15"].verdict == "NOT RUN" and "reversal fixture absent" in rows["C15"].reason
    assert rows["F-NA"].verdict == "NOT APPLICABLE" and "cell maker" in rows["F-NA"].reason
    assert rows["F-LAB"].verdict == "NOT RUN" and rows["F-LAB"].reason == "lab only"
    # a clause that can run but did not (its steps not selected) is NOT RUN, saying why
    assert rows["C05"].verdict == "NOT RUN" and "did not complete" in rows["C05"].reason
    assert {r.verdict for r in rows.values()} <= {"PASS", "FAIL", "NOT RUN", "NOT APPLICABLE"}
    assert "c08_trip_s" not in {m.name for m in record.measurements}


def test_the_clause_report_says_pre_check_on_every_page(identity_run, tmp_path: Path) -> None:
    record = identity_run.record
    path = write_cert_report(record, "0" * 64, tmp_path / "cert.pdf")
    pages = pypdf.PdfReader(path).pages
    text = [p.extract_text() for p in pages]
    assert all("NOT A CERTIFICATION" in t and "purchased standard" in t for t in text), FOOTER
    joined = " ".join(text)
    assert "C08" in joined and "short-circuit fixture absent" in joined and "PASS" in joined


def test_a_declared_fixture_turns_its_row_from_absent_to_judged(tmp_path: Path) -> None:
    result = execute(RunRequest(plan="cert", serial=SERIAL, station_file=STATION, out_dir=tmp_path,
                                fixtures=("short_circuit",)), select=["-k", "c01 or c08"])
    record = result.record
    assert record is not None
    m = {x.name: x for x in record.measurements}
    assert {m[k].outcome for k in ("c08_peak_current_a", "c08_trip_s", "c08_reclose_s")} == {"PASS"}
    row = next(r for r in clause_rows(record) if r.id == "C08")
    assert row.verdict == "PASS"


def test_a_declared_fixture_the_station_has_not_got_errors_its_row_and_says_why(tmp_path: Path) -> None:
    doc = tomllib.loads(STATION.read_text(encoding="utf-8"))
    del doc["instruments"]["short_circuit"]
    station = tmp_path / "no-scope.toml"
    station.write_text(tomli_w.dumps(doc), encoding="utf-8")
    result = execute(RunRequest(plan="cert", serial=SERIAL, station_file=station, out_dir=tmp_path,
                                fixtures=("short_circuit",)), select=["-k", "c01 or c08"])
    record = result.record
    assert record is not None
    m = next(m for m in record.measurements if m.name == "c08_trip_s")
    assert m.outcome == "ERROR" and "no short_circuit role" in m.message
    row = next(r for r in clause_rows(record) if r.id == "C08")
    assert row.verdict == "NOT RUN" and "absent" not in row.reason and "no short_circuit role" in row.reason


def test_an_unknown_fixture_is_refused_before_start(tmp_path: Path) -> None:
    result = execute(RunRequest(plan="cert", serial=SERIAL, station_file=STATION, out_dir=tmp_path,
                                fixtures=("flux_capacitor",)))
    assert result.exit_code == 3 and "flux_capacitor" in (result.refused or "")
