"""Watlow F4T: every command the chamber dialect sends, byte for byte (no SYST:ERR?, the
link's unit checked, writes read back), older °F-only firmware, and the simulator on the
same scripts."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from drivers.instruments.errors import InstrumentCommandError
from drivers.instruments.watlow_f4t import WatlowF4T
from sim.instruments.chamber import SimChamber, watlow_device
from sim.instruments.server import LineServer
from tests.instruments.fakepack import FakePack
from tests.instruments.protocol import replay, run_script
from tests.instruments.scripts import num, q, w

IDN = "Watlow Electric,F4T,SIM-CHAMBER-0001,4.0.1"
SCRIPT = [
    *q("*IDN?", IDN),
    *q(":UNIT:TEMPERATURE?", "C"),
    *w(":SOURCE:CLOOP1:SPOINT 40.0", checked=False), *q(":SOURCE:CLOOP1:SPOINT?", "40.0"),
    *num(":SOURCE:CLOOP1:PVALUE?", "25.00"), *q(":SOURCE:CLOOP1:SPOINT?", "40.0"),
    *w(":OUTPUT1:STATE ON", checked=False), *q(":OUTPUT1:STATE?", "ON"), *q(":OUTPUT1:STATE?", "ON"),
    *w(":OUTPUT1:STATE OFF", checked=False), *q(":OUTPUT1:STATE?", "OFF"),
]
#: Firmware that keeps the link in °F: 25 °C goes out as 77.0, 77.00 comes back as 25 °C.
FAHRENHEIT = [
    *q(":UNIT:TEMPERATURE?", "F"), *w(":UNIT:TEMPERATURE C", checked=False),
    *q(":UNIT:TEMPERATURE?", "F"),
    *w(":SOURCE:CLOOP1:SPOINT 77.0", checked=False), *q(":SOURCE:CLOOP1:SPOINT?", "77.0"),
    *q(":SOURCE:CLOOP1:PVALUE?", "77.00"),
]


def drive(chamber: WatlowF4T) -> None:
    assert chamber.identify() == IDN
    chamber.set_temperature(40.0)
    assert chamber.temperature() == 25.0 and chamber.setpoint() == 40.0
    chamber.run()
    assert chamber.mode() == "run"
    chamber.safe_state()


def drive_fahrenheit(chamber: WatlowF4T) -> float:
    chamber.set_temperature(25.0)
    return chamber.temperature()


def test_wire_exchange_is_the_command_lists() -> None:
    run_script(WatlowF4T, SCRIPT, drive)


def test_fahrenheit_firmware_is_converted() -> None:
    assert run_script(WatlowF4T, FAHRENHEIT, drive_fahrenheit) == pytest.approx(25.0)


def test_a_refused_set_point_shows_in_its_read_back() -> None:
    script = [*q(":UNIT:TEMPERATURE?", "C"), *w(":SOURCE:CLOOP1:SPOINT 200.0", checked=False),
              *q(":SOURCE:CLOOP1:SPOINT?", "25.0")]
    with pytest.raises(InstrumentCommandError, match="reads back 25"):
        run_script(WatlowF4T, script, lambda c: c.set_temperature(200.0))


def test_run_output_is_an_option() -> None:
    script = [*w(":OUTPUT3:STATE ON", checked=False), *q(":OUTPUT3:STATE?", "ON")]
    run_script(WatlowF4T, script, lambda c: c.run(), options={"run_output": 3})


def test_simulator_answers_the_same_script(rig_factory) -> None:
    rig = rig_factory({"chamber": "watlow-f4t"})
    server = rig.bench.servers["chamber"]
    replay(server.host, server.port, SCRIPT, read_term=b"\n")


@contextmanager
def _fahrenheit_f4t(rig) -> Iterator[tuple[SimChamber, LineServer]]:
    """A simulated F4T whose link is in °F only (an older controller)."""
    chamber = SimChamber(FakePack(rig.clock), rig.clock, "SIM-CHAMBER-0002")
    server = LineServer("f4t-old", watlow_device(chamber, fahrenheit_only=True).handle, rig.clock.lock)
    try:
        yield chamber, server
    finally:
        server.close()
        chamber.close()


def test_fahrenheit_simulator_answers_the_same_script(rig_factory) -> None:
    with _fahrenheit_f4t(rig_factory({"chamber": "watlow-f4t"})) as (_, server):
        replay(server.host, server.port, FAHRENHEIT, read_term=b"\n")


# -- a ramp: the loop's set-point ramp of the published command list ------------------
RAMP = [
    *q(":UNIT:TEMPERATURE?", "C"),
    *num(":SOURCE:CLOOP1:PVALUE?", "25.00"),
    *w(":SOURCE:CLOOP1:RACTION SETPOINT", checked=False),
    *w(":SOURCE:CLOOP1:RSCALE MINUTES", checked=False),
    *w(":SOURCE:CLOOP1:RRATE 1.00", checked=False), *q(":SOURCE:CLOOP1:RRATE?", "1.00"),
    *w(":SOURCE:CLOOP1:SPOINT 40.0", checked=False), *q(":SOURCE:CLOOP1:SPOINT?", "25.0"),
    *w(":OUTPUT1:STATE ON", checked=False), *q(":OUTPUT1:STATE?", "ON"),
    *q(":SOURCE:CLOOP1:SPOINT?", "25.0"),                      # ramping(): still on its way
    # a plain set point afterwards: ramping off first, so it steps as before
    *w(":SOURCE:CLOOP1:RACTION OFF", checked=False),
    *w(":SOURCE:CLOOP1:SPOINT 30.0", checked=False), *q(":SOURCE:CLOOP1:SPOINT?", "30.0"),
]
#: A °F link: the rate goes out as 9/5 of the K/min asked, the target in °F.
RAMP_F = [
    *q(":UNIT:TEMPERATURE?", "F"), *w(":UNIT:TEMPERATURE C", checked=False),
    *q(":UNIT:TEMPERATURE?", "F"),
    *q(":SOURCE:CLOOP1:PVALUE?", "77.00"),
    *w(":SOURCE:CLOOP1:RACTION SETPOINT", checked=False),
    *w(":SOURCE:CLOOP1:RSCALE MINUTES", checked=False),
    *w(":SOURCE:CLOOP1:RRATE 1.80", checked=False), *q(":SOURCE:CLOOP1:RRATE?", "1.80"),
    *w(":SOURCE:CLOOP1:SPOINT 104.0", checked=False), *q(":SOURCE:CLOOP1:SPOINT?", "77.0"),
    *w(":OUTPUT1:STATE ON", checked=False), *q(":OUTPUT1:STATE?", "ON"),
]


def drive_ramp(chamber: WatlowF4T) -> None:
    chamber.ramp_to(40.0, 1.0)
    assert chamber.ramping()
    chamber.set_temperature(30.0)


def test_a_ramp_is_the_loops_ramp_commands() -> None:
    run_script(WatlowF4T, RAMP, drive_ramp)


def test_a_fahrenheit_link_gets_the_rate_in_fahrenheit() -> None:
    run_script(WatlowF4T, RAMP_F, lambda c: c.ramp_to(40.0, 1.0))


def test_a_refused_rate_shows_in_its_read_back() -> None:
    script = [*RAMP[:4], *w(":SOURCE:CLOOP1:RRATE 1.00", checked=False),
              *q(":SOURCE:CLOOP1:RRATE?", "0.00")]
    with pytest.raises(InstrumentCommandError, match="ramp rate reads back 0"):
        run_script(WatlowF4T, script, lambda c: c.ramp_to(40.0, 1.0))


def test_a_set_point_not_on_the_ramp_is_refused() -> None:
    """A refused set point leaves the old one (here 60 °C), not between the air and 40 °C."""
    script = [*RAMP[:7], *q(":SOURCE:CLOOP1:SPOINT?", "60.0")]
    with pytest.raises(InstrumentCommandError, match="not on the way from 25 to 40"):
        run_script(WatlowF4T, script, lambda c: c.ramp_to(40.0, 1.0))


def test_simulator_answers_the_ramp_script(rig_factory) -> None:
    rig = rig_factory({"chamber": "watlow-f4t"})
    server = rig.bench.servers["chamber"]
    replay(server.host, server.port, RAMP, read_term=b"\n")


def test_fahrenheit_simulator_answers_the_ramp_script(rig_factory) -> None:
    rig = rig_factory({"chamber": "watlow-f4t"})
    with _fahrenheit_f4t(rig) as (chamber, server):
        replay(server.host, server.port, RAMP_F, read_term=b"\n")
        rig.clock.sleep(15 * 60)   # 1 K/min for 15 K
        assert chamber.air == pytest.approx(40.0, abs=0.05)
