"""The simulated calendar: the present time by default (taken once, at bench start), pinned
by VSTATION_EPOCH for reproducible runs."""

from __future__ import annotations

import json
import subprocess
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from common.clock import DEFAULT_EPOCH, EPOCH_ENV, epoch_from_env
from sim.bench import SimBench
from stations.check import run_check
from stations.schema import default_station_file
from tests.reliability.procs import STATION, _env


def test_a_bench_starts_its_calendar_now_unless_pinned(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(EPOCH_ENV, raising=False)
    before = datetime.now(UTC)
    bench = SimBench(model="v5", instruments=False)
    assert abs(bench.clock.utcnow() - before) < timedelta(seconds=5)
    assert bench.clock.epoch.microsecond == 0
    monkeypatch.setenv(EPOCH_ENV, "2026-03-02T10:30:00Z")
    assert SimBench(model="v5", instruments=False).clock.utcnow() == datetime(2026, 3, 2, 10, 30, tzinfo=UTC)
    monkeypatch.setenv(EPOCH_ENV, "fixed")
    assert SimBench(model="v5", instruments=False).clock.epoch == DEFAULT_EPOCH


def test_epoch_parsing() -> None:
    assert epoch_from_env({}) is None
    assert epoch_from_env({EPOCH_ENV: ""}) is None
    assert epoch_from_env({EPOCH_ENV: "2026-01-05T08:00:00"}) == DEFAULT_EPOCH   # no offset: UTC
    assert epoch_from_env({EPOCH_ENV: "2026-01-05T09:00:00+01:00"}) == DEFAULT_EPOCH
    with pytest.raises(ValueError, match="VSTATION_EPOCH"):
        epoch_from_env({EPOCH_ENV: "yesterday"})


def test_a_run_is_dated_today_by_default(tmp_path: Path) -> None:
    env = _env()
    env.pop(EPOCH_ENV, None)
    out = tmp_path / "results"
    done = subprocess.run([STATION, "run", "eol", "--serial", "PV5S260100000013", "--out", str(out),
                           "-q"], capture_output=True, text=True, timeout=300, env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    (record,) = out.glob("*.json")
    started = datetime.fromisoformat(json.loads(record.read_text())["started_at"])
    assert abs(started - datetime.now(UTC)) < timedelta(minutes=10)
    assert datetime.now(UTC).strftime("%Y%m%d") in record.name or \
        datetime.now(UTC).strftime("%Y-%m-%d") in record.name


def test_calibration_due_within_30_days_is_a_warning(tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VSTATION_EPOCH", "2036-12-11T08:00:00+00:00")
    report = run_check(default_station_file())
    assert report.result_of("calibration load") == "WARN"
    assert "in 20 days" in next(i.detail for i in report.items if i.item == "calibration load")
    assert report.exit_code == 0


def test_every_date_is_the_bench_clocks(monkeypatch: pytest.MonkeyPatch) -> None:
    """The due-date arithmetic uses the station date (the simulated calendar here)."""
    monkeypatch.setenv("VSTATION_EPOCH", "2037-01-01T00:00:00+00:00")
    report = run_check(default_station_file())
    detail = next(i.detail for i in report.items if i.item == "calibration daq")
    assert report.result_of("calibration daq") == "PROBLEM"
    assert (date(2037, 1, 1) - timedelta(days=1)).isoformat() in detail
