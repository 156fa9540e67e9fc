"""Chroma 63200A high-power DC electronic load (e.g. a 12 kW / 150 V / 1200 A frame).

Programming guide: *Chroma Programmable DC Electronic Load 63200A Series Operation &
Programming Manual*, chapter "Remote Operation" (commands ``MODE CCH|CV|CPH|CRH``,
``CURR:STAT:L1``, ``VOLT:STAT:L1``, ``POW:STAT:L1``, ``RES:STAT:L1``, ``LOAD ON|OFF``,
``LOAD:SHOR ON|OFF``, ``LOAD:PROT?``, ``LOAD:PROT:CLE``, ``MEAS:VOLT?``, ``MEAS:CURR?``,
``MEAS:POW?``, the digitizer ``DIG:SAMP:TIME``, ``DIG:SAMP:POIN``, ``DIG:TRIG``,
``FETC:ARR:CURR?`` and ``SYST:ERR?``).
"""

from __future__ import annotations

from drivers.instruments.roles import Capture, ElectronicLoad
from drivers.instruments.scpi import ScpiInstrument, control, measurement, on_off

#: Bits of ``LOAD:PROT?`` (status register of the 63200A: OCP, OVP, OPP, OTP).
PROTECTION_BITS = {0: "OC", 1: "OV", 2: "OP", 3: "OT"}


class Chroma63200A(ElectronicLoad, ScpiInstrument):
    dialect = "chroma-63200a"

    _cc = control("CURR:STAT:L1?", "CURR:STAT:L1 {:.3f}", "CC level L1, A")
    _cv = control("VOLT:STAT:L1?", "VOLT:STAT:L1 {:.3f}", "CV level L1, V")
    _cp = control("POW:STAT:L1?", "POW:STAT:L1 {:.2f}", "CP level L1, W")
    _cr = control("RES:STAT:L1?", "RES:STAT:L1 {:.5f}", "CR level L1, Ω")
    _load = control("LOAD?", "LOAD {}", "input state", cast=on_off)
    _volts = measurement("MEAS:VOLT?", "terminal voltage, V")
    _amps = measurement("MEAS:CURR?", "load current, A")
    _watts = measurement("MEAS:POW?", "load power, W")

    def _set_cc(self, amps: float) -> None:
        self.write("MODE CCH")
        self._cc = amps

    def _set_cv(self, volts: float) -> None:
        self.write("MODE CV")
        self._cv = volts

    def _set_cp(self, watts: float) -> None:
        self.write("MODE CPH")
        self._cp = watts

    def _set_cr(self, ohms: float) -> None:
        self.write("MODE CRH")
        self._cr = ohms

    def _set_input(self, on: bool) -> None:
        self._load = "ON" if on else "OFF"

    def _set_short(self, on: bool) -> None:
        self.write(f"LOAD:SHOR {'ON' if on else 'OFF'}")

    def input_on(self) -> bool:
        return bool(self._load)

    def measure_voltage(self) -> float:
        return float(self._volts)

    def measure_current(self) -> float:
        return float(self._amps)

    def measure_power(self) -> float:
        return float(self._watts)

    def protection_status(self) -> frozenset[str]:
        bits = int(float(self.query("LOAD:PROT?")))
        return frozenset(name for bit, name in PROTECTION_BITS.items() if bits >> bit & 1)

    def clear_protection(self) -> None:
        self.write("LOAD:PROT:CLE")

    def _start_capture(self, dt: float, points: int) -> None:
        self.write(f"DIG:SAMP:TIME {dt:.6f}")
        self.write(f"DIG:SAMP:POIN {points}")
        self.write("DIG:TRIG")
        self._capture_t0 = self.clock.now()

    def _fetch_capture(self) -> Capture:
        dt = float(self.query("DIG:SAMP:TIME?"))
        values = tuple(float(x) for x in self.query("FETC:ARR:CURR?").split(","))
        return Capture(getattr(self, "_capture_t0", 0.0), dt, values)
