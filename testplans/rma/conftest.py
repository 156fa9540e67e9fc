"""Fixtures of the RMA plan: the store (for the baseline), the operator's intake, and the
console made read-only before any step runs (CERT-RMA R03)."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import pytest


@pytest.fixture(scope="session", autouse=True)
def _read_only_console(plan_run: Any, station: Any) -> None:
    """No command but the R03 reads ever reaches the pack in this run; CAN is not read
    (the diagnosis speaks console and RS485), so the bus is released."""
    station.bms.console_read_only()
    station.bms.release_can()


@pytest.fixture(scope="session")
def store(plan_run: Any) -> Any:
    """The results store of the run (every run per serial)."""
    return plan_run.prepared.store


@pytest.fixture(scope="session")
def intake(plan_run: Any) -> dict[str, Any]:
    """The intake file of the work order (``--intake``), as given; {} when none."""
    path: Path | None = plan_run.prepared.request.intake
    if path is None:
        return {}
    return tomllib.loads(Path(path).read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def rma_thresholds(plan_run: Any) -> dict[str, Any]:
    """The classification's thresholds (the limits document's ``[rma]``)."""
    return dict(plan_run.prepared.limits.data.rma)
