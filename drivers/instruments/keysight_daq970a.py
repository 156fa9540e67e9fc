"""Keysight DAQ970A data acquisition system with a DAQM901A (voltage, thermocouple) and a
DAQM907A multifunction module (digital I/O on channels 301/302).

Programming guide: *Keysight DAQ970A/DAQ973A Programming Guide* (``MEAS:VOLT:DC? (@101)``,
``MEAS:TEMP? TC,K,(@102)``, ``MEAS:DIG:BYTE? (@301)``, ``SOUR:DIG:DATA:BYTE <v>,(@302)``,
``SYST:ERR?``).
"""

from __future__ import annotations

from drivers.instruments.errors import InstrumentResponseError
from drivers.instruments.roles import Daq
from drivers.instruments.scpi import ScpiInstrument, reading


class KeysightDAQ970A(Daq, ScpiInstrument):
    dialect = "keysight-daq970a"

    def _float(self, command: str) -> float:
        answer = self.query(command)
        try:
            return reading(answer)
        except ValueError:
            raise InstrumentResponseError(self.name, command, f"cannot parse {answer!r}") from None

    def measure_dc(self, channel: int) -> float:
        return self._float(f"MEAS:VOLT:DC? (@{channel})")

    def measure_thermocouple(self, channel: int, tc_type: str) -> float:
        return self._float(f"MEAS:TEMP? TC,{tc_type},(@{channel})")

    def _read_byte(self, channel: int) -> int:
        command = f"MEAS:DIG:BYTE? (@{channel})"
        value = self._float(command)
        if not 0 <= value <= 255 or value != int(value):   # NaN fails both: no byte
            raise InstrumentResponseError(self.name, command, f"{value!r} is not a byte")
        return int(value)

    def _write_byte(self, channel: int, value: int) -> None:
        self.write(f"SOUR:DIG:DATA:BYTE {int(value)},(@{channel})")
