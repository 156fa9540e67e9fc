"""In-spec units from a seed (written as unit files): every toleranced value of a unit drawn
up to a fraction (default 90 %) of its tolerance, so a population tests the station's
guard bands, not only the middle of each window.

Tolerances of a good unit (SPEC; [A] where the SPEC gives only the station's window):

- BMS cell channels ±10 mV each (offset + gain at 3.3 V); their sum against the terminals
  ±0.15 V (so the 16 offsets are drawn, then scaled so the sum stays inside the fraction);
  pack voltage ±0.25 V; current ±(1 % + 0.3 A); each temperature sensor ±2 °C [§2.2, §2.4];
- delays ±4.5 % or ±50 ms, whichever is larger, per function and on the firmware clock;
  the over-current release 30 ± 1 s [§2.1]; blink and flash times ±5 % [§3];
- each cell's DC resistance ≤ 1.5 × the median of the pack's cells: one cell per unit up to
  1 + fraction × 0.5 of the others, the rest within ±5 % [§2.2]; the pack's resistance
  keeps the same fraction of its 25 mΩ window;
- ground bond ≤ 0.1 Ω, insulation ≥ 10 MΩ [§8]; heater 300 W ±15 % [A: the station
  accepts ±20 %]; storage SOC 40…60 % [M 4.2] (EOL discharges about 1.5 % of it).

``corners=True`` puts every toleranced value at ± the fraction exactly (random signs): the
hardest in-spec units there are. Off-spec units are made from these with
:func:`sim.unit.with_change`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from common.models import CELLS_IN_SERIES, TEMPERATURE_SENSORS, get_model
from common.serial_number import make_serial
from sim.unit import UnitDescription, unit_from_dict, write_unit

FRACTION = 0.9
CAPACITY_SPREAD = 0.015
RESISTANCE_SPREAD = 0.05
CELL_SOC_SPREAD = 0.15      # % SOC between the cells of a balanced pack
CELL_CHANNEL_MV = 10.0
CELL_SUM_MV = 150.0
PACK_VOLTAGE_MV = 250.0
CURRENT_GAIN, CURRENT_OFFSET_A = 0.01, 0.3
TEMPERATURE_C = 2.0
DELAY_TOLERANCE = 0.045
RELEASE_TOLERANCE = 1.0 / 30.0
BLINK_TOLERANCE = 0.05
HEATER_TOLERANCE = 0.15
CELL_RESISTANCE_RATIO = 1.5
NOMINAL_R_MOHM = 0.9


class _Draw:
    """Values in ±bound: uniform up to the bound, or exactly at it (corners)."""

    def __init__(self, rng: np.random.Generator, fraction: float, corners: bool) -> None:
        self.rng, self.fraction, self.corners = rng, fraction, corners

    def signed(self, tolerance: float, size: int | None = None) -> Any:
        bound = self.fraction * tolerance
        if self.corners:
            return bound * self.rng.choice([-1.0, 1.0], size)
        return self.rng.uniform(-bound, bound, size)

    def toward(self, tolerance: float) -> float:
        """A one-sided draw in [0, fraction × tolerance] (corners: at it)."""
        bound = self.fraction * tolerance
        return bound if self.corners else float(self.rng.uniform(0.0, bound))


def _spread(rng: np.random.Generator, bound: float, size: int | None = None) -> Any:
    """Manufacturing spread that no limit judges: truncated normal, σ = bound / 3."""
    return np.clip(rng.normal(0.0, bound / 3.0, size), -bound, bound)


def _cells(rng: np.random.Generator, d: _Draw, soc: float) -> dict[str, Any]:
    cap = 100.0 * (1.0 + _spread(rng, CAPACITY_SPREAD, CELLS_IN_SERIES))
    r = NOMINAL_R_MOHM * (1.0 + rng.uniform(-RESISTANCE_SPREAD, RESISTANCE_SPREAD, CELLS_IN_SERIES))
    high = int(rng.integers(CELLS_IN_SERIES))   # one cell toward the per-cell resistance limit
    r[high] = float(np.median(np.delete(r, high))) * (1.0 + d.toward(CELL_RESISTANCE_RATIO - 1.0))
    cell_soc = soc + _spread(rng, CELL_SOC_SPREAD, CELLS_IN_SERIES)
    return {
        str(i + 1): {"capacity_ah": round(float(cap[i]), 4), "r_ohmic_mohm": round(float(r[i]), 5),
                     "initial_soc_pct": round(float(cell_soc[i]), 4)}
        for i in range(CELLS_IN_SERIES)
    }


def _cell_offsets(d: _Draw) -> list[float]:
    """Each channel within the fraction of ±10 mV, their sum within the fraction of ±150 mV."""
    offsets = np.asarray(d.signed(CELL_CHANNEL_MV, CELLS_IN_SERIES), dtype=float)
    total, cap = abs(float(offsets.sum())), d.fraction * CELL_SUM_MV
    if total > cap:
        offsets *= cap / total
    return [round(float(x), 3) for x in offsets]


def _timing(d: _Draw) -> dict[str, float]:
    """Each delay's total error (clock × scale) within the fraction of its tolerance."""
    clock = 1.0 + float(d.signed(0.01))
    out: dict[str, float] = {"clock_gain": round(clock, 6)}
    for name in ("volt_delay_scale", "alarm_delay_scale", "oc_tier1_scale", "oc_tier2_scale",
                 "temp_delay_scale"):
        out[name] = round((1.0 + float(d.signed(DELAY_TOLERANCE))) / clock, 6)
    # the fast trip's 150 ms: ±50 ms is the larger tolerance; the release: 30 ± 1 s
    out["oc_fast_scale"] = round((1.0 + float(d.signed(0.05 / 0.15))) / clock, 6)
    out["release_scale"] = round((1.0 + float(d.signed(RELEASE_TOLERANCE))) / clock, 6)
    base = {"blink1_on_s": 0.3, "blink1_off_s": 3.7, "blink2_on_s": 0.5, "blink2_off_s": 0.5,
            "blink3_on_s": 0.5, "blink3_off_s": 1.5, "blink4_on_s": 0.7, "blink4_off_s": 9.3,
            "power_on_flash_s": 1.0, "led_test_step_s": 0.5}
    for name, seconds in base.items():   # the firmware clock multiplies these too
        out[name] = round(seconds * (1.0 + float(d.signed(BLINK_TOLERANCE))) / clock, 5)
    return out


