"""The station's side of the fixture's dead-man: feed the watchdog relay's heartbeat.

The fixture's watchdog relay (``[fixture.deadman]``) holds the POWER relay and the load's
enable only while a DAQ output toggles at least every ``timeout_s``. The station toggles it
every third of that on the station clock: in ``Station.sleep`` and before every read or
write on an instrument or a pack port, so a long plan keeps the fixture up and a killed or
hung station (no sleep, no I/O) lets it drop. A feed that fails is logged and retried a
third of the delay later: the relay then drops, which is the safe direction.
"""

from __future__ import annotations

import logging
import math
from typing import Any

from common.clock import Clock

log = logging.getLogger(__name__)

#: The heartbeat's name among the Daq role's outputs.
HEARTBEAT = "heartbeat"
#: Reads and writes of a transport (drivers.instruments) or a pyserial port (drivers.pack).
_IO_METHODS = frozenset({"write", "read", "query", "read_until", "readline"})


class Deadman:
    """Toggles the heartbeat output when a third of ``timeout_s`` has passed; unarmed until
    :meth:`arm`, a no-op after :meth:`disarm`."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._daq: Any = None
        self.interval = math.inf
        self._last = -math.inf
        self._busy = False      # the heartbeat's own write goes through a fed transport too
        self.beats = 0

    @property
    def armed(self) -> bool:
        return self._daq is not None

    def arm(self, daq: Any, timeout_s: float) -> None:
        self._daq, self.interval = daq, timeout_s / 3.0
        self.feed(force=True)

    def disarm(self) -> None:
        self._daq = None

    def due_in(self) -> float:
        """Station seconds until the next beat is due (inf when unarmed)."""
        if self._daq is None:
            return math.inf
        return max(0.0, self._last + self.interval - self._clock.now())

    def feed(self, force: bool = False) -> None:
        """Toggle the heartbeat if it is due (or ``force``)."""
        daq = self._daq
        if daq is None or self._busy:
            return
        now = self._clock.now()
        if not force and now - self._last < self.interval - 1e-9:
            return
        self._busy = True
        try:
            daq.set_relay(HEARTBEAT, not daq.relays().get(HEARTBEAT, False))
            self.beats += 1
        except Exception as exc:  # never let the heartbeat break the I/O it rides on
            log.warning("dead-man heartbeat not written (the fixture will drop): %s", exc)
        finally:
            self._busy = False
            self._last = now


class FedPort:
    """A transport or serial port whose reads and writes first feed the dead-man, so a
    plan that does I/O without sleeping keeps the fixture up. Anything else (attributes,
    ``close``, ``timeout = ...``) is the wrapped object's."""

    def __init__(self, inner: Any, deadman: Deadman, ledger: Any = None) -> None:
        object.__setattr__(self, "_inner", inner)
        object.__setattr__(self, "_deadman", deadman)
        object.__setattr__(self, "_ledger", ledger)   # a stations.time_ledger.TimeLedger

    def __getattr__(self, name: str) -> Any:
        value = getattr(self._inner, name)
        if name not in _IO_METHODS or not callable(value):
            return value
        deadman, ledger = self._deadman, self._ledger

        def fed(*args: Any, **kwargs: Any) -> Any:
            deadman.feed()
            if ledger is None:
                return value(*args, **kwargs)
            with ledger.spent_on("io"):
                return value(*args, **kwargs)

        return fed

    def __setattr__(self, name: str, value: Any) -> None:
        setattr(self._inner, name, value)


def arm_deadman(station: Any) -> None:
    """Arm the fixture's dead-man of an opened station (after its safe state): every
    instrument's transport is fed from now on, then the first beat. No-op without one."""
    cfg = station.config.fixture.deadman
    if cfg is None or "daq" not in station.roles:   # no DAQ: no heartbeat, the relay holds off
        return
    feed_ports(station)
    station.deadman.arm(station.daq, cfg.timeout_s)


def feed_ports(station: Any) -> None:
    """Wrap every instrument's transport (once): its I/O feeds the dead-man (a no-op until
    armed) and is counted in the station's time ledger."""
    for role in station.roles.values():
        if not isinstance(role._t, FedPort):
            role._t = FedPort(role._t, station.deadman, getattr(station, "ledger", None))
