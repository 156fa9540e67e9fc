"""CAN broadcaster (pack side) and CAN monitor (station side) over real python-can buses."""

from __future__ import annotations

import dataclasses
import itertools
import socket
import threading
from collections.abc import Iterator

import can
import pytest

from common import pylon_can as pc
from common.clock import VirtualClock
from drivers.pack.can_monitor import CanMonitor
from drivers.pack.errors import CanPortError
from sim.wire.can_broadcaster import CanBroadcaster
from sim.wire.socketcand import SocketcandServer, format_frame, parse_send
from tests.wire.fake_pack import FakePack

_n = itertools.count()


@pytest.fixture
def channel() -> str:
    return f"wire-test-{id(object())}-{next(_n)}"


@pytest.fixture
def bench(channel: str) -> Iterator[tuple[FakePack, CanBroadcaster, CanMonitor]]:
    pack = FakePack()
    pack_bus = can.Bus(interface="virtual", channel=channel, preserve_timestamps=True)
    bc = CanBroadcaster(pack, pack_bus, pack.clock).start()
    mon = CanMonitor.open({"interface": "virtual", "channel": channel}, pack.clock)
    yield pack, bc, mon
    mon.close()
    bc.stop()
    pack_bus.shutdown()


def test_six_frames_per_second_with_virtual_timestamps(bench) -> None:
    pack, _, mon = bench
    pack.clock.sleep(10.5)
    for fid in pc.BMS_FRAME_IDS:
        st = mon.frame(fid)
        assert st.count == 10 and st.first_t == 1.0 and st.last_t == 10.0
        assert st.min_period == st.max_period == 1.0 and st.late == 0
    assert mon.missing() == [] and mon.late() == {}
    assert mon.name() == "PYTES"
    v = mon.latest("PackVoltage")
    assert v.value == pytest.approx(pack.bms.snap.pack_mv / 1000, abs=0.01) and v.t == 10.0
    assert mon.age(0x351) == pytest.approx(0.5)


def test_monitor_reports_missing_and_late_frames(bench) -> None:
    pack, bc, mon = bench
    pack.clock.sleep(3.2)
    bc.stop()
    pack.clock.sleep(4.0)
    assert set(mon.missing()) == set(pc.BMS_FRAME_IDS)     # 4.2 s since the last frame
    bc._handle = pack.clock.call_every(1.0, bc._tick, first=pack.clock.now() + 0.1)
    pack.clock.sleep(2.0)
    assert mon.missing() == []
    assert mon.late() == {fid: 1 for fid in pc.BMS_FRAME_IDS}
    assert mon.frame(0x356).max_period == pytest.approx(4.3)


def test_values_follow_the_model_including_a_protection(bench) -> None:
    pack, _, mon = bench
    pack.bms.snap = dataclasses.replace(pack.bms.snap, protections=frozenset({"dsg_oc"}),
                                        discharge_fet=False, discharge_limit_da=0)
    pack.clock.sleep(1.0)
    assert mon.latest("ProtDischargeOverCurrent").value == 1
    assert mon.latest("DischargeEnable").value == 0
    assert mon.latest("DischargeCurrentLimit").value == 0
    assert mon.latest("ChargeEnable").value == 1


def test_heartbeat_reaches_the_pack_and_garbage_is_counted(bench, channel: str) -> None:
    pack, bc, mon = bench
    pack.clock.sleep(0.4)
    mon.heartbeat()
    other = can.Bus(interface="virtual", channel=channel)
    other.send(can.Message(arbitration_id=0x305, data=b"\x00" * 3, is_extended_id=False))
    other.send(can.Message(arbitration_id=0x7AB, data=b"\x01", is_extended_id=False))
    other.send(can.Message(arbitration_id=0x355, data=b"\x01\x02\x03", is_extended_id=False))
    pack.clock.sleep(0.7)
    assert pack.bms.heartbeats == [0.4]
    assert (bc.rx.wrong_dlc, bc.rx.unknown_id) == (1, 2)   # 0x355 is not for the pack
    mon.poll()
    assert (mon.rx.wrong_dlc, mon.rx.unknown_id) == (1, 2)   # 0x305 is not a BMS frame
    assert mon.frame(0x355).count == 1                       # the pack's one, not the bad one
    other.shutdown()


