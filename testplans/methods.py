"""Measurement methods of the plans as pure functions: edges, captures and tables in,
numbers out. Kept apart from the steps so each can be tested on its own."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import replace
from itertools import pairwise
from statistics import median
from typing import Any, TypeVar

Edges = Sequence[tuple[float, bool]]   # (t, on) transitions, time-ordered


R = TypeVar("R", bound=Any)


def level_at(edges: Edges, initial: bool, t: float) -> bool:
    """The LED's state at ``t`` given its state before the first edge."""
    state = initial
    for when, on in edges:
        if when > t:
            break
        state = on
    return state


def on_intervals(edges: Edges, initial: bool, t0: float, t1: float) -> list[tuple[float, float]]:
    """Closed (start, end) intervals of 'on' inside [t0, t1]; cut at the window's ends."""
    out: list[tuple[float, float]] = []
    state, start = initial, t0
    for when, on in edges:
        if when < t0:
            state = on
            continue
        if when > t1:
            break
        if on and not state:
            start = when
        elif not on and state:
            out.append((start, when))
        state = on
    if state:
        out.append((start, t1))
    return out


def blink_timing(edges: Edges, initial: bool, t0: float, t1: float) -> tuple[float, float] | None:
    """Median on-time and median period of complete blinks in [t0, t1], or None if fewer
    than two complete blinks were seen."""
    complete = [(a, b) for a, b in on_intervals(edges, initial, t0, t1) if a > t0 and b < t1]
    if len(complete) < 2:
        return None
    on = median(b - a for a, b in complete)
    period = median(complete[i + 1][0] - complete[i][0] for i in range(len(complete) - 1))
    return on, period


def steady(edges: Edges, initial: bool, t0: float, t1: float, want: bool) -> bool:
    """True if the LED is ``want`` for the whole of [t0, t1]."""
    return level_at(edges, initial, t0) == want and not any(t0 < t <= t1 for t, _ in edges)


def all_on_duration(per_led: Mapping[str, Edges], initial: Mapping[str, bool],
                    t0: float, t1: float) -> float:
    """Longest stretch in [t0, t1] during which every LED is on together."""
    points = sorted({t0, t1, *(t for e in per_led.values() for t, _ in e if t0 <= t <= t1)})
    best = run = 0.0
    for a, b in pairwise(points):
        mid = (a + b) / 2
        if all(level_at(per_led[k], initial[k], mid) for k in per_led):
            run += b - a
            best = max(best, run)
        else:
            run = 0.0
    return best


def solo_order(per_led: Mapping[str, Edges], initial: Mapping[str, bool],
               t0: float, t1: float, min_s: float = 0.2) -> list[str]:
    """LEDs that were lit *alone* for at least ``min_s``, in the order they were lit."""
    points = sorted({t0, t1, *(t for e in per_led.values() for t, _ in e if t0 <= t <= t1)})
    order: list[str] = []
    lit_alone: dict[str, float] = {}
    for a, b in pairwise(points):
        mid = (a + b) / 2
        lit = [k for k in per_led if level_at(per_led[k], initial[k], mid)]
        if len(lit) == 1:
            lit_alone[lit[0]] = lit_alone.get(lit[0], 0.0) + (b - a)
            if lit_alone[lit[0]] >= min_s and lit[0] not in order:
                order.append(lit[0])
    return order


def trip_time(samples: Sequence[tuple[float, float]], set_point: float,
              start_fraction: float, trip_current: float) -> tuple[float, float] | None:
    """(t0, t_trip) from a current capture: t0 the first sample with |I| >= fraction of
    the set point, t_trip the first later sample with |I| < trip_current. None if the
    current never reached the set point or never dropped."""
    t0 = next((t for t, i in samples if abs(i) >= start_fraction * abs(set_point)), None)
    if t0 is None:
        return None
    t_trip = next((t for t, i in samples if t > t0 and abs(i) < trip_current), None)
    return None if t_trip is None else (t0, t_trip)


def capture_peak(samples: Sequence[float]) -> float:
    """The largest sample; NaN if any sample is NaN (a clipped sample: the true peak is
    unknown, and NaN never passes a limit). Python's ``max`` would skip a NaN mid-list."""
    if not samples or any(math.isnan(x) for x in samples):
        return math.nan
    return max(samples)


