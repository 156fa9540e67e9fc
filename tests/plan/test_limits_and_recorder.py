"""Limits documents and the recorder: base + override, resolution, judging, NOT_RUN, verdicts."""

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
from stations.schema import default_station_file, load_station_file
from testplans.limits import LIMITS_DIR, LimitsFileError, load_limits

WORK_ORDER = {"serial": "PV5S260100000013", "dip": 0, "address": 2}
STATION = load_station_file(default_station_file())


def _specs(features: set[str] | None = None, work_order: dict | None = None):
    return load_limits("v5").resolve(work_order or WORK_ORDER, features or set(), station=STATION)


def _limits_folder(tmp_path: Path) -> Path:
    """A copy of the EOL limits documents (base, budgets, the V5° override) to edit."""
    folder = tmp_path / "limits"
    (folder / "eol").mkdir(parents=True)
    for name in ("base.toml", "budget.toml", "v5.toml"):
        (folder / "eol" / name).write_text((LIMITS_DIR / "eol" / name).read_text())
    return folder


def _record(plan: str = "eol", work_order: dict | None = None) -> Record:
    lim = load_limits("v5")
    return Record(
        run_id=uuid.uuid4().hex, serial="PV5S260100000013", model="v5", plan=plan,
        verdict=None, started_at=datetime(2026, 1, 1, tzinfo=UTC), finished_at=None,
        duration_s=None, wall_duration_s=None, operator="t", software_version="0",
        station=StationInfo(id="s", line="l", file="f", simulated=True), instruments=[],
        firmware=Firmware(), limits=LimitsInfo(file=lim.label, version=lim.version, sha256=lim.sha256),
        work_order=work_order or WORK_ORDER,
        measurements=[],
    )


def _recorder(**kw) -> Recorder:
    return Recorder(record=_record(**kw), specs=_specs(), clock=VirtualClock())


@pytest.mark.parametrize("model", list(MODELS))
def test_each_model_has_a_valid_limits_document_with_its_golden_crc(model: str) -> None:
    lim = load_limits(model)
    assert lim.data.model == model and lim.data.plan == "eol"
    crc = f"{golden_crc(model):08X}"
    for name in ("param_crc_stored", "param_crc_active", "param_crc_stored_after"):
        d = next(d for d in lim.data.measurement if d.name == name)
        assert d.expect == crc


def test_models_differ_only_in_their_overrides() -> None:
    """The resolved documents of two models differ in exactly what an override sets."""
    import tomllib

    base = load_limits("v5").data
    for model in ("v5-alpha", "v5-alpha-plus"):
        other = load_limits(model).data
        override = tomllib.loads((LIMITS_DIR / "eol" / f"{model}.toml").read_text())
        mine = tomllib.loads((LIMITS_DIR / "eol" / "v5.toml").read_text())
        changed = set(override["measurement"]) | set(mine["measurement"])
        mine_d = {d.name: d for d in base.measurement}
        for d in other.measurement:
            assert d == mine_d[d.name] or d.name in changed, d.name
        cond_keys = set(override["conditions"]) | set(mine["conditions"])
        assert {k for k in base.conditions if base.conditions[k] != other.conditions[k]} <= cond_keys
        assert other.released_firmware == base.released_firmware and other.derating == base.derating


def test_an_override_names_only_what_the_base_declares(tmp_path: Path) -> None:
    folder = _limits_folder(tmp_path)
    (folder / "eol" / "v5.toml").write_text(
        (LIMITS_DIR / "eol" / "v5.toml").read_text() + '\n[measurement.no_such_measurement]\nhigh = 1\n')
    with pytest.raises(LimitsFileError, match=r"v5\.toml.*no_such_measurement.*overrides no measurement"):
        load_limits("v5", folder=folder)


def test_a_limits_file_edited_between_loads_in_one_process_is_read_anew(tmp_path: Path) -> None:
    """A lot's units load the same documents (parsed once per content): an edit between two
    loads is what the second one judges, with its own hash; the first load is unchanged."""
    folder = _limits_folder(tmp_path)
    first = load_limits("v5", folder=folder)
    base = folder / "eol" / "base.toml"
    base.write_text(base.read_text().replace('unit = "MΩ"\nlow = 10.0\n', 'unit = "MΩ"\nlow = 12.0\n', 1))
    second = load_limits("v5", folder=folder)
    low = {lim.sha256: next(d for d in lim.data.measurement if d.name == "insulation_mohm").low
           for lim in (first, second)}
    assert second.sha256 != first.sha256
    assert low == {first.sha256: 10.0, second.sha256: 12.0}
    assert load_limits("v5", folder=folder).sha256 == second.sha256


