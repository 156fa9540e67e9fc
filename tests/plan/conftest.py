"""Fixtures of the plan tests: run the EOL plan in-process, as `station run eol` does."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from reports.record import Record
from sim.unit import UnitDescription, write_unit
from stations.batch import run_quietly


def run_eol(out: Path, unit: UnitDescription | None = None, *, serial: str | None = None,
            **request: object) -> tuple[int, Record]:
    """Exit code and record of one EOL run of ``unit`` (default: a golden V5°)."""
    unit_file = None
    if unit is not None:
        out.mkdir(parents=True, exist_ok=True)
        unit_file = out / f"{unit.identity.serial}.unit.toml"
        write_unit(unit, unit_file)
        serial = serial or unit.identity.serial
    code, record = run_quietly(out, serial or "PV5S260100000013", unit_file=unit_file, **request)
    assert record is not None, f"no record written (exit {code})"
    return code, record


@pytest.fixture
def eol() -> Callable[..., tuple[int, Record]]:
    """``eol(out_dir, unit, **request)`` → (exit code, record)."""
    return run_eol
