"""Chroma 19032 electrical safety analyzer: ground bond (4-wire) and insulation resistance.

Programming guide: *Chroma 19032 Electrical Safety Analyzer Operation Manual*, "Remote
Interface" (``SOUR:SAFE:STEP1:GB:LEV <A>``, ``SOUR:SAFE:STEP2:IR:LEV <V>``,
``SOUR:SAFE:STAR``, ``SOUR:SAFE:STOP``, ``SOUR:SAFE:RES:ALL:OMET?``, ``SYST:ERR?``).
Each measurement here programs one step, starts it and reads the result in ohms.
"""

from __future__ import annotations

from drivers.instruments.errors import InstrumentResponseError
from drivers.instruments.roles import SafetyTester
from drivers.instruments.scpi import ScpiInstrument


class Chroma19032(SafetyTester, ScpiInstrument):
    dialect = "chroma-19032"
    #: Rating (Chroma 19032 datasheet): ground bond 3-30 A, insulation resistance 50-1000 V DC.
    RATING_GROUND_BOND_A, RATING_INSULATION_V = 30.0, 1000.0

    def _run_step(self, setup: str, step: int) -> float:
        self.write(setup)
        self.write(f"SOUR:SAFE:STAR {step}")
        answer = self.query(f"SOUR:SAFE:RES:STEP{step}:OMET?")
        try:
            return float(answer)
        except ValueError:
            raise InstrumentResponseError(self.name, "OMET?", f"cannot parse {answer!r}") from None

    def _ground_bond(self, current_a: float) -> float:
        return self._run_step(f"SOUR:SAFE:STEP1:GB:LEV {current_a:g}", 1)

    def _insulation(self, volts: float) -> float:
        return self._run_step(f"SOUR:SAFE:STEP2:IR:LEV {volts:g}", 2)

    def _stop(self) -> None:
        self.write("SOUR:SAFE:STOP")
