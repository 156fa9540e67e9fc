"""The Link Port 0/1 cascade without a station: packs cabled Port 1 → Port 0 form a stack of
up to 16 (SPEC §1, §6; manual 5.3.4), whose every port answers for every address of it."""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from common import pylon_rs485 as pr
from common.clock import VirtualClock
from sim.pack import SimPack
from sim.unit import default_serial, default_unit, with_changes
from sim.wire.can_frames import encode_frames
from sim.wire.console import Console
from sim.wire.link import Cabling, LinkRelays
from sim.wire.rs485 import Rs485Responder


def packs(n: int, clock: VirtualClock, changes: dict[int, dict[str, Any]] | None = None,
          ) -> list[SimPack]:
    """``n`` golden V5° with their own serials and SOCs (so blocks can be told apart)."""
    out = []
    for k in range(n):
        unit = default_unit("v5", default_serial("v5", 100 + k))
        unit = with_changes(unit, {"cells.initial_soc_pct": 20.0 + 4 * k,
                                   **(changes or {}).get(k, {})})
        out.append(SimPack(unit, clock, seed=k))
    return out


def start(ps: list[SimPack]) -> float:
    """POWER and SW on every pack at once; returns the instant they started."""
    clock = ps[0].clock
    for p in ps:
        p.set_power_button(True)
        p.set_sw(True)
    clock.sleep(1.0)
    for p in ps:
        p.set_sw(False)
    return clock.now()


def chain(cabling: Cabling, ps: list[SimPack]) -> None:
    for up, down in itertools.pairwise(ps):
        cabling.connect(up, down)


def ask(responder: Rs485Responder, adr: int, cid2: int, info_adr: int | None = None,
        ) -> pr.Frame | None:
    answer = responder.handle(pr.encode_request(adr, cid2, info_adr)[1:-1])
    return None if answer is None else pr.decode_frame(answer)


def test_sixteen_packs_one_master_and_the_seventeenth_heads_its_own() -> None:
    clock = VirtualClock()
    ps = packs(17, clock)
    cabling = Cabling(clock)
    chain(cabling, ps)
    t0 = start(ps)
    clock.sleep(0.2)                       # the links are still negotiating (0.3 s)
    assert {cabling.stack(p).count for p in ps} == {1}
    clock.sleep(0.15)
    for k, p in enumerate(ps[:16]):
        st = cabling.stack(p)
        assert (st.count, st.index, st.own_address) == (16, k, 0x02 + k)
        assert st.members == tuple(ps[:16])
    last = cabling.stack(ps[16])
    assert (last.count, last.index, last.own_address) == (1, 0, 0x02)
    assert clock.now() == pytest.approx(t0 + 0.35)

    master = Rs485Responder(ps[0], lambda: cabling.stack(ps[0]))
    frame = ask(master, 0x02, pr.CID2_ANALOG_VALUES, pr.ALL_PACKS)
    assert frame is not None and frame.rtn == pr.RTN_OK
    values = pr.decode_analog_values(frame.info, all_packs=True)
    assert values.command == 16 and len(values.modules) == 16
    assert [m.remaining_mah for m in values.modules] == [
        p.bms.snapshot().remaining_mah for p in ps[:16]]          # master first, in order
    alarms = ask(master, 0x02, pr.CID2_ALARM_INFO, pr.ALL_PACKS)
    assert alarms is not None
    assert len(pr.decode_alarm_info(alarms.info, all_packs=True).modules) == 16
    for k in (0, 7, 15):                                         # each address is its pack
        sn = ask(master, 0x02 + k, pr.CID2_SERIAL_NUMBER, 0x02 + k)
        assert sn is not None and sn.adr == 0x02 + k
        assert pr.decode_serial_number(sn.info).serial == ps[k].identity.serial
    assert ask(master, 0x12, pr.CID2_SERIAL_NUMBER, 0x12) is None   # not in the stack
    signals = dict(encode_frames(ps[5].bms.snapshot(), cabling.stack(ps[5]).count))
    assert signals[0x359][4] == 16                               # CAN 0x359 byte 4


