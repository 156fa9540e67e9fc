"""ESPEC chamber with the SCP-220 controller (ASCII protocol over LAN/RS-232C).

Programming guide: *ESPEC SCP-220 Communication Manual* (not found in public; the
commands here follow ESPEC North America's ChamberConnectLibrary, ``especinteract.py`` /
``p300.py``, which drives the P-300 and SCP-220 with the same set): ``TEMP?`` →
``PV,SP,HI,LO``, ``TEMP, S25.0``, ``MODE,CONSTANT``, ``MODE,STANDBY``, ``MODE?`` (→
``OFF``, ``STANDBY``, ``CONSTANT`` or ``RUN``), ``TYPE?``, ``ROM?``. Every command and
answer ends with CR LF. There is no error queue: a refused command is answered
``NA:<reason>`` at once, and a setting is acknowledged ``OK: <command>``; both are read
after every write.
"""

from __future__ import annotations

from drivers.instruments.errors import InstrumentCommandError, InstrumentResponseError
from drivers.instruments.roles import Chamber
from drivers.instruments.scpi import LineInstrument

#: ``MODE?`` answer → role mode. ``RUN`` is a program running (the air is controlled);
#: ``OFF`` is the controller switched off (nothing heats or cools).
MODES = {"CONSTANT": "run", "RUN": "run", "STANDBY": "standby", "OFF": "standby"}


class EspecSCP220(Chamber, LineInstrument):
    dialect = "espec-scp220"
    write_termination = "\r\n"
    read_termination = "\r\n"
    has_error_queue = False

    def _ask(self, command: str) -> str:
        answer = self.query_raw(command)
        if answer.startswith("NA:"):
            raise InstrumentCommandError(self.name, command, answer)
        return answer

    def _set(self, command: str) -> None:
        answer = self._ask(command)
        if not answer.startswith("OK:"):
            raise InstrumentResponseError(self.name, command, f"expected 'OK:', got {answer!r}")

    def identify(self) -> str:
        return self._ask("TYPE?") + "," + self._ask("ROM?")

    def _temp(self) -> list[float]:
        answer = self._ask("TEMP?")
        try:
            values = [float(x) for x in answer.split(",")]
        except ValueError:
            raise InstrumentResponseError(self.name, "TEMP?", f"cannot parse {answer!r}") from None
        if len(values) != 4:
            raise InstrumentResponseError(self.name, "TEMP?", f"expected PV,SP,HI,LO: {answer!r}")
        return values

    def _set_temperature(self, celsius: float) -> None:
        self._set(f"TEMP, S{celsius:.1f}")

    def temperature(self) -> float:
        return self._temp()[0]

    def setpoint(self) -> float:
        return self._temp()[1]

    def run(self) -> None:
        self._set("MODE,CONSTANT")

    def standby(self) -> None:
        self._set("MODE,STANDBY")

    def mode(self) -> str:
        answer = self._ask("MODE?").strip().upper()
        # a program run may be reported with its state after a space ("RUN PAUSE")
        head = answer.split()[0] if answer else ""
        if head not in MODES:
            raise InstrumentResponseError(self.name, "MODE?", f"unknown mode {answer!r}")
        return MODES[head]
