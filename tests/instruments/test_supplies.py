"""Both supply dialects through real pyvisa sessions; the RP7900's watchdog on the bench clock."""

from __future__ import annotations

import pytest

from drivers.instruments.errors import InstrumentCommandError, InstrumentConnectionError

SUPPLIES = ["keysight-rp7900", "itech-it6000c"]


@pytest.mark.parametrize("dialect", SUPPLIES)
def test_charging_current_flows_into_the_pack(rig_factory, dialect: str) -> None:
    rig = rig_factory({"supply": dialect})
    supply = rig.open("supply")
    assert supply.identify().count(",") == 3
    supply.set_voltage(56.0)
    supply.set_current_limits(50.0, 10.0)
    supply.set_output(True)
    assert supply.output_on()
    assert supply.measure_current() == pytest.approx(50.0, abs=1e-3)
    assert rig.pack.current() == pytest.approx(50.0, abs=1e-3)
    assert supply.measure_voltage() == pytest.approx(52.6 + 50 * 0.018, abs=1e-3)
    supply.set_output(False)
    assert rig.pack.current() == pytest.approx(0.0, abs=1e-9)


@pytest.mark.parametrize("dialect", SUPPLIES)
def test_set_charge_charges_at_its_current_and_sinks_no_more_than_it(rig_factory,
                                                                    dialect: str) -> None:
    rig = rig_factory({"supply": dialect})
    supply = rig.open("supply")
    supply.set_charge(56.0, 20.0)
    supply.set_output(True)
    assert supply.measure_current() == pytest.approx(20.0, abs=1e-3)
    supply.set_output(False)
    supply.set_charge(50.0, 20.0)            # below the pack: it sinks, at the same limit
    supply.set_output(True)
    assert supply.measure_current() == pytest.approx(-20.0, abs=1e-3)
    supply.set_output(False)


@pytest.mark.parametrize("dialect", SUPPLIES)
def test_sinking_below_the_pack_voltage(rig_factory, dialect: str) -> None:
    rig = rig_factory({"supply": dialect})
    supply = rig.open("supply")
    supply.set_voltage(50.0)
    supply.set_current_limits(10.0, 30.0)
    supply.set_output(True)
    assert supply.measure_current() == pytest.approx(-30.0, abs=1e-3)
    assert rig.pack.current() == pytest.approx(-30.0, abs=1e-3)


@pytest.mark.parametrize("dialect", SUPPLIES)
def test_rating_and_error_queue(rig_factory, dialect: str) -> None:
    rig = rig_factory({"supply": dialect})
    supply = rig.open("supply")
    with pytest.raises(InstrumentCommandError) as err:
        supply.set_voltage(95.0)  # both frames are 80 V
    assert err.value.code == -222 and err.value.instrument == "supply"
    assert rig.bench.supply.vset == 0.0
    with pytest.raises(InstrumentCommandError, match="Undefined header"):
        supply.write("OUTP:BOGUS 1")


@pytest.mark.parametrize("dialect", SUPPLIES)
def test_ovp_switches_the_output_off_and_latches(rig_factory, dialect: str) -> None:
    rig = rig_factory({"supply": dialect})
    supply = rig.open("supply")
    supply.set_ovp(52.0)  # below the pack: the output trips as soon as it is on
    supply.set_voltage(56.0)
    supply.set_current_limits(20.0, 20.0)
    supply.set_output(True)
    assert "OV" in supply.protection_status()
    assert not supply.output_on()
    assert rig.pack.current() == pytest.approx(0.0, abs=1e-9)
    supply.clear_protection()
    assert supply.protection_status() == frozenset()


@pytest.mark.parametrize("dialect", SUPPLIES)
def test_lost_connection(rig_factory, dialect: str) -> None:
    rig = rig_factory({"supply": dialect})
    supply = rig.open("supply", timeout_ms=300)
    assert supply.identify()
    rig.bench.servers["supply"].drop_connections()
    with pytest.raises(InstrumentConnectionError, match="supply"):
        supply.set_output(False)


def test_watchdog_switches_output_off_when_the_station_goes_quiet(rig_factory) -> None:
    rig = rig_factory({"supply": "keysight-rp7900"})
    supply = rig.open("supply")
    supply.set_voltage(56.0)
    supply.set_current_limits(20.0, 20.0)
    supply.arm_watchdog(5.0)
    supply.set_output(True)
    rig.clock.sleep(4.0)
    assert rig.bench.supply.output_on  # not quiet long enough yet
    rig.clock.sleep(1.5)
    assert not rig.bench.supply.output_on
    assert rig.pack.current() == pytest.approx(0.0, abs=1e-9)
    assert "WDOG" in supply.protection_status()


def test_petting_keeps_the_watchdog_quiet(rig_factory) -> None:
    rig = rig_factory({"supply": "keysight-rp7900"})
    supply = rig.open("supply")
    supply.set_voltage(56.0)
    supply.set_current_limits(20.0, 20.0)
    supply.arm_watchdog(5.0)
    supply.set_output(True)
    for _ in range(20):
        rig.clock.sleep(2.0)
        supply.pet()
    assert rig.bench.supply.output_on and rig.bench.supply.watchdog_trips == 0
    supply.disarm_watchdog()
    rig.clock.sleep(100)
    assert rig.bench.supply.output_on


def test_it6000c_has_no_watchdog(rig_factory) -> None:
    rig = rig_factory({"supply": "itech-it6000c"})
    supply = rig.open("supply")
    assert not supply.has_watchdog
    supply.arm_watchdog(5.0)  # a no-op, nothing written
    assert not any("WDOG" in line for line in rig.bench.supply.received)
