"""Plots of the traces each cert verdict was judged on (Parquet beside the record).

One figure per clause that kept traces: voltage, current and temperature against time (h),
with the thresholds it was judged against drawn. Thresholds are read from the limits
document's conditions and spec limits, never typed here twice.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

#: trace column → (panel, label)
PANELS = {"cell_max_v": ("V", "highest cell V"), "cell_min_v": ("V", "lowest cell V"),
          "current_a": ("A", "BMS current A"), "source_a": ("A", "source A"),
          "cell_max_c": ("°C", "hottest cell °C"), "cell_min_c": ("°C", "coldest cell °C"),
          "chamber_c": ("°C", "chamber °C")}


def thresholds(step: str, conditions: dict[str, Any], limits: dict[str, Any]) -> dict[str, list[tuple[float, str]]]:
    """Lines to draw per panel for a clause's step."""
    u_ulc = float(conditions["u_ulc_v"])
    abort_v = float(conditions["abort_cell_v"])
    lines: dict[str, dict[str, list[tuple[float, str]]]] = {
        "c04_over_discharge": {"V": [(float(limits.get("c04_lowest_cell_v", 2.79)), "lowest cell limit")]},
        "c05_overcharge": {"V": [(u_ulc, "U_ulc"), (abort_v, "hard abort")]},
        "c05b_overcharge_group": {"V": [(u_ulc, "U_ulc"), (abort_v, "hard abort")]},
        "c12_system_lock": {"V": [(2.0, "lock below")]},
        "c13_imbalanced_charge": {"V": [(u_ulc, "U_ulc"), (abort_v, "hard abort")]},
        "c09_charge_over_temperature": {"°C": [(float(conditions["ot_cells_c"]), "cells soaked")]},
        "c10_temperature_limits": {"°C": [(45.0, "chg OT"), (50.0, "dsg OT"), (0.0, "chg UT"), (-10.0, "dsg UT")]},
        "c11_heater": {"°C": [(5.0, "heater on below"), (10.0, "heater off")]},
    }
    return lines.get(step, {})


def trace_files(folder: Path, step: str) -> list[Path]:
    prefix = step.split("_", 1)[0] + "_"
    return sorted(p for p in folder.glob(f"{prefix}*.parquet")) if folder.is_dir() else []


def plot_step(files: list[Path], lines: dict[str, list[tuple[float, str]]], title: str) -> bytes | None:
    """A PNG of the step's traces (None when there is nothing to draw)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import pandas as pd

    frames = [pd.read_parquet(f).assign(trace=f.stem) for f in files]
    if not frames:
        return None
    data = pd.concat(frames, ignore_index=True).sort_values("t_s")
    t_h = (data["t_s"] - data["t_s"].iloc[0]) / 3600.0
    units = ["V", "A", "°C"]
    fig, axes = plt.subplots(len(units), 1, figsize=(9.5, 5.2), sharex=True)
    for ax, unit in zip(axes, units, strict=True):
        for col, (panel, label) in PANELS.items():
            if panel == unit and col in data:
                ax.plot(t_h, data[col], label=label, linewidth=0.9)
        for value, label in lines.get(unit, []):
            ax.axhline(value, color="red", linestyle="--", linewidth=0.7)
            ax.annotate(label, (0, value), fontsize=6, color="red", va="bottom")
        ax.set_ylabel(unit)
        ax.legend(fontsize=6, loc="upper right")
        ax.grid(alpha=0.3)
    axes[-1].set_xlabel("h from the first point of the trace")
    axes[0].set_title(title, fontsize=9)
    buf = io.BytesIO()
    fig.tight_layout()
    fig.savefig(buf, format="png", dpi=110)
    plt.close(fig)
    return buf.getvalue()
