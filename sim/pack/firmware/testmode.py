"""The console's debug login and test mode (SPEC §7): what is forced, and the timeout.

Its own module because it changes with the console's rules (who may force what, when the
session ends), not with the protections it temporarily overrides.
"""

from __future__ import annotations

from sim.pack.interface import InvalidValue, NotInTestMode
from sim.unit import UnitDescription


class TestMode:
    """Debug login, test mode, forced relays and heater, the 10-minute inactivity timeout."""

    __test__ = False  # not a pytest class

    def __init__(self, unit: UnitDescription) -> None:
        self.timeout = unit.firmware.test_mode_timeout_s * unit.timing.clock_gain
        self.debug = False
        self.on = False
        self.forced_relays: dict[int, bool] = {}
        self.heater_forced: bool | None = None
        self.last_input = 0.0

    @property
    def session(self) -> bool:
        """Logged in or in test mode: the timeout runs."""
        return self.debug or self.on

    def deadline(self) -> float:
        return self.last_input + self.timeout

    def require(self, tmode: bool = True) -> None:
        if not self.debug:
            raise NotInTestMode("log in first: login debug")
        if tmode and not self.on:
            raise NotInTestMode("test mode is off: tmode on")

    def force_relay(self, n: int, on: bool) -> None:
        self.require()
        if n not in (2, 3, 4):
            raise InvalidValue(f"relay {n}: only 2, 3, 4")
        self.forced_relays[n] = bool(on)

    def force_heater(self, on: bool) -> None:
        self.require()
        self.heater_forced = bool(on)

    def leave(self) -> None:
        """Test mode off: forced relays and heater released (the caller restores the rest)."""
        self.on = False
        self.forced_relays = {}
        self.heater_forced = None
