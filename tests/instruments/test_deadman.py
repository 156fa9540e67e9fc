"""The fixture's dead-man on the bench's virtual clock: the simulated watchdog relay drops
POWER and inhibits the load when the heartbeat stops, holds while it is fed; the station
(stations/sim.toml) feeds it through sleeps and I/O, and stops at close."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from sim.instruments.daq import DEADMAN_S, HEARTBEAT_BIT, OUTPUT_BITS
from sim.instruments.load import _set_input
from sim.instruments.scpi import ScpiError
from stations.open import Station, open_station
from tests.instruments.conftest import Rig

POWER = 1 << OUTPUT_BITS["power"]
BEAT = 1 << HEARTBEAT_BIT


@pytest.fixture
def rig() -> Iterator[Rig]:
    r = Rig()
    try:
        yield r
    finally:
        r.close()


def test_the_relay_drops_power_and_inhibits_the_load_after_its_timeout(rig: Rig) -> None:
    daq, load, clock = rig.bench.daq, rig.bench.load, rig.clock
    load.input_on = True
    daq.write_outputs(POWER | BEAT)           # first edge: armed
    assert rig.pack.buttons.get("power")
    clock.sleep(DEADMAN_S - 0.001)
    assert daq.deadman_held and rig.pack.buttons.get("power") and load.input_on
    clock.sleep(0.001)                        # the deadline event, at exactly timeout_s
    assert not daq.deadman_held and daq.deadman_trips == 1
    assert not rig.pack.buttons.get("power") and not daq.power_closed()
    assert not load.input_on and load.inhibited and load.draw(50.0) == 0.0
    with pytest.raises(ScpiError, match="inhibit"):
        _set_input(load, "ON")                # LOAD ON while inhibited: refused


def test_the_relay_holds_while_fed(rig: Rig) -> None:
    daq, clock = rig.bench.daq, rig.clock
    byte = POWER
    for _ in range(30):                       # a toggle every 1.9 s: 57 s held
        byte ^= BEAT
        daq.write_outputs(byte)
        clock.sleep(DEADMAN_S - 0.1)
    assert daq.deadman_held and daq.deadman_trips == 0 and rig.pack.buttons.get("power")


def test_after_a_drop_power_needs_the_heartbeat_and_a_fresh_assert(rig: Rig) -> None:
    daq, load, clock = rig.bench.daq, rig.bench.load, rig.clock
    daq.write_outputs(POWER | BEAT)
    clock.sleep(DEADMAN_S + 0.5)
    assert not rig.pack.buttons.get("power")
    daq.write_outputs(POWER)                  # heartbeat back: relay closes, hold stays open
    assert daq.deadman_held and not load.inhibited
    assert not rig.pack.buttons.get("power") and not load.input_on
    daq.write_outputs(BEAT)                   # the station re-asserts POWER: off ...
    daq.write_outputs(BEAT | POWER)           # ... then on
    assert rig.pack.buttons.get("power") and daq.power_closed()


def test_never_fed_never_armed(rig: Rig) -> None:
    """A bench without a station (or a fixture without a dead-man) is not switched off."""
    rig.bench.daq.write_outputs(POWER)
    rig.clock.sleep(60.0)
    assert rig.bench.daq.deadman_held and rig.pack.buttons.get("power")


@pytest.fixture
def station() -> Iterator[Station]:
    with open_station() as st:
        yield st


def test_an_open_station_feeds_through_long_sleeps_and_io(station: Station) -> None:
    st = station
    daq = st.sim.instruments.daq
    st.daq.set_relay("power", True)
    st.daq.press("sw", 1.1)
    st.load.set_cc(50.0)
    st.load.set_input(True)
    st.sleep(120.0)                           # a long soak: fed every timeout / 3
    assert daq.deadman_trips == 0 and st.sim.pack.state == "on"
    assert st.load.measure_current() == pytest.approx(50.0, abs=0.01)
    for _ in range(40):                       # I/O without sleeping: each read feeds when due
        st.sim.clock.sleep(0.2)               # (time the bench spends answering)
        st.daq.pack_voltage()
    assert daq.deadman_trips == 0 and st.sim.instruments.load.input_on


def test_a_station_that_stops_feeding_loses_power_and_the_load(station: Station) -> None:
    st = station
    bench = st.sim.instruments
    st.daq.set_relay("power", True)
    st.daq.press("sw", 1.1)
    st.load.set_cc(50.0)
    st.load.set_input(True)
    st.sleep(5.0)
    st.deadman.disarm()                       # as a killed station: no sleep, no I/O
    st.sim.clock.sleep(DEADMAN_S)
    assert bench.daq.deadman_trips == 1
    assert not bench.load.input_on and st.sim.pack.current() == 0.0
    assert st.daq.pack_voltage() == pytest.approx(0.0, abs=0.01)   # the pack is off


def test_close_stops_feeding_after_the_safe_state(station: Station) -> None:
    st = station
    bench = st.sim.instruments
    st.close()
    assert bench.daq.out_byte == 0 and not st.deadman.armed   # relays released, no beat
