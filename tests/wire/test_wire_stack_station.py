"""Both link ports through the station: the simulated bench's reference pack on the fixture's
link relays (DAQ outputs ``link_port0`` / ``link_port1``), seen by the ``bms`` role over
RS485 ``FF`` and CAN 0x359 byte 4, as EOL will check them."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from common import pylon_rs485 as pr
from drivers.pack.rs485 import Rs485Client
from sim.bench import LINK_RELAY_BITS, REFERENCE_SERIAL, SimBench
from sim.pack import SimPack
from sim.unit import default_serial, default_unit, with_changes
from stations.open import open_station
from stations.schema import default_station_file, load_station_file

SERIAL = "PV5S260100000013"
#: Relay closed → wait the link negotiation (0.3 s) and a little more.
LINK_SETTLE_S = 0.4


@contextmanager
def station(changes: dict[str, Any]) -> Iterator[Any]:
    """The default simulated station with a DUT at 40 % SOC (the reference is at 50 %, so
    their blocks tell apart), powered on."""
    unit = with_changes(default_unit("v5", SERIAL), {"cells.initial_soc_pct": 40.0, **changes})
    with open_station(unit=unit) as st:
        st.daq.set_relay("power", True)
        st.daq.press("sw", 1.0)
        st.clock.sleep(1.0)
        st.bms.listen()
        yield st


def link(st: Any, relay: str | None) -> tuple[int, int | None]:
    """Close ``relay`` (None: neither); (modules on RS485 FF, modules on CAN)."""
    for name in ("link_port0", "link_port1"):
        st.daq.set_relay(name, name == relay)
    st.clock.sleep(LINK_SETTLE_S)
    count = st.bms.stack().module_count
    st.clock.sleep(1.0)                    # a fresh alarms frame
    return count, st.bms.can_module_count(max_age_s=1.0)


def test_dut_alone_master_and_slave() -> None:
    with station({}) as st:
        bms = st.bms
        assert link(st, None) == (1, 1)
        alone = bms.stack()
        assert alone.modules[0].soc_pct == pytest.approx(40.0, abs=0.5)

        assert link(st, "link_port1") == (2, 2)          # DUT master, reference slave
        assert bms.find_address() == 0x02
        socs = [round(m.soc_pct) for m in bms.stack().modules]
        assert socs == [40, 50]
        ref = bms.rs485.transact(pr.CID2_SERIAL_NUMBER, adr=0x03, info_adr=0x03)
        assert pr.decode_serial_number(ref.info).serial == REFERENCE_SERIAL

        assert link(st, "link_port0") == (2, 2)          # reference master, DUT slave
        assert bms.find_address() == 0x03                 # ADR 0: its own address in the stack
        assert bms.serial_number() == SERIAL
        assert [round(m.soc_pct) for m in bms.stack().modules] == [50, 40]
        assert bms.console.info().address == 0x03
        ref = bms.rs485.transact(pr.CID2_SERIAL_NUMBER, adr=0x02, info_adr=0x02)
        assert pr.decode_serial_number(ref.info).serial == REFERENCE_SERIAL

        st.daq.set_relay("link_port1", True)             # both commanded: the interlock
        st.clock.sleep(LINK_SETTLE_S)
        assert st.sim.link_relays.closed == {"link_port0": True, "link_port1": False}
        st.safe_state()                                   # releases every relay: alone again
        st.daq.set_relay("power", True)
        st.daq.press("sw", 1.0)
        st.clock.sleep(1.0)
        bms.find_address()
        assert bms.stack().module_count == 1 and not any(st.sim.link_relays.closed.values())


@pytest.mark.parametrize(("dead", "working"), [("link_port0", "link_port1"),
                                               ("link_port1", "link_port0")])
def test_a_dead_link_port_gives_one_module_on_that_side(dead: str, working: str) -> None:
    with station({f"comms.{dead}": "dead"}) as st:
        assert link(st, dead) == (1, 1)
        assert link(st, working) == (2, 2)


def test_the_station_file_wires_the_link_relays_where_the_bench_has_them() -> None:
    outputs = load_station_file(default_station_file()).fixture.outputs
    assert {k: outputs[k] for k in LINK_RELAY_BITS} == LINK_RELAY_BITS


def test_sixteen_packs_through_the_driver_in_real_time() -> None:
    """The DUT heads 15 more packs; FF through the station's RS485 driver on the pty in
    real time: 16 blocks (2 kB at 9600 bit/s) take their honest wire time, which the
    driver waits for beyond its 0.5 s timeout."""
    bench = SimBench(instruments=False)
    d = bench.start()
    others = [SimPack(default_unit("v5", default_serial("v5", 300 + k)), bench.clock, seed=k)
              for k in range(15)]
    for up, down in itertools.pairwise([bench.pack, *others]):
        bench.cabling.connect(up, down)
    everyone = [bench.pack, *others]
    for p in everyone:
        p.set_power_button(True)
        p.set_sw(True)
    bench.clock.sleep(1.0)
    for p in everyone:
        p.set_sw(False)
    bench.clock.sleep(0.5)
    bench.clock.start_realtime()
    rs485 = Rs485Client.open(d["rs485"], bench.clock, timeout=0.5)
    try:
        t0 = bench.clock.now()
        values = rs485.analog_values(all_packs=True)
        took = bench.clock.now() - t0
    finally:
        rs485.close()
        bench.close()
    assert values.command == 16 and len(values.modules) == 16
    answer = 18 + 2 * (2 + 16 * 63)             # bytes: 16 blocks in the u24 capacity form
    assert took == pytest.approx((20 + answer) * 10 / 9600 + 0.005, abs=0.15)
    assert rs485.retried == 0
