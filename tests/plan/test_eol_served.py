"""The EOL plan against `station sim serve` in another process, in real time, through the
station file the bench generates: the path a real station takes (TCP instruments, socketcand,
serial over TCP), with a wall clock."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

from reports.record import Record

STATION = str(Path(sys.executable).with_name("station"))


def test_eol_passes_in_real_time_against_a_served_bench(tmp_path: Path) -> None:
    serve = subprocess.Popen(
        [STATION, "sim", "serve", "--no-power-on", "--station-file", str(tmp_path / "bench.toml")],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env={**os.environ, "COLUMNS": "200"},
    )
    try:
        line = serve.stdout.readline() if serve.stdout else ""
        assert line, serve.stderr.read() if serve.stderr else "no output"
        bench = json.loads(line)
        run = subprocess.run(
            [STATION, "run", "eol", "--station", bench["station_file"], "--serial", bench["serial"],
             "--out", str(tmp_path / "out"), "-q"],
            capture_output=True, text=True, timeout=400,
        )
        assert run.returncode == 0, run.stdout + run.stderr
        record = Record.load(next((tmp_path / "out").glob("PV5*.json")))
        assert record.verdict == "PASS"
        assert not record.station.simulated          # it is a real station file, wall clock
        assert record.station.id.startswith("SIMSERVE-")
        assert 80.0 < (record.duration_s or 0) <= 120.0  # the cycle time, measured in real time
        assert (record.wall_duration_s or 0) >= record.duration_s - 1
    finally:
        serve.send_signal(signal.SIGINT)
        assert serve.wait(timeout=20) == 0
    assert not (tmp_path / "bench.toml").exists()   # the generated station file is removed
