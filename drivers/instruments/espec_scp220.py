"""ESPEC chamber with the SCP-220 controller (ASCII protocol over LAN/RS-232C).

Programming guide: *ESPEC SCP-220 Communication Manual* (``TEMP?`` → ``PV,SP,HI,LO``,
``TEMP, S25.0``, ``MODE, CONSTANT|STANDBY``, ``MODE?``, ``TYPE?``, ``ROM?``). There is no
error queue: a refused command is answered ``NA:<reason>`` at once, and a setting is
acknowledged ``OK: <command>``; both are read after every write.
"""

from __future__ import annotations

from drivers.instruments.errors import InstrumentCommandError, InstrumentResponseError
from drivers.instruments.roles import Chamber
from drivers.instruments.scpi import LineInstrument


class EspecSCP220(Chamber, LineInstrument):
    dialect = "espec-scp220"

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
        self._set("MODE, CONSTANT")

    def standby(self) -> None:
        self._set("MODE, STANDBY")

    def mode(self) -> str:
        return "run" if self._ask("MODE?").strip().upper() == "CONSTANT" else "standby"
