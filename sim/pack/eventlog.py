"""The pack's event log (last 1000 events) and its counters since the last clear."""

from __future__ import annotations

from collections import Counter, deque

from sim.pack.interface import LogEvent

CAPACITY = 1000


class EventLog:
    def __init__(self) -> None:
        self._events: deque[LogEvent] = deque(maxlen=CAPACITY)
        self._counts: Counter[str] = Counter()
        self.base: dict[str, int] = {}   # `stat` counts from before the oldest entry (history)

    def preload(self, events: list[LogEvent], base: dict[str, int]) -> None:
        """A returned pack's past: its field events and the counts beyond them."""
        for e in events:
            self.add(e)
        self.base = dict(base)

    def add(self, event: LogEvent) -> None:
        self._events.append(event)
        self._counts[event.code] += 1

    def events(self) -> list[LogEvent]:
        return list(self._events)

    def clear(self, marker: LogEvent) -> None:
        self._events.clear()
        self._counts.clear()
        self.base = {}
        self.add(marker)

    def counts(self) -> dict[str, int]:
        return dict(self._counts)