@pytest.mark.parametrize("bound", ["nan", "inf", "-inf"])
def test_a_non_finite_bound_is_refused_at_load(bound: str, tmp_path: Path) -> None:
    folder = _limits_folder(tmp_path)
    (folder / "eol" / "base.toml").write_text(
        (LIMITS_DIR / "eol" / "base.toml").read_text().replace('unit = "MΩ"\nlow = 10.0\n', f'unit = "MΩ"\nlow = {bound}\n', 1))
    with pytest.raises(LimitsFileError, match="insulation_mohm"):
        load_limits("v5", folder=folder)


def test_each_measurement_is_resolved_once_into_the_limit_that_is_judged() -> None:
    specs = _specs()
    rec = Recorder(record=_record(), specs=specs, clock=VirtualClock())
    m = rec.measure("serial_rs485", "PV5S260100000013")
    assert m.limit is specs["serial_rs485"].limit          # the very object, not a copy
    assert m.limit.expect == "PV5S260100000013"           # the work order, resolved at start
    assert specs["fw_main"].limit.allowed == ["2.3.0", "2.3.1"]


@pytest.mark.parametrize(
    ("name", "value", "outcome"),
    [
        ("ground_bond_ohm", 0.05, "PASS"), ("ground_bond_ohm", 0.0965, "PASS"),
        ("ground_bond_ohm", 0.1, "FAIL"),   # at the spec limit: in the guard band
        ("ground_bond_ohm", 0.1001, "FAIL"), ("insulation_mohm", 9.9, "FAIL"),
        ("ocv_v", 51.5032, "PASS"), ("ocv_v", 51.5, "FAIL"), ("ocv_v", 53.61, "FAIL"),
        ("device_name", "V5A", "FAIL"),
        ("device_name", "V5", "PASS"), ("fw_main", "2.3.1", "PASS"), ("fw_main", "1.5.0", "FAIL"),
        ("serial_rs485", "PV5S260100000013", "PASS"), ("serial_rs485", "PV5S260100000021", "FAIL"),
        ("led_standby_others_dark", True, "PASS"), ("led_standby_others_dark", 1, "FAIL"),
        ("ocv_v", "52", "ERROR"), ("ocv_v", None, "ERROR"),
        ("ocv_v", float("nan"), "ERROR"), ("insulation_mohm", float("inf"), "ERROR"),
        ("ground_bond_ohm", float("nan"), "ERROR"), ("ground_bond_ohm", float("-inf"), "ERROR"),
    ],
)
def test_judge(name: str, value: object, outcome: str) -> None:
    spec = _specs()[name]
    got, why = spec.limit.judge(value, spec.unit)
    assert got == outcome, why


def test_a_non_finite_critical_reading_is_error_and_stops_the_plan() -> None:
    rec = _recorder()
    with pytest.raises(CriticalFailure, match="insulation_mohm ERROR"):
        rec.measure("insulation_mohm", float("nan"))
    record = rec.finish()
    assert record.verdict == "ERROR" and record.measurement("insulation_mohm").value is None


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
    plain = Recorder(record=_record(), specs=_specs(), clock=VirtualClock())
    assert "heater_power_w" not in plain.declared and "breaker_blocks_start" not in plain.declared
    full = Recorder(record=_record(), specs=_specs({"heater", "breaker"}), clock=VirtualClock())
    assert {"heater_power_w", "breaker_blocks_start"} <= full.declared.keys()


def test_critical_failure_raises_and_verdict_is_fail_with_not_run_rest() -> None:
    sunk = []
    rec = _recorder()
    rec.sinks.append(sunk.append)
    rec.measure("insulation_mohm", 500e6)   # SI: ohms in, MΩ recorded
    with pytest.raises(CriticalFailure, match="ground_bond_ohm"):
        rec.measure("ground_bond_ohm", 0.5)
    record = rec.finish()
    assert record.verdict == "FAIL"
    assert record.failure is not None and record.failure.measurement == "ground_bond_ohm"
    names = [m.name for m in record.measurements]   # in plan order: the bond after the rest
    assert names[0] == "insulation_mohm" and names.index("ground_bond_ohm") > names.index("ocv_v")
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
