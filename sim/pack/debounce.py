"""A firmware delay timer: runs while a condition holds, fires after its delay."""

from __future__ import annotations

EPS = 1e-9


class Debounce:
    """``acc`` grows while ``running``; the owner decides what resets it."""

    __slots__ = ("acc", "active", "delay", "name", "running")

    def __init__(self, name: str, delay: float) -> None:
        self.name = name
        self.delay = delay
        self.acc = 0.0
        self.running = False
        self.active = False

    def remaining(self) -> float | None:
        return self.delay - self.acc if self.running else None

    def due(self) -> bool:
        return self.acc + EPS >= self.delay

    def clear(self) -> None:
        self.acc = 0.0
        self.running = False
        self.active = False

    def judge(self, set_cond: bool, release_cond: bool) -> int:
        """One evaluation: +1 when it fires, −1 when it releases, 0 otherwise."""
        if self.active:
            self.running = False
            if release_cond:
                self.active = False
                self.acc = 0.0
                return -1
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
