"""The certification bench's fixture roles beyond EOL's: a prepared sample's cell taps, the
polarity reversal and the short-circuit contactor (:class:`ShortCircuit`, at the end). Each is a relay of the fixture on the DAQ's digital output (named in
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


FIXTURES = {"prepared_sample": "cell_taps", "reversal_fixture": "reversal", "short_circuit": "short_circuit"}


class InterlockOpen(RuntimeError):
    """The short-circuit fixture's guard is not shut: the shot is refused, nothing fired."""


@dataclass(frozen=True)
class ShotResult:
    """One short circuit: the fixture's capture (A, s from the trigger; None when the scope
    never triggered) and the DAQ's scan of the terminals from before the shot to the end
    of the reclose watch (``DaqCapture``)."""

    capture: Any
    scan: Any
    fired_at: float


class ShortCircuit:
    """The short-circuit fixture: a contactor across the pack terminals, fired through the
    DAQ output ``short_circuit`` of the station file's ``[fixture] outputs``, and the capture
    role ``short_circuit`` (an oscilloscope on the fixture's shunt).

    - **Interlocked**: a shot is refused (:class:`InterlockOpen`, before anything is
      written) unless the DAQ reads the guard's contact ``sc_interlock`` closed; the coil is
      wired through the same guard, so an opened guard also opens the contactor.
    - **One shot**: the fixture's own timer holds the contactor for one pulse (the capture
      role's ``options.pulse_s``, 10 ms on the simulated bench) from the rising edge of the
      fire line and opens it after, whatever the station does; the station drops the line
      after the pulse (also in ``finally``), so the next shot needs a new edge.
    - **Inside the envelope**: a shot is a short of the pack, allowed only inside
      ``station.envelope.allow_short(step)`` for a step the station file lists in
      ``short_steps`` (as a load's short mode).
    - **Safe state**: ``Station.safe_state`` drops the fire line first (the contactor opens),
      before the load and the supply; the DAQ's own safe state releases it again.
    """

    RELAY = "short_circuit"
    INTERLOCK = "sc_interlock"

    def __init__(self, station: Any) -> None:
        capture = station.roles.get("short_circuit")
        if capture is None:
            raise LookupError(f"the work order declares the short_circuit fixture, but station "
                              f"{station.config.id} has no short_circuit role")
        self.relay = _relay_of(station, self.RELAY, "short-circuit fixture")
        if self.INTERLOCK not in station.config.fixture.inputs:
            raise LookupError(f"station {station.config.id}: the short-circuit fixture has no "
                              f"{self.INTERLOCK} input ([fixture] inputs): it cannot be interlocked")
        self.capture, self.daq, self.clock = capture, station.daq, station.clock
        self.envelope = station.envelope
        self.pulse_s = float(capture.options.get("pulse_s", 0.010))

    def interlock_closed(self) -> bool:
        return bool(self.daq.inputs()[self.INTERLOCK])

    def shot(self, *, window_s: float, pre_trigger_s: float, rate_hz: float, trigger_a: float,
             full_scale_a: float, watch_s: float, scan_interval_s: float,
             trigger_timeout_s: float) -> ShotResult:
        """Arm the capture and a DAQ scan of the terminals (``watch_s`` at
        ``scan_interval_s``: the trip and the reclose), fire one pulse, fetch both. The
        load and the supply must be off (the fixture's current is the pack's)."""
        self.envelope.check_short(self.capture.name, "SHORT-CIRCUIT SHOT")
        if not self.interlock_closed():
            raise InterlockOpen(f"short-circuit fixture: the guard's interlock "
                                f"({self.INTERLOCK}) is open: no shot")
        self.capture.arm(window_s=window_s, pre_trigger_s=pre_trigger_s, rate_hz=rate_hz,
                         trigger_a=trigger_a, full_scale_a=full_scale_a)
        self.daq.start_capture(["pack_voltage"], scan_interval_s, watch_s)
        fired_at = self.clock.now()
        self.daq.set_relay(self.relay, True)
        try:
            self.clock.sleep(self.pulse_s)
        finally:
            self.daq.set_relay(self.relay, False)
        record = self.capture.fetch() if self.capture.wait_trigger(trigger_timeout_s) else None
        return ShotResult(record, self.daq.fetch_capture(), fired_at)

    def release(self) -> None:
        """The fire line dropped (the contactor opens at once)."""
        self.daq.set_relay(self.relay, False)
