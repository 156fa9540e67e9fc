"""The `station` command as a new user meets it: `python -m stations`, shell completion,
driver and wire logs somewhere (`--log-level`, `--log-file`), and a Ctrl-C that says at
once what the station is doing."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.reliability.procs import ROOT, STATION, Proc

SERIAL = "PV5S260100000013"


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "FORCE_COLOR")}
    return {**env, "NO_COLOR": "1", **extra}


def test_python_m_stations_is_the_station_command() -> None:
    done = subprocess.run([sys.executable, "-m", "stations", "--help"], capture_output=True,
                          text=True, timeout=60, cwd=ROOT, env=_env(COLUMNS="150"))
    assert done.returncode == 0, done.stderr
    for command in ("run", "verify", "report", "check", "sim"):
        assert f" {command} " in done.stdout, done.stdout


def test_shell_completion_completes_commands() -> None:
    env = _env(_STATION_COMPLETE="complete_bash", COMP_WORDS="station ru", COMP_CWORD="1")
    done = subprocess.run([STATION], capture_output=True, text=True, timeout=60, env=env)
    assert done.stdout.split() == ["run"], (done.stdout, done.stderr)
    # the shell named, not detected from the parent process (make, sh in CI): typer's own switch
    script = subprocess.run([STATION, "--show-completion", "bash"], capture_output=True,
                            text=True, timeout=60,
                            env=_env(_TYPER_COMPLETE_TEST_DISABLE_SHELL_DETECTION="1"))
    assert script.returncode == 0 and "_STATION_COMPLETE" in script.stdout


def test_log_file_in_a_missing_folder_is_refused_before_anything_opens(tmp_path: Path) -> None:
    out = tmp_path / "out"
    done = subprocess.run([STATION, "run", "eol", "--serial", SERIAL, "--out", str(out),
                           "--log-file", str(tmp_path / "nowhere" / "run.log")],
                          capture_output=True, text=True, timeout=60, env=_env())
    assert done.returncode == 3, done.stdout + done.stderr
    assert f"--log-file {tmp_path / 'nowhere' / 'run.log'}: folder" in done.stderr
    assert not out.exists()   # no store, no record: nothing was started
    bad = subprocess.run([STATION, "run", "eol", "--serial", SERIAL, "--log-level", "loud"],
                         capture_output=True, text=True, timeout=60, env=_env())
    assert bad.returncode == 2 and "loud" in bad.stderr


def test_debug_log_file_holds_every_instrument_and_pack_port_exchange(tmp_path: Path) -> None:
    log = tmp_path / "run.log"
    done = subprocess.run([STATION, "run", "eol", "--serial", SERIAL, "--out", str(tmp_path / "out"),
                           "-q", "--log-level", "debug", "--log-file", str(log)],
                          capture_output=True, text=True, timeout=300, env=_env())
    assert done.returncode == 0, done.stdout + done.stderr
    text = log.read_text(encoding="utf-8")
    assert "DEBUG station.wire: load > *IDN?  < " in text
    assert "DEBUG station.wire: daq > MEAS:VOLT:DC? (@" in text
    assert "DEBUG station.wire: rs485 > b'~" in text          # the pack's ports too
    assert "DEBUG station.wire: console > info  < " in text
    assert "station.wire" not in done.stderr   # to the file, not the terminal


def test_ctrl_c_says_at_once_that_the_bench_goes_to_the_safe_state(tmp_path: Path) -> None:
    run = Proc([STATION, "run", "eol", "--serial", SERIAL, "--out", str(tmp_path / "out")])
    try:
        run.wait_line("terminal_voltage_v", 120)
        run.signal(signal.SIGINT)
        sent = time.monotonic()
        line = run.wait_line("bringing the bench to the safe state", 5)
        said_after = time.monotonic() - sent
        assert line.startswith("SIGINT: stopping"), line
        assert run.wait(120) == 2, run.terminal
    finally:
        run.stop()
    assert said_after < 2.0, f"said {said_after:.1f} s after the signal"
    assert any("ABORTED" in ln for ln in run.out), run.terminal
