"""Start-up: what a user pays around the plan, as ratios measured side by side.

- a whole ``station run eol`` process (imports, store, station, plan, record, certificate)
  against a ``station --help`` process (the interpreter, typer and the command tree);
- ten units in one process (``--serial`` repeated) against one unit in one process;
- five units as five processes against five in one process (for information).

All on one core (the processes inherit the pinning), into an output folder whose store
already exists, as on a station after its first run; and with Python's bytecode cached
(in a folder of the benchmark's own, ``PYTHONPYCACHEPREFIX``, made by that first run),
as on any station after its first run, even where the environment says
``PYTHONDONTWRITEBYTECODE`` (compiling a run's 130-odd modules from source each time is
a cost no station pays twice).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

from benchmarks.figure import Figure
from benchmarks.ratio import one_core, paired, ratio, timed
from common.serial_number import make_serial
from reports.store import open_store

STATION = str(Path(sys.executable).with_name("station"))
SERIALS = [make_serial("S", 26, 1, 700 + i) for i in range(10)]


#: The children's environment (bytecode cached under the benchmark's folder: see run()).
ENV: dict[str, str] = {}


def _station(*args: str) -> None:
    done = subprocess.run([STATION, *args], capture_output=True, text=True, timeout=600,
                          env=ENV)
    if done.returncode != 0:
        raise RuntimeError(f"station {' '.join(args)}: exit {done.returncode}\n{done.stderr[-800:]}")


def _run(out: Path, serials: list[str]) -> None:
    args = ["run", "eol", "--out", str(out), "-q"]
    for sn in serials:
        args += ["--serial", sn]
    _station(*args)


def run() -> list[Figure]:
    with tempfile.TemporaryDirectory(prefix="bench-start-") as tmp, one_core() as cpu:
        out = Path(tmp)
        ENV.clear()
        ENV.update({k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"},
                   NO_COLOR="1", PYTHONPYCACHEPREFIX=str(out / "pycache"))
        open_store(None, out).close()
        _run(out, SERIALS[:1])   # the station's key and bytecode, its first run: not measured
        _station("--help")
        one, helped = paired(lambda: _run(out, SERIALS[:1]), lambda: _station("--help"))
        ten, one_again = paired(lambda: _run(out, SERIALS), lambda: _run(out, SERIALS[:1]))
        five_procs = timed(lambda: [_run(out, [sn]) for sn in SERIALS[:5]])
        five_one = timed(lambda: _run(out, SERIALS[:5]))
    return [
        ratio(f"station run eol process ÷ station --help process (CPU {cpu})", one, helped,
              "station --help", 4.0),
        ratio("ten units in one process ÷ one unit", ten, one_again, "one unit", 4.0),
        ratio("five units as five processes ÷ five in one process", five_procs, five_one,
              "five in one process", None),
    ]
