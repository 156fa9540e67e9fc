"""An electronic load that speaks SCPI, described by its command table.

The Chroma and ITECH loads do the same things with different words, so the behaviour is
written once here and a dialect is its table (the commands, the protection register's
bits, the digitizer's commands): adding a SCPI load is a new table, not new code.
"""

from __future__ import annotations

from typing import ClassVar

from drivers.instruments.roles import Capture, ElectronicLoad
from drivers.instruments.scpi import ScpiInstrument, measurement, on_off, reading

#: (set-point command, format) per mode; the mode command comes from ``MODES``.
LEVEL_FORMATS = {"cc": "{:.3f}", "cv": "{:.3f}", "cp": "{:.2f}", "cr": "{:.5f}"}


class ScpiLoad(ElectronicLoad, ScpiInstrument):
    #: mode → command selecting it (``MODE CCH``, ``FUNC CURR`` ...)
    MODES: ClassVar[dict[str, str]]
    #: mode → set-point header (``CURR:STAT:L1``, ``CURR`` ...)
    LEVELS: ClassVar[dict[str, str]]
    INPUT: ClassVar[str]                # ``LOAD`` / ``INP``: ON|OFF and its query
    SHORT: ClassVar[str]                # short-circuit mode header
    PROTECTION_QUERY: ClassVar[str]     # register whose bits are the tripped protections
    PROTECTION_BITS: ClassVar[dict[int, str]]
    PROTECTION_CLEAR: ClassVar[str]
    CAPTURE_INTERVAL: ClassVar[str]     # sample interval header (seconds)
    CAPTURE_POINTS: ClassVar[str]
    CAPTURE_TRIGGER: ClassVar[str]
    CAPTURE_FETCH: ClassVar[str] = "FETC:ARR:CURR?"

    _volts = measurement("MEAS:VOLT?", "terminal voltage, V")
    _amps = measurement("MEAS:CURR?", "load current, A")
    _watts = measurement("MEAS:POW?", "load power, W")

    def _set_level(self, mode: str, value: float) -> None:
        self.write(self.MODES[mode])
        self.write(f"{self.LEVELS[mode]} {LEVEL_FORMATS[mode].format(value)}")

    def _set_cc(self, amps: float) -> None:
        self._set_level("cc", amps)

    def _set_cv(self, volts: float) -> None:
        self._set_level("cv", volts)

    def _set_cp(self, watts: float) -> None:
        self._set_level("cp", watts)

    def _set_cr(self, ohms: float) -> None:
        self._set_level("cr", ohms)

    def _set_input(self, on: bool) -> None:
        self.write(f"{self.INPUT} {'ON' if on else 'OFF'}")

    def _set_short(self, on: bool) -> None:
        self.write(f"{self.SHORT} {'ON' if on else 'OFF'}")

    def input_on(self) -> bool:
        return bool(on_off(self.query(f"{self.INPUT}?")))

    def measure_voltage(self) -> float:
        return float(self._volts)

    def measure_current(self) -> float:
        return float(self._amps)

    def measure_power(self) -> float:
        return float(self._watts)

    def protection_status(self) -> frozenset[str]:
        bits = int(float(self.query(self.PROTECTION_QUERY)))
        return frozenset(name for bit, name in self.PROTECTION_BITS.items() if bits >> bit & 1)

    def clear_protection(self) -> None:
        self.write(self.PROTECTION_CLEAR)

    def _start_capture(self, dt: float, points: int) -> None:
        self.write(f"{self.CAPTURE_INTERVAL} {dt:.6f}")
        self.write(f"{self.CAPTURE_POINTS} {points}")
        # the instrument triggers as it reads the command, before the error check answers
        self._capture_t0 = self.clock.now()
        self.write(self.CAPTURE_TRIGGER)

    def _fetch_capture(self) -> Capture:
        dt = float(self.query(f"{self.CAPTURE_INTERVAL}?"))
        values = tuple(reading(x) for x in self.query(self.CAPTURE_FETCH).split(","))
        return Capture(getattr(self, "_capture_t0", 0.0), dt, values)
