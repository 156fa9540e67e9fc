"""``station sim serve`` as a subprocess, used by a third-party Pylontech client unchanged."""

from __future__ import annotations

import json
import select
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import can
import pytest
from pylontech import Pylontech

from common import pylon_can as pc
from common.clock import WallClock
from drivers.pack.console import ConsoleClient
from drivers.pack.rs485 import Rs485Client


def _serve(*extra: str, instruments: bool = False) -> tuple[subprocess.Popen[str], dict[str, Any]]:
    flag = "--instruments" if instruments else "--no-instruments"
    proc = subprocess.Popen(
        [sys.executable, "-m", "stations.cli", "sim", "serve", flag, *extra],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    ready, _, _ = select.select([proc.stdout], [], [], 30)
    if not ready:
        proc.kill()
        proc.wait(10)
        pytest.fail("station sim serve printed nothing within 30 s")
    return proc, json.loads(proc.stdout.readline())  # type: ignore[union-attr]


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[subprocess.Popen[str], dict[str, Any]]]:
    proc, desc = _serve("--seed", "3")
    try:
        yield proc, desc
    finally:
        proc.terminate()
        proc.communicate(timeout=15)


def test_description_line(served) -> None:
    _, d = served
    assert d["schema_version"] == 1
    assert d["rs485"].startswith("/dev/pts/") and d["console"].startswith("/dev/pts/")
    assert d["rs485_tcp"].startswith("socket://127.0.0.1:")
    assert d["can"] == {"interface": "socketcand", "host": "127.0.0.1",
                        "port": d["can"]["port"], "channel": "can0"}
    assert d["model"] == "v5" and len(d["serial"]) == 16


def test_python_pylontech_client_unchanged(served) -> None:
    _, d = served
    p = Pylontech(d["rs485"], baudrate=9600)   # the pty like /dev/ttyUSB0 at the pack's 9600 bit/s
    try:
        v = p.get_protocol_version()   # ADR 0, CR-terminated answer, its own 2 s timeout
        assert v.ver == b"\x20" and v.adr == b"\x02"
        p.s.timeout = 0.7              # its readline() waits for LF; shorten the wait only
        mi = p.get_manufacturer_info()
        assert mi.DeviceName.rstrip(b"\0") == b"V5" and mi.ManufacturerName.startswith(b"PYTES")
        assert p.get_module_serial_number(2).ModuleSerialNumber.decode() == d["serial"]
        single = p.get_values_single(2)
        assert single.NumberOfCells == 16 and single.NumberOfTemperatures == 6
        assert 47.5 < single.Voltage < 57.6 and single.TotalCapacity == pytest.approx(100.0, abs=2)
        stack = p.get_values()         # ADR 2 with INFO FF
        assert stack.NumberOfModules == 1 and stack.Module[0].NumberOfCells == 16
        sp = p.get_system_parameters()  # no INFO at all
        assert (sp.CellHighVoltageLimit, sp.DischargeLowTemperatureLimit) == (3.55, -10.0)
        mg = p.get_management_info(2)
        assert mg.ChargeVoltageLimit == 56.0 and mg.status.ChargeEnable
        assert mg.DischargeCurrentLimit == -100.0
        assert p.scan_for_batteries(start=1, end=4) == {2: d["serial"]}   # 1 and 3: silence
    finally:
        p.s.close()


def test_station_drivers_over_tcp_and_socketcand(served) -> None:
    _, d = served
    clock = WallClock()
    with Rs485Client.open(d["rs485_tcp"], clock) as r:
        assert r.serial_number() == d["serial"]
        assert r.analog_values().modules[0].cell_mv
    with ConsoleClient.open(d["console_tcp"], clock) as c:
        assert c.info().barcode == d["serial"]
    bus = can.Bus(**d["can"])
    try:
        seen: dict[int, list[float]] = {}
        while sum(len(v) >= 2 for v in seen.values()) < 6:
            msg = bus.recv(timeout=3.0)
            assert msg is not None, f"CAN frames stopped; seen {sorted(seen)}"
            seen.setdefault(msg.arbitration_id, []).append(msg.timestamp)
        assert set(seen) == set(pc.BMS_FRAME_IDS)
        for ts in seen.values():
            assert ts[1] - ts[0] == pytest.approx(1.0, abs=0.05)   # virtual time, 1 s apart
        bus.send(can.Message(arbitration_id=0x305, data=bytes(8), is_extended_id=False))
    finally:
        bus.shutdown()


def test_unit_file_sets_the_served_pack(tmp_path) -> None:
    from common.serial_number import make_serial
    from sim.unit import default_unit, write_unit

    unit_file = tmp_path / "unit.toml"
    serial = make_serial("A", 2026, 2, 4242)
    write_unit(default_unit("v5-alpha", serial=serial).model_copy(update={"dip": 2}), unit_file)
    proc, d = _serve("--unit", str(unit_file), "--no-power-on")
    try:
        assert (d["model"], d["serial"], d["rs485_address"]) == ("v5-alpha", serial, 0x22)
    finally:
        proc.terminate()
        proc.communicate(timeout=15)


def test_bad_unit_file_is_refused_with_a_clear_error(tmp_path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('model = "v9"\n')
    proc = subprocess.run(
        [sys.executable, "-m", "stations.cli", "sim", "serve", "--unit", str(bad)],
        capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2 and proc.stdout == ""
    assert "v9" in proc.stderr and "bad.toml" in proc.stderr


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["TERM", "INT"])
def test_signal_ends_cleanly_with_exit_code_0(sig: signal.Signals) -> None:
    from stations.schema import load_station_file

    proc, d = _serve("--no-power-on", instruments=True)
    try:
        assert set(d["instruments"]) == {"load", "supply", "chamber", "daq", "leds", "safety"}
        station = Path(d["station_file"])
        assert station.is_absolute() and station.exists()
        config = load_station_file(station)
        assert config.pack is not None and config.pack.rs485_address == d["rs485_address"]
        assert config.fixture.outputs["link_port0"] == d["fixture_outputs"]["link_port0"] == 5
        assert config.fixture.outputs["link_port1"] == d["fixture_outputs"]["link_port1"] == 6
        proc.send_signal(sig)
        out, err = proc.communicate(timeout=15)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
    assert proc.returncode == 0, err
    assert out == ""                   # the JSON line was the only stdout
    assert "stopping" in err
    assert not station.exists()        # close() removes the station file
