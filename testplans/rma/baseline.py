"""This serial's EOL baseline: its latest PASS EOL record in the store, or none (then every
comparison with it is NOT RUN, never guessed)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from reports.record import Record


@dataclass(frozen=True)
class Baseline:
    run_id: str
    started_at: str
    dcr_ohm: float | None                     # EOL dcr_discharge_mohm, in Ω
    cell_dcr_ratios: tuple[float | None, ...]  # EOL cell_NN_dcr_ratio (to the median), 16


def _value(record: Record, name: str) -> Any:
    try:
        m = record.measurement(name)
    except KeyError:
        return None
    return m.value if m.outcome == "PASS" else None


def from_record(record: Record) -> Baseline:
    """The values an RMA compares with, from one EOL record (SI units)."""
    dcr = _value(record, "dcr_discharge_mohm")
    ratios = tuple(_value(record, f"cell_{n:02d}_dcr_ratio") for n in range(1, 17))
    return Baseline(record.run_id, record.started_at.isoformat(),
                    None if dcr is None else float(dcr) / 1e3, ratios)


def latest_pass_eol(store: Any, serial: str) -> Record | None:
    """The newest finished PASS EOL production run of ``serial`` (development runs excluded)."""
    eol = store.runs(serial=serial, plan="eol", verdict="PASS", development=False)
    if eol.empty:
        return None
    run_id = eol.sort_values("started_at").iloc[-1].run_id
    return store.load_record(str(run_id))
