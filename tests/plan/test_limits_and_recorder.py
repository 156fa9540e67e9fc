"""Limits files and the recorder: declarations, judging, NOT_RUN, verdicts."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest

from common.clock import VirtualClock
from common.models import MODELS
from common.params import golden_crc
from fixtures.recorder import CriticalFailure, MeasurementError, Recorder, UndeclaredMeasurement
from reports.record import Firmware, LimitsInfo, Record, StationInfo
from testplans.limits import LimitsFileError, judge, load_limits


def _record(plan: str = "eol", work_order: dict | None = None) -> Record:
    lim = load_limits("v5")
    return Record(
        run_id=uuid.uuid4().hex, serial="PV5S260100000013", model="v5", plan=plan,
        verdict=None, started_at=datetime(2026, 1, 1, tzinfo=UTC), finished_at=None,
        duration_s=None, wall_duration_s=None, operator="t", software_version="0",
        station=StationInfo(id="s", line="l", file="f", simulated=True), instruments=[],
        firmware=Firmware(), limits=LimitsInfo(file=str(lim.path), version=lim.version, sha256=lim.sha256),
        work_order=work_order or {"serial": "PV5S260100000013", "dip": 0, "address": 2},
        measurements=[],
    )


def _recorder(**kw) -> Recorder:
    return Recorder(record=_record(**kw), limits=load_limits("v5"), clock=VirtualClock())


@pytest.mark.parametrize("model", list(MODELS))
def test_each_model_has_a_valid_limits_file_with_its_golden_crc(model: str) -> None:
    lim = load_limits(model)
    assert lim.data.model == model
    crc = f"{golden_crc(model):08X}"
    for name in ("param_crc_stored", "param_crc_active", "param_crc_stored_after"):
        d = next(d for d in lim.data.measurement if d.name == name)
        assert d.expect == crc


def test_models_differ_only_where_the_model_does() -> None:
    base = {d.name: d for d in load_limits("v5").data.measurement}
    for model in ("v5-alpha", "v5-alpha-plus"):
        other = {d.name: d for d in load_limits(model).data.measurement}
        assert other.keys() == base.keys()
        differing = {n for n in base if base[n] != other[n]}
        assert differing <= {
            "device_name", "param_crc_stored", "param_crc_active",
            "param_crc_stored_after", "param_crc_active_after", "peak_tier_trip_s",
        }


def test_a_broken_limits_file_names_file_and_measurement(tmp_path: Path) -> None:
    text = load_limits("v5").path.read_text().replace("high = 0.1\n", "high = -0.1\nlow = 1.0\n", 1)
    bad = tmp_path / "bad.toml"
    bad.write_text(text)
    with pytest.raises(LimitsFileError, match=r"bad\.toml.*ground_bond_ohm.*low 1.0 is above high"):
        load_limits(bad)
    bad.write_text("model = [")
    with pytest.raises(LimitsFileError, match="not valid TOML"):
        load_limits(bad)
    with pytest.raises(LimitsFileError, match="cannot read"):
        load_limits(tmp_path / "missing.toml")


@pytest.mark.parametrize(
    ("name", "value", "outcome"),
    [
        ("ground_bond_ohm", 0.05, "PASS"), ("ground_bond_ohm", 0.1, "PASS"),
        ("ground_bond_ohm", 0.1001, "FAIL"), ("insulation_mohm", 9.9, "FAIL"),
        ("ocv_v", 51.5, "PASS"), ("ocv_v", 53.61, "FAIL"), ("device_name", "V5A", "FAIL"),
        ("device_name", "V5", "PASS"), ("fw_main", "2.3.1", "PASS"), ("fw_main", "1.5.0", "FAIL"),
        ("serial_rs485", "PV5S260100000013", "PASS"), ("serial_rs485", "PV5S260100000021", "FAIL"),
        ("led_standby_others_dark", True, "PASS"), ("led_standby_others_dark", 1, "FAIL"),
        ("ocv_v", "52", "ERROR"), ("ocv_v", None, "ERROR"),
    ],
)
def test_judge(name: str, value: object, outcome: str) -> None:
    lim = load_limits("v5")
    d = next(d for d in lim.data.measurement if d.name == name)
    got, why = judge(d, value, lim, {"serial": "PV5S260100000013"})
    assert got == outcome, why


def test_undeclared_and_duplicate_measurements_are_errors() -> None:
    rec = _recorder()
    with pytest.raises(UndeclaredMeasurement):
        rec.measure("no_such_thing", 1.0)
    rec.measure("ocv_v", 52.0)
    with pytest.raises(MeasurementError, match="already"):
        rec.measure("ocv_v", 52.0)
    with rec.in_step("safety"), pytest.raises(MeasurementError, match="declared in step"):
        rec.measure("cell_spread_mv", 3)


def test_heater_and_breaker_measurements_only_where_they_apply() -> None:
    plain = Recorder(record=_record(), limits=load_limits("v5"), clock=VirtualClock())
    assert "heater_power_w" not in plain.declared and "breaker_blocks_start" not in plain.declared
    full = Recorder(record=_record(), limits=load_limits("v5"), clock=VirtualClock(),
                    features={"heater", "breaker"})
    assert {"heater_power_w", "breaker_blocks_start"} <= full.declared.keys()


def test_critical_failure_raises_and_verdict_is_fail_with_not_run_rest() -> None:
    sunk = []
    rec = _recorder()
    rec.sink = sunk.append
    rec.measure("insulation_mohm", 500.0)
    with pytest.raises(CriticalFailure, match="ground_bond_ohm"):
        rec.measure("ground_bond_ohm", 0.5)
    record = rec.finish()
    assert record.verdict == "FAIL"
    assert record.failure is not None and record.failure.measurement == "ground_bond_ohm"
    assert [m.name for m in record.measurements][:2] == ["ground_bond_ohm", "insulation_mohm"]
    assert len(record.measurements) == len(rec.declared)
    assert record.counts()["NOT_RUN"] == len(rec.declared) - 2
    assert [m.name for m in sunk][:2] == ["insulation_mohm", "ground_bond_ohm"]


def test_verdicts() -> None:
    rec = _recorder()
    rec.error("ocv_v", "DAQ did not answer")
    assert rec.finish().verdict == "ERROR"
    rec = _recorder()
    assert rec.finish(aborted="operator stop").verdict == "ABORTED"


def test_fail_step_marks_only_that_steps_untaken_measurements() -> None:
    rec = _recorder()
    rec.measure("ocv_v", 52.0)
    rec.fail_step("rest", "DAQ timeout")
    record = rec.finish()
    rest = [m for m in record.measurements if m.step == "rest"]
    assert rec.record.measurement("ocv_v").outcome == "PASS"
    assert all(m.outcome == "ERROR" for m in rest if m.name != "ocv_v")
    assert record.measurement("ground_bond_ohm").outcome == "NOT_RUN"
    assert record.verdict == "ERROR"
