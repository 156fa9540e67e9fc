"""The hard aborts of the certification bench: a smoke/gas input (its interlock stops the
current at once, the watch ends the plan), and a runaway cell voltage
(an off-spec design whose over-voltage protection waits 60 s) end the plan in the safe state
within the watch's time bound, with the record kept."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import stations.simbench as simbench
from fixtures.engine import execute
from fixtures.session import RunRequest
from sim.cert_designs import CertDesign, design_unit
from sim.unit import default_serial, write_unit
from testplans.limits import load_limits

ROOT = Path(__file__).resolve().parents[2]
STATION = ROOT / "stations" / "sim-cert.toml"
SERIAL = "PV5S260100000013"
COND = load_limits("v5", "cert").data.conditions


class _Bench:
    """Keeps the simulated bench the run starts, to cause a fault on it at a set time."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, at_s: float | None = None) -> None:
        self.setup: Any = None
        self.smoke_at: float | None = None
        self.current_after: float | None = None
        self.current_before: float | None = None
        real = simbench.start_sim_bench

        def start(*args: Any, **kwargs: Any) -> Any:
            self.setup = real(*args, **kwargs)
            if at_s is not None:
                daq = self.setup.bench.instruments.daq

                def smoke(t: float) -> None:
                    self.current_before = self.setup.bench.pack.current()
                    daq.smoke_detected(t)
                    self.smoke_at = t
                    self.current_after = self.setup.bench.pack.current()
                self.setup.clock.call_at(at_s, smoke)
            return self.setup

        monkeypatch.setattr(simbench, "start_sim_bench", start)


def _assert_safe(result: Any, bench: _Bench) -> None:
    assert result.safe_report is not None and result.safe_report.ok, result.safe_report
    inst = bench.setup.bench.instruments
    assert not inst.supply.output_on and not inst.load.input_on
    assert result.record_path is not None and result.record_path.exists()


def test_a_smoke_input_ends_the_plan_in_the_safe_state_within_the_watch_bound(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    bench = _Bench(monkeypatch, at_s=3000.0)   # during C03's first charge (50 A)
    result = execute(RunRequest(plan="cert", serial=SERIAL, station_file=STATION, out_dir=tmp_path),
                     select=["-k", "c01 or c02 or c03"])
    record = result.record
    assert record is not None and result.exit_code == 2
    assert record.failure is not None and "smoke/gas input active" in record.failure.message
    assert record.failure.step == "c03_performance"
    c03 = next(s for s in record.steps if s.name == "c03_performance")
    assert bench.smoke_at is not None
    reaction = record.started_at.timestamp() + c03.ended_t - (bench.setup.clock.utcnow().timestamp() - bench.setup.clock.now() + bench.smoke_at)
    assert 0.0 <= reaction <= float(COND["abort_poll_s"]) + 5.0, reaction
    assert bench.current_before is not None and bench.current_before > 1.0   # charging then
    assert bench.current_after == 0.0   # the detector's interlock stopped the charge at once
    _assert_safe(result, bench)


def test_a_runaway_cell_voltage_ends_the_plan_before_it_passes_the_abort_level(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    design = CertDesign("ov-runaway", {"parameters.volt_prot_delay_ms": 60000,
                                       "cells.overrides.7.initial_soc_pct": 58.0},
                        frozenset(), "voltage protections after 60 s")
    serial = default_serial("v5", 13)
    unit = tmp_path / "runaway.toml"
    write_unit(design_unit(design, serial), unit)
    bench = _Bench(monkeypatch)
    result = execute(RunRequest(plan="cert", serial=serial, station_file=STATION, out_dir=tmp_path,
                                unit_file=unit), select=["-k", "c01 or c02 or c04 or c05"])
    record = result.record
    assert record is not None and result.exit_code == 2
    assert record.failure is not None and "abort at 3.811 V" in record.failure.message
    assert record.failure.step == "c05_overcharge"
    true_max = max(bench.setup.bench.pack.cells.cell_voltages(0.0))
    assert true_max < 3.90, "the watch let the cell reach the system-lock level"
    _assert_safe(result, bench)
