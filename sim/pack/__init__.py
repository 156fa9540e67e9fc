"""The simulated V-series pack: cells, heat, BMS firmware, LEDs, contacts (``SimPack``).

``SimPack`` is loaded on first use so that ``sim.unit`` (which the pack needs) may
import ``sim.pack.interface`` without a cycle.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sim.pack.pack import SimPack

__all__ = ["SimPack"]


def __getattr__(name: str) -> Any:
    if name == "SimPack":
        from sim.pack.pack import SimPack

        return SimPack
    raise AttributeError(f"module 'sim.pack' has no attribute {name!r}")
