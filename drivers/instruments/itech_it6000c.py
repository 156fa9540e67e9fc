"""ITECH IT6000C bidirectional DC supply (e.g. IT6006C-80-150: 80 V, ±150 A, ±6 kW).

Programming guide: *ITECH IT6000C Series Programming Guide* (``VOLT``, ``CURR:LIM``,
``CURR:LIM:NEG`` in CV priority, ``VOLT:PROT``, ``OUTP ON|OFF``, ``MEAS:VOLT?``,
``MEAS:CURR?``, ``STAT:QUES:COND?``, ``PROT:CLE``, ``SYST:ERR?``). The IT6000C has no
output watchdog.
"""

from __future__ import annotations

from drivers.instruments.roles import DcSupply
from drivers.instruments.scpi import ScpiInstrument, control, measurement, on_off

PROTECTION_BITS = {0: "OV", 1: "OC", 3: "OP", 4: "OT"}


class ItechIT6000C(DcSupply, ScpiInstrument):
    dialect = "itech-it6000c"

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
        return frozenset(name for bit, name in PROTECTION_BITS.items() if bits >> bit & 1)

    def clear_protection(self) -> None:
        self.write("PROT:CLE")