def _unit_data(rng: np.random.Generator, model_id: str, serial: str, d: _Draw) -> dict[str, Any]:
    soc = 50.0 + float(d.signed(10.0)) + 1.0   # storage SOC, above the EOL's own consumption
    pack_gain = float(_spread(rng, 0.0005))
    # the pack channel's error at 52 V: gain and offset together within the fraction
    room = d.fraction * PACK_VOLTAGE_MV - abs(pack_gain) * 52_000.0
    pack_offset = float(d.signed(room / d.fraction)) if d.fraction else 0.0
    current_gain = float(d.signed(CURRENT_GAIN))
    floor = 10e6 / max(d.fraction, 1e-9)   # insulation: 90 % of the way down to 10 MΩ
    insulation = floor if d.corners else float(np.exp(rng.uniform(np.log(floor), np.log(2e9))))
    return {
        "model": model_id,
        "identity": {"serial": serial},
        "cells": {"initial_soc_pct": round(soc, 3), "overrides": _cells(rng, d, soc)},
        "sensors": {
            "cell_voltage": {"overrides": {str(i + 1): {"offset": off}
                                           for i, off in enumerate(_cell_offsets(d))}},
            "pack_voltage": {"gain": round(1.0 + pack_gain, 6), "offset": round(pack_offset, 2)},
            "current": {"gain": round(1.0 + current_gain, 6),
                        "offset": round(float(d.signed(CURRENT_OFFSET_A)), 4)},
            "temperature": {name: {"offset": round(float(d.signed(TEMPERATURE_C)), 3)}
                            for name in TEMPERATURE_SENSORS},
        },
        "timing": _timing(d),
        "heater": {"power_w": round(300.0 * (1.0 + float(d.signed(HEATER_TOLERANCE))), 2)},
        "safety": {
            "ground_bond_ohm": round(0.01 + d.toward(0.1 - 0.01), 4),
            "insulation_ohm": float(round(insulation, -3)),
        },
    }


def generate(n: int, seed: int, model_id: str = "v5", out_dir: Path | None = None, *,
             fraction: float = FRACTION, corners: bool = False) -> list[UnitDescription]:
    """``n`` in-spec units of ``model_id`` (distinct valid serials), every toleranced value up
    to ``fraction`` of its tolerance (``corners``: at it); unit files in ``out_dir``."""
    if n < 0:
        raise ValueError(f"n must be >= 0, got {n}")
    if not 0.0 <= fraction <= 1.0:
        raise ValueError(f"fraction must be within 0..1, got {fraction}")
    variant = get_model(model_id).variant
    rng = np.random.default_rng(seed)
    draw = _Draw(rng, fraction, corners)
    base = (seed % 900) * 10_000
    units = []
    for k in range(n):
        serial = make_serial(variant, 26, 1 + (seed % 12), base + k + 1)
        unit = unit_from_dict(_unit_data(rng, model_id, serial, draw), f"<population seed {seed} #{k}>")
        units.append(unit)
    if out_dir is not None:
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        for unit in units:
            write_unit(unit, out / f"{unit.identity.serial}.toml")
    return units
