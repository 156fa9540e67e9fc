"""The pack's CAN side: six Pylon frames about once per simulated second, and the 0x305 it hears.

Runs on the bench clock (``call_every``), so on a virtual clock the frames of a
180-second sleep are all generated, each stamped with its own virtual time. Frames of one
period share one timer (by default all six: one tick a second); the unit description may
give a frame its own period, drop it or send it with a wrong DLC
(``comms.can_frames.<name>``). 0x359 byte 4 is the module count of the pack's stack
(``module_count``, default a stack of one). Received frames are drained on each tick:
0x305 goes to the firmware, anything else is counted.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import can

from common import pylon_can as pc
from common.clock import EventHandle, VirtualClock
from sim.pack.interface import SimPackApi
from sim.wire.can_frames import encode_frames, frame_schedule, with_dlc
from sim.wire.rs485 import SILENT_STATES

log = logging.getLogger(__name__)


@dataclass
class RxCounters:
    heartbeats: int = 0
    unknown_id: int = 0
    wrong_dlc: int = 0


class CanBroadcaster:
    """Sends the BMS frames on ``bus`` and listens for the inverter's heartbeat."""

    def __init__(self, pack: SimPackApi, bus: can.BusABC, clock: VirtualClock,
                 *, period: float = pc.PERIOD_S, first: float | None = None,
                 unit: Any = None, module_count: Callable[[], int] | None = None) -> None:
        """``unit``: the description whose ``comms.can_frames`` and clock gain set the
        schedule (default ``pack.unit`` when the pack has one, else every frame at
        ``period``)."""
        self.pack, self.bus, self.clock, self.period = pack, bus, clock, period
        self.rx = RxCounters()
        self.sent = 0
        self.last_heartbeat: float | None = None
        self._first = first
        unit = unit if unit is not None else getattr(pack, "unit", None)
        if unit is None:
            self.groups: list[tuple[float, tuple[int, ...]]] = [(period, pc.BMS_FRAME_IDS)]
            self._dlc: dict[int, int] = {}
        else:
            self.groups, self._dlc = frame_schedule(unit)
        self._module_count = module_count
        self._handles: list[EventHandle] = []
        self._memo: dict[int, tuple[dict[str, float], bytes]] = {}
        self.skipped = 0

    def start(self) -> CanBroadcaster:
        if not self._handles:
            for group_period, ids in self.groups:
                self._handles.append(self.clock.call_every(
                    group_period, functools.partial(self._tick, ids=ids), first=self._first))
        return self

    def stop(self) -> None:
        for handle in self._handles:
            handle.cancel()
        self._handles = []

    def _audience(self) -> bool:
        """False only when nobody else is on our python-can virtual channel (then nobody can
        ever see these frames, and not making them keeps idle simulated time free)."""
        queues = getattr(self.bus, "channel", None)  # VirtualBus: the channel's queue list
        return not isinstance(queues, list) or len(queues) > 1

    def _tick(self, t: float, ids: tuple[int, ...] = pc.BMS_FRAME_IDS) -> None:
        self.drain(t)
        if not self._audience():
            self.skipped += 1
            return
        snap = self.pack.bms.snapshot()
        if snap.state in SILENT_STATES:
            return  # a pack that is off or asleep sends nothing
        count = self._module_count() if self._module_count is not None else 1
        frames = encode_frames(snap, count, self._memo, name=self.pack.identity.manufacturer,
                               ids=ids)
        for fid, data in frames:
            data = with_dlc(data, self._dlc.get(fid))
            msg = can.Message(timestamp=t, arbitration_id=fid, data=data, is_extended_id=False)
            try:
                self.bus.send(msg)
                self.sent += 1
            except can.CanError as exc:  # nobody listening on a closed bus: not our problem
                log.debug("CAN send failed: %s", exc)

    def drain(self, t: float) -> int:
        """Handle every frame received so far; return how many."""
        n = 0
        while True:
            try:
                msg = self.bus.recv(timeout=0)
            except can.CanError:
                return n
            if msg is None:
                return n
            n += 1
            self.receive(msg, t)

    def receive(self, msg: can.Message, t: float) -> None:
        if msg.is_error_frame or msg.is_extended_id or msg.arbitration_id != pc.HEARTBEAT_ID:
            self.rx.unknown_id += 1
            return
        if msg.dlc != 8:
            self.rx.wrong_dlc += 1
            return
        when = msg.timestamp if 0 <= msg.timestamp <= t else t
        self.rx.heartbeats += 1
        self.last_heartbeat = when
        self.pack.bms.inverter_heartbeat(when)
