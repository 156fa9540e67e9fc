"""Chroma 19032 electrical safety analyzer: ground bond (4-wire) and insulation resistance.

Programming guide: *Chroma 19032 Electrical Safety Analyzer Operation Manual*, "Remote
Interface" (not found in public). The commands follow the SAFEty subsystem of Chroma's
190xx safety testers as published for the 1905x series: ``SOUR:SAFE:STEP<n>:GB[:LEV]
<A>``, ``SOUR:SAFE:STEP<n>:IR[:LEV] <V>``, ``SOUR:SAFE:STAR`` (runs the step list; it
takes no step number), ``SOUR:SAFE:STAT?`` (``RUNNING``/``STOPPED``),
``SOUR:SAFE:RES:ALL:MMET?`` (the measure-meter reading of every step; ``OMET`` would be
the *output* meter, the applied current or voltage), ``SOUR:SAFE:STOP`` and
``SYST:ERR?``. Each measurement programs step 1 (its level and its test time,
``SOUR:SAFE:STEP<n>:GB:TIME:TEST <s>``, ``SOUR:SAFE:STEP<n>:IR:TIME:RAMP <s>`` and
``...:IR:TIME:TEST <s>``, as Chroma's SAFEty subsystem names them for the 19572 ground-bond
tester and the 190xx hipot testers), starts the list, waits for it to stop and reads step
1's result in ohms. The test times are this dialect's: the station's cycle time includes them.
"""

from __future__ import annotations

from drivers.instruments.errors import InstrumentResponseError
from drivers.instruments.roles import SafetyTester
from drivers.instruments.scpi import ScpiInstrument, reading

#: Longest a ground-bond or insulation step may run before the station gives up, s.
STEP_TIMEOUT_S = 120.0
POLL_S = 0.1
#: Ground-bond test time: long enough for the 4-wire reading to settle at the set current [A].
GB_TEST_S = 3.0
#: Insulation: the ramp to the test voltage (charging the pack's Y capacitance), then the
#: dwell the reading is taken at the end of [A].
IR_RAMP_S, IR_TEST_S = 1.0, 2.0


class Chroma19032(SafetyTester, ScpiInstrument):
    dialect = "chroma-19032"
    #: Line endings and error queue: LF both ways (SCPI over a raw socket), the SCPI
    #: error queue ``SYST:ERR?`` (SCPI-1999); see docs/instruments.md, "Dialects".
    write_termination, read_termination = "\n", "\n"
    has_error_queue = True
    #: Rating (Chroma 19032 datasheet): ground bond 3-30 A, insulation resistance 50-1000 V DC.
    RATING_GROUND_BOND_A, RATING_INSULATION_V = 30.0, 1000.0

    def _run_step(self, *setup: str) -> float:
        self._start_step(*setup)
        return self._step_result()

    def _start_step(self, *setup: str) -> None:
        for command in setup:
            self.write(command)
        self.write("SOUR:SAFE:STAR")

    def _step_result(self) -> float:
        deadline = self.clock.now() + STEP_TIMEOUT_S
        while self.query("SOUR:SAFE:STAT?").strip().upper() != "STOPPED":
            if self.clock.now() >= deadline:
                self._stop()
                raise InstrumentResponseError(self.name, "SOUR:SAFE:STAT?", "test did not stop")
            self.clock.sleep(POLL_S)
        command = "SOUR:SAFE:RES:ALL:MMET?"
        answer = self.query(command)
        try:
            return reading(answer)
        except ValueError:
            raise InstrumentResponseError(self.name, command, f"cannot parse {answer!r}") from None

    def _start_ground_bond(self, current_a: float) -> None:
        self._start_step(f"SOUR:SAFE:STEP1:GB:LEV {current_a:g}",
                         f"SOUR:SAFE:STEP1:GB:TIME:TEST {GB_TEST_S:g}")

    def _insulation(self, volts: float) -> float:
        return self._run_step(f"SOUR:SAFE:STEP1:IR:LEV {volts:g}",
                              f"SOUR:SAFE:STEP1:IR:TIME:RAMP {IR_RAMP_S:g}",
                              f"SOUR:SAFE:STEP1:IR:TIME:TEST {IR_TEST_S:g}")

    def _stop(self) -> None:
        self.write("SOUR:SAFE:STOP")
