"""The instruments coupled to the real simulated pack, through an opened station
(stations/sim.toml: in-process SimBench, virtual clock, real transports)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from stations.open import Station, open_station


@pytest.fixture
def station() -> Iterator[Station]:
    with open_station() as st:
        yield st


def power_on(st: Station) -> None:
    """The fixture's power-on: POWER relay on, SW held 1.1 s (SPEC §4)."""
    st.daq.set_relay("power", True)
    st.daq.press("sw", 1.1)


def test_sw_pressed_by_the_daq_starts_the_pack_and_the_analyser_sees_the_flash(station) -> None:
    st = station
    assert st.sim.pack.state == "off"
    assert st.daq.pack_voltage() == pytest.approx(0.0, abs=0.01)  # MOSFETs open, pack off
    st.daq.set_relay("power", True)
    st.daq.set_relay("sw", True)
    st.clock.sleep(1.1)
    st.daq.set_relay("sw", False)
    edges = st.leds.capture_sequence(3.0, sample_ms=10)
    assert st.sim.pack.state == "on"
    for led in ("ALM", "SOC1", "SOC2", "SOC3", "SOC4"):  # power-on: all on for 1 s
        assert edges[led][0] == (0.0, True)
        assert edges[led][1][1] is False and edges[led][1][0] == pytest.approx(1.0, abs=0.05)
    assert edges["RUN"][0] == (0.0, True)
    assert 45.0 <= st.daq.pack_voltage() <= 58.0  # polarity as SPEC §8 checks it


def test_50_a_on_the_load_is_minus_50_a_on_the_pack_can_current(station) -> None:
    st = station
    monitor = st.bms_can  # listening from now on (a virtual bus keeps no history)
    power_on(st)
    st.load.set_cc(50.0)
    st.load.set_input(True)
    st.sleep(5.0)
    assert st.load.measure_current() == pytest.approx(50.0, abs=0.01)
    assert st.sim.pack.current() == pytest.approx(-50.0, abs=0.01)
    can_current = monitor.latest("PackCurrent")
    assert can_current.value == pytest.approx(-50.0, abs=0.5 + 0.3)  # BMS accuracy ±(1 % + 0.3 A)
    assert st.clock.now() - can_current.t <= 1.1
    bms = st.sim.pack.bms.snapshot().current_ma / 1000
    assert bms == pytest.approx(-50.0, abs=0.8)
    # the DAQ's reference sees the pack sag under the load
    assert st.daq.pack_voltage() < st.sim.pack.bms.snapshot().pack_mv / 1000 + 0.25


def test_supply_charges_the_pack_at_50_a(station) -> None:
    st = station
    power_on(st)
    st.supply.set_voltage(56.0)
    st.supply.set_current_limits(50.0, 5.0)
    st.supply.set_output(True)
    st.sleep(10.0)
    assert st.supply.measure_current() == pytest.approx(50.0, abs=0.01)
    assert st.sim.pack.bms.snapshot().current_ma / 1000 == pytest.approx(50.0, abs=0.8)


def test_a_protection_trip_makes_the_load_read_zero_and_the_capture_times_it(station) -> None:
    st = station
    power_on(st)
    st.load.set_cc(160.0)  # the 15 s tier of a V5 (120 A < I ≤ 180 A)
    st.load.start_capture(rate_hz=100, seconds=20.0)
    t0 = st.clock.now()
    st.load.set_input(True)
    st.sleep(20.0)
    cap = st.load.fetch_capture()
    start = next(t for t, a in zip(cap.times(), cap.samples, strict=True) if a >= 0.95 * 160)
    trip = next(t for t, a in zip(cap.times(), cap.samples, strict=True) if t > start and a < 2.0)
    assert t0 <= start <= t0 + 0.02   # the input-on command and its check take their time
    assert 15.0 <= trip - start <= 16.5
    assert trip - start == pytest.approx(15.75, abs=0.02)
    assert st.load.measure_current() == pytest.approx(0.0, abs=0.01)
    assert "dsg_oc" in st.sim.pack.bms.snapshot().protections
    assert st.daq.inputs()["no3"]  # the protection contact, as the fixture reads it
    assert st.load.protection_status() == frozenset()  # the pack tripped, not the load


