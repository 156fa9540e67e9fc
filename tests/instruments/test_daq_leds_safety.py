"""DAQ970A, the LED analyser and the safety tester against the stand-in pack."""

from __future__ import annotations

import math

import pytest

from drivers.instruments.errors import InstrumentCommandError, InstrumentConnectionError


def test_daq_reads_terminals_ambient_and_contacts(rig) -> None:
    daq = rig.open("daq")
    assert "DAQ970A" in daq.identify()
    assert daq.pack_voltage() == pytest.approx(52.6, abs=0.005)
    assert daq.ambient_temperature() == pytest.approx(25.08, abs=1e-9)   # the PT100, uncorrected
    assert daq.measure_thermocouple(102, "K") == pytest.approx(25.2, abs=0.01)
    assert daq.inputs() == {"no2": False, "no3": False, "no4": False}
    rig.pack.contacts[3] = True
    assert daq.inputs() == {"no2": False, "no3": True, "no4": False}


def test_daq_outputs_drive_the_fixture_relays(rig) -> None:
    daq = rig.open("daq")
    daq.set_relay("power", True)
    daq.press("sw", 1.0)
    daq.set_relay("in1", True)
    assert rig.pack.buttons == {"power": True, "sw": False, "breaker": False, "in1": 24.0}
    presses = [(t, n, v) for t, n, v in rig.pack.button_log if n == "sw"]
    assert [v for _, _, v in presses] == [True, False]
    assert presses[1][0] - presses[0][0] == pytest.approx(1.0, abs=0.01)   # held 1 s
    assert daq.relays() == {"power": True, "sw": False, "breaker": False, "in1": True}
    daq.safe_state()
    assert rig.pack.buttons == {"power": False, "sw": False, "breaker": False, "in1": 0.0}
    assert rig.bench.daq.out_byte == 0
    with pytest.raises(KeyError, match="relay9"):
        daq.set_relay("relay9", True)


def test_daq_bad_channel_goes_to_the_error_queue(rig) -> None:
    daq = rig.open("daq")
    with pytest.raises(InstrumentCommandError) as err:
        daq.write("SOUR:DIG:DATA:BYTE 3,(@305)")
    assert err.value.code == -222
    with pytest.raises(InstrumentCommandError) as err:
        daq.write("SOUR:DIG:DATA:BYTE 300,(@302)")
    assert err.value.code == -222
    assert rig.bench.daq.out_byte == 0


def test_led_analyser_colour_and_sequence(rig) -> None:
    leds = rig.open("leds")
    assert leds.identify().startswith("FEASA,")
    rig.pack.add_led_edge("RUN", 0.0, True)
    rig.pack.add_led_edge("ALM", 0.0, True)
    readings = leds.read()
    assert readings["RUN"].green == 255 and readings["RUN"].intensity == 30000
    assert readings["ALM"].red == 255 and readings["SOC1"].intensity == 0
    t0 = rig.clock.now()
    for k in range(3):  # Blink 2 on ALM: 0.5 s on / 0.5 s off
        rig.pack.add_led_edge("ALM", t0 + k + 0.5031, False)
        rig.pack.add_led_edge("ALM", t0 + k + 1.0, True)
    edges = leds.capture_sequence(2.5, sample_ms=10)
    # the capture's 2.5 s and the serial exchanges around it (57600 baud)
    assert t0 + 2.5 <= rig.clock.now() <= t0 + 3.0
    # each edge at the first 10 ms sample at or after it, counted from the capture's start
    # (a few serial exchanges after t0)
    start = rig.bench.leds.seq_t0
    assert start is not None and t0 < start < t0 + 0.1

    def seen(t: float) -> float:
        return round(math.ceil(round((t - start) * 1000, 6) / 10) * 10 / 1000, 3)

    made = sorted([(t0 + k + 0.5031, False) for k in range(3)] + [(t0 + k + 1.0, True) for k in range(3)])
    assert edges["ALM"] == [(0.0, True)] + [(seen(t), on) for t, on in made if t < start + 2.5]
    assert len(edges["ALM"]) >= 5
    assert edges["RUN"] == [(0.0, True)]


def test_led_analyser_errors(rig) -> None:
    leds = rig.open("leds")
    with pytest.raises(InstrumentCommandError, match="fibre out of range"):
        leds._reading(9)
    rig.bench.servers["leds"].drop_connections()
    with pytest.raises(InstrumentConnectionError, match="leds"):
        leds.read()


def test_safety_tester_reads_the_unit(rig) -> None:
    safety = rig.open("safety")
    assert "19032" in safety.identify()
    assert safety.ground_bond(10.0) == pytest.approx(0.021)
    assert safety.insulation(500.0) == pytest.approx(4.7e8)
    with pytest.raises(InstrumentCommandError) as err:
        safety.ground_bond(40.0)  # the tester is rated 3-30 A
    assert err.value.code == -222
    safety.safe_state()
    assert rig.bench.safety.received[-2] == "SOUR:SAFE:STOP"


@pytest.mark.parametrize("role", ["daq", "safety"])
def test_lost_connection_is_named(rig, role: str) -> None:
    driver = rig.open(role, timeout_ms=300)
    assert driver.identify()
    rig.bench.servers[role].drop_connections()
    with pytest.raises(InstrumentConnectionError) as err:
        driver.identify()
    assert err.value.instrument == role and err.value.command == "*IDN?"


@pytest.mark.parametrize("role", ["daq", "safety"])
def test_unknown_command_error_queue(rig, role: str) -> None:
    driver = rig.open(role)
    with pytest.raises(InstrumentCommandError) as err:
        driver.write("CONF:NONSENSE")
    assert err.value.code == -113 and err.value.instrument == role


def test_a_muted_instrument_times_out_with_a_named_error(rig) -> None:
    daq = rig.open("daq", timeout_ms=200)
    rig.bench.servers["daq"].muted = True
    with pytest.raises(InstrumentConnectionError, match="daq"):
        daq.pack_voltage()
