"""The advertised charge and discharge current limits (CAN 0x351, RS485): derating over
temperature (SPEC §2.5), the parameter caps, taper, and zero while a MOSFET is open."""

from __future__ import annotations

from sim.pack.derating import Derating
from sim.pack.firmware.io import Readings
from sim.pack.firmware.limits import Limits
from sim.unit import UnitDescription


class AdvertisedLimits:
    def __init__(self, unit: UnitDescription) -> None:
        fw = unit.firmware
        self._derating = Derating(fw.derating, fw.derating_hyst_c)
        self._taper_a = fw.taper_limit_a
        self.charge = 0.0
        self.discharge = 0.0

    def reset(self) -> None:
        self._derating.reset()

    def update(self, m: Readings, lim: Limits, *, taper: bool, fully_charged: bool,
               charge_fet: bool, discharge_fet: bool) -> None:
        chg, dsg = self._derating.update(m.tmin, m.tmax)
        chg = min(chg, lim.ccl_max)
        dsg = min(dsg, lim.dcl_max)
        if taper:
            chg = min(chg, self._taper_a)
        if not charge_fet or fully_charged:
            chg = 0.0
        if not discharge_fet:
            dsg = 0.0
        self.charge, self.discharge = chg, dsg
