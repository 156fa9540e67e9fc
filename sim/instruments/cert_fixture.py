"""The certification bench's fixture relays beyond EOL's, on the DAQ's digital output
(as the link relays, ``sim/bench.py``): the prepared sample's cell taps and the polarity
reversal, both routing the bench's supply.

- ``cell_taps``: the supply leaves the pack terminals for the taps of one cell group of a
  prepared sample (:data:`TAP_CELL`, through :data:`R_TAP_LEADS`): it sources or sinks
  into that cell alone, outside the BMS's shunt and MOSFETs (``SimPack.set_tap_network``).
- ``reversal``: the supply's leads crossed at the terminals. The pack's reverse protection
  [SPEC 2.3 A] blocks: no current flows; the supply sits at its set voltage, open circuit.
  A design without it (``path.reverse_protection = false``) conducts: the pack's EMF and the
  reversed supply's add up in the loop, so the supply runs at its current limit and that
  current leaves the pack's + terminal (a discharge through the MOSFETs, on the fixture's
  shunt); the pack survives it (a current-limited 10 V source: about 60 W in the supply's
  output for the reversal's 10 s), so a charge flows afterwards [A: a real design may lose
  its MOSFETs or a fuse].

The two relays are interlocked like the link relays (each coil through the other's
normally-closed contact): the first commanded wins, the other closes when it opens, if
still commanded. The station file names their bits (``stations/sim-cert.toml``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

#: The prepared sample's tapped cell group (1..16) and the tap leads' resistance, Ω.
TAP_CELL = 7
R_TAP_LEADS = 0.002   # thick taps for 50 A (docs/cert-plan.md)
RELAYS = ("cell_taps", "reversal")


class CertFixture:
    """Stands between the supply and the pack terminals (``BenchNetwork.devices``)."""

    def __init__(self, pack: Any, supply: Any, network: Any) -> None:
        self.pack, self.supply, self.network = pack, supply, network
        self.commanded = {name: False for name in RELAYS}
        self.closed = {name: False for name in RELAYS}
        self.tap_volts = 0.0
        network.devices = tuple(self if d is supply else d for d in network.devices)
        supply.node = self

    # -- the terminal node (in place of the supply) ---------------------------------------
    @property
    def routed(self) -> bool:
        return any(self.closed.values())

    def terminal_current(self, volts: float) -> float:
        if self.closed["reversal"] and not self.pack.unit.path.reverse_protection:
            # no reverse protection: the reversed supply at its current limit draws from +
            return -self.supply.source_limit if self.supply.output_on else 0.0
        return 0.0 if self.routed else self.supply.terminal_current(volts)

    def open_circuit(self) -> bool:
        """The supply's output off: every path through the fixture carries nothing."""
        return not self.supply.output_on

    def falls_with_voltage(self, up_to: float) -> bool:
        """Reversed or routed away, the node sees a constant; otherwise the supply's own."""
        if self.closed["reversal"] and not self.pack.unit.path.reverse_protection:
            return True
        return self.routed or self.supply.falls_with_voltage(up_to)

    def after_solve(self, volts: float) -> bool:
        return False if self.routed else self.supply.after_solve(volts)

    @property
    def volts(self) -> float:
        """What the supply's own read-back sees across its output."""
        if self.closed["cell_taps"]:
            return self.tap_volts
        if self.closed["reversal"]:
            return self.supply.vset if self.supply.output_on else 0.0
        return self.network.volts

    # -- the taps ---------------------------------------------------------------------------
    def _tap(self, v_open: float, r_cell: float) -> float:
        """The supply's current into the tapped cell: I = I_supply(v_open + I·(r + leads))."""
        s, r = self.supply, r_cell + R_TAP_LEADS
        lo, hi = -s.ratings.max_a, s.ratings.max_a
        for _ in range(60):
            mid = 0.5 * (lo + hi)
            if s.terminal_current(v_open + mid * r) > mid:
                lo = mid
            else:
                hi = mid
        amps = 0.5 * (lo + hi)
        self.tap_volts = v_open + amps * r
        return amps if s.output_on else 0.0

    # -- the relays ---------------------------------------------------------------------------
    def drive(self, name: str) -> Callable[[bool], None]:
        if name not in RELAYS:
            raise ValueError(f"no cert fixture relay {name!r}; relays: {', '.join(RELAYS)}")
        return lambda on: self.set(name, on)

    def set(self, name: str, on: bool) -> None:
        self.pack.sync()
        self.commanded[name] = bool(on)
        for n in RELAYS:   # a relay no longer commanded opens first ...
            if not self.commanded[n]:
                self.closed[n] = False
        for n in RELAYS:   # ... then the interlock: a coil is fed only while the other is open
            other = next(o for o in RELAYS if o != n)
            if self.commanded[n] and not self.closed[other]:
                self.closed[n] = True
        self.pack.set_tap_network(TAP_CELL, self._tap if self.closed["cell_taps"] else None)
        self.pack.inputs_changed()


def attach_cert_fixture(instruments: Any, pack: Any, outputs: dict[str, int]) -> CertFixture | None:
    """Wire the relays the station file names to the DAQ's outputs; None if it names none."""
    named = {n: outputs[n] for n in RELAYS if n in outputs}
    if not named:
        return None
    fixture = CertFixture(pack, instruments.supply, instruments.network)
    for name, bit in named.items():
        instruments.daq.extra_outputs[bit] = fixture.drive(name)
    return fixture
