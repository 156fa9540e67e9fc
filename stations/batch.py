"""Run a plan from code, quietly, as ``station run`` does: for batches, tests and benchmarks."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rich.console import Console

from fixtures.plugin import DEFAULT_STATION
from fixtures.session import RunRequest
from reports.record import Record


def run_quietly(out: Path, serial: str, *, plan: str = "eol", unit_file: Path | None = None,
                station: Path = DEFAULT_STATION, **request: Any) -> tuple[int, Record | None]:
    """Exit code and the record written (None when the run was refused before start)."""
    from stations.cli_run import run_plan

    out.mkdir(parents=True, exist_ok=True)
    before = set(out.glob("PV5*.json"))
    req = RunRequest(plan=plan, serial=serial, station_file=station, unit_file=unit_file,
                     out_dir=out, **request)
    code = run_plan(req, Console(quiet=True), Console(stderr=True, quiet=True))
    written = sorted(set(out.glob("PV5*.json")) - before, key=lambda p: p.stat().st_mtime)
    return code, (Record.load(written[-1]) if written else None)
