"""Run a plan from code, quietly, through the run engine: for batches, tests and benchmarks."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fixtures.engine import execute
from fixtures.plugin import DEFAULT_STATION
from fixtures.session import RunRequest
from reports.record import Record


def run_quietly(out: Path, serial: str, *, plan: str = "eol", unit_file: Path | None = None,
                station: Path = DEFAULT_STATION, **request: Any) -> tuple[int, Record | None]:
    """Exit code and the record written (None when the run was refused before start)."""
    out.mkdir(parents=True, exist_ok=True)
    req = RunRequest(plan=plan, serial=serial, station_file=station, unit_file=unit_file,
                     out_dir=out, **request)
    result = execute(req)
    return result.exit_code, result.record
