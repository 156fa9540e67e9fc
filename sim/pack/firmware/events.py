"""How the firmware's parts report what happened: a callback that logs an event code."""

from __future__ import annotations

from collections.abc import Callable

from sim.pack.debounce import Debounce

#: ``emit(t, code)``: log ``code`` at time ``t`` with the present readings.
Emit = Callable[[float, str], None]


def edge(emit: Emit, t: float, d: Debounce, set_cond: bool, release_cond: bool, kind: str) -> int:
    """Judge ``d``; log ``<name>_<kind>`` when it fires and ``<name>_<kind>_end`` when it releases."""
    r = d.judge(set_cond, release_cond)
    if r:
        emit(t, f"{d.name}_{kind}" if r == 1 else f"{d.name}_{kind}_end")
    return r