def short_circuit_trip(times: Sequence[float], amps: Sequence[float], threshold_a: float,
                       off_a: float) -> float | None:
    """From the first sample above ``threshold_a`` to the first after it below ``off_a``
    (SPEC 2.3: the short circuit named by its current, the trip by the current gone); a NaN
    sample is neither. None if the current never passed the threshold or never fell."""
    over = next((k for k, a in enumerate(amps) if a > threshold_a), None)
    if over is None:
        return None
    off = next((k for k in range(over, len(amps)) if amps[k] < off_a), None)
    return None if off is None else times[off] - times[over]


def dead_and_back(times: Sequence[float], volts: Sequence[float]) -> float | None:
    """The terminals gone (nearer 0 V than half the first reading) and back on a scan:
    the time between; None if they never went or never came back."""
    if not volts or not volts[0] > 0:
        return None
    half = 0.5 * volts[0]
    gone = next((k for k, v in enumerate(volts) if v < half), None)
    if gone is None:
        return None
    back = next((k for k in range(gone, len(volts)) if volts[k] >= half), None)
    return None if back is None else times[back] - times[gone]


def derating_row(table: Sequence[Mapping[str, float]], temp: float) -> Mapping[str, float]:
    for row in table:
        if row["low"] <= temp < row["high"]:
            return row
    raise ValueError(f"no derating row covers {temp} °C")


def expected_current_limits(table: Sequence[Mapping[str, float]], t_min: float, t_max: float,
                            hysteresis: float = 1.0) -> set[tuple[float, float]]:
    """Every (charge, discharge) limit pair the pack may advertise at these temperatures:
    cold rows by the lowest cell, hot rows by the highest, the smaller of the two; a
    temperature within the hysteresis of a row boundary admits both rows."""
    def candidates(temp: float) -> list[Mapping[str, float]]:
        rows = {id(r): r for r in (derating_row(table, temp + d) for d in (-hysteresis, 0.0, hysteresis))}
        return list(rows.values())

    out: set[tuple[float, float]] = set()
    for cold in candidates(t_min):
        for hot in candidates(t_max):
            out.add((min(cold["charge_a"], hot["charge_a"]), min(cold["discharge_a"], hot["discharge_a"])))
    return out


def nearest_error(value: float, allowed: set[float]) -> float:
    """Signed difference to the closest allowed value."""
    return min((value - a for a in allowed), key=abs)


def soc_segments(soc_pct: float) -> int:
    """Lit SOC segments for a state of charge [SPEC §3]: ceil(SOC / 25)."""
    return max(0, min(4, math.ceil(soc_pct / 25.0)))


def release_time(samples: Sequence[tuple[float, float]], after: float,
                 flowing_current: float) -> float | None:
    """The first sample after ``after`` (the trip) with |I| above ``flowing_current``:
    the instant the pack reclosed, on the same capture as the trip."""
    return next((t for t, i in samples if t > after and abs(i) > flowing_current), None)


def channel_errors(cells_v: Sequence[float], terminal_v: float) -> list[float]:
    """Each BMS cell channel minus the mean cell voltage the DAQ sees at the terminals at
    rest (16 cells in series carry no current, so their true sum is the terminal voltage).
    A closed pack has no cell taps; against the DAQ, unlike against the median of the other
    channels, one channel's error does not move the reference of another [SPEC §8]. What
    remains is each cell's own difference from the mean, a term of the budget."""
    mean_cell = terminal_v / len(cells_v)
    return [v - mean_cell for v in cells_v]


def mean_reading(readings: Sequence[R]) -> R:
    """The mean of several BMS readings, field by field: the noise and the 1 mV steps of a
    single reading are larger than a channel's tolerance allows [budget: BMS cell channels]."""
    first = readings[0]
    n = len(readings)
    return replace(
        first,
        pack_voltage_v=sum(r.pack_voltage_v for r in readings) / n,
        cell_voltages_v=tuple(sum(c) / n for c in zip(*(r.cell_voltages_v for r in readings), strict=True)),
        current_a=sum(r.current_a for r in readings) / n,
        temperatures_c={k: sum(r.temperatures_c[k] for r in readings) / n for k in first.temperatures_c},
    )


def ratios_to_median(values: Sequence[float]) -> list[float]:
    """Each value ÷ the median of all: per-cell DC resistance against the pack's cells (ΔI
    is the same for every cell in series, so the ΔV ratios are the resistance ratios)."""
    mid = median(values)
    return [v / mid if mid > 0 else math.inf for v in values]
