"""The BMS's sensors: gain and offset (what its decisions see) and noise (what it reports).

Decisions use the noiseless reading so a protection trips at one reproducible instant;
the reported values add noise from a seeded generator, so runs are reproducible too.
"""

from __future__ import annotations

import numpy as np

from common.models import CELLS_IN_SERIES, TEMPERATURE_SENSORS
from sim.pack.firmware.io import Readings
from sim.unit import UnitDescription

#: What the ADC reads from a temperature sensor stuck open or short (°C).
STUCK_C = {"open": -40.0, "short": 150.0}
#: An intermittent cell sense lead: open on every Nth report, the channel then reads this low (V).
INTERMITTENT_EVERY = 7
INTERMITTENT_DROP_V = 0.4


class Sensors:
    def __init__(self, unit: UnitDescription, seed: int) -> None:
        s = unit.sensors
        cv = s.cell_voltage
        gains, offsets = [], []
        for i in range(1, CELLS_IN_SERIES + 1):
            o = cv.overrides.get(i)
            gains.append(cv.gain if o is None or o.gain is None else o.gain)
            offsets.append((cv.offset if o is None or o.offset is None else o.offset) / 1000.0)
        self.cell_gain = np.array(gains)
        self.cell_offset = np.array(offsets)
        self.cell_noise = cv.noise / 1000.0
        self.pack_gain = s.pack_voltage.gain
        self.pack_offset = s.pack_voltage.offset / 1000.0
        self.pack_noise = s.pack_voltage.noise / 1000.0
        self.i_gain = s.current.gain
        self.i_offset = s.current.offset
        self.i_noise = s.current.noise
        temps = [getattr(s.temperature, n) for n in TEMPERATURE_SENSORS]
        self.t_offset = tuple(t.offset for t in temps)
        self.t_noise = np.array([t.noise for t in temps])
        self._rng = np.random.default_rng(seed)
        stuck = unit.defects.stuck_temperature   # an open NTC reads its coldest, a short its hottest
        self.t_stuck = tuple(STUCK_C.get(stuck.get(n, "")) for n in TEMPERATURE_SENSORS)
        self.intermittent = unit.defects.intermittent_cell   # a cell whose sense lead opens
        self._reports = 0

    # -- noiseless (decisions) ------------------------------------------------------------
    def cells(self, true_v: np.ndarray) -> np.ndarray:
        return true_v * self.cell_gain + self.cell_offset

    def pack(self, true_v: float) -> float:
        return true_v * self.pack_gain + self.pack_offset

    def current(self, true_a: float) -> float:
        return true_a * self.i_gain + self.i_offset

    def temps(self, board: float, cells: float, mosfet: float) -> tuple[float, ...]:
        o = self.t_offset
        out: tuple[float, ...] = (board + o[0], cells + o[1], cells + o[2], cells + o[3], cells + o[4], mosfet + o[5])
        if any(s is not None for s in self.t_stuck):
            out = tuple(v if s is None else s for v, s in zip(out, self.t_stuck, strict=True))
        return out

    def readings(self, cells_v: np.ndarray, pack_v: float, current_a: float, board_c: float,
                 cells_c: float, mosfet_c: float) -> Readings:
        """What the firmware decides on, from the true values."""
        cells = self.cells(cells_v)
        temps = self.temps(board_c, cells_c, mosfet_c)
        cell_t = temps[1:5]
        return Readings(
            cells, float(cells.max()), float(cells.min()), self.pack(pack_v),
            self.current(current_a), temps, max(cell_t), min(cell_t), max(temps[0], temps[5]),
        )

    # -- noisy (reports) ------------------------------------------------------------------
    def noisy(
        self, cells_v: np.ndarray, pack_v: float, current_a: float, temps: tuple[float, ...]
    ) -> tuple[np.ndarray, float, float, np.ndarray]:
        n = self._rng.standard_normal(CELLS_IN_SERIES + 2 + len(temps))
        c = cells_v + n[:CELLS_IN_SERIES] * self.cell_noise
        p = pack_v + n[CELLS_IN_SERIES] * self.pack_noise
        i = current_a + n[CELLS_IN_SERIES + 1] * self.i_noise
        t = np.asarray(temps) + n[CELLS_IN_SERIES + 2:] * self.t_noise
        if self.intermittent is not None:   # a report only: the decisions read the true lead
            self._reports += 1
            if self._reports % INTERMITTENT_EVERY == 0:
                c[self.intermittent - 1] -= INTERMITTENT_DROP_V
        return c, p, i, t
