"""In-spec units with realistic manufacturing spread, from a seed (written as unit files).

Spread: cell capacity ±1.5 % and cell resistance ±5 % (truncated normal, σ = a third of
the bound), initial SOC 52-58 % with ±0.3 % between cells, sensor offsets and gains well
inside the station's accuracy limits, firmware clock within ±0.5 %, blink times within
±2 %. Off-spec units are made from these with :func:`sim.unit.with_change`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from common.models import CELLS_IN_SERIES, TEMPERATURE_SENSORS, get_model
from common.serial_number import make_serial
from sim.unit import UnitDescription, unit_from_dict, write_unit

CAPACITY_SPREAD = 0.015
RESISTANCE_SPREAD = 0.05


def _spread(rng: np.random.Generator, bound: float, size: int | None = None) -> Any:
    """Truncated normal in [−bound, +bound], σ = bound / 3."""
    x = rng.normal(0.0, bound / 3.0, size)
    return np.clip(x, -bound, bound)


def _unit_data(rng: np.random.Generator, model_id: str, serial: str) -> dict[str, Any]:
    cap = 100.0 * (1.0 + _spread(rng, CAPACITY_SPREAD, CELLS_IN_SERIES))
    r = 0.9 * (1.0 + _spread(rng, RESISTANCE_SPREAD, CELLS_IN_SERIES))
    soc = float(rng.uniform(52.0, 58.0))  # storage SOC, clear of the 50 % bar boundary
    cell_soc = soc + _spread(rng, 0.3, CELLS_IN_SERIES)
    cells = {
        str(i + 1): {
            "capacity_ah": round(float(cap[i]), 4),
            "r_ohmic_mohm": round(float(r[i]), 5),
            "initial_soc_pct": round(float(cell_soc[i]), 4),
        }
        for i in range(CELLS_IN_SERIES)
    }
    cell_offsets = _spread(rng, 3.0, CELLS_IN_SERIES)  # mV; station limit on the sum ±150 mV
    timing_jitter = 1.0 + _spread(rng, 0.02, 8)
    blinks = {}
    for k, name in enumerate(
        [f"blink{n}_{p}_s" for n in (1, 2, 3, 4) for p in ("on", "off")]
    ):
        base = {"blink1_on_s": 0.3, "blink1_off_s": 3.7, "blink2_on_s": 0.5, "blink2_off_s": 0.5,
                "blink3_on_s": 0.5, "blink3_off_s": 1.5, "blink4_on_s": 0.7, "blink4_off_s": 9.3}[name]
        blinks[name] = round(base * float(timing_jitter[k]), 4)
    return {
        "model": model_id,
        "identity": {"serial": serial},
        "cells": {"initial_soc_pct": round(soc, 3), "overrides": cells},
        "sensors": {
            "cell_voltage": {
                "overrides": {
                    str(i + 1): {"offset": round(float(cell_offsets[i]), 3)} for i in range(CELLS_IN_SERIES)
                }
            },
            "pack_voltage": {
                "gain": round(1.0 + float(_spread(rng, 0.001)), 6),
                "offset": round(float(_spread(rng, 50.0)), 2),  # mV; limit ±250 mV
            },
            "current": {
                "gain": round(1.0 + float(_spread(rng, 0.002)), 6),  # limit 1 % + 0.3 A
                "offset": round(float(_spread(rng, 0.05)), 4),
            },
            "temperature": {
                name: {"offset": round(float(_spread(rng, 0.6)), 3)} for name in TEMPERATURE_SENSORS
            },  # limit ±2 °C
        },
        "timing": {"clock_gain": round(1.0 + float(_spread(rng, 0.005)), 6), **blinks},
        "safety": {
            "ground_bond_ohm": round(float(rng.uniform(0.012, 0.035)), 4),
            "insulation_ohm": float(round(float(rng.uniform(200e6, 2e9)), -6)),
        },
    }


def generate(
    n: int, seed: int, model_id: str = "v5", out_dir: Path | None = None
) -> list[UnitDescription]:
    """``n`` in-spec units of ``model_id`` (distinct valid serials); unit files in ``out_dir``."""
    if n < 0:
        raise ValueError(f"n must be >= 0, got {n}")
    variant = get_model(model_id).variant
    rng = np.random.default_rng(seed)
    base = (seed % 900) * 10_000
    units = []
    for k in range(n):
        serial = make_serial(variant, 26, 1 + (seed % 12), base + k + 1)
        unit = unit_from_dict(_unit_data(rng, model_id, serial), f"<population seed {seed} #{k}>")
        units.append(unit)
    if out_dir is not None:
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        for unit in units:
            write_unit(unit, out / f"{unit.identity.serial}.toml")
    return units
