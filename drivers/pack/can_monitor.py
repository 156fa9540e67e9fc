"""Station driver for the pack's CAN port: decode the Pylon frames, judge their periods.

Deterministic on the simulated bench: there is no background thread; every query first
drains what the bus holds (``recv(timeout=0)`` until empty). Periods are judged from the
frames' own timestamps, so they do not depend on when the station happened to look; "how
old is this value" uses the station clock, with the frames' time base mapped onto it by
the smallest receive latency seen (the two bases differ on real interfaces).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

import can

from common import pylon_can as pc
from common.clock import Clock
from drivers.pack.errors import CanPortError

log = logging.getLogger(__name__)

__all__ = ["CanMonitor", "CanPortError", "FrameStats", "SignalValue"]


@dataclass(frozen=True)
class SignalValue:
    value: float
    t: float          # frame timestamp (the bus's time base)
    frame_id: int


@dataclass
class FrameStats:
    """Period statistics of one frame ID from consecutive timestamps."""

    frame_id: int
    name: str
    count: int = 0
    first_t: float | None = None
    last_t: float | None = None
    min_period: float | None = None
    max_period: float | None = None
    late: int = 0                         # gaps longer than period × (1 + tolerance)
    early: int = 0                        # gaps shorter than period × (1 − tolerance)
    rejected: int = 0                     # frames of this ID the DBC refused (wrong DLC)
    dlc: int | None = None                # DLC of the last frame of this ID, refused or not
    last_data: bytes = b""
    signals: dict[str, float] = field(default_factory=dict)

    @property
    def mean_period(self) -> float | None:
        if self.count < 2 or self.first_t is None or self.last_t is None:
            return None
        return (self.last_t - self.first_t) / (self.count - 1)


@dataclass
class RxCounters:
    frames: int = 0
    unknown_id: int = 0
    wrong_dlc: int = 0
    error_frames: int = 0


class CanMonitor:
    """Keeps the latest value of every Pylon signal with its timestamp."""

    def __init__(self, bus: can.BusABC, clock: Clock, *, period: float = pc.PERIOD_S,
                 tolerance: float = 0.2, own_bus: bool = False,
                 same_timebase: bool = False) -> None:
        self.bus, self.clock = bus, clock
        self.period, self.tolerance = period, tolerance
        self._own_bus = own_bus
        self.rx = RxCounters()
        self.stats: dict[int, FrameStats] = {
            fid: FrameStats(fid, pc.frame_name(fid)) for fid in pc.BMS_FRAME_IDS
        }
        self._latest: dict[str, SignalValue] = {}
        #: signals whose latest frame came too short to hold them: name → why
        self._unreadable: dict[str, str] = {}
        # station clock − frame time: 0 when frames carry the station clock's time (virtual
        # bus on the simulated bench), else the smallest receive latency seen
        self._same_timebase = same_timebase
        self._offset: float | None = 0.0 if same_timebase else None
        self.heartbeats_sent = 0

    @classmethod
    def open(cls, config: dict[str, Any], clock: Clock, **kwargs: Any) -> CanMonitor:
        """Open the bus a station file describes (python-can keyword arguments)."""
        cfg = dict(config)
        same = cfg.get("interface") == "virtual"   # in-process: frames carry bench time
        if same:
            cfg.setdefault("preserve_timestamps", True)  # our clock's time on our frames
            kwargs.setdefault("same_timebase", True)
        try:
            bus = can.Bus(**cfg)
        except (can.CanError, OSError, ValueError, TypeError) as exc:
            raise CanPortError(f"cannot open CAN bus {config!r}: {exc}") from exc
        return cls(bus, clock, own_bus=True, **kwargs)

    def close(self) -> None:
        if self._own_bus:
            self.bus.shutdown()

    def __enter__(self) -> CanMonitor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- receiving -------------------------------------------------------------------------
    def poll(self) -> int:
        """Drain the bus; return how many frames were handled."""
        n = 0
        now = self.clock.now()
        while True:
            try:
                msg = self.bus.recv(timeout=0)
            except can.CanError as exc:
                raise CanPortError(f"CAN receive failed: {exc}") from exc
            if msg is None:
                return n
            n += 1
            self.handle(msg, now)

    def handle(self, msg: can.Message, now: float | None = None) -> None:
        """Account for one received frame (public for replay and benchmarks)."""
        self.rx.frames += 1
        if msg.is_error_frame:
            self.rx.error_frames += 1
            return
        st = self.stats.get(msg.arbitration_id)
        if st is None or msg.is_extended_id:
            self.rx.unknown_id += 1
            return
        data = bytes(msg.data)
        st.dlc = len(data)
        try:
            signals = pc.decode(msg.arbitration_id, data)
        except pc.CanCodecError as exc:
            # another DLC than the DBC's: judged (counted, never a period), read leniently
            # (what its bytes hold is a value; a field it lacks is an error naming it)
            self.rx.wrong_dlc += 1
            st.rejected += 1
            log.debug("CAN: %s", exc)
            readable, unreadable = pc.decode_fields(msg.arbitration_id, data)
            for name, value in readable.items():
                self._latest[name] = SignalValue(value, msg.timestamp, msg.arbitration_id)
                self._unreadable.pop(name, None)
            for name, why in unreadable.items():
                self._latest.pop(name, None)   # an older value is not this frame's
                self._unreadable[name] = why
            return
        t = msg.timestamp
        if now is not None and not self._same_timebase:
            offset = now - t
            if self._offset is None or offset < self._offset:
                self._offset = offset
        if st.last_t is not None:
            gap = t - st.last_t
            st.min_period = gap if st.min_period is None else min(st.min_period, gap)
            st.max_period = gap if st.max_period is None else max(st.max_period, gap)
            if gap > self.period * (1 + self.tolerance):
                st.late += 1
            elif gap < self.period * (1 - self.tolerance):
                st.early += 1
        else:
            st.first_t = t
        st.count += 1
        st.last_t = t
        st.last_data = data
        st.signals = signals
        for name, value in signals.items():
            self._latest[name] = SignalValue(value, t, msg.arbitration_id)
            self._unreadable.pop(name, None)

    # -- queries ---------------------------------------------------------------------------
    def latest(self, signal: str) -> SignalValue:
        """Latest value of one signal (drains the bus first)."""
        self.poll()
        try:
            return self._latest[signal]
        except KeyError:
            known = sorted({s.name for m in pc.database().messages for s in m.signals})
            if signal not in known:
                raise KeyError(f"unknown signal {signal!r}; known: {', '.join(known)}") from None
            if signal in self._unreadable:
                raise CanPortError(f"signal {signal!r} cannot be read: "
                                   f"{self._unreadable[signal]}") from None
            raise CanPortError(f"signal {signal!r} not received yet") from None

    def values(self) -> dict[str, SignalValue]:
        self.poll()
        return dict(self._latest)

    def frame(self, frame_id: int) -> FrameStats:
        self.poll()
        try:
            return self.stats[frame_id]
        except KeyError:
            raise KeyError(f"0x{frame_id:03X} is not a Pylon BMS frame") from None

    def name(self) -> str:
        self.poll()
        return pc.decode_name(self.frame(pc.NAME_ID).signals) if self.stats[pc.NAME_ID].count else ""

    def age(self, frame_id: int) -> float | None:
        """Seconds since the last frame of that ID, on the station clock (None: never seen)."""
        st = self.frame(frame_id)
        if st.last_t is None or self._offset is None:
            return None
        return max(0.0, self.clock.now() - (st.last_t + self._offset))

    def missing(self, max_age: float | None = None) -> list[int]:
        """IDs never received, or not received within ``max_age`` (default 2 periods)."""
        limit = 2 * self.period if max_age is None else max_age
        out = []
        for fid in pc.BMS_FRAME_IDS:
            age = self.age(fid)
            if age is None or age > limit:
                out.append(fid)
        return out

    def late(self) -> dict[int, int]:
        """Per frame ID, how many gaps exceeded the period's tolerance (only IDs with any)."""
        self.poll()
        return {fid: st.late for fid, st in self.stats.items() if st.late}

    def reset_statistics(self) -> None:
        """Start period statistics afresh (e.g. at the start of a CAN step)."""
        self.poll()
        self.stats = {fid: FrameStats(fid, pc.frame_name(fid)) for fid in pc.BMS_FRAME_IDS}

    # -- sending ---------------------------------------------------------------------------
    def heartbeat(self) -> None:
        """Send the inverter's 0x305 (8 × 0x00), stamped with the station clock."""
        msg = can.Message(timestamp=self.clock.now(), arbitration_id=pc.HEARTBEAT_ID,
                          data=pc.HEARTBEAT_DATA, is_extended_id=False)
        try:
            self.bus.send(msg)
        except can.CanError as exc:
            raise CanPortError(f"CAN send of 0x305 failed: {exc}") from exc
        self.heartbeats_sent += 1
