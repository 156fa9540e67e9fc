"""Fixtures of the plan tests: run the EOL plan in-process, as `station run eol` does."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from rich.console import Console

from fixtures.session import RunRequest
from reports.record import Record
from sim.unit import UnitDescription, write_unit
from stations.cli_run import run_plan

SIM_STATION = Path(__file__).resolve().parents[2] / "stations" / "sim.toml"


def run_eol(out: Path, unit: UnitDescription | None = None, *, serial: str | None = None,
            station: Path = SIM_STATION, **request: object) -> tuple[int, Record]:
    """Exit code and record of one EOL run of ``unit`` (default: a golden V5°)."""
    out.mkdir(parents=True, exist_ok=True)
    unit_file = None
    if unit is not None:
        unit_file = out / "unit.toml"
        write_unit(unit, unit_file)
        serial = serial or unit.identity.serial
    req = RunRequest(plan="eol", serial=serial or "PV5S260100000013", station_file=station,
                     unit_file=unit_file, out_dir=out, **request)  # type: ignore[arg-type]
    code = run_plan(req, Console(quiet=True), Console(stderr=True, quiet=True))
    records = sorted(out.glob("PV5*.json"))
    assert records, f"no record written (exit {code})"
    return code, Record.load(records[-1])


@pytest.fixture
def eol() -> Callable[..., tuple[int, Record]]:
    """``eol(out_dir, unit, **request)`` → (exit code, record)."""
    return run_eol
