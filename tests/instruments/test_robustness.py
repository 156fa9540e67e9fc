"""Corrupt input never takes a simulated instrument down; a silent one is bounded in time."""

from __future__ import annotations

import socket
import time
import tomllib
from pathlib import Path

import pytest
import tomli_w

from stations.open import open_station
from stations.schema import default_station_file

GARBAGE = [
    b"\xff\xfe\x00\x80garbage\n",
    b"A" * 70_000 + b"\n",
    b"\n\r\n;;;\n",
    b"CURR:STAT:L1 1e999999\n",
    b"DIG:SAMP:POIN banana\n",
    b"SOUR:DIG:DATA:BYTE ,(@\n",
    b"TEMP, S\n",
    b"getrgbi\n",
    b"putsequence 10\n",
]


def _read_until(sock: socket.socket, token: bytes) -> bytes:
    data = b""
    while token not in data:
        chunk = sock.recv(65536)
        assert chunk, f"server closed the connection; got {data[-200:]!r}"
        data += chunk
    return data


@pytest.mark.parametrize("role", ["load", "supply", "chamber", "daq", "leds", "safety"])
def test_garbage_then_a_valid_command_is_still_answered(rig, role: str) -> None:
    server = rig.bench.servers[role]
    with socket.create_connection(("127.0.0.1", server.port), timeout=2) as sock:
        for junk in GARBAGE:
            sock.sendall(junk)
        valid = {"chamber": b"TYPE?\r\n", "leds": b"getserial\r\n"}.get(role, b"*IDN?\n")
        sock.sendall(valid)
        # ESPEC and Feasa answer every line (NA:/Error:), SCPI only queries: ours comes last
        answer = _read_until(sock, b"0001")
    assert b"SIM-" in answer.strip().splitlines()[-1]
    assert len(server.received) >= len(GARBAGE) - 1  # every non-empty junk line was read


def test_safe_state_is_bounded_when_an_instrument_is_silent(tmp_path: Path) -> None:
    doc = tomllib.loads(default_station_file().read_text())
    doc["instruments"]["supply"]["timeout_ms"] = 200
    path = tmp_path / "st.toml"
    path.write_text(tomli_w.dumps(doc))
    with open_station(path) as st:
        sim = st.sim.instruments
        st.load.set_cc(5.0)
        st.load.set_input(True)
        sim.servers["supply"].muted = True
        t0 = time.perf_counter()
        report = st.safe_state()
        elapsed = time.perf_counter() - t0
        assert set(report.errors) == {"supply"} and "supply" in report.errors["supply"]
        assert not sim.load.input_on and sim.daq.out_byte == 0
        assert elapsed < 2.0  # a few I/O timeouts of 200 ms, not a hang
        sim.servers["supply"].muted = False


def test_load_pulse_is_timed_on_the_station_clock(rig) -> None:
    load = rig.open("load")
    load.pulse(40.0, 2.5)
    hist = [(t, a) for t, a in rig.pack.current_history(0.0, rig.clock.now())
            if abs(a) > 1e-9 or t > 0]
    # on for 2.5 s of the station clock, from the moment the input-on command took effect
    (t_on, amps), (t_off, after) = hist[0], hist[-1]
    assert amps == pytest.approx(-40.0) and after == pytest.approx(0.0, abs=1e-9)
    assert t_off - t_on == pytest.approx(2.5, abs=0.01)
    assert not rig.bench.load.input_on
