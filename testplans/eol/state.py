"""What one EOL step leaves for a later one, typed (it was a string-keyed dict)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class EolState:
    """Station-clock instants and counts the later steps need."""

    standby_capture_t0: float | None = None   # the LED analyser started its standby capture
    powered_at: float | None = None           # SW released and the power-on settle over
    trip_at: float | None = None              # the 15 s tier trip, from the load's capture
    oc_trips: int = 0                         # over-current trips seen (15 s tier, fast trip)
    release_probe_on: bool = False            # the load waits at the probe current for the release
