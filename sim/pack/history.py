"""A returned pack's past: the field's event log preloaded, and the ``stat`` counters.

The unit description's ``[history]`` says what the pack lived through (events with their
calendar times, counters of events that scrolled out of the log, SOHCount per cell); the
firmware keeps them as a real pack does: the log holds the events, ``stat`` counts them by
the labels of SPEC §7, and ``log clear`` empties both (the factory's EOL ends with one, so a
pack leaves the line with clean counters; CYCLE Times, SOH and the Ah totals are not
counters of the log and survive it).
"""

from __future__ import annotations

from datetime import datetime

from sim.pack.interface import LogEvent
from sim.unit import STAT_COUNTERS, HistorySection

#: Event code → the ``stat`` counter it advances (protections, not alarms or releases).
COUNTED: dict[str, str] = {
    "end_of_charge": "Charge Times",
    "chg_oc_prot": "COC Times", "chg_oc_fast_prot": "COC Times",
    "dsg_oc_prot": "DOC Times", "dsg_oc_fast_prot": "DOC Times",
    "short_prot": "SC Times",
    "cell_ov_prot": "Bat OV Times", "pack_ov_prot": "Bat OV Times",
    "cell_uv_prot": "Bat UV Times", "pack_uv_prot": "Bat UV Times",
    "chg_ot_prot": "COT Times", "chg_ut_prot": "CUT Times",
    "dsg_ot_prot": "DOT Times", "dsg_ut_prot": "DUT Times",
    "shutdown": "Shut Times", "power_off": "Shut Times",
    "power_on": "Reset Times",
    "reverse": "RV Times", "input_ov": "Input OV Times",
    "system_lock": "SysLock Times",
}


def field_events(history: HistorySection, epoch: datetime, t_epoch: float) -> list[LogEvent]:
    """The field's events as log entries on the bench's time axis (``t_epoch`` is the
    virtual time at calendar ``epoch``: an event before it has an earlier ``t``)."""
    out = []
    for e in history.events:
        t = t_epoch + (e.time - epoch).total_seconds()
        out.append(LogEvent(t, e.code, round(e.pack_v * 1000), round(e.current_a * 1000),
                            round(e.cell_max_v * 1000), round(e.cell_min_v * 1000),
                            round(e.temp_c * 10), info=e.info))
    return out


def stat_counters(counts: dict[str, int], base: dict[str, int]) -> dict[str, int]:
    """Every counter label: ``base`` (from before the log's oldest entry) + logged events."""
    out = {label: base.get(label, 0) for label in STAT_COUNTERS}
    for code, n in counts.items():
        label = COUNTED.get(code)
        if label is not None:
            out[label] += n
    return out
