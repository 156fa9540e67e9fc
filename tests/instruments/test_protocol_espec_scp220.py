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


# -- a ramp: a one-step RAM program (ChamberConnectLibrary p300.py) -------------------
P = "PRGM DATA WRITE,PGM20"
#: 25.0 → 40.0 °C at 2 K/min: 7.5 min, rounded up to the controller's whole minutes.
RAMP = [
    *q("TEMP?", "25.0,25.0,150.0,-40.0", rb"25\.0,25\.0,150\.0,-40\.0", term=T),
    *q("PRGM ERASE,RAM:20", "NA:DATA NOT READY", term=T),   # no such program yet
    *q(f"{P},EDIT START", f"OK: {P},EDIT START", term=T),
    *q(f"{P},STEP1,TEMP40.0,TRAMPON,TIME0:8", f"OK: {P},STEP1,TEMP40.0,TRAMPON,TIME0:8", term=T),
    *q(f"{P},END,CONSTANT", f"OK: {P},END,CONSTANT", term=T),
    *q(f"{P},EDIT END", f"OK: {P},EDIT END", term=T),
    *q("PRGM,RUN,RAM:20,STEP1", "OK: PRGM,RUN,RAM:20,STEP1", term=T),
    *q("TEMP, S40.0", "OK: TEMP, S40.0", term=T),
    *q("MODE?", "RUN", term=T), *q("PRGM MON?", "1,40.0,0:08,0,0", term=T),
]
#: The same slot again: the old program is erased first.
AGAIN = [
    *q("TEMP?", "25.1,25.1,150.0,-40.0", rb"-?\d+\.\d,-?\d+\.\d,150\.0,-40\.0", term=T),
    *q("PRGM ERASE,RAM:20", "OK: PRGM ERASE,RAM:20", term=T),
    *q(f"{P},EDIT START", f"OK: {P},EDIT START", term=T),
    *q(f"{P},STEP1,TEMP-10.5,TRAMPON,TIME1:12", f"OK: {P},STEP1,TEMP-10.5,TRAMPON,TIME1:12",
       term=T),
    *q(f"{P},END,CONSTANT", f"OK: {P},END,CONSTANT", term=T),
    *q(f"{P},EDIT END", f"OK: {P},EDIT END", term=T),
    *q("PRGM,RUN,RAM:20,STEP1", "OK: PRGM,RUN,RAM:20,STEP1", term=T),
    *q("TEMP, S-10.5", "OK: TEMP, S-10.5", term=T),
]


def drive_ramp(chamber: EspecSCP220) -> tuple[int, float, int]:
    chamber.ramp_to(40.0, 2.0)
    assert chamber.ramping()
    return chamber.program_monitor()


def test_a_ramp_is_the_p300_program_commands() -> None:
    assert run_script(EspecSCP220, RAMP, drive_ramp) == (1, 40.0, 480)


def test_a_second_ramp_erases_the_slot_first() -> None:
    run_script(EspecSCP220, AGAIN, lambda c: c.ramp_to(-10.5, 0.5))   # 35.6 K: 71.2 → 72 min


def test_the_program_slot_is_an_option() -> None:
    script = [*q("TEMP?", "25.0,25.0,150.0,-40.0", term=T),
              *q("PRGM ERASE,RAM:7", "NA:DATA NOT READY", term=T),
              *q("PRGM DATA WRITE,PGM7,EDIT START", "NA:PRGM WRITE ERR-12", term=T)]
    with pytest.raises(InstrumentCommandError, match="NA:PRGM WRITE ERR-12"):   # edited on the HMI
        run_script(EspecSCP220, script, lambda c: c.ramp_to(30.0, 1.0), options={"program_number": 7})


def test_a_refused_step_cancels_the_edit_and_runs_nothing() -> None:
    script = [*RAMP[:3],
              *q(f"{P},STEP1,TEMP40.0,TRAMPON,TIME0:8", "NA:DATA OUT OF RANGE", term=T),
              *q(f"{P},EDIT CANCEL", f"OK: {P},EDIT CANCEL", term=T)]
    with pytest.raises(InstrumentCommandError, match="NA:DATA OUT OF RANGE") as err:
        run_script(EspecSCP220, script, lambda c: c.ramp_to(40.0, 2.0))
    assert err.value.command == f"{P},STEP1,TEMP40.0,TRAMPON,TIME0:8"


def test_another_erase_refusal_is_an_error() -> None:
    script = [*RAMP[:1], *q("PRGM ERASE,RAM:20", "NA:PRGM WRITE ERR-10", term=T)]
    with pytest.raises(InstrumentCommandError, match="ERR-10"):   # running: not erased
        run_script(EspecSCP220, script, lambda c: c.ramp_to(40.0, 2.0))


def test_simulator_runs_the_ramp_script(rig_factory) -> None:
    """The same bytes against the simulated SCP-220; 8 min later the program has ended in
    CONSTANT at 40 °C, and the slot is rewritten by the next ramp."""
    rig = rig_factory({"chamber": "espec-scp220"})
    server = rig.bench.servers["chamber"]
    ended = [lambda: rig.clock.sleep(8 * 60), *q("MODE?", "CONSTANT", term=T),
             *q("PRGM MON?", "NA:CONT NOT READY-2", term=T),
             *q("TEMP?", "40.0,40.0,150.0,-40.0", term=T)]
    replay(server.host, server.port, [*RAMP, *ended, *AGAIN], read_term=b"\r\n")
