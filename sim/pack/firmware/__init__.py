"""The simulated BMS firmware: a decision machine fed readings, returning outputs.

``machine`` wires the parts; each other module has one reason to change. Nothing here
imports the pack (``sim.pack.pack``): the pack imports the firmware.
"""

from __future__ import annotations

from sim.pack.firmware.io import Inputs, Outputs, Readings
from sim.pack.firmware.machine import Firmware

__all__ = ["Firmware", "Inputs", "Outputs", "Readings"]
