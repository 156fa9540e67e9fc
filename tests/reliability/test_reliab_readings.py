"""Readings that are not numbers: an instrument answering NAN, +INF or SCPI's over-range
9.9E37 is ERROR for that measurement (never PASS, never compared), a critical one stops
the plan, and no PASS certificate is issued."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from cases import BY_ID
from harness import run_with_fault

from drivers.instruments.scpi import reading
from sim.instruments.daq import SimDaq
from sim.instruments.load import SimLoad
from sim.instruments.safety import SimSafety


@pytest.mark.parametrize("answer", ["NAN", "+INF", "-INF", "9.9E37", "9.91E37", "-9.9E37"])
def test_over_range_and_not_a_number_readings_are_nan(answer: str) -> None:
    assert math.isnan(reading(answer))
    assert reading("+5.0E-02,1") == 0.05


@pytest.mark.parametrize(("case_id", "value"), [("safety-nan", math.nan), ("safety-inf", math.inf)])
def test_safety_tester_answers_not_a_number(case_id: str, value: float, tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    def start(self: SimSafety) -> None:
        self.results[1] = value

    monkeypatch.setattr(SimSafety, "start", start)
    case = BY_ID[case_id]
    o = run_with_fault(monkeypatch, tmp_path / "out")
    assert o.code == case.exit == 2, o.terminal
    assert o.record is not None and o.record.verdict == case.verdict
    first = o.record.first_failure()
    assert first is not None and first.name == "insulation_mohm" and first.outcome == "ERROR"
    assert case.says in first.message and first.value is None
    assert o.record.measurement("terminal_voltage_v").outcome == "NOT_RUN"   # critical: stopped
    assert o.stored is not None and o.stored.verdict == case.verdict
    assert o.state is not None and o.state.safe


def test_daq_over_range_pack_voltage(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(SimDaq, "read_voltage", lambda self: 9.9e37)
    case = BY_ID["daq-over-range"]
    o = run_with_fault(monkeypatch, tmp_path / "out")
    assert o.code == case.exit, o.terminal
    assert o.record is not None and o.record.verdict == case.verdict
    m = o.record.measurement("terminal_voltage_v")
    assert m.outcome == "ERROR" and case.says in m.message


def test_load_current_not_a_number_is_error_not_pass(tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    real = SimLoad.measured
    monkeypatch.setattr(SimLoad, "measured", lambda self: (real(self)[0], math.nan))
    case = BY_ID["load-nan"]
    o = run_with_fault(monkeypatch, tmp_path / "out")
    assert o.code == case.exit, o.terminal
    assert o.record is not None and o.record.verdict == case.verdict
    m = o.record.measurement("discharge_current_a")
    assert m.outcome == "ERROR" and case.says in m.message
    assert o.state is not None and o.state.safe
