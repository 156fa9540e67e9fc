"""Both load dialects through real pyvisa sessions: levels, protections, errors, capture."""

from __future__ import annotations

import pytest

from drivers.instruments.envelope import Envelope
from drivers.instruments.errors import (
    EnvelopeViolation,
    InstrumentCommandError,
    InstrumentConnectionError,
)
from tests.instruments.conftest import STATION

LOADS = ["chroma-63200a", "itech-it8900a"]


@pytest.mark.parametrize("dialect", LOADS)
def test_cc_current_flows_out_of_the_pack(rig_factory, dialect: str) -> None:
    rig = rig_factory({"load": dialect})
    load = rig.open("load")
    assert dialect.split("-")[0].lower() in load.identify().lower()
    load.set_cc(50.0)
    load.set_input(True)
    assert load.input_on()
    assert load.measure_current() == pytest.approx(50.0, abs=1e-3)
    assert rig.pack.current() == pytest.approx(-50.0, abs=1e-3)
    assert load.measure_voltage() == pytest.approx(52.6 - 50 * 0.018, abs=1e-3)
    load.set_input(False)
    assert rig.pack.current() == pytest.approx(0.0, abs=1e-6)
    assert not rig.bench.load.input_on


@pytest.mark.parametrize("dialect", LOADS)
def test_other_modes_draw_what_they_should(rig_factory, dialect: str) -> None:
    rig = rig_factory({"load": dialect})
    load = rig.open("load")
    load.set_cr(1.0)
    load.set_input(True)
    v = load.measure_voltage()
    assert load.measure_current() == pytest.approx(v / 1.0, rel=1e-3)
    load.set_cp(2000.0)
    assert load.measure_power() == pytest.approx(2000.0, rel=1e-3)


@pytest.mark.parametrize("dialect", LOADS)
def test_unknown_command_reaches_the_error_queue(rig_factory, dialect: str) -> None:
    rig = rig_factory({"load": dialect})
    load = rig.open("load")
    with pytest.raises(InstrumentCommandError) as err:
        load.write("FOO:BAR 1")
    assert err.value.code == -113
    assert "Undefined header" in str(err.value)
    assert err.value.instrument == "load" and err.value.command == "FOO:BAR 1"
    load.check_errors()  # the queue was drained


@pytest.mark.parametrize("dialect", LOADS)
def test_rating_exceeded_is_refused_by_the_instrument(rig_factory, dialect: str) -> None:
    rig = rig_factory({"load": dialect})
    load = rig.open("load")  # wide envelope: the instrument's own rating decides
    with pytest.raises(InstrumentCommandError) as err:
        load.set_cc(1300.0)
    assert err.value.code == -222
    assert rig.bench.load.levels["CC"] == 0.0


@pytest.mark.parametrize("dialect", LOADS)
def test_over_power_trips_the_load_off(rig_factory, dialect: str) -> None:
    rig = rig_factory({"load": dialect})
    load = rig.open("load")
    load.set_cc(500.0)  # ≈ 22 kW at 43 V: over both frames' power rating
    load.set_input(True)
    assert "OP" in load.protection_status()
    assert not load.input_on()
    assert load.measure_current() == pytest.approx(0.0, abs=1e-6)
    with pytest.raises(InstrumentCommandError):
        load.set_input(True)  # latched until cleared
    load.clear_protection()
    assert load.protection_status() == frozenset()


@pytest.mark.parametrize("dialect", LOADS)
def test_lost_connection_is_a_named_error(rig_factory, dialect: str) -> None:
    rig = rig_factory({"load": dialect})
    load = rig.open("load", timeout_ms=300)
    assert load.identify()
    rig.bench.servers["load"].drop_connections()
    with pytest.raises(InstrumentConnectionError) as err:
        load.measure_current()
    assert err.value.instrument == "load"
    assert "MEAS:CURR?" in str(err.value)


@pytest.mark.parametrize("dialect", LOADS)
def test_capture_sees_the_mosfet_open_at_its_resolution(rig_factory, dialect: str) -> None:
    rig = rig_factory({"load": dialect})
    load = rig.open("load")
    load.set_cc(150.0)
    load.start_capture(rate_hz=100, seconds=3.0)
    load.set_input(True)
    rig.clock.call_at(1.234, lambda t: rig.pack.set_paths(True, False))
    rig.clock.sleep(3.0)
    cap = load.fetch_capture()
    assert cap.dt == pytest.approx(0.01)
    assert len(cap.samples) == 300
    series = list(zip(cap.times(), cap.samples, strict=True))
    # the capture was triggered a few ms before the input went on (commands take time)
    start = next(t for t, a in series if a >= 0.95 * 150.0)
    assert start - cap.t0 <= 0.02
    trip = next(t for t, a in series if t > start and a < 2.0)
    assert 1.234 <= trip <= 1.234 + 0.01
    assert load.measure_current() == pytest.approx(0.0, abs=1e-6)


def test_capture_below_100_hz_is_refused(rig) -> None:
    load = rig.open("load")
    with pytest.raises(ValueError, match="100"):
        load.start_capture(rate_hz=50, seconds=1)


@pytest.mark.parametrize("dialect", LOADS)
def test_short_mode_only_inside_a_declared_step(rig_factory, dialect: str) -> None:
    rig = rig_factory({"load": dialect})
    env = Envelope(**STATION)
    load = rig.open("load", envelope=env)
    with pytest.raises(EnvelopeViolation):
        load.short(True)
    assert not any("SHOR" in line.upper() and "ON" in line.upper() for line in rig.bench.load.received)
    with pytest.raises(EnvelopeViolation, match="may not use short mode"), env.allow_short("dc_resistance"):
        pass
    with env.allow_short("short_circuit"):
        load.set_cc(0.0)
        load.set_input(True)
        load.short(True)
        assert rig.bench.load.short_on
        assert rig.pack.current() < -1000  # limited by the load, not by the envelope
        load.safe_state()
    assert not rig.bench.load.short_on and not rig.bench.load.input_on
    with pytest.raises(EnvelopeViolation):
        load.short(True)
