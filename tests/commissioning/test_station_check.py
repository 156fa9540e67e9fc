"""`station check`: every instrument identified, calibration, envelope against ratings,
fixture relays, pack ports; each problem one row of one report, the bench left safe."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

from typer.testing import CliRunner

from stations.check import run_check
from stations.cli import app
from stations.schema import default_station_file
from tests.reliability.procs import SAFE, STATION, Instruments, _env, served_bench

ROLES = ("load", "supply", "chamber", "daq", "leds", "safety")
RELAYS = ("power", "sw", "breaker", "in1")


def _copy(tmp_path: Path, text: str | None = None, **subs: tuple[str, str]) -> Path:
    """A copy of stations/sim.toml (or ``text``) with regex substitutions applied once each."""
    text = text if text is not None else default_station_file().read_text(encoding="utf-8")
    for _, (pattern, repl) in subs.items():
        text, n = re.subn(pattern, repl, text, count=1, flags=re.M | re.S)
        assert n == 1, pattern
    path = tmp_path / "station.toml"
    path.write_text(text, encoding="utf-8")
    return path


def _cli(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["check", *args], env={"COLUMNS": "250"})
    return result.exit_code, result.output


def test_simulated_bench_all_ok_with_every_instrument_and_relay() -> None:
    report = run_check(default_station_file(), pack=True)
    items = {i.item: i for i in report.items}
    for role in ROLES:
        assert items[f"instrument {role}"].result == "OK", items[f"instrument {role}"]
        assert f"SIM-{role.upper()}-0001" in items[f"instrument {role}"].detail
        assert items[f"calibration {role}"].result == "OK"
    for relay in RELAYS:
        assert items[f"relay {relay}"].result == "OK", items[f"relay {relay}"]
    for port in ("pack RS485", "pack console", "pack CAN"):
        assert items[port].result == "OK", items[port]
    assert "PV5S" in items["pack RS485"].detail
    assert items["envelope vs ratings"].result == "OK"
    assert items["safe state"].result == "OK"
    assert report.exit_code == 0
    code, out = _cli()
    assert code == 0, out
    assert "bench ready" in out and "instrument safety" in out


def test_wrong_serial_is_a_problem_and_the_rest_is_still_checked(tmp_path: Path) -> None:
    path = _copy(tmp_path, s=(r'serial = "SIM-SUPPLY-0001"', 'serial = "MY62001234"'))
    report = run_check(path)
    assert report.result_of("instrument supply") == "PROBLEM"
    detail = next(i.detail for i in report.items if i.item == "instrument supply")
    assert "MY62001234" in detail and "SIM-SUPPLY-0001" in detail
    assert all(report.result_of(f"instrument {r}") == "OK" for r in ROLES if r != "supply")
    assert report.result_of("safe state") == "OK"
    code, out = _cli("--station", str(path))
    assert code == 1 and "PROBLEM" in out and "not ready" in out


def test_expired_calibration_is_reported_not_a_crash(tmp_path: Path) -> None:
    path = _copy(tmp_path, c=(r'(\[instruments\.chamber\].*?calibration_due = )2036-12-31',
                              r"\g<1>2020-01-31"))
    report = run_check(path)
    assert report.result_of("calibration chamber") == "PROBLEM"
    assert "expired on 2020-01-31" in next(i.detail for i in report.items
                                          if i.item == "calibration chamber")
    assert report.result_of("instrument chamber") == "OK"   # still opened and identified
    assert report.result_of("relay power") == "OK"
    code, out = _cli("--station", str(path))
    assert code == 1 and "expired on 2020-01-31" in out


def test_envelope_above_a_rating_is_a_problem_not_a_refusal(tmp_path: Path) -> None:
    path = _copy(tmp_path, a=(r"max_current_a = 250\.0", "max_current_a = 5000.0"))
    report = run_check(path)
    assert report.result_of("envelope.max_current_a") == "PROBLEM"
    detail = next(i.detail for i in report.items if i.item == "envelope.max_current_a")
    assert "5000 A" in detail and "rated" in detail
    assert all(report.result_of(f"instrument {r}") == "OK" for r in ROLES)
    code, out = _cli("--station", str(path))
    assert code == 1 and "envelope.max_current_a" in out


def test_a_station_file_the_schema_refuses_is_exit_3(tmp_path: Path) -> None:
    path = _copy(tmp_path, k=(r"^watchdog_s = 30\.0", "watchdog_s = 30.0\nfrobnicate = 1"))
    code, out = _cli("--station", str(path))
    assert code == 3, out
    assert "refused" in out and "frobnicate" in out
    code, out = _cli("--station", str(tmp_path / "missing.toml"))
    assert code == 3 and "cannot read" in out


def _served_check(station_file: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([STATION, "check", "--station", str(station_file), *args],
                          capture_output=True, text=True, timeout=90, env=_env())


def test_served_bench_in_another_process(tmp_path: Path) -> None:
    with served_bench(tmp_path / "bench") as desc:
        served = Path(desc["station_file"])
        done = _served_check(served, "--pack")
        assert done.returncode == 0, done.stdout + done.stderr
        for role in ROLES:
            assert re.search(rf"instrument {role}\s+│ OK", done.stdout), done.stdout
        for port in ("pack RS485", "pack console", "pack CAN"):
            assert re.search(rf"{port}\s+│ OK", done.stdout), done.stdout
        inst = Instruments(desc)
        try:
            assert inst.state() == SAFE
        finally:
            inst.close()

        # a bench a run holds is reported busy and not touched
        from fixtures.lock import StationLock
        from stations.schema import load_station_file

        with StationLock(load_station_file(served).id):
            busy = run_check(served)
        assert [i.item for i in busy.items if i.result == "PROBLEM"] == ["station lock"]
        assert "in use by" in busy.items[-1].detail
        assert not any(i.item.startswith("instrument") for i in busy.items)

        text = served.read_text(encoding="utf-8")
        # the station file names another load model than the one on the bench
        wrong_model = _copy(tmp_path, text, m=(r'dialect = "chroma-63200a"',
                                              'dialect = "itech-it8900a"'))
        done = _served_check(wrong_model)
        assert done.returncode == 1, done.stdout + done.stderr
        assert re.search(r"instrument load\s+│ PROBLEM", done.stdout), done.stdout
        assert "itech-it8900a" in done.stdout and "63212A" in done.stdout
        assert re.search(r"instrument supply\s+│ OK", done.stdout)

        # a wrong serial, an expired date and an envelope above the ratings, all at once
        worse = _copy(tmp_path, text,
                      s=(r'serial = "SIM-DAQ-0001"', 'serial = "MY58001234"'),
                      c=(r"calibration_due = 2099-12-31", "calibration_due = 2021-03-31"),
                      v=(r"max_voltage_v = 60\.0", "max_voltage_v = 600.0"))
        done = _served_check(worse)
        assert done.returncode == 1, done.stdout + done.stderr
        for item in ("instrument daq", "calibration load", "envelope.max_voltage_v"):
            assert re.search(rf"{re.escape(item)}\s+│ PROBLEM", done.stdout), done.stdout
        assert "relay power" not in done.stdout or "SKIP" in done.stdout
        inst = Instruments(desc)
        try:
            assert inst.state() == SAFE
        finally:
            inst.close()
