"""The 16 LFP cells in series: state of charge, polarisation and terminal voltages.

Vectorised over the cells (numpy) because the pack integrates a step every simulated
second under load and must run a day in a few wall seconds.
"""

from __future__ import annotations

import math

import numpy as np

from common.models import CELLS_IN_SERIES
from sim.pack.ocv import ocv
from sim.unit import UnitDescription

_SECONDS_PER_MONTH = 30.0 * 86400.0


class CellString:
    """True electrical state of the series string (no sensors here)."""

    def __init__(self, unit: UnitDescription) -> None:
        c = unit.cells
        idx = range(1, CELLS_IN_SERIES + 1)
        self.capacity_as = np.array([c.cell(i, "capacity_ah") * 3600.0 for i in idx])
        self.r_ohm = np.array([c.cell(i, "r_ohmic_mohm") * 1e-3 for i in idx])
        self.rc_r = np.array([c.cell(i, "rc_r_mohm") * 1e-3 for i in idx])
        self.rc_tau = np.array([c.cell(i, "rc_tau_s") for i in idx])
        self.soc = np.array([c.cell(i, "initial_soc_pct") / 100.0 for i in idx])
        self.self_discharge = np.array(
            [c.cell(i, "self_discharge_pct_month") / 100.0 / _SECONDS_PER_MONTH for i in idx]
        )
        self.v_rc = np.zeros(CELLS_IN_SERIES)
        self._same_tau = bool(np.all(self.rc_tau == self.rc_tau[0]))
        self._tau0 = float(self.rc_tau[0])
        self._inv_capacity = 1.0 / self.capacity_as
        self._rc_zero = True
        self.r_cells = float(self.r_ohm.sum())
        self.bleed_a = np.zeros(CELLS_IN_SERIES)  # balancing current per cell (A, >= 0)
        self.bleeding = False
        #: current into each cell through a prepared sample's cell taps (A, + = charge):
        #: outside the BMS's shunt and MOSFETs (sim/instruments/cert_fixture.py)
        self.tap_a = np.zeros(CELLS_IN_SERIES)
        self.tapping = False
        self._ocv = ocv(self.soc)
        self._emf = float(self._ocv.sum())
        self.v_rc_sum = 0.0

    @property
    def full_capacity_ah(self) -> float:
        """Capacity the string can deliver: its weakest cell's."""
        return float(self.capacity_as.min() / 3600.0)

    def emf(self) -> float:
        """Σ OCV + Σ polarisation (V), cached per step."""
        return self._emf

    def cell_voltages(self, current: float) -> np.ndarray:
        """Terminal voltage of each cell (V) with ``current`` flowing (+ = charge)."""
        v = self._ocv + self.v_rc + current * self.r_ohm
        return v + self.tap_a * self.r_ohm if self.tapping else v

    def open_voltage(self, k: int) -> float:
        """Cell ``k`` (0-based) without its ohmic drop: what a tap source pushes against."""
        return float(self._ocv[k] + self.v_rc[k])

    def step(self, current: float, dt: float) -> None:
        """Integrate ``dt`` seconds at constant ``current`` (exact for the RC pair)."""
        if dt <= 0:
            return
        if self.bleeding:
            charge: np.ndarray | float = (current - self.bleed_a) * dt
        else:
            charge = current * dt
        if self.tapping:
            charge = charge + self.tap_a * dt
        self.soc = self.soc + charge * self._inv_capacity - self.self_discharge * dt
        if current == 0.0 and self._rc_zero:
            pass
        else:
            target = current * self.rc_r
            if self._same_tau:
                k: np.ndarray | float = math.exp(-dt / self._tau0)
            else:
                k = np.exp(-dt / self.rc_tau)
            self.v_rc = target + (self.v_rc - target) * k
            self.v_rc_sum = float(self.v_rc.sum())
            self._rc_zero = current == 0.0 and abs(self.v_rc_sum) < 1e-12
        self._ocv = ocv(self.soc)
        self._emf = float(self._ocv.sum()) + self.v_rc_sum

    def rc_settled(self, tol_v: float = 0.5e-3) -> bool:
        return float(np.abs(self.v_rc).max()) < tol_v
