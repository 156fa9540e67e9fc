"""The fuel gauge (SPEC §2.7): coulomb-counted SOC, end of charge, taper and the SOC flags.

The firmware has learnt the weakest cell's capacity; SOC is counted on the measured current
over it and recalibrated at end of charge (100 %) and at cell under-voltage (0 %).
"""

from __future__ import annotations

from sim.pack.debounce import Debounce
from sim.pack.firmware.events import Emit
from sim.pack.firmware.io import Readings
from sim.pack.firmware.limits import Limits
from sim.unit import UnitDescription


class FuelGauge:
    def __init__(self, unit: UnitDescription, full_as: float, soc: float, emit: Emit) -> None:
        self._fw = unit.firmware
        self._emit = emit
        self.full_as = full_as
        self.soc = soc                         # 0..1
        self.fully_charged = False
        self.taper = False
        self.force1 = False
        self.force2 = False
        self.no4 = False                       # SOC low: the generator-start contact
        self.last_eoc = -unit.history.days_since_full_charge * 86400.0
        self.discharged_as = 0.0
        self.eoc = Debounce("eoc", self._fw.eoc_time_s * unit.timing.clock_gain)

    def count(self, dt: float, current: float) -> None:
        """``dt`` seconds at the measured ``current`` (+ = charge)."""
        self.soc = min(max(self.soc + current * dt / self.full_as, 0.0), 1.0)
        if current < 0:
            self.discharged_as -= current * dt

    def judge(self, t: float, m: Readings, lim: Limits) -> None:
        fw = self._fw
        vmax_mv = round(m.vmax * 1000)  # whole mV, like the ADC
        if self.eoc.judge(vmax_mv >= fw.eoc_cell_mv and abs(m.current) < fw.eoc_current_a,
                          vmax_mv < fw.eoc_clear_mv) == 1:
            self.soc = 1.0
            self.fully_charged = True
            self.last_eoc = t
            self._emit(t, "end_of_charge")
        if self.fully_charged and vmax_mv < fw.eoc_clear_mv:
            self.fully_charged = False
            self.eoc.clear()
        if vmax_mv >= fw.taper_cell_mv:
            self.taper = True
        elif vmax_mv < fw.taper_clear_mv:
            self.taper = False
        soc = self.soc * 100.0
        if soc <= fw.force_charge1_on_pct:
            self.force1 = True
        elif soc >= fw.force_charge1_off_pct:
            self.force1 = False
        if soc <= fw.force_charge2_on_pct:
            self.force2 = True
        elif soc >= fw.force_charge2_off_pct:
            self.force2 = False
        if soc <= lim.soc_low_on:
            self.no4 = True
        elif soc >= lim.soc_low_off:
            self.no4 = False
