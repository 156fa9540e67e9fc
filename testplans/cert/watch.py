"""Waiting on events with the hard aborts watched, and the traces long waits leave.

A certification run waits hours for events (a cut-off, a soak reached, a trip). It waits on
the station clock in steps of at most ``abort_poll_s`` (the abort's time bound between
events), and at each one checks the hard aborts beyond the EOL envelope [CERT-RMA]: any
cell at or above 1.03 × U_ulc, any cell at or above 60 °C, the smoke/gas input. A hard abort
raises :class:`HardAbort`: the step ends, the plan stops, the safe state runs and the record
keeps what was measured. Each check is also a point of the step's trace.
"""

from __future__ import annotations

import io
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from drivers.pack.errors import PackPortError


class HardAbort(RuntimeError):
    """A hard abort of the certification bench: the plan ends in the safe state and the
    record is ABORTED with the reason (``abort_run``: fixtures.plugin)."""

    abort_run = True


@dataclass
class Trace:
    """Rows of one step's time series (station time, SI units), kept as Parquet."""

    name: str
    rows: list[dict[str, float]] = field(default_factory=list)

    def add(self, **values: float) -> None:
        self.rows.append(values)

    def column(self, key: str) -> list[float]:
        return [r.get(key, math.nan) for r in self.rows]

    def parquet(self) -> bytes:
        import pandas as pd

        buf = io.BytesIO()
        pd.DataFrame(self.rows).to_parquet(buf, index=False)
        return buf.getvalue()


def keep(step: Any, trace: Trace, description: str) -> None:
    """The trace beside the record, hashed into it (``step.attach``)."""
    if trace.rows:
        step.attach(f"{trace.name}.parquet", trace.parquet(), "application/vnd.apache.parquet",
                    description)


@dataclass
class Watch:
    """The hard-abort watch of one run: BMS cells and temperatures, the smoke input."""

    bms: Any
    daq: Any
    clock: Any
    cond: Any
    sw_press_s: float = 1.2
    last: Any = None      # the latest BMS reading

    def check(self, trace: Trace | None = None, **extra: float) -> Any:
        """One look: raise HardAbort on an abort condition; returns the BMS reading."""
        inputs = self.daq.inputs()
        if inputs.get("smoke"):
            raise HardAbort("smoke/gas input active")
        reading = self._reading()
        top = max(reading.cell_voltages_v)
        hot = max(reading.cell_temperatures_c)
        if not math.isfinite(top) or top >= self.cond.abort_cell_v:
            raise HardAbort(f"a cell at {top:.3f} V (abort at {self.cond.abort_cell_v:.3f} V = 1.03 x U_ulc)")
        if not math.isfinite(hot) or hot >= self.cond.abort_cell_c:
            raise HardAbort(f"a cell at {hot:.1f} °C (abort at {self.cond.abort_cell_c:.0f} °C)")
        self.last = reading
        if trace is not None:
            cells = reading.cell_temperatures_c
            trace.add(t_s=self.clock.now(), pack_v=reading.pack_voltage_v, current_a=reading.current_a,
                      cell_max_v=top, cell_min_v=min(reading.cell_voltages_v),
                      cell_max_c=hot, cell_min_c=min(cells), soc_pct=reading.soc_pct, **extra)
        return reading

    def _reading(self) -> Any:
        """The BMS reading; a pack that fell asleep in a long soak (24 h idle) is woken by
        SW once, as an operator would."""
        try:
            return self.bms.reading()
        except PackPortError:
            self.daq.press("sw", self.sw_press_s)
            self.clock.sleep(2.0)
            return self.bms.reading()

    def wait(self, done: Callable[[Any], bool], timeout: float, poll: float,
             trace: Trace | None = None, extra: Callable[[], dict[str, float]] | None = None) -> bool:
        """Until ``done(reading)`` or ``timeout``, looking every ``min(poll, abort_poll_s)``."""
        poll = min(poll, self.cond.abort_poll_s)
        end = self.clock.now() + timeout
        while True:
            reading = self.check(trace, **(extra() if extra else {}))
            if done(reading):
                return True
            left = end - self.clock.now()
            if left <= 1e-9:
                return False
            self.clock.sleep(min(poll, left))
