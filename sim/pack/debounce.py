"""A firmware delay timer: runs while a condition holds, fires after its delay; a
protection's release waits the same way (``release_delay``) so that a release cannot
chatter in the same instant the MOSFET opened."""

from __future__ import annotations

EPS = 1e-9


class Debounce:
    """``acc`` grows while ``running``; the owner decides what resets it."""

    __slots__ = ("acc", "active", "delay", "name", "release_delay", "running")

    def __init__(self, name: str, delay: float, release_delay: float = 0.0) -> None:
        self.name = name
        self.delay = delay
        self.release_delay = release_delay
        self.acc = 0.0
        self.running = False
        self.active = False

    def remaining(self) -> float | None:
        if not self.running:
            return None
        return (self.release_delay if self.active else self.delay) - self.acc

    def due(self) -> bool:
        return self.acc + EPS >= self.delay

    def clear(self) -> None:
        self.acc = 0.0
        self.running = False
        self.active = False

    def judge(self, set_cond: bool, release_cond: bool) -> int:
        """One evaluation: +1 when it fires, −1 when it releases, 0 otherwise."""
        if self.active:
            if release_cond:
                if self.acc + EPS >= self.release_delay:
                    self.active = False
                    self.running = False
                    self.acc = 0.0
                    return -1
                self.running = True
                return 0
            self.running = False
            self.acc = 0.0
            return 0
        if set_cond:
            if self.acc + EPS >= self.delay:
                self.active = True
                self.running = False
                self.acc = 0.0
                return 1
            self.running = True
            return 0
        self.running = False
        self.acc = 0.0
        return 0
