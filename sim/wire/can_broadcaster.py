"""The pack's CAN side: six Pylon frames once per simulated second, and the 0x305 it hears.

Runs on the bench clock (``call_every``), so on a virtual clock the frames of a
180-second sleep are all generated, each stamped with its own virtual time. Received
frames are drained on each tick: 0x305 goes to the firmware, anything else is counted.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import can

from common import pylon_can as pc
from common.clock import EventHandle, VirtualClock
from sim.pack.interface import SimPackApi
from sim.wire.can_frames import encode_frames
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
                 *, period: float = pc.PERIOD_S, first: float | None = None) -> None:
        self.pack, self.bus, self.clock, self.period = pack, bus, clock, period
        self.rx = RxCounters()
        self.sent = 0
        self.last_heartbeat: float | None = None
        self._first = first
        self._handle: EventHandle | None = None
        self._memo: dict[int, tuple[dict[str, float], bytes]] = {}
        self.skipped = 0

    def start(self) -> CanBroadcaster:
        if self._handle is None:
            self._handle = self.clock.call_every(self.period, self._tick, first=self._first)
        return self

    def stop(self) -> None:
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None

    def _audience(self) -> bool:
        """False only when nobody else is on our python-can virtual channel (then nobody can
        ever see these frames, and not making them keeps idle simulated time free)."""
        queues = getattr(self.bus, "channel", None)  # VirtualBus: the channel's queue list
        return not isinstance(queues, list) or len(queues) > 1

    def _tick(self, t: float) -> None:
        self.drain(t)
        if not self._audience():
            self.skipped += 1
            return
        snap = self.pack.bms.snapshot()
        if snap.state in SILENT_STATES:
            return  # a pack that is off or asleep sends nothing
        for fid, data in encode_frames(snap, memo=self._memo):
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
