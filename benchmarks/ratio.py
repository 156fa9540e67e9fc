"""Figures as ratios against a reference measured in the same run, side by side.

A busy machine slows a figure and its reference alike, so the ratio holds where an
absolute time would not: each pair is measured interleaved (A, B, A, B, ...) and judged
by the ratio of their medians; absolute times are printed for information only.
``one_core()`` pins this process (and the processes it starts) to one CPU, for figures
that say "one core".
"""

from __future__ import annotations

import contextlib
import os
import statistics
import time
from collections.abc import Callable, Iterator

from benchmarks.figure import Figure


@contextlib.contextmanager
def one_core() -> Iterator[int]:
    """Pin to one of the allowed CPUs for the block (children inherit it); the CPU."""
    allowed = os.sched_getaffinity(0)
    cpu = max(allowed)   # the last: the first is where interrupts and the shell tend to go
    os.sched_setaffinity(0, {cpu})
    try:
        yield cpu
    finally:
        os.sched_setaffinity(0, allowed)


def timed(fn: Callable[[], object]) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def paired(measured: Callable[[], object], reference: Callable[[], object],
           repeats: int = 3, *, before: Callable[[], object] | None = None) -> tuple[float, float]:
    """Medians of ``measured`` and ``reference`` timed alternately ``repeats`` times each
    (``before``, untimed, ahead of each ``measured``)."""
    a: list[float] = []
    b: list[float] = []
    for _ in range(repeats):
        b.append(timed(reference))
        if before is not None:
            before()
        a.append(timed(measured))
    return statistics.median(a), statistics.median(b)


def ratio(name: str, measured_s: float, reference_s: float, reference: str,
          target: float | None, *, unit_s: str = "s", scale: float = 1.0) -> Figure:
    """A figure judged as measured ÷ reference (lower is better); times in the detail."""
    return Figure(name, measured_s / reference_s, "×", target, higher_is_better=False,
                  detail=f"{scale * measured_s:.4g} {unit_s} vs {reference} "
                         f"{scale * reference_s:.4g} {unit_s} (for information)")
