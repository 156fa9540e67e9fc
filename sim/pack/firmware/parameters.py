"""The parameter set (SPEC §7): the stored set, the active set and ``setthr``'s rules.

Apart from test mode because the order rules change with SPEC's parameter table, not with
how the console is entered or left.
"""

from __future__ import annotations

from common.params import PARAMETER_NAMES, THRESHOLD_GROUPS, order_violation, parameter_crc
from sim.pack.interface import InvalidValue


class ParameterSet:
    """``stored`` never changes in the simulator; ``active`` is what the firmware uses."""

    def __init__(self, stored: dict[str, int]) -> None:
        self.stored = stored
        self.active = dict(stored)

    def crc(self) -> tuple[int, int]:
        """(stored, active) CRC-32, as the console's ``crc`` prints them."""
        return parameter_crc(self.stored), parameter_crc(self.active)

    def restore(self) -> None:
        self.active = dict(self.stored)

    def set_threshold(self, name: str, value: int) -> None:
        """A temporary change; a protection's release follows it by the stored hysteresis."""
        if name not in PARAMETER_NAMES:
            raise InvalidValue(f"unknown parameter {name!r}")
        if isinstance(value, bool) or not isinstance(value, int):
            raise InvalidValue(f"{name}: value must be an integer, got {value!r}")
        new = dict(self.active)
        new[name] = value
        for _alarm, prot, rel, _dir in THRESHOLD_GROUPS:
            if name == prot:
                new[rel] = value - (self.stored[prot] - self.stored[rel])
        problem = order_violation(new)
        if problem is None and not new["oc_tier1_a"] < new["oc_tier2_a"] < new["oc_fast_a"]:
            problem = "oc_tier1_a < oc_tier2_a < oc_fast_a is required"
        if problem is None and value < 0 and not name.endswith("_dc"):
            problem = f"{name} must not be negative"
        if problem:
            raise InvalidValue(f"Invalid value: {problem}")
        self.active = new
