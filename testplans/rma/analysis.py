"""Pure analysis of a returned pack's readings: under-voltage spans from the log, the age from
the serial, per-cell ratios and drifts. No station, no clock: tested on their own."""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from datetime import datetime
from typing import Any

#: Under-voltage protections and their releases, as the log names them (SPEC §2.2, §7).
UV_STARTS = ("cell_uv_prot", "pack_uv_prot")


def uv_spans_h(entries: Sequence[Any], until: datetime) -> list[float]:
    """Hours from each under-voltage protection to its release (``<code>_end``), or to
    ``until`` (the dump's time) while none came; entries oldest first (``.time``, ``.code``)."""
    open_at: dict[str, datetime] = {}
    spans = []
    for e in entries:
        if e.code in UV_STARTS:
            open_at.setdefault(e.code, e.time)
        elif e.code.endswith("_end") and e.code.removesuffix("_end") in open_at:
            start = open_at.pop(e.code.removesuffix("_end"))
            spans.append((e.time - start).total_seconds() / 3600.0)
    spans += [(until - start).total_seconds() / 3600.0 for start in open_at.values()]
    return spans


def age_years(year: int, month: int, today: datetime) -> float:
    """Years from the first day of the production month to ``today``."""
    return (today.year - year) + (today.month - month) / 12.0 + (today.day - 1) / 365.25


def ratios_to_median(values: Sequence[float]) -> list[float]:
    med = statistics.median(values)
    return [v / med if med else float("nan") for v in values]


def worst(values: Sequence[float], *, absolute: bool = False) -> tuple[int, float]:
    """(cell 1..N, value) of the largest value (or largest magnitude)."""
    key = (lambda i: abs(values[i])) if absolute else (lambda i: values[i])
    i = max(range(len(values)), key=key)
    return i + 1, values[i]


def drifts_per_day(before: Sequence[float], after: Sequence[float], seconds: float) -> list[float]:
    """Each cell's voltage change against the median cell's, V per day."""
    deltas = [b - a for a, b in zip(before, after, strict=True)]
    med = statistics.median(deltas)
    return [(d - med) * 86400.0 / seconds for d in deltas]


def counters_kept(before: dict[str, int], after: dict[str, int]) -> list[str]:
    """Counters that went missing or fell between two reads (a clear would do that)."""
    return [k for k, n in before.items() if after.get(k, -1) < n]


def log_kept(before: Sequence[Any], after: Sequence[Any], since: datetime) -> str:
    """'' when the log read before is the start of the log read after and every added entry
    is from ``since`` on; else what differs."""
    key = lambda e: (e.time, e.code, e.info)  # noqa: E731
    if [key(e) for e in after[:len(before)]] != [key(e) for e in before]:
        return "entries read at R03 are gone or changed"
    early = [e for e in after[len(before):] if e.time < since]
    return f"{len(early)} added entries dated before this run" if early else ""


def cut_off_errors(entries: Sequence[Any], since: datetime,
                   stored: dict[str, float]) -> dict[str, float]:
    """R11: each under-voltage protection logged from ``since`` on (R09's cut-off), the
    value the BMS logged at its trip minus the threshold it reports as stored, V: ``"pack"``
    (pack voltage) and ``"cell"`` (lowest cell); the latest of each."""
    out: dict[str, float] = {}
    for e in entries:
        if e.time < since:
            continue
        if e.code == "pack_uv_prot" and "pack_uv_prot_v" in stored:
            out["pack"] = e.pack_v - stored["pack_uv_prot_v"]
        elif e.code == "cell_uv_prot" and "cell_uv_prot_v" in stored:
            out["cell"] = e.cell_low_v - stored["cell_uv_prot_v"]
    return out


def reading_jump(readings: Sequence[Sequence[float]]) -> tuple[int, float]:
    """(cell 1..N, V) of the reading furthest from its own cell's median over repeated
    readings at rest: a sense lead that opens now and then, where noise moves millivolts."""
    columns = list(zip(*readings, strict=True))
    devs = [max(abs(v - statistics.median(col)) for v in col) for col in columns]
    return worst(devs)


def cells_median(readings: Sequence[Sequence[float]]) -> list[float]:
    """Each cell's median over several readings: one glitching report moves nothing."""
    return [statistics.median(col) for col in zip(*readings, strict=True)]
