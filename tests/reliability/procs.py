"""Real processes: `station sim serve` (a real-time bench) and `station run eol` against the
station file it generates, with their output read as an operator's terminal would show it."""

from __future__ import annotations

import contextlib
import json
import queue
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
STATION = str(ROOT / ".venv" / "bin" / "station")


class Proc:
    """A child process whose stdout and stderr lines are collected by reader threads."""

    def __init__(self, args: list[str]) -> None:
        self.args = args
        self.p = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                  cwd=ROOT, env=_env())
        self.lines: queue.Queue[tuple[str, str]] = queue.Queue()
        self.out: list[str] = []
        self.err: list[str] = []
        self._readers = [threading.Thread(target=self._read, args=(s, n), daemon=True)
                         for s, n in ((self.p.stdout, "out"), (self.p.stderr, "err"))]
        for t in self._readers:
            t.start()

    def _read(self, stream: Any, name: str) -> None:
        for line in stream:
            (self.out if name == "out" else self.err).append(line.rstrip("\n"))
            self.lines.put((name, line.rstrip("\n")))

    def wait_line(self, needle: str, timeout: float) -> str:
        """The first line (stdout or stderr) containing ``needle``; fails after ``timeout``."""
        end = time.monotonic() + timeout
        while True:
            left = end - time.monotonic()
            if left <= 0:
                raise AssertionError(f"no line with {needle!r} within {timeout} s from {self.args}:\n"
                                     + "\n".join(self.out + self.err))
            try:
                _, line = self.lines.get(timeout=min(left, 0.2))
            except queue.Empty:
                if self.p.poll() is not None and not any(t.is_alive() for t in self._readers) \
                        and self.lines.empty():
                    raise AssertionError(f"{self.args} ended (exit {self.p.returncode}) without a "
                                         f"line with {needle!r}:\n" + self.terminal) from None
                continue
            if needle in line:
                return line

    def signal(self, sig: int) -> None:
        self.p.send_signal(sig)

    def wait(self, timeout: float) -> int:
        code = self.p.wait(timeout)
        for t in self._readers:
            t.join(5)
        return code

    def stop(self) -> None:
        if self.p.poll() is None:
            self.p.send_signal(signal.SIGINT)
            try:
                self.p.wait(10)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait(5)
        for t in self._readers:
            t.join(5)

    @property
    def terminal(self) -> str:
        return "\n".join(self.out + self.err)


def _env() -> dict[str, str]:
    import os

    env = dict(os.environ)
    env["PYTHONUNBUFFERED"] = "1"
    env["COLUMNS"] = "200"
    env.pop("FORCE_COLOR", None)
    env["NO_COLOR"] = "1"
    return env


@contextlib.contextmanager
def served_bench(folder: Path) -> Iterator[dict[str, Any]]:
    """`station sim serve --no-power-on`; yields its JSON description; stopped on exit."""
    folder.mkdir(parents=True, exist_ok=True)
    proc = Proc([STATION, "sim", "serve", "--no-power-on", "--station-file",
                 str(folder / "served.toml")])
    try:
        line = proc.wait_line("station_file", 30)
        desc = json.loads(line)
        yield desc
    finally:
        proc.stop()


def with_watchdog(station_file: str, folder: Path, seconds: float) -> Path:
    """A copy of the generated station file with another output-watchdog delay."""
    text = Path(station_file).read_text(encoding="utf-8")
    lines = [f"watchdog_s = {seconds}" if ln.startswith("watchdog_s") else ln
             for ln in text.splitlines()]
    assert any(ln.startswith("watchdog_s") for ln in lines)
    path = folder / "station-wd.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def run_eol(station_file: str | Path, serial: str, out: Path) -> Proc:
    return Proc([STATION, "run", "eol", "--serial", serial, "--station", str(station_file),
                 "--out", str(out)])


class Instruments:
    """Queries the served instruments over pyvisa, as a technician with a laptop would."""

    def __init__(self, desc: dict[str, Any]) -> None:
        import pyvisa

        self._rm = pyvisa.ResourceManager("@py")
        self._res: dict[str, Any] = {}
        self._desc = desc["instruments"]

    def query(self, role: str, command: str) -> str:
        if role not in self._res:
            r = self._rm.open_resource(self._desc[role]["resource"])
            r.read_termination = "\r\n" if role == "chamber" else "\n"
            r.write_termination = "\n"
            r.timeout = 5000
            self._res[role] = r
        return str(self._res[role].query(command)).strip()

    def state(self) -> dict[str, str]:
        return {
            "load": self.query("load", "LOAD?"),
            "short": self.query("load", "LOAD:SHOR?"),
            "supply": self.query("supply", "OUTP?"),
            "chamber": self.query("chamber", "MODE?"),
            "relays": self.query("daq", "SOUR:DIG:DATA:BYTE? (@302)"),
        }

    def close(self) -> None:
        for r in self._res.values():
            with contextlib.suppress(Exception):
                r.close()
        self._rm.close()


SAFE = {"load": "0", "short": "0", "supply": "0", "chamber": "STANDBY", "relays": "0"}
