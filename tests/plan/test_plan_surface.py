"""The plan author's surface: SPEC words and SI units in plans, one limit object from
resolution to certificate, development runs, the one road to the simulated bench."""

from __future__ import annotations

import re
from pathlib import Path

import pypdf
import pytest

from fixtures.engine import execute
from fixtures.plugin import DEFAULT_STATION
from fixtures.session import RunRequest
from reports.analytics import load_lot, summarize
from reports.record import Limit
from reports.store import open_store
from sim.unit import default_unit, unit_from_dict, write_unit
from stations.open import open_station
from testplans.eol import PLAN
from testplans.limits import load_limits

ROOT = Path(__file__).resolve().parents[2]
SERIAL = "PV5S260100000013"
#: Wire constants a plan must not speak: CAN IDs, Pylon command codes, fields in wire units.
WIRE = [
    (r"\b0x[0-9A-Fa-f]{2,}\b", "a hexadecimal wire constant"),
    (r"\bCID2", "a Pylon command code"),
    (r"\.\w+_(mv|da|dc|mah|ma)\b", "a field in wire units"),
    (r"/\s*(10|100|1000)\b(?!\s*\))", "a wire-unit conversion"),
    (r"\b35[15569CcEe]\b", "a CAN ID"),
    (r"\b(bms_can|bms_rs485)\b|\bconsole\.\w+\(", "a pack port instead of the bms role"),
]


def _plan_sources() -> list[Path]:
    return sorted(p for p in (ROOT / "testplans").rglob("*") if p.suffix in (".py", ".toml"))


@pytest.mark.parametrize(("pattern", "what"), WIRE, ids=[w for _, w in WIRE])
def test_no_wire_constant_in_testplans(pattern: str, what: str) -> None:
    hits = [f"{p.relative_to(ROOT)}:{n}: {line.strip()}"
            for p in _plan_sources()
            for n, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1)
            if re.search(pattern, line.split("#")[0])]
    assert not hits, f"{what} in testplans/:\n" + "\n".join(hits)


def test_every_measurement_of_the_plan_is_declared_and_every_declaration_measured() -> None:
    for model in ("v5", "v5-alpha", "v5-alpha-plus"):
        limits = load_limits(model)
        PLAN.check_against([d.name for d in limits.data.measurement], limits.label)
    with pytest.raises(ValueError, match="declares no_such_v, which no step"):
        PLAN.check_against([*_declared(), "no_such_v"], "x")


def _declared() -> list[str]:
    return [d.name for d in load_limits("v5").data.measurement]


def test_an_undeclared_name_in_a_step_is_refused_before_start() -> None:
    names = [n for n in _declared() if n != "fast_trip_s"]
    with pytest.raises(ValueError, match=r"measures fast_trip_s, which x does not declare"):
        PLAN.check_against(names, "x")


