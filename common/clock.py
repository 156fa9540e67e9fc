"""The station clock: wall time on hardware, virtual time on the simulated bench.

Station and simulator code never call ``time.sleep`` or read the wall clock; they ask
their clock. A :class:`VirtualClock` jumps over idle time, running the simulator's
scheduled events in order, so a plan that takes ten minutes on the floor runs in
seconds and its simulated duration is its real cycle time.
"""

from __future__ import annotations

import heapq
import itertools
import os
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Protocol, runtime_checkable

#: Durations shorter than this are rounding noise of float time sums, not time to wait.
TIME_EPSILON = 1e-9

#: Calendar date at virtual time 0 of a bare VirtualClock, and of a simulated bench asked
#: for reproducible dates (``VSTATION_EPOCH=fixed``).
DEFAULT_EPOCH = datetime(2026, 1, 5, 8, 0, 0, tzinfo=UTC)
#: Environment variable that pins a simulated bench's calendar: an ISO 8601 time
#: (``2026-01-05T08:00:00Z``; a time without an offset is UTC) or ``fixed`` for
#: :data:`DEFAULT_EPOCH`. Unset, a simulated bench's calendar starts at the present time.
EPOCH_ENV = "VSTATION_EPOCH"


def epoch_from_env(environ: Mapping[str, str] | None = None) -> datetime | None:
    """The calendar epoch :data:`EPOCH_ENV` pins, or None when it is unset or empty."""
    text = (os.environ if environ is None else environ).get(EPOCH_ENV, "").strip()
    if not text:
        return None
    if text.lower() in ("fixed", "reproducible"):
        return DEFAULT_EPOCH
    try:
        when = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise ValueError(f"{EPOCH_ENV}={text!r}: give an ISO 8601 time such as "
                         "2026-01-05T08:00:00Z, or 'fixed'") from None
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)


@runtime_checkable
class Clock(Protocol):
    """What station code may ask of time."""

    def now(self) -> float:
        """Seconds on a monotonic time base (not the calendar)."""

    def sleep(self, seconds: float) -> None:
        """Let ``seconds`` pass."""

    def utcnow(self) -> datetime:
        """Calendar time (timezone-aware UTC) for records and the pack's clock."""


class WallClock:
    """The clock of a real station: the machine's monotonic and calendar time."""

    is_virtual = False

    def now(self) -> float:
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            time.sleep(seconds)

    def utcnow(self) -> datetime:
        return datetime.now(UTC)


@dataclass(order=True)
class _Event:
    when: float
    seq: int
    fn: Callable[[float], object] = field(compare=False)
    period: float | None = field(compare=False, default=None)
    cancelled: bool = field(compare=False, default=False)


class EventHandle:
    """Returned by the scheduling calls; ``cancel()`` stops a pending or periodic event."""

    def __init__(self, event: _Event) -> None:
        self._event = event

    @property
    def when(self) -> float:
        return self._event.when

    def cancel(self) -> None:
        self._event.cancelled = True

    @property
    def active(self) -> bool:
        return not self._event.cancelled


