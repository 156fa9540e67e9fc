"""RS485 and console drivers against the pack's sessions over real ptys and TCP ports."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
import serial

from common import pylon_rs485 as pr
from common.params import parameter_crc
from drivers.pack.console import ConsoleClient
from drivers.pack.errors import (
    ConsoleRefused,
    DataRejected,
    Rs485Error,
    Rs485FrameError,
    Rs485Timeout,
)
from drivers.pack.rs485 import Rs485Client
from sim.wire import console_session, rs485_session
from sim.wire.serial_server import PtyServer, TcpSerialServer, WireLink
from tests.wire.fake_pack import SERIAL, FakePack


@pytest.fixture
def pack() -> FakePack:
    return FakePack()


@pytest.fixture(params=["pty", "tcp"])
def rs485(request: pytest.FixtureRequest, pack: FakePack) -> Iterator[Rs485Client]:
    link = WireLink(pack.clock, 9600, turnaround_s=0.005)
    if request.param == "pty":
        server = PtyServer(lambda: rs485_session(pack), link).start()
        url = server.path
    else:
        server = TcpSerialServer(lambda: rs485_session(pack), link).start()
        url = server.url
    client = Rs485Client.open(url, pack.clock, timeout=2.0, retries=1)
    yield client
    client.close()
    server.close()


@pytest.fixture(params=["pty", "tcp"])
def console(request: pytest.FixtureRequest, pack: FakePack) -> Iterator[ConsoleClient]:
    link = WireLink(pack.clock, 115200)
    factory = lambda: console_session(pack)  # noqa: E731
    server = (PtyServer(factory, link) if request.param == "pty"
              else TcpSerialServer(factory, link)).start()
    url = server.path if request.param == "pty" else server.url
    client = ConsoleClient.open(url, pack.clock, timeout=2.0)
    yield client
    client.close()
    server.close()


def test_rs485_reads_every_command_consistent_with_the_pack(rs485: Rs485Client,
                                                            pack: FakePack) -> None:
    snap = pack.bms.snapshot()
    assert rs485.protocol_version() == 0x20
    assert rs485.manufacturer_info() == pr.ManufacturerInfo("V5", (1, 4), "PYTES")
    a = rs485.analog_values()
    m = a.modules[0]
    assert a.command == 2 and m.cell_mv == snap.cell_mv and m.temps_dc == snap.temps_dc
    assert (m.current_da, m.voltage_mv) == (-15, snap.pack_mv)
    assert (m.remaining_mah, m.total_mah, m.cycles) == (52400, 99000, 3)
    stack = rs485.analog_values(all_packs=True)
    assert stack.command == 1 and stack.modules == a.modules
    al = rs485.alarm_info().modules[0]
    assert al.charge_fet and al.discharge_fet and al.discharging and al.status[0] == 0
    sp = rs485.system_parameters()
    assert (sp.cell_ov_alarm_mv, sp.chg_ut_prot_dc, sp.dsg_ut_prot_dc) == (3550, 0, -100)
    mg = rs485.management_info()
    assert (mg.charge_voltage_mv, mg.discharge_current_da, mg.charge_enable) == (56000, -1000, True)
    assert rs485.serial_number() == SERIAL


def test_rs485_wire_time_is_charged_on_the_virtual_clock(rs485: Rs485Client,
                                                         pack: FakePack) -> None:
    t0 = pack.clock.now()
    rs485.analog_values()
    request = len(pr.encode_request(2, 0x42, 2))
    info = 2 + 1 + 32 + 1 + 12 + 2 + 2 + 2 + 1 + 2 + 2 + 6
    response = 1 + 12 + 2 * info + 4 + 1
    assert pack.clock.now() - t0 == pytest.approx((request + response) * 10 / 9600 + 0.005)


def test_rs485_protection_shows_in_alarm_and_management(rs485: Rs485Client,
                                                        pack: FakePack) -> None:
    pack.bms.snap = dataclasses.replace(pack.bms.snap, protections=frozenset({"dsg_oc"}),
                                        discharge_fet=False, discharge_limit_da=0)
    al = rs485.alarm_info().modules[0]
    assert al.discharge_oc and not al.discharge_fet and al.discharge_current_state == "above"
    mg = rs485.management_info()
    assert not mg.discharge_enable and mg.discharge_current_da == 0


def test_foreign_address_is_silent_and_costs_the_timeout(pack: FakePack) -> None:
    link = WireLink(pack.clock, 9600)
    server = PtyServer(lambda: rs485_session(pack), link).start()
    try:
        with Rs485Client.open(server.path, pack.clock, address=0x12, timeout=0.2,
                              retries=1) as c:
            t0 = pack.clock.now()
            with pytest.raises(Rs485Timeout, match="no complete answer"):
                c.serial_number()
            assert c.retried == 1
            assert pack.clock.now() - t0 >= 2 * 0.2 - 1e-9
    finally:
        server.close()


def test_rtn_becomes_a_named_exception_without_retry(pack: FakePack) -> None:
    link = WireLink(pack.clock, 9600)
    server = PtyServer(lambda: rs485_session(pack), link).start()
    try:
        with Rs485Client.open(server.path, pack.clock, timeout=2.0) as c:
            with pytest.raises(DataRejected, match="RTN 06") as err:
                c.transact(pr.CID2_SERIAL_NUMBER, info_adr=0x07)
            assert err.value.raw.startswith(b"~20024606") and c.retried == 0
    finally:
        server.close()


class _ScriptedPort:
    """A port that answers every request with a fixed byte string (corrupt answers)."""

    def __init__(self, answers: list[bytes]) -> None:
        self.answers, self.timeout, self.written = answers, 0.1, []

    def write(self, data: bytes) -> int:
        self.written.append(data)
        return len(data)

    def read_until(self, expected: bytes = b"\r", size: int | None = None) -> bytes:
        return self.answers.pop(0) if self.answers else b""

    def reset_input_buffer(self) -> None: ...
    def close(self) -> None: ...


def test_corrupt_answer_is_retried_then_reported_with_raw_bytes(pack: FakePack) -> None:
    good = pr.encode_response(2, 0, pr.encode_serial_number(pr.SerialNumberInfo(2, SERIAL)))
    bad = good[:20] + b"0" + good[21:]
    c = Rs485Client(_ScriptedPort([bad, good]), pack.clock, retries=1)  # type: ignore[arg-type]
    assert c.serial_number() == SERIAL and c.retried == 1
    c = Rs485Client(_ScriptedPort([bad, bad]), pack.clock, retries=1)  # type: ignore[arg-type]
    with pytest.raises(Rs485FrameError, match="CHKSUM") as err:
        c.serial_number()
    assert err.value.raw == bad
    assert isinstance(err.value, Rs485Error)


def test_half_duplex_echo_and_noise_before_the_answer_are_skipped(pack: FakePack) -> None:
    good = pr.encode_response(2, 0, pr.encode_serial_number(pr.SerialNumberInfo(2, SERIAL)))
    request = pr.encode_request(2, pr.CID2_SERIAL_NUMBER, 2)
    port = _ScriptedPort([request, b"\x00\x13 junk\r", good])
    c = Rs485Client(port, pack.clock, retries=0)  # type: ignore[arg-type]
    assert c.serial_number() == SERIAL and port.written == [request]


def test_rs485_survives_garbage_on_the_line(pack: FakePack) -> None:
    link = WireLink(pack.clock, 9600)
    server = TcpSerialServer(lambda: rs485_session(pack), link).start()
    try:
        port = serial.serial_for_url(server.url, timeout=0.3)
        port.write(b"\x00\xff garbage \r~20\r~zz02464\r")
        assert port.read_until(b"\r") == b""           # ignored, no answer
        port.timeout = 2.0
        port.write(b"~20024642E00202FD34\r")            # bad checksum -> RTN 02
        assert pr.decode_frame(port.read_until(b"\r")).rtn == pr.RTN_CHKSUM
        port.write(b"noise~20024642e00202FD13\r")      # lower case, noise before '~'
        assert pr.decode_frame(port.read_until(b"\r")).rtn == pr.RTN_OK
        port.close()
        with Rs485Client.open(server.url, pack.clock) as c:
            assert c.serial_number() == SERIAL
    finally:
        server.close()


def test_console_reads_every_command(console: ConsoleClient, pack: FakePack) -> None:
    info = console.info()
    assert (info.barcode, info.device_name, info.address, info.cell_number) == (SERIAL, "V5", 2, 16)
    assert info.main_version == "1.4.2" and info.dip == 0 and info.manufacturer == "PYTES"
    snap = pack.bms.snapshot()
    (row,) = console.pwr()
    assert (row.voltage_mv, row.current_ma, row.soc_pct) == (snap.pack_mv, -1500, 52)
    assert (row.cell_low_mv, row.cell_high_mv, row.base_state) == (3300, 3302, "Dischg")
    assert row.temp_high_mc == 24300 and row.barcode == SERIAL
    d = console.pwr_detail(1)
    assert d.voltage_mv == snap.pack_mv and not d.heater_on and d.protections == frozenset()
    cells = console.bat(1)
    assert [c.voltage_mv for c in cells] == list(snap.cell_mv)
    assert console.soh().full_mah == 99000
    s = console.stat()
    # SPEC §7 labels: the power-on event is a `Reset Times`, nothing else counted
    assert (s.cycles, s.cumulative_ah) == (3, 250.5)
    assert {k: n for k, n in s.event_counts.items() if n} == {"Reset Times": 1}
    assert s.fields["Pwr Coulomb"] == "99000 mAh" and "SysLock Times" in s.counters
    (entry,) = console.log()
    assert entry.code == "power_on" and entry.pack_mv == 52800 and entry.info == "-"
    page = console.log_page(1)
    assert (page.page, page.pages, len(page.entries)) == (1, 1, 1)
    cells = console.soh_cells(1)
    assert [c.cell for c in cells] == list(range(1, 17)) and {c.status for c in cells} == {"Normal"}
    assert console.data_event().code == "power_on"
    console.log_clear()
    assert [e.code for e in console.log()] == ["log_cleared"]
    when = datetime(2026, 3, 1, 12, 30, 0, tzinfo=UTC)
    assert console.set_time(when) == when and console.time() == when
    assert pack.bms.activity >= 10


def test_console_test_mode(console: ConsoleClient, pack: FakePack) -> None:
    with pytest.raises(ConsoleRefused, match="Not in test mode"):
        console.relay(2, True)
    console.login_debug()
    assert console.in_debug
    console.tmode(True)
    console.relay(3, True)
    console.heater(True)
    console.led_test()
    with pytest.raises(ConsoleRefused, match="Invalid value"):
        console.relay(5, True)
    with pytest.raises(ConsoleRefused, match="Invalid value"):
        console.setthr("cell_ov_prot_mv", 3000)     # below its alarm: breaks the order
    console.setthr("cell_ov_prot_mv", 3700)
    stored, active = console.crc()
    assert stored == parameter_crc(pack.bms.stored) and active != stored
    console.clrthr()
    assert console.crc()[1] == stored
    console.logout()
    assert not console.in_debug
    assert ("relay", (3, True)) in pack.bms.calls and ("heater", True) in pack.bms.calls


def test_console_unknown_command_and_garbage(console: ConsoleClient) -> None:
    with pytest.raises(ConsoleRefused, match="Unknown command"):
        console.command("frobnicate now")
    reply = console.command("\x01\x02\xff", check=False)
    assert not reply.ok
    assert console.command("").body == ()
    assert console.info().device_name == "V5"
