"""The certification bench's fixture roles beyond EOL's: a prepared sample's cell taps and
the polarity reversal. Each is a relay of the fixture on the DAQ's digital output (named in
the station file's ``[fixture] outputs``, as POWER and SW are) that routes the bench's
supply: to the taps of one cell group, or to the terminals with its leads crossed.

Safe by construction: the supply's output is off whenever a relay moves, and every route
ends with the output off and the relay open (``release``, also in ``finally``). The DAQ's
safe state releases every fixture relay with the rest, and the supply's with its output.
The supply role checks the station envelope; a tap set point above the hard-abort cell
voltage (1.03 × U_ulc) is refused here, before anything is written.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any


def _relay_of(station: Any, relay: str, what: str) -> str:
    if relay not in station.config.fixture.outputs:
        raise LookupError(f"the work order declares the {what}, but station {station.config.id} "
                          f"has no {relay} relay ([fixture] outputs)")
    return relay


@dataclass
class _Routed:
    """The supply through one fixture relay."""

    supply: Any
    daq: Any
    relay: str

    @contextmanager
    def routed(self) -> Iterator[Any]:
        """The relay closed with the supply's output off; on leaving, output off, relay open."""
        self.supply.set_output(False)
        self.daq.set_relay(self.relay, True)
        try:
            yield self.supply
        finally:
            self.release()

    def release(self) -> None:
        try:
            self.supply.set_output(False)
        finally:
            self.daq.set_relay(self.relay, False)


class CellTaps(_Routed):
    """A prepared sample's cell-group taps, fed by the bench's (bidirectional) supply."""

    def __init__(self, station: Any, max_cell_v: float) -> None:
        super().__init__(station.supply, station.daq, _relay_of(station, "cell_taps", "prepared sample"))
        self.max_cell_v = max_cell_v

    def drive(self, volts: float, source_a: float, sink_a: float) -> None:
        """CV ``volts`` on the group with the current limits (source into it, sink from it);
        the output on. Refused above ``max_cell_v`` (the hard abort's cell voltage)."""
        if not 0.0 <= volts < self.max_cell_v:
            raise ValueError(f"cell taps: {volts:g} V is outside 0 … {self.max_cell_v:g} V "
                             "(the hard abort's cell voltage)")
        self.supply.set_voltage(volts)
        self.supply.set_current_limits(source_a, sink_a)
        self.supply.set_output(True)

    def current_a(self) -> float:
        """Into the group (+) or out of it (−), the supply's read-back."""
        return self.supply.measure_current()

    def group_voltage_v(self) -> float:
        """The group's voltage on its taps (the supply's read-back): independent of the BMS."""
        return self.supply.measure_voltage()


class Reversal(_Routed):
    """The supply's leads crossed at the pack terminals (a current-limited reverse feed)."""

    def __init__(self, station: Any) -> None:
        super().__init__(station.supply, station.daq, _relay_of(station, "reversal", "polarity-reversal fixture"))


FIXTURES = {"prepared_sample": "cell_taps", "reversal_fixture": "reversal"}
