"""The golden unit's reference file states what the twin's default unit really is: each
value recomputed here from sim/unit.py's defaults, the OCV table and SPEC's parameters."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from reports.msa.reference import load_reference
from sim.pack.ocv import ocv1
from sim.unit import default_unit
from testplans.limits import load_limits

GOLDEN = Path(__file__).resolve().parents[2] / "stations" / "golden" / "PV5S260100000013.toml"


@pytest.fixture(scope="module")
def ref():  # type: ignore[no-untyped-def]
    return load_reference(GOLDEN)


def _truth() -> dict[str, float]:
    """The master's true values from the twin's unit description (no station involved)."""
    u = default_unit("v5")
    par = u.stored_parameters
    c, t = u.cells, u.timing
    n = 16
    soc = c.initial_soc_pct / 100.0
    ocv = n * ocv1(soc)
    path = u.path.r_mosfet_mohm + u.path.r_busbar_mohm
    ohmic = n * c.r_ohmic_mohm
    amps, after = 50.0, 1.0                     # the plan's dcr_current_a, dcr_after_s
    rc = 1 - math.exp(-after / c.rc_tau_s)
    slope = (ocv1(soc + 0.01) - ocv1(soc)) / 0.01   # V per unit SOC on the cell's curve
    ocv_term = n * slope * amps * after / (c.capacity_ah * 3600) / amps * 1e3
    residual = 1 - math.exp(-10.0 / c.rc_tau_s)   # after the 10 s charge pulse
    return {
        "ground_bond_ohm": u.safety.ground_bond_ohm,
        "insulation_mohm": u.safety.insulation_ohm / 1e6,
        "terminal_voltage_v": ocv, "ocv_v": ocv,
        "cell_spread_mv": 0.0,
        "dcr_charge_mohm": ohmic + path + n * c.rc_r_mohm * rc + ocv_term,
        "dcr_discharge_mohm": ohmic + path + n * c.rc_r_mohm * (1 + residual) * rc + ocv_term,
        "can_charge_voltage_v": par["cvl_mv"] / 1000, "can_discharge_voltage_v": par["dvl_mv"] / 1000,
        "led_power_on_s": t.power_on_flash_s * t.clock_gain,
        "led_standby_run_on_s": t.blink1_on_s,
        "led_standby_run_period_s": t.blink1_on_s + t.blink1_off_s,
        "led_charging_top_on_s": t.blink2_on_s,
        "led_charging_top_period_s": t.blink2_on_s + t.blink2_off_s,
        "led_discharging_run_on_s": t.blink3_on_s,
        "led_discharging_run_period_s": t.blink3_on_s + t.blink3_off_s,
        "peak_tier_trip_s": par["oc_tier2_ms"] / 1000 * t.oc_tier2_scale * t.clock_gain,
        "peak_tier_release_s": par["oc_release_ms"] / 1000 * t.release_scale,
        "fast_trip_s": par["oc_fast_ms"] / 1000 * t.oc_fast_scale,
        "cell_ov_protection_s": par["volt_prot_delay_ms"] / 1000 * t.volt_delay_scale,
        "cell_uv_protection_s": par["volt_prot_delay_ms"] / 1000,
        "pack_ov_protection_s": par["volt_prot_delay_ms"] / 1000,
        "pack_uv_protection_s": par["volt_prot_delay_ms"] / 1000,
        "heater_power_w": u.heater.power_w,
        **{f"temp_error_{name}_c": getattr(u.sensors.temperature, name).offset
           for name in ("bms_board", "cells_1_4", "cells_5_8", "cells_9_12", "cells_13_16",
                        "mosfet")},
        "bms_pack_voltage_error_v": u.sensors.pack_voltage.offset / 1000,
        "bms_cell_sum_error_v": n * u.sensors.cell_voltage.offset / 1000,
        "bms_current_error_rest_a": u.sensors.current.offset,
        # identical cells at one SOC, channels without offset: each cell is the mean cell
        **{f"cell_{k:02d}_channel_error_mv": u.sensors.cell_voltage.offset for k in range(1, n + 1)},
        **{f"cell_{k:02d}_dcr_ratio": 1.0 for k in range(1, n + 1)},
    }


def test_stated_values_are_the_twins_ground_truth(ref) -> None:  # type: ignore[no-untyped-def]
    truth = _truth()
    for name, value in truth.items():
        assert name in ref.values, f"{name} is derivable but not stated"
        assert ref.values[name].value == pytest.approx(value, abs=5e-4, rel=1e-4), name


def test_every_entry_names_a_numeric_measurement_of_the_eol_limits(ref) -> None:  # type: ignore[no-untyped-def]
    declared = {m.name: m for m in load_limits("v5", "eol").data.measurement}
    for name in ref.values:
        assert name in declared, f"{name} is no measurement of the EOL limits"
    assert ref.serial == default_unit("v5").identity.serial
    # the two left out on purpose are documented as such in the file
    text = GOLDEN.read_text(encoding="utf-8")
    for name in ("pack_clock_error_s", "shipping_soc_pct"):
        assert name not in ref.values and f"- {name}:" in text
