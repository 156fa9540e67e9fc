"""ITECH IT8900A high-power DC electronic load (e.g. an 18 kW / 150 V / 1200 A model).

Programming guide: *ITECH IT8900A/E Series High Power DC Electronic Load Programming Guide*
(commands ``FUNC CURR|VOLT|POW|RES``, ``CURR``, ``VOLT``, ``POW``, ``RES``, ``INP ON|OFF``,
``INP:SHOR ON|OFF``, ``MEAS:VOLT?``, ``MEAS:CURR?``, ``MEAS:POW?``, the questionable status
``STAT:QUES:COND?``, ``PROT:CLE``, the acquisition ``SENS:SWE:TINT``, ``SENS:SWE:POIN``,
``TRIG:ACQ``, ``FETC:ARR:CURR?`` and ``SYST:ERR?``).
"""

from __future__ import annotations

from drivers.instruments.roles import Capture, ElectronicLoad
from drivers.instruments.scpi import ScpiInstrument, control, measurement, on_off

#: Bits of ``STAT:QUES:COND?`` used here (IT8900A questionable register: OV, OC, OP, OT).
PROTECTION_BITS = {0: "OV", 1: "OC", 3: "OP", 4: "OT"}


class ItechIT8900A(ElectronicLoad, ScpiInstrument):
    dialect = "itech-it8900a"

    _cc = control("CURR?", "CURR {:.3f}", "CC level, A")
    _cv = control("VOLT?", "VOLT {:.3f}", "CV level, V")
    _cp = control("POW?", "POW {:.2f}", "CP level, W")
    _cr = control("RES?", "RES {:.5f}", "CR level, Ω")
    _inp = control("INP?", "INP {}", "input state", cast=on_off)
    _volts = measurement("MEAS:VOLT?", "terminal voltage, V")
    _amps = measurement("MEAS:CURR?", "load current, A")
    _watts = measurement("MEAS:POW?", "load power, W")

    def _set_cc(self, amps: float) -> None:
        self.write("FUNC CURR")
        self._cc = amps

    def _set_cv(self, volts: float) -> None:
        self.write("FUNC VOLT")
        self._cv = volts

    def _set_cp(self, watts: float) -> None:
        self.write("FUNC POW")
        self._cp = watts

    def _set_cr(self, ohms: float) -> None:
        self.write("FUNC RES")
        self._cr = ohms

    def _set_input(self, on: bool) -> None:
        self._inp = "ON" if on else "OFF"

    def _set_short(self, on: bool) -> None:
        self.write(f"INP:SHOR {'ON' if on else 'OFF'}")

    def input_on(self) -> bool:
        return bool(self._inp)

    def measure_voltage(self) -> float:
        return float(self._volts)

    def measure_current(self) -> float:
        return float(self._amps)

    def measure_power(self) -> float:
        return float(self._watts)

    def protection_status(self) -> frozenset[str]:
        bits = int(float(self.query("STAT:QUES:COND?")))
        return frozenset(name for bit, name in PROTECTION_BITS.items() if bits >> bit & 1)

    def clear_protection(self) -> None:
        self.write("PROT:CLE")

    def _start_capture(self, dt: float, points: int) -> None:
        self.write(f"SENS:SWE:TINT {dt:.6f}")
        self.write(f"SENS:SWE:POIN {points}")
        self.write("TRIG:ACQ")
        self._capture_t0 = self.clock.now()

    def _fetch_capture(self) -> Capture:
        dt = float(self.query("SENS:SWE:TINT?"))
        values = tuple(float(x) for x in self.query("FETC:ARR:CURR?").split(","))
        return Capture(getattr(self, "_capture_t0", 0.0), dt, values)
