"""Both chamber dialects: set point, run/standby, rate of the air, their error styles."""

from __future__ import annotations

import math
import re

import pytest

from drivers.instruments.envelope import Envelope
from drivers.instruments.errors import (
    EnvelopeViolation,
    InstrumentCommandError,
    InstrumentConnectionError,
    RampRefused,
)
from tests.instruments.conftest import STATION

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


# -- programmed ramps (issue 15) -------------------------------------------------------
@pytest.mark.parametrize("dialect", CHAMBERS)
@pytest.mark.parametrize(("rate", "minutes"), [(1.0, 25.0), (0.5, 50.0)])
def test_a_programmed_ramp_takes_the_time_its_rate_implies(rig_factory, dialect: str,
                                                           rate: float, minutes: float) -> None:
    """25 → 50 °C at 1 K/min (0.5 K/min): the air arrives after 25 min (50 min), not after
    the chamber's own 12.5 min at 2 K/min, and on the way it is where the ramp is."""
    rig = rig_factory({"chamber": dialect})
    chamber = rig.open("chamber")
    t0 = rig.clock.now()
    chamber.ramp_to(50.0, rate)
    assert chamber.mode() == "run" and chamber.ramping()
    rig.clock.sleep(minutes * 60 / 2 - (rig.clock.now() - t0))   # half way
    assert chamber.temperature() == pytest.approx(37.5, abs=0.15)
    assert rig.pack.ambient() == pytest.approx(37.5, abs=0.2)
    assert chamber.ramping()
    while chamber.ramping():
        rig.clock.sleep(10)
    assert rig.clock.now() - t0 == pytest.approx(minutes * 60, abs=12)
    assert chamber.temperature() == pytest.approx(50.0, abs=0.05)
    assert chamber.setpoint() == pytest.approx(50.0) and chamber.mode() == "run"
    rig.clock.sleep(3600)   # the soak: held at the target
    assert chamber.temperature() == pytest.approx(50.0, abs=0.05) and not chamber.ramping()
    chamber.safe_state()
    assert chamber.mode() == "standby" and not chamber.ramping()


@pytest.mark.parametrize("dialect", CHAMBERS)
def test_a_ramp_faster_than_the_chamber_is_the_chambers_rate(rig_factory, dialect: str) -> None:
    """Asked 4 K/min, the simulated chamber (2 K/min) takes its own 12.5 min for 25 K."""
    rig = rig_factory({"chamber": dialect})
    chamber = rig.open("chamber")
    chamber.ramp_to(50.0, 4.0)
    rig.clock.sleep(6.25 * 60)
    assert chamber.temperature() == pytest.approx(37.5, abs=0.2)   # the air lags the program
    rig.clock.sleep(6.5 * 60)
    assert chamber.temperature() == pytest.approx(50.0, abs=0.05)


@pytest.mark.parametrize("dialect", CHAMBERS)
def test_a_plain_set_point_after_a_ramp_steps_again(rig_factory, dialect: str) -> None:
    rig = rig_factory({"chamber": dialect})
    chamber = rig.open("chamber")
    chamber.ramp_to(30.0, 0.5)
    rig.clock.sleep(60)
    chamber.set_temperature(20.0)
    chamber.run()
    assert not chamber.ramping() and chamber.setpoint() == pytest.approx(20.0)
    rig.clock.sleep(6 * 60)   # 2 K/min from ~25.5 °C
    assert chamber.temperature() == pytest.approx(20.0, abs=0.05)


@pytest.mark.parametrize("dialect", CHAMBERS)
@pytest.mark.parametrize(("target", "rate", "fault"), [
    (70.0, 1.0, "70 °C not in -20..60 °C"),
    (50.0, 0.0, "ramp rate 0.0 K/min is not a positive number"),
    (50.0, math.nan, "ramp rate nan K/min"),
    (50.0, 6.0, "ramp rate 6 K/min above the chamber's 5 K/min"),
])
def test_an_out_of_range_ramp_is_refused_before_anything_is_written(
        rig_factory, dialect: str, target: float, rate: float, fault: str) -> None:
    rig = rig_factory({"chamber": dialect})
    chamber = rig.open("chamber", envelope=Envelope(**STATION))
    received = rig.bench.servers["chamber"].received
    before = len(received)
    with pytest.raises((EnvelopeViolation, RampRefused), match=re.escape(fault)) as err:
        chamber.ramp_to(target, rate)
    assert err.value.instrument == "chamber" and err.value.command == "RAMP"
    assert len(received) == before


def test_espec_program_refused_by_the_controller_is_cancelled(rig_factory) -> None:
    """The simulated SCP-220 is rated to 150 °C: a ramp to 200 °C (wide envelope) is
    refused at its step (``NA:DATA OUT OF RANGE``); the edit is cancelled, nothing runs."""
    rig = rig_factory({"chamber": "espec-scp220"})
    chamber = rig.open("chamber")
    with pytest.raises(InstrumentCommandError, match="NA:DATA OUT OF RANGE") as err:
        chamber.ramp_to(200.0, 2.0)
    assert "STEP1,TEMP200.0" in str(err.value)
    received = rig.bench.servers["chamber"].received
    assert received[-1] == "PRGM DATA WRITE,PGM20,EDIT CANCEL"
    assert chamber.mode() == "standby" and not chamber.ramping()
    chamber.ramp_to(40.0, 2.0)   # the slot is free again: the next program goes in
    assert chamber.ramping()


def test_espec_program_monitor_counts_the_step_down(rig_factory) -> None:
    """``PRGM MON?`` while the ramp runs: step 1, its target, the whole minutes left; after
    it the program has ended (``NA:CONT NOT READY-2``) and the chamber holds in CONSTANT."""
    rig = rig_factory({"chamber": "espec-scp220"})
    chamber = rig.open("chamber")
    chamber.ramp_to(35.0, 0.5)   # 10 K: 20 min
    assert chamber.program_monitor() == (1, 35.0, 20 * 60)
    rig.clock.sleep(10.5 * 60)
    assert chamber.program_monitor() == (1, 35.0, 10 * 60)
    assert chamber.setpoint() == pytest.approx(30.2, abs=0.15)   # TEMP?'s SP: the ramp's
    rig.clock.sleep(10 * 60)
    with pytest.raises(InstrumentCommandError, match="CONT NOT READY-2"):
        chamber.program_monitor()
    assert chamber._ask("MODE?") == "CONSTANT" and chamber.setpoint() == 35.0
