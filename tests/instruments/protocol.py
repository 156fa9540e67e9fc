"""PyMeasure-style ``expected_protocol`` for the dialects: a scripted transport that holds
the exact bytes a driver must send and the bytes the instrument answers, failing on the
first deviation; and a replay of the same script against a simulated instrument server,
so the driver and the simulator are both held to the script (and through it to the manual).

A script is a list of steps ``(sent, reply)`` or ``(sent, reply, sim_reply_regex)``:
``sent`` and ``reply`` are whole wire lines including their terminations, ``reply`` is
``b""`` for a command the instrument does not answer, and the optional regex is what the
simulator's answer must match when the value is live (a measurement) rather than fixed.
A callable in the script is run by the replay only (e.g. let bench time pass where the
driver sleeps on its own clock).
"""

from __future__ import annotations

import re
import socket
from collections.abc import Callable, Sequence
from typing import Any

from common.clock import VirtualClock
from drivers.instruments.envelope import Envelope
from drivers.instruments.roles import Role

Step = tuple[bytes, bytes] | tuple[bytes, bytes, bytes] | Callable[[], Any]

ENVELOPE = Envelope(max_voltage_v=1000.0, max_current_a=5000.0, max_power_w=1e6,
                    chamber_min_c=-100.0, chamber_max_c=300.0)
#: A SCPI number as the simulated instruments print it (any sign, decimals, exponent).
NUM = rb"[-+]?\d+(\.\d+)?(E[-+]?\d+)?"


class ScriptedTransport:
    """A transport that accepts exactly the scripted lines, in order, and nothing else."""

    def __init__(self, script: Sequence[Step]) -> None:
        self.script = [s for s in script if not callable(s)]
        self.i = 0
        self.write_term = "\n"
        self.read_term = "\n"
        self._pending: list[bytes] = []

    def set_terminations(self, write: str, read: str) -> None:
        self.write_term, self.read_term = write, read

    def write(self, line: str) -> None:
        sent = (line + self.write_term).encode("ascii")
        assert not self._pending, f"sent {sent!r} with the answer {self._pending[0]!r} unread"
        assert self.i < len(self.script), f"unexpected extra command {sent!r}"
        expected, reply = self.script[self.i][0], self.script[self.i][1]
        assert sent == expected, f"step {self.i}: sent {sent!r}, the script says {expected!r}"
        self.i += 1
        term = self.read_term.encode("ascii")
        if reply.count(term) > 1:   # an answer of several lines
            self._pending = [line + term for line in reply.split(term)[:-1]]
        elif reply:
            self._pending = [reply]

    def read(self) -> str:
        assert self._pending, f"read with no answer due (after step {self.i - 1})"
        raw = self._pending.pop(0)
        term = self.read_term.encode("ascii")
        assert raw.endswith(term), f"answer {raw!r} does not end with {term!r}"
        return raw[: -len(term)].decode("ascii")

    def query(self, line: str) -> str:
        self.write(line)
        return self.read()

    def close(self) -> None:
        pass

    def done(self) -> None:
        assert self.i == len(self.script), f"only {self.i} of {len(self.script)} steps were sent"
        assert not self._pending, f"answer {self._pending[0]!r} never read"


def run_script(cls: type[Role], script: Sequence[Step], drive: Callable[[Any], Any],
               *, options: dict[str, Any] | None = None) -> Any:
    """Build ``cls`` on the script, run ``drive(driver)``, check every step was used."""
    transport = ScriptedTransport(script)
    driver = cls(transport, name="dut", envelope=ENVELOPE, clock=VirtualClock(),
                 options=options or {})
    result = drive(driver)
    transport.done()
    return result


def replay(host: str, port: int, script: Sequence[Step], *, read_term: bytes,
           timeout_s: float = 2.0) -> None:
    """Send the script's bytes to a simulated instrument and compare its answers."""
    with socket.create_connection((host, port), timeout=timeout_s) as sock:
        buf = b""
        for i, step in enumerate(script):
            if callable(step):
                step()
                continue
            sent, reply = step[0], step[1]
            sock.sendall(sent)
            if not reply:
                continue
            lines = reply.count(read_term) or 1
            got = b""
            for _ in range(lines):
                while read_term not in buf:
                    chunk = sock.recv(65536)
                    assert chunk, f"step {i}: the simulator hung up after {sent!r}"
                    buf += chunk
                line, _, buf = buf.partition(read_term)
                got += line + read_term
            pattern = step[2] if len(step) == 3 else re.escape(reply)  # type: ignore[misc]
            assert re.fullmatch(pattern, got, re.DOTALL), (
                f"step {i}: {sent!r} → simulator {got!r}, the script says {reply!r}")
        sock.settimeout(0.05)
        try:
            extra = buf + sock.recv(65536)
        except TimeoutError:
            extra = buf
        assert not extra, f"the simulator said more than the script: {extra!r}"
