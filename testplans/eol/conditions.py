"""The EOL plan's method conditions, typed: a misspelt or missing key fails at load,
before anything is switched on. Values live in ``testplans/limits/eol/`` [SPEC §8]."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class EolConditions(BaseModel):
    """What the EOL plan does (currents, dwells, captures), not what it accepts."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    peak_tier_current_a: float = Field(gt=0)
    fast_trip_current_a: float = Field(gt=0)
    dcr_current_a: float = Field(gt=0)
    ground_bond_current_a: float = Field(gt=0)
    dcr_after_s: float = Field(gt=0)
    supply_charge_voltage_v: float = Field(gt=0)
    tier_start_fraction: float = Field(gt=0, le=1)
    trip_current_a: float = Field(gt=0)
    tier_timeout_s: float = Field(gt=0)
    fast_trip_timeout_s: float = Field(gt=0)
    release_timeout_s: float = Field(gt=0)
    capture_rate_hz: float = Field(gt=0)
    tier_capture_rate_hz: float = Field(gt=0)
    tier_capture_s: float = Field(gt=0)
    release_probe_current_a: float = Field(gt=0)
    alarm_timeout_s: float = Field(gt=0)
    in1_hold_s: float = Field(gt=0)
    in1_poll_s: float = Field(gt=0)
    in1_settle_s: float = Field(gt=0)
    in1_current_a: float = Field(gt=0)
    heater_settle_s: float = Field(gt=0)
    sw_press_s: float = Field(gt=0)
    power_on_settle_s: float = Field(gt=0)
    led_sample_ms: int = Field(gt=0)
    standby_capture_s: float = Field(gt=0)
    mode_settle_s: float = Field(gt=0)
    soc_bar_window_s: float = Field(gt=0)
    pulse_capture_s: float = Field(gt=0)
    alm_capture_s: float = Field(gt=0)
    led_test_capture_s: float = Field(gt=0)
    contact_settle_s: float = Field(gt=0)
    protection_scan_interval_s: float = Field(gt=0)
    protection_capture_s: float = Field(gt=0)
    protection_pre_s: float = Field(ge=0)
    protection_step_detect_a: float = Field(gt=0)
    alarm_thr_offsets_v: tuple[float, float]          # release, alarm below the top cell (a real alarm)
    cell_thr_offsets_v: tuple[float, float, float]   # release, alarm, protection from the extreme cell
    pack_thr_offsets_v: tuple[float, float, float]   # the same from the pack voltage
    soc_low_margin_pct: tuple[float, float]          # low-SOC off, on above the present SOC
    release_poll_s: float = Field(gt=0)
    release_settle_s: float = Field(gt=0)
    can_min_frames: int = Field(gt=1)
    can_max_age_s: float = Field(gt=0)
    can_settle_s: float = Field(gt=0)
    rest_readings: int = Field(ge=1, le=64)
    link_settle_s: float = Field(gt=0)
    dcr_readings: int = Field(ge=1, le=16)
    current_readings: int = Field(ge=1, le=32)
    current_interval_s: float = Field(gt=0)
