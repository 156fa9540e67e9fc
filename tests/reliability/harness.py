"""Run the EOL plan in-process with a fault scheduled on the bench's virtual clock.

``run_with_fault(out, at_s, inject)`` starts ``station run eol`` as the CLI does (same
``run_plan``), catches the simulated bench the station starts, schedules ``inject(bench)``
at ``at_s`` simulated seconds after the plan's start and returns what an operator and an
auditor would look at afterwards: exit code, terminal text, the record file, the store's
copy of the run and the simulated instruments' own state after the run.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Console

import stations.simbench as simbench
from fixtures.session import RunRequest
from reports.record import Record
from reports.store import open_store
from sim.instruments.daq import HEARTBEAT_BIT
from stations.cli_run import run_plan

ROOT = Path(__file__).resolve().parents[2]
SIM_STATION = ROOT / "stations" / "sim.toml"
SERIAL = "PV5S260100000013"


@dataclass
class BenchState:
    """The simulated instruments' own state, read from the models (not through a driver)."""

    load_input_on: bool
    load_short_on: bool
    supply_output_on: bool
    chamber_mode: str
    daq_out_byte: int
    pack_debug: bool

    @property
    def safe(self) -> bool:
        return (not self.load_input_on and not self.load_short_on and not self.supply_output_on
                and self.chamber_mode == "standby"
                # every fixture output open; the dead-man's heartbeat may still be toggling
                # (the station is alive and feeds it until it closes)
                and self.daq_out_byte & ~(1 << HEARTBEAT_BIT) == 0
                and not self.pack_debug)


@dataclass
class Outcome:
    code: int
    out: str
    err: str
    record: Record | None
    stored: Record | None
    bench: Any
    state: BenchState | None
    injected_at: float | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def terminal(self) -> str:
        return self.out + self.err


def bench_state(bench: Any) -> BenchState:
    ins = bench.instruments
    return BenchState(
        load_input_on=ins.load.input_on, load_short_on=ins.load.short_on,
        supply_output_on=ins.supply.output_on, chamber_mode=ins.chamber.mode,
        daq_out_byte=ins.daq.out_byte, pack_debug=bool(bench.pack.bms.debug),
    )


def run_with_fault(monkeypatch: Any, out: Path, at_s: float | None = None,
                   inject: Callable[[Any], None] | None = None, **request: Any) -> Outcome:
    """One EOL run of a golden V5 with ``inject(bench)`` at ``at_s`` simulated seconds."""
    benches: list[Any] = []
    injected: list[float] = []
    real = simbench.start_sim_bench

    def start(*args: Any, **kwargs: Any) -> Any:
        setup = real(*args, **kwargs)
        benches.append(setup.bench)
        if inject is not None and at_s is not None:
            clock = setup.bench.clock

            def fire(t: float) -> None:
                injected.append(t)
                inject(setup.bench)

            clock.call_at(clock.now() + at_s, fire)
        return setup

    monkeypatch.setattr(simbench, "start_sim_bench", start)
    out.mkdir(parents=True, exist_ok=True)
    fields = {"plan": "eol", "serial": SERIAL, "station_file": SIM_STATION, "out_dir": out,
              **request}
    req = RunRequest(**fields)
    so, se = io.StringIO(), io.StringIO()
    code = run_plan(req, Console(file=so, width=200), Console(file=se, width=200))
    records = sorted(out.glob("PV5*.json"))
    record = Record.load(records[-1]) if records else None
    stored = None
    if record is not None:
        with open_store(request.get("db"), out) as store:
            stored = store.load_record(record.run_id)
    bench = benches[-1] if benches else None
    state = bench_state(bench) if bench is not None and bench.instruments is not None else None
    return Outcome(code, so.getvalue(), se.getvalue(), record, stored, bench, state,
                   injected[0] if injected else None)


def fast_station(folder: Path, timeout_ms: int = 800) -> Path:
    """The simulated station with short I/O timeouts, so a silent instrument costs little
    wall time (the default 2 s would be waited for on every query of the safe state)."""
    text = SIM_STATION.read_text(encoding="utf-8")
    text = text.replace('address = "sim"\n', f'address = "sim"\ntimeout_ms = {timeout_ms}\n')
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "station-fast.toml"
    path.write_text(text, encoding="utf-8")
    return path
