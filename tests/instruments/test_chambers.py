"""Both chamber dialects: set point, run/standby, rate of the air, their error styles."""

from __future__ import annotations

import pytest

from drivers.instruments.errors import InstrumentCommandError, InstrumentConnectionError

CHAMBERS = ["espec-scp220", "watlow-f4t"]


@pytest.mark.parametrize("dialect", CHAMBERS)
def test_air_follows_the_set_point_at_the_chamber_rate(rig_factory, dialect: str) -> None:
    rig = rig_factory({"chamber": dialect})
    chamber = rig.open("chamber")
    assert chamber.identify()
    chamber.set_temperature(50.0)
    assert chamber.setpoint() == pytest.approx(50.0)
    assert chamber.mode() == "standby"
    chamber.run()
    assert chamber.mode() == "run"
    rig.clock.sleep(300)  # 5 min at 2 K/min
    assert chamber.temperature() == pytest.approx(35.0, abs=0.05)
    assert rig.pack.ambient() == pytest.approx(35.0, abs=0.2)  # pushed by the chamber's ticks
    assert chamber.wait_stable(50.0, band_c=0.5, dwell_s=60, timeout_s=3600)
    assert 50.0 - 0.5 <= rig.pack.ambient() <= 50.0
    assert rig.clock.now() == pytest.approx(300 + 14.5 / 2 * 60 + 60, abs=10)  # band entry + dwell
    chamber.standby()
    rig.clock.sleep(600)
    assert chamber.temperature() == pytest.approx(50.0 - 0.2 * 10, abs=0.1)


def test_espec_refusal_is_a_named_error(rig_factory) -> None:
    rig = rig_factory({"chamber": "espec-scp220"})
    chamber = rig.open("chamber")
    with pytest.raises(InstrumentCommandError, match="NA:DATA OUT OF RANGE") as err:
        chamber.set_temperature(200.0)  # wide envelope; the chamber is rated to 150 °C
    assert err.value.instrument == "chamber" and "TEMP, S200.0" in str(err.value)
    with pytest.raises(InstrumentCommandError, match="NA:CMD ERR"):
        chamber._set("HUMI, S50")


def test_watlow_refusal_is_seen_by_reading_back(rig_factory) -> None:
    """The F4T list has no error queue: a refused set point shows in its read-back."""
    rig = rig_factory({"chamber": "watlow-f4t"})
    chamber = rig.open("chamber")
    with pytest.raises(InstrumentCommandError, match="reads back 25"):
        chamber.set_temperature(200.0)   # the chamber is rated to 150 °C
    assert not any("SYST:ERR" in line for line in rig.bench.servers["chamber"].received)


@pytest.mark.parametrize("dialect", CHAMBERS)
def test_chamber_lost_connection(rig_factory, dialect: str) -> None:
    rig = rig_factory({"chamber": dialect})
    chamber = rig.open("chamber", timeout_ms=300)
    assert chamber.identify()
    rig.bench.servers["chamber"].drop_connections()
    with pytest.raises(InstrumentConnectionError, match="chamber"):
        chamber.temperature()
