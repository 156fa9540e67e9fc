"""The BMS's public face (``BmsFirmwareApi``, ``SimPack.bms``): what the wire servers call.

It changes with the contract of the wire side, not with the firmware's decisions. It holds
the firmware and reaches the pack only through :class:`FirmwareHost`: every call runs at
the pack's present instant (the pack is first brought up to ``clock.now()``), and a call
that changes the firmware lets the pack re-judge and apply the new outputs.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Protocol, TypeVar

from common.clock import VirtualClock
from common.models import CELLS_IN_SERIES
from sim.pack.firmware import Firmware
from sim.pack.history import stat_counters
from sim.pack.interface import BmsSnapshot, LogEvent
from sim.pack.sensors import Sensors
from sim.pack.snapshot import build_snapshot

T = TypeVar("T")


class FirmwareHost(Protocol):
    """What the BMS face needs from the pack (implemented by ``SimPack``)."""

    clock: VirtualClock

    @property
    def version(self) -> int:
        """Bumped whenever an input changes: a snapshot is cached per (time, version)."""

    def at_now(self, fn: Callable[[float], T]) -> T:
        """Under the clock's lock, bring the pack to now and return ``fn(t)``."""

    def command(self, fn: Callable[[float], T]) -> T:
        """As :meth:`at_now`; then (unless ``fn`` raised) re-judge and apply the outputs."""


class BmsApi:
    """Implements ``BmsFirmwareApi`` on a :class:`Firmware` inside a :class:`FirmwareHost`."""

    def __init__(self, host: FirmwareHost, firmware: Firmware, sensors: Sensors) -> None:
        self._host = host
        self._fw = firmware
        self._sensors = sensors
        self._snap: tuple[float, int, BmsSnapshot] | None = None

    def snapshot(self) -> BmsSnapshot:
        return self._host.at_now(self._snapshot_at)

    def _snapshot_at(self, t: float) -> BmsSnapshot:
        version = self._host.version
        if self._snap is not None and self._snap[:2] == (t, version):
            return self._snap[2]
        m = self._fw.readings
        if m is None:
            raise RuntimeError("a snapshot before the firmware's first readings")
        snap = build_snapshot(t, self._fw, self._sensors.noisy(m.cells, m.pack, m.current, m.temps))
        self._snap = (t, version, snap)
        return snap

    # parameter set -------------------------------------------------------------------
    def stored_parameters(self) -> dict[str, int]:
        return dict(self._fw.params.stored)

    def active_parameters(self) -> dict[str, int]:
        return self._host.at_now(lambda t: dict(self._fw.params.active))

    def crc(self) -> tuple[int, int]:
        return self._host.at_now(lambda t: self._fw.params.crc())

    # console test mode -----------------------------------------------------------------
    def console_activity(self) -> None:
        self._host.at_now(self._fw.console_input)

    def login_debug(self) -> None:
        self._host.command(self._fw.login_debug)

    def logout(self) -> None:
        self._host.command(lambda t: self._fw.logout())

    @property
    def debug(self) -> bool:
        return self._host.at_now(lambda t: self._fw.console.debug)

    def set_test_mode(self, on: bool) -> None:
        self._host.command(lambda t: self._fw.set_test_mode(t, on))

    def force_relay(self, n: int, on: bool) -> None:
        self._host.command(lambda t: self._fw.force_relay(n, on))

    def led_test(self) -> None:
        self._host.command(self._fw.led_test)

    def force_heater(self, on: bool) -> None:
        self._host.command(lambda t: self._fw.force_heater(on))

    def set_threshold(self, name: str, value: int) -> None:
        self._host.command(lambda t: self._fw.set_threshold(name, value))

    def clear_thresholds(self) -> None:
        self._host.command(lambda t: self._fw.clear_thresholds())

    def unlock(self) -> None:
        """``unlock``: clears a system lock (test mode)."""
        self._host.command(self._fw.unlock)

    # log, statistics, calendar ---------------------------------------------------------
    def events(self) -> list[LogEvent]:
        return self._host.at_now(lambda t: self._fw.log.events())

    def clear_events(self) -> None:
        self._host.at_now(self._fw.clear_log)

    def pack_time(self) -> datetime:
        clock = self._host.clock
        with clock.lock:
            return clock.utcnow() + self._fw.calendar_offset

    def set_pack_time(self, when: datetime) -> None:
        clock = self._host.clock
        with clock.lock:
            if when.tzinfo is None:
                raise ValueError("set_pack_time needs a timezone-aware datetime")
            self._fw.calendar_offset = when - clock.utcnow()

    def event_counts(self) -> dict[str, int]:
        return self._host.at_now(lambda t: self._fw.log.counts())

    def stat_counters(self) -> dict[str, int]:
        return self._host.at_now(lambda t: stat_counters(self._fw.log.counts(), self._fw.log.base))

    def soh_counts(self) -> tuple[int, ...]:
        counts = self._fw.unit.history.soh_counts
        return tuple(counts.get(i, 0) for i in range(1, CELLS_IN_SERIES + 1))

    def inverter_heartbeat(self, t: float) -> None:
        self._host.at_now(lambda now: self._fw.inverter_heartbeat(t, now))
