"""A bench served by `station sim serve` with its defaults (the pack started, as the
README's flow has it), driven from another process through the station file it writes:
the record says the bench is simulated (the station file declares it; nothing is sniffed
from the instruments), and the power-on step finds the pack on instead of pressing SW
into it (which put it to sleep: terminal_voltage_v ≈ 0 V, a good unit FAILed)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from reports.record import Record
from stations.schema import load_station_file
from tests.reliability.procs import STATION, Proc

pytestmark = pytest.mark.paced   # a wall-clock bench in another process


def test_served_bench_with_defaults_records_simulated_and_starts_the_pack(tmp_path: Path) -> None:
    served = tmp_path / "served.toml"
    bench = Proc([STATION, "sim", "serve", "--station-file", str(served)])   # pack powered on
    try:
        desc = json.loads(bench.wait_line("station_file", 30))
        config = load_station_file(served)
        assert config.bench.served and not config.bench.simulated   # real addresses, wall clock
        out = tmp_path / "out"
        run = subprocess.run(
            [sys.executable, "-m", "pytest", "--pyargs", "testplans.eol", "-q", "-p", "no:cacheprovider",
             "--station-serial", desc["serial"], "--station-file", str(served),
             "--station-out", str(out), "-k", "test_power_on"],
            capture_output=True, text=True, timeout=120)
        assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
    finally:
        bench.stop()
    record = Record.load(next(out.glob("*.json")))
    assert record.station.simulated is True
    m = record.measurement("terminal_voltage_v")
    assert m.outcome == "PASS" and isinstance(m.value, float) and m.value > 45.0, m
    assert m.message.startswith("pack found on"), m.message
