"""The simulated V-series pack: cells, heat, BMS firmware, LEDs, contacts (``SimPack``)."""

from sim.pack.pack import SimPack

__all__ = ["SimPack"]