def test_unknown_signal_and_unseen_signal_are_clear_errors(bench) -> None:
    _, _, mon = bench
    with pytest.raises(KeyError, match="unknown signal 'Bogus'"):
        mon.latest("Bogus")
    with pytest.raises(CanPortError, match="not received yet"):
        mon.latest("SOC")


def test_socketcand_text_codec() -> None:
    msg = can.Message(timestamp=12.5, arbitration_id=0x35E, data=b"PYTES", is_extended_id=False)
    assert format_frame(msg) == "< frame 35E 12.500000 5059544553 >"
    m = parse_send("< send 305 8 0 0 0 0 0 0 0 0 >")
    assert m is not None and m.arbitration_id == 0x305 and m.data == bytes(8)
    assert parse_send("< send 305 0 >").data == b""
    for bad in ("< send 305 3 1 2 >", "< send XYZ 1 1 >", "< send 800 1 1 >", "< hi >", ""):
        assert parse_send(bad) is None


def test_python_can_socketcand_client_sees_frames_and_sends_heartbeat(channel: str) -> None:
    clock = VirtualClock()
    pack = FakePack(clock)
    pack_bus = can.Bus(interface="virtual", channel=channel, preserve_timestamps=True)
    bc = CanBroadcaster(pack, pack_bus, clock).start()
    server = SocketcandServer(
        lambda: can.Bus(interface="virtual", channel=channel, preserve_timestamps=True),
        clock.now).start()
    client = can.Bus(**server.describe())
    try:
        # garbage from a second client never hurts the server
        raw = socket.create_connection((server.host, server.port))
        raw.recv(16)
        raw.sendall(b"< open can0 >< rawmode >< send 1 1 zz >< bogus >>>")
        mon = CanMonitor(client, clock)
        clock.sleep(3.0)
        got: list[can.Message] = []
        while len(got) < 18:
            msg = client.recv(timeout=2.0)
            assert msg is not None, f"only {len(got)} frames arrived"
            got.append(msg)
        for msg in got:
            mon.handle(msg, clock.now())
        assert mon.frame(0x359).count == 3 and mon.frame(0x359).max_period == pytest.approx(1.0)
        assert mon.latest("SOC").value == 52
        mon.heartbeat()
        for _ in range(200):
            clock.sleep(1.0)
            if pack.bms.heartbeats:
                break
            threading.Event().wait(0.01)
        assert pack.bms.heartbeats and 3.0 <= pack.bms.heartbeats[0] <= clock.now()
        for _ in range(200):
            if server.bad_commands >= 2:
                break
            threading.Event().wait(0.01)
        assert server.bad_commands == 2
        raw.close()
    finally:
        client.shutdown()
        server.close()
        bc.stop()
        pack_bus.shutdown()


def test_no_listener_no_frames_then_frames_once_someone_listens(channel: str) -> None:
    pack = FakePack()
    pack_bus = can.Bus(interface="virtual", channel=channel, preserve_timestamps=True)
    bc = CanBroadcaster(pack, pack_bus, pack.clock).start()
    try:
        pack.clock.sleep(100.0)
        assert (bc.sent, bc.skipped) == (0, 100)
        with CanMonitor.open({"interface": "virtual", "channel": channel}, pack.clock) as mon:
            pack.clock.sleep(2.0)
            assert bc.sent == 12 and mon.frame(0x351).count == 2
            assert mon.frame(0x351).first_t == 101.0
    finally:
        bc.stop()
        pack_bus.shutdown()
