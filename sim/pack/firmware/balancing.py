"""Passive balancing: which cells' bleed resistors are on."""

from __future__ import annotations

import numpy as np

from common.models import CELLS_IN_SERIES
from sim.pack.firmware.io import Readings
from sim.unit import UnitDescription


class Balancer:
    def __init__(self, unit: UnitDescription) -> None:
        fw = unit.firmware
        self._stop = fw.balance_stop_spread_mv / 1000
        self._start_spread = fw.balance_start_spread_mv / 1000
        self._start_v = fw.balance_start_mv / 1000
        self.mask = np.zeros(CELLS_IN_SERIES, dtype=bool)
        self.any = False                       # as of the last refresh

    def judge(self, m: Readings) -> None:
        spread = m.vmax - m.vmin
        was = self.any
        if was and spread < self._stop:
            self.mask = np.zeros(CELLS_IN_SERIES, dtype=bool)
        elif was or (spread >= self._start_spread and m.vmax >= self._start_v):
            self.mask = m.cells > m.vmin + self._stop

    def refresh(self) -> None:
        self.any = bool(self.mask.any())

    def reset(self) -> None:
        self.mask = np.zeros(CELLS_IN_SERIES, dtype=bool)