def test_the_certificate_prints_for_every_measurement_the_limit_that_was_judged(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    judged: dict[int, Limit] = {}
    real = Limit.judge

    def spy(self: Limit, value: object, unit: str = "") -> tuple[str, str]:
        judged[id(self)] = self
        return real(self, value, unit)  # type: ignore[arg-type]

    monkeypatch.setattr(Limit, "judge", spy)
    result = execute(RunRequest(plan="eol", serial=SERIAL, station_file=DEFAULT_STATION,
                                out_dir=tmp_path))
    record = result.record
    assert record is not None and record.verdict == "PASS" and result.certificate_path
    text = "\n".join(p.extract_text() for p in pypdf.PdfReader(result.certificate_path).pages)
    printed = re.sub(r"\s", "", text)   # a long cell wraps: compare without white space
    for m in record.measurements:
        assert judged.get(id(m.limit)) is m.limit, f"{m.name}: its limit is not the one judged"
        row = printed.find(m.name)
        assert row >= 0, f"{m.name} is not on the certificate"
        lim = m.limit   # spec limit, U and acceptance limit: three columns of its row
        limit = re.sub(r"\s", "", lim.spec_text() + lim.uncertainty_text() + lim.acceptance_text())
        assert limit in printed[row:row + 400], f"{m.name}: {m.limit.text()} not in its row"
    with open_store(None, tmp_path) as store:
        stored = store.load_record(record.run_id)
    assert [m.limit for m in stored.measurements] == [m.limit for m in record.measurements]


def test_a_run_of_some_steps_is_a_development_run_outside_yield(tmp_path: Path) -> None:
    def run(*select: str):
        return execute(RunRequest(plan="eol", serial=SERIAL, station_file=DEFAULT_STATION,
                                  out_dir=tmp_path), select=list(select))

    first = run()
    assert first.record is not None and first.record.verdict == "PASS"
    with open_store(None, tmp_path) as store:
        before = summarize(*load_lot(store))
    dev = run("-k", "safety or power_on")
    rec = dev.record
    assert rec is not None and rec.development and rec.verdict == "PASS", rec.failure
    assert dev.certificate_path is None and dev.record_path is not None
    assert not dev.record_path.with_suffix(".pdf").exists()
    assert {m.step for m in rec.measurements if m.outcome != "NOT_RUN"} == {"safety", "power_on"}
    assert [s.name for s in rec.steps] == ["safety", "power_on"]
    with open_store(None, tmp_path) as store:
        after = summarize(*load_lot(store))
        assert store.load_record(rec.run_id).development
    assert (after.n_runs, after.yield_, after.first_pass_yield) == \
        (before.n_runs, before.yield_, before.first_pass_yield)
    again = run()   # the next production run is the first re-test, not the second
    assert again.record is not None and again.record.retest_index == 1
    assert len(list(tmp_path.glob("*.pdf"))) == 2


def test_the_record_has_a_step_record_per_step_on_the_station_clock(tmp_path: Path) -> None:
    result = execute(RunRequest(plan="eol", serial=SERIAL, station_file=DEFAULT_STATION,
                                out_dir=tmp_path))
    rec = result.record
    assert rec is not None and rec.duration_s is not None
    assert rec.verdict == "PASS", (rec.failure, [(m.name, m.outcome, m.message)
                                                 for m in rec.measurements if m.outcome != "PASS"][:5])
    names = list(dict.fromkeys(m.step for m in rec.measurements))
    assert [s.name for s in rec.steps] == names
    assert all(s.outcome == "PASS" and s.ended_t is not None for s in rec.steps)
    starts = [s.started_t for s in rec.steps]
    assert starts == sorted(starts) and rec.steps[-1].ended_t <= rec.duration_s + 1e-3
    for s in rec.steps:   # each measurement was taken inside its step's interval
        for m in (m for m in rec.measurements if m.step == s.name):
            assert s.started_t - 1e-6 <= (m.t or 0) <= (s.ended_t or 0) + 1e-6, (s, m.name)
    # the cycle time's breakdown adds up, for the run and for each step
    use = rec.time_use
    assert use is not None and use.dwell_s + use.io_s + use.other_s == pytest.approx(
        rec.duration_s, abs=2e-3)
    for s in rec.steps:
        assert s.time_use is not None
        assert sum(s.time_use.model_dump().values()) == pytest.approx(
            (s.ended_t or 0) - s.started_t, abs=1e-5), s
    # honest time: the safety tester's programmed insulation test (1 s ramp + 2 s; the bond
    # runs while the pack starts) takes its time, and it is the tester's, not a plan's wait
    safety = next(s for s in rec.steps if s.name == "safety")
    assert safety.time_use is not None
    assert safety.ended_t - safety.started_t >= 3.0 and safety.time_use.dwell_s == 0.0   # the insulation's ramp and test
    # every exchange costs something: the 32 BMS readings of the rest step are I/O
    rest = next(s for s in rec.steps if s.name == "rest")
    assert rest.time_use is not None and rest.time_use.io_s > 0.5 * (rest.ended_t - rest.started_t)


def test_the_simulated_bench_is_opened_through_a_filled_in_station_file(tmp_path: Path) -> None:
    """No "sim" address survives; the pack ports are the station file's; RS485 runs at
    the work order's baud, and a pack talking at another one is not heard."""
    unit = default_unit("v5", SERIAL)
    with open_station(DEFAULT_STATION, unit=unit) as st:
        assert all(c.address != "sim" for c in st.config.instruments.values())
        assert st.config.pack is not None and st.config.pack.rs485.port.startswith("/dev/pts/")
        assert st.bms.rs485.port.baudrate == 9600
    fast = unit_from_dict({"model": "v5", "identity": {"serial": SERIAL},
                           "comms": {"rs485_baud": 19200}})
    path = tmp_path / "fast.unit.toml"
    write_unit(fast, path)
    result = execute(RunRequest(plan="eol", serial=SERIAL, station_file=DEFAULT_STATION,
                                unit_file=path, out_dir=tmp_path / "out"))
    assert result.record is not None and result.record.verdict == "FAIL"
    first = result.record.first_failure()
    assert first is not None and first.name == "serial_rs485" and "no answer" in first.message


def test_a_plan_module_that_does_not_import_is_an_error_naming_it(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The plan's module fails at import (a name it imports is gone): the run is ERROR with
    pytest's reason, nothing of the plan runs, the bench is left safe; not an "operator
    stop (Interrupted)"."""
    import sys

    import common.clock

    monkeypatch.delitem(sys.modules, "testplans.eol.test_eol", raising=False)
    monkeypatch.delattr(common.clock, "wait_until")
    result = execute(RunRequest(plan="eol", serial=SERIAL, station_file=DEFAULT_STATION,
                                out_dir=tmp_path))
    rec = result.record
    assert result.exit_code == 2 and rec is not None and rec.verdict == "ERROR"
    assert rec.failure is not None and "plan not loaded" in rec.failure.message
    assert "test_eol.py" in rec.failure.message and "wait_until" in rec.failure.message
    assert rec.steps == [] and all(m.outcome == "NOT_RUN" for m in rec.measurements)
    assert result.safe_report is not None and result.safe_report.ok
