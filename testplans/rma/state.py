"""What one RMA step leaves for a later one, typed: the findings the classification reads
and the series the report plots."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from testplans.rma.baseline import Baseline
from testplans.rma.classify import Findings


@dataclass
class RmaState:
    ended: str | None = None            # why the diagnosis stopped early (a red flag, a gate)
    intake: dict[str, Any] = field(default_factory=dict)
    baseline: Baseline | None = None
    findings: Findings = field(default_factory=Findings)
    dumps: Any = None                   # drivers' HistoryDump of R03
    dumps_read_at: float | None = None  # station time of the R03 `time` read
    run_started_at: datetime | None = None
    capacity_ah: float | None = None
    soc_known_pct: float | None = None  # the station's own SOC estimate (Ah since the cut-off)
    charged: bool = False               # R08 ended at the end of charge
    cells: dict[str, list[Any]] = field(default_factory=dict)   # per-cell columns for the report
    series: dict[str, list[list[float]]] = field(default_factory=dict)  # curves for the report
    events: list[dict[str, str]] = field(default_factory=list)   # the R03 log, for the timeline
    stored_parameters: dict[str, float] = field(default_factory=dict)   # RS485's, at R02
    suspects: dict[str, str] = field(default_factory=dict)   # R11 check → the finding that suspects it
