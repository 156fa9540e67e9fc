"""The grid of a load's current capture: the interval and number of points its digitizer
can hold for the rate and length a plan asks.

SPEC §8 times the over-current tiers on the load's own capture at >= 100 Hz. A digitizer
has a fastest interval, a slowest one and a memory of so many points: a capture longer
than the memory at the rate asked runs at the highest rate that fits (never below the
plan's minimum, default 100 Hz), and one that cannot fit even then is refused with what
the instrument can do, before anything is written.
"""

from __future__ import annotations

import math

from drivers.instruments.errors import CaptureRefused

#: The digitizers take their interval in seconds with 1 µs resolution (``{dt:.6f}``).
DT_STEP_S = 1e-6


def capture_grid(name: str, rate_hz: float, seconds: float, *, min_rate_hz: float,
                 min_dt_s: float, max_dt_s: float, max_points: int) -> tuple[float, int]:
    """(interval s, points) of a capture of ``seconds`` at ``rate_hz``, or at the highest
    rate >= ``min_rate_hz`` the digitizer can hold; :class:`CaptureRefused` otherwise."""
    if not (math.isfinite(rate_hz) and rate_hz >= min_rate_hz):
        raise CaptureRefused(name, None, f"capture rate {rate_hz!r} Hz below {min_rate_hz:g} Hz")
    if not (math.isfinite(seconds) and seconds > 0):
        raise CaptureRefused(name, None, f"capture length must be positive, got {seconds!r}")
    dt = max(1.0 / rate_hz, min_dt_s)           # faster than the digitizer: its fastest
    slowest = min(1.0 / min_rate_hz, max_dt_s)
    if dt > slowest + 1e-12:
        raise CaptureRefused(name, None, f"{min_rate_hz:g} Hz is beyond the digitizer's "
                             f"{min_dt_s:g}..{max_dt_s:g} s interval")
    points = max(1, round(seconds / dt))
    if points > max_points:
        dt = math.ceil(seconds / max_points / DT_STEP_S - 1e-9) * DT_STEP_S
        if dt > slowest + 1e-12:
            at = 1.0 / slowest
            raise CaptureRefused(name, None, f"the digitizer holds {max_points} points: {seconds:g} s "
                                 f"at >= {min_rate_hz:g} Hz needs {math.ceil(seconds * min_rate_hz)}; "
                                 f"it captures at most {max_points / at:g} s at {at:g} Hz")
        points = min(max_points, max(1, round(seconds / dt)))
    return dt, points