class VirtualClock:
    """Simulated time with an event queue.

    ``sleep(s)`` advances time to ``now + s`` at once, running every event due on the
    way in time order (each sees ``now()`` equal to its own time). Callbacks receive
    the event time. ``lock`` is held while time moves or an event runs; simulator
    threads that touch shared state take it too, so one bench is consistent even when
    its TCP servers answer from other threads.

    In *real-time* mode (``station sim serve``) a pacer thread moves virtual time with
    the wall clock instead, and ``sleep`` waits for it.
    """

    is_virtual = True

    def __init__(self, epoch: datetime = DEFAULT_EPOCH, start: float = 0.0) -> None:
        self._t = float(start)
        self._epoch = epoch
        self._queue: list[_Event] = []
        self._seq = itertools.count()
        self.lock = threading.RLock()
        self._realtime = False
        self._tick = threading.Condition(self.lock)
        self._stop = threading.Event()
        self._pacer: threading.Thread | None = None

    # -- reading ---------------------------------------------------------------------
    def now(self) -> float:
        return self._t

    def utcnow(self) -> datetime:
        return self._epoch + timedelta(seconds=self._t)

    @property
    def epoch(self) -> datetime:
        return self._epoch

    # -- scheduling ------------------------------------------------------------------
    def call_at(self, when: float, fn: Callable[[float], None]) -> EventHandle:
        """Run ``fn(when)`` once when time reaches ``when`` (at once if already past)."""
        with self.lock:
            ev = _Event(max(when, self._t), next(self._seq), fn)
            heapq.heappush(self._queue, ev)
            self._tick.notify_all()
            return EventHandle(ev)

    def call_later(self, delay: float, fn: Callable[[float], None]) -> EventHandle:
        return self.call_at(self._t + max(0.0, delay), fn)

    def call_every(
        self, period: float, fn: Callable[[float], object], first: float | None = None
    ) -> EventHandle:
        """Run ``fn(t)`` at ``first`` (default now + period) and every ``period`` after."""
        if period <= 0:
            raise ValueError(f"period must be positive, got {period!r}")
        with self.lock:
            start = self._t + period if first is None else max(first, self._t)
            ev = _Event(start, next(self._seq), fn, period)
            heapq.heappush(self._queue, ev)
            self._tick.notify_all()
            return EventHandle(ev)

    def next_event_time(self) -> float | None:
        with self.lock:
            self._drop_cancelled()
            return self._queue[0].when if self._queue else None

    # -- moving time -----------------------------------------------------------------
    def sleep(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError(f"cannot sleep a negative time ({seconds!r} s)")
        if self._realtime:
            target = self._t + seconds
            with self._tick:
                while self._t < target and not self._stop.is_set():
                    self._tick.wait(timeout=0.05)
            return
        self.advance_to(self._t + seconds)

    def advance_to(self, when: float) -> None:
        """Run every event due up to ``when`` in order, then set time to ``when``."""
        with self.lock:
            while True:
                self._drop_cancelled()
                if not self._queue or self._queue[0].when > when:
                    break
                ev = heapq.heappop(self._queue)
                self._t = max(self._t, ev.when)
                if ev.period is not None:
                    ev.when += ev.period
                    ev.seq = next(self._seq)
                    heapq.heappush(self._queue, ev)
                ev.fn(self._t)
            self._t = max(self._t, when)
            self._tick.notify_all()

    def _drop_cancelled(self) -> None:
        while self._queue and self._queue[0].cancelled:
            heapq.heappop(self._queue)

    # -- real-time mode --------------------------------------------------------------
    def start_realtime(self, resolution: float = 0.002, speed: float = 1.0) -> None:
        """Follow the wall clock from now on (for a bench served to other processes), at
        ``speed`` virtual seconds per wall second (a paced bench: ``[bench] pace``)."""
        if self._pacer is not None:
            return
        self._realtime = True
        self._stop.clear()
        wall0 = time.monotonic()  # wall clock: this is the pacer of a real-time bench
        t0 = self._t

        def pace() -> None:
            while not self._stop.is_set():
                self.advance_to(t0 + speed * (time.monotonic() - wall0))
                self._stop.wait(resolution)

        self._pacer = threading.Thread(target=pace, name="virtual-clock-pacer", daemon=True)
        self._pacer.start()

    def stop_realtime(self) -> None:
        self._stop.set()
        if self._pacer is not None:
            self._pacer.join(timeout=2)
        self._pacer = None
        self._realtime = False
        self._stop.clear()

    @property
    def realtime(self) -> bool:
        return self._realtime


def wait_until(
    clock: Clock,
    predicate: Callable[[], bool],
    timeout: float,
    poll: float = 0.1,
) -> bool:
    """Poll ``predicate`` on ``clock`` until it holds or ``timeout`` passes; return it."""
    deadline = clock.now() + timeout
    while True:
        if predicate():
            return True
        remaining = deadline - clock.now()
        if remaining <= TIME_EPSILON:  # float sums land a hair short of the deadline
            return False
        clock.sleep(min(poll, remaining))
