"""Watlow F4T controller on a chamber, SCPI over TCP port 5025.

Commands from the F4T SCPI command list ESPEC North America publishes with its F4T
library (``WatlowF4TscpiLibrary``, ``f4t_scpi_cmds/f4t_scpi_commands.ods``):
``:UNIT:TEMPERATURE?`` / ``:UNIT:TEMPERATURE C|F`` (units of the Ethernet link),
``:SOURCE:CLOOP1:SPOINT <t>`` / ``?``, ``:SOURCE:CLOOP1:PVALUE?``, the event outputs
``:OUTPUT<n>:STATE ON|OFF`` / ``?`` and ``*IDN?``. The list has no loop control mode
and no ``SYST:ERR?``: the chamber runs when the event output wired to its run input is
on (which output is the chamber builder's wiring, option ``run_output``, default 1), and
a write is checked by reading the setting back instead of an error queue.

Ramps (``ramp_to``) are the loop's own set-point ramp, from the same command list:
``:SOURCE:CLOOP1:RACTION SETPOINT`` ("ramps to set point on change of set point"),
``:SOURCE:CLOOP1:RSCALE MINUTES`` ("ramp rate is per minute"), ``:SOURCE:CLOOP1:RRATE <r>``
/ ``RRATE?`` (in the link's unit per minute: a °F link gets 9/5 of the K/min asked), then
the set point; a plain ``set_temperature`` after a ramp sends ``RACTION OFF`` first
("controls instantly to set point"). The list's profile commands (``:PROGRAM:NUMBER``,
``:PROGRAM:STEP``, ``:PROGRAM:SELECTED:STATE START|STOP|PAUSE|RESUME``) only select and
start a profile already stored in the controller; it has none to write a profile's steps
(ESPEC's ChamberConnectLibrary ``watlowf4t.py`` writes them over Modbus), so the F4T's
profile engine is not used. The list reads ``:SOURCE:CLOOP1:SPOINT?`` as "Set Point
Active Closed": during a ramp it is the ramping set point, so ``ramping()`` compares it
with the target, and the written set point is checked by the rate's read-back and the
active set point lying between the air and the target. Not verified against a public
manual: that the ramp starts from the process value (the simulator's reading) and that
``SPOINT?`` answers the ramping value.

Older firmware speaks °F on the link: the unit is asked (and set to °C) before the
first temperature, and if the controller stays in °F every value is converted, so
25 °C is never programmed as 25 °F.
"""

from __future__ import annotations

from drivers.instruments.errors import InstrumentCommandError, InstrumentResponseError
from drivers.instruments.roles import Chamber
from drivers.instruments.scpi import ScpiInstrument


class WatlowF4T(Chamber, ScpiInstrument):
    dialect = "watlow-f4t"
    #: Line endings and error queue: LF both ways on port 5025; no error queue (the F4T
    #: command list has no ``SYST:ERR?``); see docs/instruments.md, "Dialects".
    write_termination, read_termination = "\n", "\n"
    has_error_queue = False
    _fahrenheit: bool | None = None
    _ramp_target: float | None = None   # wire units, while a ramp of this session is set
    _ramp_action: bool = False          # RACTION SETPOINT sent (a plain set point turns it off)

    def _number(self, command: str) -> float:
        answer = self.query(command)
        try:
            return float(answer)
        except ValueError:
            raise InstrumentResponseError(self.name, command, f"cannot parse {answer!r}") from None

    def _unit(self) -> str:
        return self.query(":UNIT:TEMPERATURE?").strip().upper()

    def _in_fahrenheit(self) -> bool:
        """Ask the link's unit once; switch it to °C, or convert if it will not switch."""
        if self._fahrenheit is None:
            unit = self._unit()
            if unit != "C":
                self.write(":UNIT:TEMPERATURE C")
                unit = self._unit()
            if unit not in ("C", "F"):
                raise InstrumentResponseError(self.name, ":UNIT:TEMPERATURE?", f"unit {unit!r}")
            self._fahrenheit = unit == "F"
        return self._fahrenheit

    def _to_wire(self, celsius: float) -> float:
        return celsius * 9 / 5 + 32 if self._in_fahrenheit() else celsius

    def _from_wire(self, value: float) -> float:
        return (value - 32) * 5 / 9 if self._in_fahrenheit() else value

    def _set_temperature(self, celsius: float) -> None:
        wire = round(self._to_wire(celsius), 1)
        if self._ramp_action:   # a plain set point steps, as before the ramp
            self.write(":SOURCE:CLOOP1:RACTION OFF")
            self._ramp_action, self._ramp_target = False, None
        command = f":SOURCE:CLOOP1:SPOINT {wire:.1f}"
        self.write(command)
        back = self._number(":SOURCE:CLOOP1:SPOINT?")
        if abs(back - wire) > 0.051:   # no error queue: a refused set point shows here
            raise InstrumentCommandError(self.name, command, f"set point reads back {back:g}")

    def temperature(self) -> float:
        return self._from_wire(self._number(":SOURCE:CLOOP1:PVALUE?"))

    def setpoint(self) -> float:
        return self._from_wire(self._number(":SOURCE:CLOOP1:SPOINT?"))

    def _output(self) -> str:
        return f":OUTPUT{int(self.options.get('run_output', 1))}:STATE"

    def _set_run(self, on: bool) -> None:
        command = f"{self._output()} {'ON' if on else 'OFF'}"
        self.write(command)
        if self._run_on() != on:
            raise InstrumentCommandError(self.name, command, "event output did not switch")

    def _run_on(self) -> bool:
        answer = self.query(f"{self._output()}?").strip().upper()
        if answer not in ("ON", "OFF"):
            raise InstrumentResponseError(self.name, f"{self._output()}?", f"got {answer!r}")
        return answer == "ON"

    def run(self) -> None:
        self._set_run(True)

    def standby(self) -> None:
        self._set_run(False)

    def mode(self) -> str:
        return "run" if self._run_on() else "standby"

    # -- ramps: the loop's set-point ramp ------------------------------------------------
    def _ramp_to(self, celsius: float, rate_c_per_min: float) -> None:
        wire = round(self._to_wire(celsius), 1)
        rate = round(rate_c_per_min * (9 / 5 if self._in_fahrenheit() else 1.0), 2)
        start = self._number(":SOURCE:CLOOP1:PVALUE?")
        self.write(":SOURCE:CLOOP1:RACTION SETPOINT")
        self._ramp_action = True
        self.write(":SOURCE:CLOOP1:RSCALE MINUTES")
        command = f":SOURCE:CLOOP1:RRATE {rate:.2f}"
        self.write(command)
        back = self._number(":SOURCE:CLOOP1:RRATE?")
        if abs(back - rate) > 0.0051:   # no error queue: a refused rate shows here
            raise InstrumentCommandError(self.name, command, f"ramp rate reads back {back:g}")
        command = f":SOURCE:CLOOP1:SPOINT {wire:.1f}"
        self.write(command)
        active = self._number(":SOURCE:CLOOP1:SPOINT?")
        if not min(start, wire) - 0.15 <= active <= max(start, wire) + 0.15:
            raise InstrumentCommandError(self.name, command, f"set point reads back {active:g}, "
                                                             f"not on the way from {start:g} to {wire:g}")
        self._ramp_target = wire
        self._set_run(True)

    def ramping(self) -> bool:
        if self._ramp_target is None:
            return False
        return abs(self._number(":SOURCE:CLOOP1:SPOINT?") - self._ramp_target) > 0.051
