"""What one certification step leaves for a later one."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class CertState:
    """Station-clock instants and trip times the later steps need."""

    last_trip_at: float | None = None        # the latest over-current trip (latch window)
    charge_in_wh: float | None = None        # C03's recharge energy (round-trip efficiency)
    notes: dict[str, str] = field(default_factory=dict)
