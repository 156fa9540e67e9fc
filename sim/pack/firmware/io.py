"""The firmware's contract with the pack: what it is given at a boundary, what it decides.

Plain data, so that the decision machine (``sim.pack.firmware.machine``) can be driven and
read without knowing anything about cells, heat or terminals.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np


@dataclass
class Readings:
    """The firmware's noiseless readings at one boundary (gain and offset applied)."""

    cells: np.ndarray
    vmax: float
    vmin: float
    pack: float
    current: float
    temps: tuple[float, ...]    # board, 4 cell groups, MOSFET
    tmax: float                 # of the cell groups
    tmin: float
    tboard: float               # the hotter of board and MOSFET


class Inputs(NamedTuple):
    """Everything the firmware sees at a boundary besides time (a tuple: built every step)."""

    readings: Readings
    powered: bool               # POWER on and (α Plus) the breaker closed
    charger_probe_a: float | None  # the charger-detection probe current (charge MOSFET open)
    in1_v: float                # voltage on the IN1 emergency-stop input


class Outputs(NamedTuple):
    """What the firmware drives; the pack applies it to the physics and its timelines.
    A tuple, rebuilt at every judgement; the first four fields are :attr:`power_key`."""

    charge_fet: bool
    discharge_fet: bool
    heater_on: bool
    charger_present: bool
    balancing: np.ndarray       # per cell: bleed resistor on (treat as read-only)
    balancing_any: bool
    relays: dict[int, bool]     # commands of relays NO2, NO3, NO4 (before wiring faults)

    @property
    def power_key(self) -> tuple[bool, bool, bool, bool]:
        """What the terminal current depends on: the pack re-solves until it is stable."""
        return self[:4]
