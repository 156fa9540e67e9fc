"""Watlow F4T controller on a chamber, SCPI over TCP port 5025.

Programming guide: *Watlow F4T Setup and Operation User's Guide*, "SCPI commands"
(``:SOURce:CLOop1:SPOint <t>``, ``:SOURce:CLOop1:SPOint?``, ``:SOURce:CLOop1:PVALue?``,
the loop control mode ``:SOURce:CLOop1:CMODe AUTO|OFF``, ``*IDN?``, ``SYST:ERR?``).
"""

from __future__ import annotations

from drivers.instruments.roles import Chamber
from drivers.instruments.scpi import ScpiInstrument, control, measurement


class WatlowF4T(Chamber, ScpiInstrument):
    dialect = "watlow-f4t"

    _sp = control(":SOURCE:CLOOP1:SPOINT?", ":SOURCE:CLOOP1:SPOINT {:.1f}", "set point, °C")
    _pv = measurement(":SOURCE:CLOOP1:PVALUE?", "air temperature, °C")
    _cmode = control(":SOURCE:CLOOP1:CMODE?", ":SOURCE:CLOOP1:CMODE {}", "loop mode", cast=str)

    def _set_temperature(self, celsius: float) -> None:
        self._sp = celsius

    def temperature(self) -> float:
        return float(self._pv)

    def setpoint(self) -> float:
        return float(self._sp)

    def run(self) -> None:
        self._cmode = "AUTO"

    def standby(self) -> None:
        self._cmode = "OFF"

    def mode(self) -> str:
        return "run" if str(self._cmode).strip().upper() == "AUTO" else "standby"
