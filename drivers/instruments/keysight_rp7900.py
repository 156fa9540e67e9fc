"""Keysight RP7900 regenerative (bidirectional) DC supply (e.g. RP7931A-style: 80 V,
±250 A, ±10 kW), with its output watchdog.

Programming guide: *Keysight RP7900 Series Regenerative Power System Programming Guide*
(``VOLT``, ``CURR:LIM``, ``CURR:LIM:NEG``, ``VOLT:PROT``, ``OUTP ON|OFF``, ``MEAS:VOLT?``,
``MEAS:CURR?``, ``STAT:QUES:COND?``, ``OUTP:PROT:CLE``, the watchdog
``OUTP:PROT:WDOG ON|OFF`` and ``OUTP:PROT:WDOG:DEL <s>``, and ``SYST:ERR?``).

The watchdog turns the output off when no SCPI I/O reaches the instrument for its delay,
so a station that dies leaves the supply off. :meth:`pet` is any harmless I/O.
"""

from __future__ import annotations

from drivers.instruments.roles import DcSupply
from drivers.instruments.scpi import ScpiInstrument, control, measurement, on_off

#: Questionable-condition bits used here (RP7900: OV, OC, OP, OT, and WDOG = bit 13).
PROTECTION_BITS = {0: "OV", 1: "OC", 3: "OP", 4: "OT", 13: "WDOG"}


class KeysightRP7900(DcSupply, ScpiInstrument):
    dialect = "keysight-rp7900"
    has_watchdog = True

    _volt = control("VOLT?", "VOLT {:.3f}", "output voltage set point, V")
    _src = control("CURR:LIM?", "CURR:LIM {:.3f}", "source current limit, A")
    _snk = control("CURR:LIM:NEG?", "CURR:LIM:NEG {:.3f}", "sink current limit, A (negative)")
    _ovp = control("VOLT:PROT?", "VOLT:PROT {:.3f}", "over-voltage protection, V")
    _outp = control("OUTP?", "OUTP {}", "output state", cast=on_off)
    _v = measurement("MEAS:VOLT?", "output voltage, V")
    _i = measurement("MEAS:CURR?", "output current, A (+ sourced)")
    _wdog = control("OUTP:PROT:WDOG?", "OUTP:PROT:WDOG {}", "watchdog enabled", cast=on_off)
    _wdog_delay = control("OUTP:PROT:WDOG:DEL?", "OUTP:PROT:WDOG:DEL {:g}", "watchdog delay, s")

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
        self.write("OUTP:PROT:CLE")

    def arm_watchdog(self, delay_s: float) -> None:
        self._wdog_delay = delay_s
        self._wdog = "ON"
        self.watchdog_delay_s = float(delay_s)

    def disarm_watchdog(self) -> None:
        self._wdog = "OFF"
        self.watchdog_delay_s = 0.0

    def pet(self) -> None:
        self.check_errors("pet")
