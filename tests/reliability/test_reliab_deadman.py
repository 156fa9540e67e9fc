"""SIGKILL with energy flowing, through real processes: `station sim serve --no-power-on`
serves a real-time bench, `station run eol --station <its file>` is killed. The fixture's
dead-man (the watchdog relay the station no longer feeds) must stop the current within
10 s with no command sent; a pack left in test mode is logged out by the next start."""

from __future__ import annotations

import signal
import socket
import time
from pathlib import Path

import pytest
from cases import BY_ID
from procs import Instruments, Proc, run_eol, served_bench

pytestmark = pytest.mark.timeout(180)

#: Queries only (no watchdog to feed on the load or the DAQ; the supply is not asked).
#: No current within this of the kill.
BOUND_S = 10.0
LOAD_ON, AMPS, VOLTS = ("load", "LOAD?"), ("load", "MEAS:CURR?"), ("daq", "MEAS:VOLT:DC? (@101)")


def _poll(ins: Instruments, until: object, timeout: float) -> tuple[str, float, float]:
    """(load input, load A, terminal V) every 50 ms until ``until(state)``; fails after ``timeout``."""
    end = time.monotonic() + timeout
    while True:
        state = (ins.query(*LOAD_ON), float(ins.query(*AMPS)), float(ins.query(*VOLTS)))
        if until(state):  # type: ignore[operator]
            return state
        assert time.monotonic() < end, state
        time.sleep(0.05)


def _kill(run: Proc) -> float:
    run.signal(signal.SIGKILL)
    killed_at = time.monotonic()
    assert run.wait(10) == -signal.SIGKILL
    return killed_at


def test_sigkill_at_150_a_the_deadman_stops_the_current(tmp_path: Path) -> None:
    case = BY_ID["sigkill-load-on"]
    with served_bench(tmp_path / "bench") as desc:
        ins = Instruments(desc)
        try:
            run = run_eol(desc["station_file"], desc["serial"], tmp_path / "out")
            try:
                run.wait_line("in1_paths_resume", 120)     # next: the 15 s tier at 150 A
                on = _poll(ins, lambda s: s[1] > 100.0, 20)
                killed_at = _kill(run)
            finally:
                run.stop()
            off = _poll(ins, lambda s: s[0] == "0" and s[1] < 0.5 and abs(s[2]) < 1.0,
                        BOUND_S)
            took = time.monotonic() - killed_at
            print(f"\nkill → no current: {took:.2f} s (load {on[1]:.0f} A before)")
            assert took < BOUND_S and case.exit == -signal.SIGKILL
            time.sleep(3.0)   # nothing recloses: the load stays off and the pack unpowered
            later = _poll(ins, lambda s: True, 1)
            assert later[:2] == off[:2] == ("0", 0.0) and abs(later[2]) < 1.0, later
        finally:
            ins.close()


def _without_deadman(station_file: str, folder: Path) -> Path:
    """The generated station file for a fixture without a watchdog relay."""
    lines = Path(station_file).read_text(encoding="utf-8").splitlines()
    start = lines.index("[fixture.deadman]")
    end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("[")), len(lines))
    path = folder / "station-no-deadman.toml"
    path.write_text("\n".join(lines[:start] + lines[end:]) + "\n", encoding="utf-8")
    return path


def _prompt(url: str) -> bytes:
    """What the pack's console answers to an empty line (b"" when it is silent)."""
    host, port = url.removeprefix("socket://").rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=2) as s:
        s.sendall(b"\r")
        s.settimeout(1.0)
        got = b""
        try:
            while not got.endswith(b">"):
                chunk = s.recv(256)
                if not chunk:
                    break
                got += chunk
        except TimeoutError:
            pass
    return got


def test_sigkill_in_test_mode_the_next_start_logs_the_pack_out(tmp_path: Path) -> None:
    """A fixture without a dead-man keeps the pack powered after the kill, in test mode
    (with one, POWER drops and the pack's test mode ends with its power)."""
    case = BY_ID["sigkill-test-mode"]
    with served_bench(tmp_path / "bench") as desc:
        station = _without_deadman(desc["station_file"], tmp_path)
        run = run_eol(station, desc["serial"], tmp_path / "out")
        try:
            run.wait_line("led_test_order", 150)     # inside `login debug`
            _kill(run)
        finally:
            run.stop()
        assert _prompt(desc["console_tcp"]).endswith(b"PYTES_debug>")
        again = run_eol(station, desc["serial"], tmp_path / "out")
        try:
            again.wait_line(case.says, 60)
            again.wait_line("── safety", 60)
            again.signal(signal.SIGINT)
            assert again.wait(30) == 2, again.terminal
        finally:
            again.stop()
        assert "recovered unfinished run" in again.terminal
