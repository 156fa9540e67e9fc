"""ESPEC chamber with the SCP-220 controller (ASCII protocol over LAN/RS-232C).

Programming guide: *ESPEC SCP-220 Communication Manual* (not found in public; the
commands here follow ESPEC North America's ChamberConnectLibrary, ``especinteract.py`` /
``p300.py``, which drives the P-300 and SCP-220 with the same set): ``TEMP?`` →
``PV,SP,HI,LO``, ``TEMP, S25.0``, ``MODE,CONSTANT``, ``MODE,STANDBY``, ``MODE?`` (→
``OFF``, ``STANDBY``, ``CONSTANT`` or ``RUN``), ``TYPE?``, ``ROM?``. Every command and
answer ends with CR LF. There is no error queue: a refused command is answered
``NA:<reason>`` at once, and a setting is acknowledged ``OK: <command>``; both are read
after every write.

Ramps (``ramp_to``) are a one-step program in a RAM program slot (option
``program_number``, default 20, the SCP-220's last RAM program: ``scp220.py`` sets
``ramprgms = 20``), erased and rewritten at every ramp. The commands are those of
ChamberConnectLibrary ``p300.py`` (which ``scp220.py`` subclasses), written in the order
its ``write_prgm`` uses:

- ``PRGM ERASE,RAM:<n>`` (``write_prgm_erase``); ``NA:DATA NOT READY`` (the program does
  not exist, ``especinteract.py``'s error table) is not an error here;
- ``PRGM DATA WRITE,PGM<n>,EDIT START`` / ``EDIT END`` / ``EDIT CANCEL`` on a failure
  (``write_prgm_data_edit``);
- ``PRGM DATA WRITE,PGM<n>,STEP1,TEMP<t>,TRAMPON,TIME<h>:<m>`` (``write_prgm_data_step``:
  ``TRAMPON`` makes the step's set point move linearly to ``<t>`` over the step's time);
- ``PRGM DATA WRITE,PGM<n>,END,CONSTANT`` (``write_prgm_data_details``; end modes ``OFF``,
  ``CONSTANT``, ``STANDBY``, ``HOLD``, ``RUN``);
- ``PRGM,RUN,RAM:<n>,STEP1`` (``write_prgm_run``), then ``TEMP, S<t>``: the constant set
  point the program ends in (``espec.py`` ``set_loop_sp`` writes ``TEMP, S`` as the
  *constant* set point; ``TEMP?``'s SP is the current one, the program's while it runs);
- ``MODE?`` answers ``RUN`` while the program runs, ``CONSTANT`` once it has ended;
  ``PRGM MON?`` → ``<step>,<temp>,<h>:<m>,<counter A>,<counter B>`` on a chamber without
  humidity (``read_prgm_mon``: the remaining time of the step).

The controller ramps by time, in whole minutes: the driver takes the air now (``TEMP?``)
and rounds the ramp's time up, so the rate is never above the one asked. Not verified
against a public manual: where the first step's ramp starts (taken: the air at the
start, as the simulator does), the longest step (taken: 99 h 59 min), and the
``OK:`` acknowledgement of the program commands.
"""

from __future__ import annotations

import math

from drivers.instruments.errors import InstrumentCommandError, InstrumentResponseError, RampRefused
from drivers.instruments.roles import Chamber
from drivers.instruments.scpi import LineInstrument

#: ``MODE?`` answer → role mode. ``RUN`` is a program running (the air is controlled);
#: ``OFF`` is the controller switched off (nothing heats or cools).
MODES = {"CONSTANT": "run", "RUN": "run", "STANDBY": "standby", "OFF": "standby"}
#: The longest program step, minutes (``TIME<h>:<m>``; 99:59 not verified).
MAX_STEP_MIN = 99 * 60 + 59


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

    # -- ramps: a one-step program ------------------------------------------------------
    @property
    def program_number(self) -> int:
        return int(self.options.get("program_number", 20))

    def ramp_minutes(self, start_c: float, target_c: float, rate_c_per_min: float) -> int:
        """The step's time: whole minutes, rounded up (never faster than asked), ≥ 1."""
        return max(1, math.ceil(round(abs(target_c - start_c) / rate_c_per_min, 6)))

    def _ramp_to(self, celsius: float, rate_c_per_min: float) -> None:
        n = self.program_number
        minutes = self.ramp_minutes(self.temperature(), celsius, rate_c_per_min)
        if minutes > MAX_STEP_MIN:
            raise RampRefused(self.name, "RAMP", f"a ramp of {minutes} min is longer than the "
                                                 f"controller's longest step ({MAX_STEP_MIN} min)")
        try:
            self._ask(f"PRGM ERASE,RAM:{n}")
        except InstrumentCommandError as err:
            if "DATA NOT READY" not in err.text:   # no such program yet: nothing to erase
                raise
        head = f"PRGM DATA WRITE,PGM{n}"
        self._set(f"{head},EDIT START")
        try:
            self._set(f"{head},STEP1,TEMP{celsius:.1f},TRAMPON,TIME{minutes // 60}:{minutes % 60}")
            self._set(f"{head},END,CONSTANT")
            self._set(f"{head},EDIT END")
        except InstrumentCommandError:
            self._ask(f"{head},EDIT CANCEL")
            raise
        self._set(f"PRGM,RUN,RAM:{n},STEP1")
        self._set(f"TEMP, S{celsius:.1f}")

    def ramping(self) -> bool:
        return self._ask("MODE?").strip().upper().split()[:1] == ["RUN"]

    def program_monitor(self) -> tuple[int, float, int]:
        """``PRGM MON?`` of the running program: (step, its temperature, remaining s)."""
        answer = self._ask("PRGM MON?")
        fields = answer.split(",")
        try:
            if len(fields) not in (5, 6):
                raise ValueError
            hours, minutes = fields[-3].split(":")
            return int(fields[0]), float(fields[1]), (int(hours) * 60 + int(minutes)) * 60
        except ValueError:
            raise InstrumentResponseError(self.name, "PRGM MON?", f"cannot parse {answer!r}") from None