def test_a_slave_port_answers_for_its_stack_and_adr0_with_its_own_address() -> None:
    clock = VirtualClock()
    master, slave = packs(2, clock)
    cabling = Cabling(clock)
    cabling.connect(master, slave)
    start([master, slave])
    clock.sleep(0.5)
    port = Rs485Responder(slave, lambda: cabling.stack(slave))
    ver = ask(port, 0, pr.CID2_PROTOCOL_VERSION)
    assert ver is not None and ver.adr == 0x03                   # master's ADR + 1
    for adr, pack in ((0x02, master), (0x03, slave)):
        sn = ask(port, adr, pr.CID2_SERIAL_NUMBER, adr)
        assert sn is not None and pr.decode_serial_number(sn.info).serial == pack.identity.serial
    both = ask(port, 0x03, pr.CID2_ANALOG_VALUES, pr.ALL_PACKS)
    assert both is not None and both.adr == 0x03
    assert pr.decode_analog_values(both.info, all_packs=True).command == 2
    assert ask(port, 0x04, pr.CID2_ANALOG_VALUES, 0x04) is None   # silence outside the stack
    bad = ask(port, 0x03, pr.CID2_MANAGEMENT_INFO, pr.ALL_PACKS)  # FF only for 0x42/0x44
    assert bad is not None and bad.rtn == pr.RTN_DATA and bad.adr == 0x03
    info = Console(slave, lambda: cabling.stack(slave)).feed(b"info\r").decode()
    assert "Address             : 0x03" in info


@pytest.mark.parametrize(("changes", "linked"), [
    ({}, True),
    ({0: {"comms.link_port1": "dead"}}, False),     # the master's Port 1
    ({1: {"comms.link_port0": "dead"}}, False),     # the slave's Port 0
    ({0: {"comms.link_port0": "dead"}, 1: {"comms.link_port1": "dead"}}, True),  # not in use
])
def test_a_dead_port_leaves_each_pack_alone(changes: dict[int, dict[str, Any]],
                                            linked: bool) -> None:
    clock = VirtualClock()
    a, b = packs(2, clock, changes)
    cabling = Cabling(clock)
    cabling.connect(a, b)
    start([a, b])
    clock.sleep(1.0)
    assert (cabling.stack(a).count, cabling.stack(b).count) == ((2, 2) if linked else (1, 1))
    assert cabling.stack(b).own_address == (0x03 if linked else 0x02)


def test_negotiation_after_a_cable_change_and_the_slower_end_counts() -> None:
    clock = VirtualClock()
    a, b = packs(2, clock, {1: {"comms.link_negotiation_s": 2.0}})
    cabling = Cabling(clock)
    start([a, b])
    clock.sleep(5.0)
    cabling.connect(a, b)
    clock.sleep(1.99)
    assert cabling.stack(a).count == 1
    clock.sleep(0.02)
    assert cabling.stack(a).count == 2
    cabling.disconnect(a, b)                         # unplugged: at once
    assert cabling.stack(a).count == cabling.stack(b).count == 1


def test_a_pack_that_stops_leaves_the_stack_and_rejoins_after_its_start() -> None:
    clock = VirtualClock()
    a, b, c = packs(3, clock)
    cabling = Cabling(clock)
    chain(cabling, [a, b, c])
    start([a, b, c])
    clock.sleep(0.5)
    assert cabling.stack(c).count == 3
    b.set_power_button(False)                        # the middle pack: the chain breaks there
    assert (cabling.stack(a).count, cabling.stack(c).count) == (1, 1)
    assert cabling.stack(c).own_address == 0x02      # c is now a master of its own
    t_on = start([b])
    clock.sleep(0.29)
    assert cabling.stack(a).count == 1
    clock.sleep(0.02)
    assert cabling.stack(c).count == 3 and clock.now() == pytest.approx(t_on + 0.31)


def test_a_ring_has_no_master_so_each_pack_stands_alone() -> None:
    clock = VirtualClock()
    a, b = packs(2, clock)
    cabling = Cabling(clock)
    cabling.connect(a, b)
    cabling.connect(b, a)
    start([a, b])
    clock.sleep(1.0)
    assert (cabling.stack(a).count, cabling.stack(b).count) == (1, 1)
    with pytest.raises(ValueError, match=r"Port 1 .* already has a cable"):
        cabling.connect(a, b)


def test_link_relays_interlock_the_first_commanded_wins() -> None:
    clock = VirtualClock()
    dut, ref = packs(2, clock)
    cabling = Cabling(clock)
    relays = LinkRelays(cabling, dut, ref)
    start([dut, ref])
    relays.set("link_port1", True)
    relays.set("link_port0", True)                   # refused while link_port1 is closed
    clock.sleep(0.5)
    assert relays.closed == {"link_port0": False, "link_port1": True}
    assert cabling.stack(dut).index == 0 and cabling.stack(ref).index == 1
    relays.set("link_port1", False)                  # now link_port0 closes
    clock.sleep(0.5)
    assert relays.closed == {"link_port0": True, "link_port1": False}
    assert cabling.stack(dut).index == 1 and cabling.stack(dut).own_address == 0x03
    relays.set("link_port0", False)
    assert cabling.stack(dut).count == 1 and not any(relays.closed.values())
