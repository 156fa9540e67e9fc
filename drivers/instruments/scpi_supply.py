"""A bidirectional DC supply that speaks SCPI: set points, limits, output, measurements,
the questionable-condition register. Written once; each supply dialect subclasses it."""

from __future__ import annotations

from typing import ClassVar

from drivers.instruments.roles import DcSupply
from drivers.instruments.scpi import ScpiInstrument, control, measurement, on_off


class ScpiSupply(DcSupply, ScpiInstrument):
    """The SCPI commands the bidirectional supplies share; a dialect names its register
    bits and clear command, and adds what only it has (a watchdog)."""

    PROTECTION_BITS: ClassVar[dict[int, str]] = {0: "OV", 1: "OC", 3: "OP", 4: "OT"}
    PROTECTION_CLEAR: ClassVar[str] = "PROT:CLE"

    _volt = control("VOLT?", "VOLT {:.3f}", "output voltage set point, V")
    _src = control("CURR:LIM?", "CURR:LIM {:.3f}", "source current limit, A")
    _snk = control("CURR:LIM:NEG?", "CURR:LIM:NEG {:.3f}", "sink current limit, A (negative)")
    _ovp = control("VOLT:PROT?", "VOLT:PROT {:.3f}", "over-voltage protection, V")
    _outp = control("OUTP?", "OUTP {}", "output state", cast=on_off)
    _v = measurement("MEAS:VOLT?", "output voltage, V")
    _i = measurement("MEAS:CURR?", "output current, A (+ sourced)")

    def _set_voltage(self, volts: float) -> None:
        self._volt = volts

    def _set_current_limits(self, source_a: float, sink_a: float) -> None:
        self._src = source_a
        self._snk = -sink_a

    def _set_ovp(self, volts: float) -> None:
        self._ovp = volts

    def _set_output(self, on: bool) -> None:
        self._outp = "ON" if on else "OFF"

    def output_on(self) -> bool:
        return bool(self._outp)

    def measure_voltage(self) -> float:
        return float(self._v)

    def measure_current(self) -> float:
        return float(self._i)

    def protection_status(self) -> frozenset[str]:
        bits = int(float(self.query("STAT:QUES:COND?")))
        return frozenset(name for bit, name in self.PROTECTION_BITS.items() if bits >> bit & 1)

    def clear_protection(self) -> None:
        self.write(self.PROTECTION_CLEAR)
