"""A simulated instrument's commands take the time the real one needs, on the bench clock:
a query's cost passes before its answer, a write's at the next query on that link."""

from __future__ import annotations

import socket

import pytest

from sim.instruments import SIM_DIALECTS
from sim.instruments.timing import DIALECT_TIMES, command_time


def _ask(sock: socket.socket, line: str) -> str:
    sock.sendall(line.encode() + b"\n")
    buf = b""
    while not buf.endswith(b"\n"):
        chunk = sock.recv(4096)
        assert chunk, f"no answer to {line!r}"
        buf += chunk
    return buf.decode().strip()


def test_every_simulated_dialect_has_command_times() -> None:
    assert {d for ds in SIM_DIALECTS.values() for d in ds} <= set(DIALECT_TIMES)
    with pytest.raises(ValueError, match="no command times"):
        command_time("acme-9000")


def test_a_daq_reading_costs_its_aperture_and_writes_are_paid_at_the_next_query(rig) -> None:
    server = rig.bench.servers["daq"]
    times = command_time("keysight-daq970a")
    with socket.create_connection((server.host, server.port), timeout=2) as sock:
        t0 = rig.clock.now()
        _ask(sock, "MEAS:VOLT:DC? (@101)")
        spent = rig.clock.now() - t0
        assert spent == pytest.approx(times.of_command("MEAS:VOLT:DC? (@101)"))
        assert spent >= 0.030            # 1 PLC at 50 Hz and the relay: not free
        t1 = rig.clock.now()
        sock.sendall(b"SOUR:DIG:DATA:BYTE 0,(@302)\n")   # a write: owed, not yet paid
        _ask(sock, "SYST:ERR?")
        assert rig.clock.now() - t1 == pytest.approx(
            times.of_command("SOUR:DIG:DATA:BYTE 0,(@302)") + times.of_command("SYST:ERR?"))


def test_a_serial_instrument_pays_for_its_bytes() -> None:
    feasa = command_time("feasa-led")
    short, long_ = feasa.of_command("C"), feasa.of_command("getsequence01")
    assert long_ - short == pytest.approx(12 * 10 / 57600)
    assert feasa.of_answer("0" * 100, "\r\n") == pytest.approx(102 * 10 / 57600)
    assert command_time("keysight-rp7900").of_answer("0" * 100, "\n") == 0.0   # LAN
