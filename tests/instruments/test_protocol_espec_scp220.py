"""ESPEC SCP-220: every command the chamber dialect sends, byte for byte (CR LF both
ways), both MODE? answers the driver must read, and the simulator on the same script."""

from __future__ import annotations

import pytest

from drivers.instruments.errors import InstrumentCommandError
from drivers.instruments.espec_scp220 import EspecSCP220
from tests.instruments.protocol import replay, run_script
from tests.instruments.scripts import q

T = "\r\n"
SCRIPT = [
    *q("TYPE?", "SCP-220,SH-662,SIM-CHAMBER-0001", term=T), *q("ROM?", "SCP220 Ver 2.10", term=T),
    *q("TEMP, S40.0", "OK: TEMP, S40.0", term=T),
    *q("TEMP?", "25.0,40.0,150.0,-40.0", term=T), *q("TEMP?", "25.0,40.0,150.0,-40.0", term=T),
    *q("MODE,CONSTANT", "OK: MODE,CONSTANT", term=T), *q("MODE?", "CONSTANT", term=T),
    *q("MODE,STANDBY", "OK: MODE,STANDBY", term=T), *q("MODE?", "STANDBY", term=T),
]


def drive(chamber: EspecSCP220) -> None:
    assert chamber.identify() == "SCP-220,SH-662,SIM-CHAMBER-0001,SCP220 Ver 2.10"
    chamber.set_temperature(40.0)
    assert chamber.temperature() == 25.0 and chamber.setpoint() == 40.0
    chamber.run()
    assert chamber.mode() == "run"
    chamber.safe_state()
    assert chamber.mode() == "standby"


def test_wire_exchange_is_the_manuals() -> None:
    run_script(EspecSCP220, SCRIPT, drive)


@pytest.mark.parametrize(("answer", "mode"), [("RUN", "run"), ("OFF", "standby"),
                                              ("CONSTANT", "run"), ("STANDBY", "standby")])
def test_every_mode_answer_is_understood(answer: str, mode: str) -> None:
    assert run_script(EspecSCP220, q("MODE?", answer, term=T), lambda c: c.mode()) == mode


def test_a_refusal_is_a_named_error() -> None:
    with pytest.raises(InstrumentCommandError, match="NA:DATA OUT OF RANGE"):
        run_script(EspecSCP220, q("TEMP, S200.0", "NA:DATA OUT OF RANGE", term=T),
                   lambda c: c.set_temperature(200.0))


def test_simulator_answers_the_same_script(rig_factory) -> None:
    rig = rig_factory({"chamber": "espec-scp220"})
    server = rig.bench.servers["chamber"]
    replay(server.host, server.port, SCRIPT, read_term=b"\r\n")
    program = [*q("MODE,RUN1", "OK: MODE,RUN1", term=T), *q("MODE?", "RUN", term=T),
               *q("MODE,OFF", "OK: MODE,OFF", term=T), *q("MODE?", "OFF", term=T)]
    replay(server.host, server.port, program, read_term=b"\r\n")
