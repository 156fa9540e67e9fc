"""Every off-spec unit FAILs the EOL plan, first at the measurement that covers it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from sim.faults import FAULTS, Fault, markdown_table
from sim.unit import default_unit, with_change

DOC = Path(__file__).resolve().parents[2] / "docs" / "fault-coverage.md"


def _flat(data: Any, prefix: str = "") -> dict[str, Any]:
    if not isinstance(data, dict):
        return {prefix: list(data) if isinstance(data, tuple) else data}
    out: dict[str, Any] = {}
    for k, v in data.items():
        out.update(_flat(v, f"{prefix}.{k}" if prefix else str(k)))
    return out


def test_at_least_25_faults_from_both_layers() -> None:
    assert len(FAULTS) >= 25
    assert {f.layer for f in FAULTS} == {"parameters", "unit"}
    assert len({f.id for f in FAULTS}) == len(FAULTS)


@pytest.mark.parametrize("fault", FAULTS, ids=[f.id for f in FAULTS])
def test_off_spec_unit_fails_first_at_its_measurement(fault: Fault, tmp_path: Path, eol) -> None:
    golden = default_unit(fault.model)
    unit = with_change(golden, fault.key, fault.value)
    # exactly one value differs from the golden unit, and it is the one named
    before, after = _flat(golden.model_dump()), _flat(unit.model_dump())
    assert [k for k in after if after[k] != before.get(k)] == [fault.key]
    # the line's stop-on-fail: what comes after the covering step is not needed to know it
    code, record = eol(tmp_path, unit, serial=fault.scanned_serial, stop_on_fail=True)
    first = record.first_failure()
    assert record.verdict == "FAIL" and code == 1, (record.verdict, first)
    assert first is not None and first.name == fault.first_failure, first
    assert first.outcome == "FAIL"
    steps = [s.name for s in record.steps]
    assert steps[-1] == first.step, steps   # the plan ended with the failing step
    later = [m for m in record.measurements if m.step not in steps]
    assert all(m.outcome == "NOT_RUN" for m in later), [m.name for m in later if m.outcome != "NOT_RUN"]


def test_docs_carry_the_fault_table() -> None:
    text = DOC.read_text(encoding="utf-8")
    assert markdown_table() in text, "regenerate with: python -m sim.faults"


def test_a_protection_contact_that_never_closes_fails_on_the_voltage_protections_too(
        tmp_path: Path, eol) -> None:
    """The voltage protections are timed on the MOSFET, not NO3; NO3 is still read while
    each is held, so a contact that never closes fails there as well as on the trip."""
    unit = with_change(default_unit("v5"), "contacts.no3", "stuck_open")
    _code, record = eol(tmp_path, unit)
    m = record.measurement("contact_no3_voltage_protection")
    assert m.outcome == "FAIL", m
    assert m.message == "NO3 open while held: cell UV, cell OV, pack UV, pack OV", m.message
    assert record.measurement("contact_no3_protection").outcome == "FAIL"
    assert record.measurement("cell_ov_protection_s").outcome == "PASS"   # timed on the MOSFET
