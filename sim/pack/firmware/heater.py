"""The self-heater's automatic control: on while a charger is present and the cells are cold."""

from __future__ import annotations

from sim.pack.firmware.io import Readings
from sim.pack.firmware.limits import Limits
from sim.unit import UnitDescription


class HeaterControl:
    def __init__(self, unit: UnitDescription) -> None:
        self._fitted = unit.heater.fitted
        self._min_c = unit.firmware.heater_min_c
        self.auto = False

    def judge(self, m: Readings, charger_present: bool, lim: Limits) -> None:
        if (charger_present and self._fitted and m.tmin < lim.heater_on
                and m.tmin > self._min_c):
            self.auto = True
        elif not charger_present or m.tmin >= lim.heater_off or m.tmin <= self._min_c:
            self.auto = False