def test_in1_driven_by_the_daq_stops_the_current(station) -> None:
    st = station
    power_on(st)
    st.load.set_cc(30.0)
    st.load.set_input(True)
    st.sleep(2.0)
    assert st.load.measure_current() == pytest.approx(30.0, abs=0.01)
    st.daq.set_relay("in1", True)
    st.sleep(1.0)  # IN1 acts after 0.5 s
    assert st.load.measure_current() == pytest.approx(0.0, abs=0.01)
    st.daq.set_relay("in1", False)


def test_chamber_at_50_c_moves_the_pack_temperature_at_the_expected_rate(station) -> None:
    st = station
    pack = st.sim.pack
    th = pack.unit.thermal
    st.chamber.set_temperature(50.0)
    st.chamber.run()
    st.sleep(3600.0)
    assert st.chamber.temperature() == pytest.approx(50.0, abs=0.01)
    assert st.daq.ambient_temperature() == pytest.approx(50.0, abs=0.5)
    # reference: the same two-node lumped model, integrated here, with the air ramping 2 K/min
    tc = tb = 25.0
    for s in range(3600):
        air = min(50.0, 25.0 + 2.0 * s / 60.0)
        dc = (th.cell_to_air_w_k * (air - tc) + th.board_to_cells_w_k * (tb - tc)) / th.cell_heat_capacity_j_k
        db = (th.board_to_air_w_k * (air - tb) + th.board_to_cells_w_k * (tc - tb)) / th.board_heat_capacity_j_k
        tc, tb = tc + dc, tb + db
    rise = pack.cell_temperature() - 25.0
    assert rise == pytest.approx(tc - 25.0, rel=0.05)
    assert 2.0 < rise < 25.0  # the pack lags the air: hours, not minutes


def test_safety_tester_sees_the_unit(station) -> None:
    st = station
    assert st.safety.ground_bond(10.0) == pytest.approx(st.sim.pack.ground_bond_ohm(), rel=1e-6)
    assert st.safety.insulation(500.0) == pytest.approx(st.sim.pack.insulation_ohm(), rel=1e-6)
    assert st.safety.ground_bond(10.0) <= 0.1  # an in-spec unit (SPEC §8)


def test_a_query_of_the_instrument_alone_leaves_the_pack_where_it_was(station) -> None:
    """``SYST:ERR?``, ``*IDN?`` ask the instrument's own state: the pack (integrated lazily)
    is not brought up to now for them; a measurement or a setting is."""
    st = station
    pack, clock, t = st.sim.pack, st.base_clock, st.daq._t
    for line in ("SYST:ERR?", "syst:err?", "SYSTem:ERRor?", "*IDN?", " *OPC? "):
        clock.sleep(1.0)
        t.query(line)
        assert pack._t < clock.now(), line
    t.query("MEAS:VOLT:DC? (@101)")
    assert pack._t == clock.now()
    clock.sleep(1.0)
    before = clock.now()
    assert pack._t < before
    t.write("CONF:VOLT:DC (@101)")
    t.query("SYST:ERR?")
    assert pack._t >= before   # the setting brought it up to its own time


def test_a_heartbeat_beat_alone_leaves_the_pack_where_it_was(station) -> None:
    """The dead-man's beat toggles one DAQ output that only restarts the watchdog relay's
    timer: the pack is not brought up to now for it. A relay written with it is, and so is
    the beat that brings a dropped watchdog relay back (it enables the load again)."""
    st = station
    pack, clock, t, daq = st.sim.pack, st.base_clock, st.daq._t, st.sim.instruments.daq
    beat, power = 1 << 4, 1 << 0   # stations/sim.toml: deadman output 4; POWER is bit 0

    def write(byte: int) -> float:
        clock.sleep(1.0)
        sent = clock.now()
        t.write(f"SOUR:DIG:DATA:BYTE {byte},(@302)")
        assert t.query("SYST:ERR?").startswith("+0")
        return sent

    first = daq.out_byte
    sent = write(first ^ beat)
    assert pack._t < sent and daq.out_byte == first ^ beat   # a beat: left alone
    sent = write(first ^ power)
    assert pack._t >= sent and daq.out_byte == first ^ power  # POWER with it: brought up to now
    daq.deadman_held = False                                  # the relay dropped meanwhile
    sent = write(first ^ power ^ beat)
    assert pack._t >= sent and daq.deadman_held
