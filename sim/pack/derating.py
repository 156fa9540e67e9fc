"""The advertised current limits over cell temperature (SPEC §2.5), with row hysteresis."""

from __future__ import annotations


class Derating:
    def __init__(self, rows: list[list[float]], hyst_c: float) -> None:
        self.rows = [tuple(r) for r in rows]
        self.hyst = hyst_c
        self._cold: int | None = None
        self._hot: int | None = None

    def _row(self, t: float, prev: int | None) -> int:
        if prev is not None:
            lo, hi = self.rows[prev][0], self.rows[prev][1]
            if lo - self.hyst <= t < hi + self.hyst:
                return prev
        for i, r in enumerate(self.rows):
            if r[0] <= t < r[1]:
                return i
        return 0 if t < self.rows[0][0] else len(self.rows) - 1

    def update(self, t_min: float, t_max: float) -> tuple[float, float]:
        """(charge A, discharge A): cold rows by the lowest cell, hot rows by the highest."""
        self._cold = self._row(t_min, self._cold)
        self._hot = self._row(t_max, self._hot)
        a, b = self.rows[self._cold], self.rows[self._hot]
        return min(a[2], b[2]), min(a[3], b[3])

    def reset(self) -> None:
        self._cold = self._hot = None
