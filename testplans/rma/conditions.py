"""The RMA plan's method conditions, typed: a misspelt or missing key fails at load, before
anything is switched on. Values live in ``testplans/limits/rma/`` [CERT-RMA R00-R12]."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class RmaConditions(BaseModel):
    """What the RMA plan does (currents, rests, polls), not what it accepts."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    sw_press_s: float = Field(gt=0)
    power_on_settle_s: float = Field(gt=0)
    rest_s: float = Field(ge=0)
    rest_readings: int = Field(ge=1, le=64)
    current_test_a: float = Field(gt=0)
    pulse_s: float = Field(gt=0)
    current_readings: int = Field(ge=1, le=32)
    current_interval_s: float = Field(gt=0)
    pulse_settle_s: float = Field(gt=0)
    relax_s: float = Field(ge=0)
    trip_current_a: float = Field(gt=0)
    dcir_current_a: float = Field(gt=0)
    dcir_after_s: float = Field(gt=0)
    dcir_soc_window_pct: tuple[float, float]
    dcir_readings: int = Field(ge=1, le=16)
    soc_move_poll_s: float = Field(gt=0)
    soc_move_timeout_s: float = Field(gt=0)
    charge_current_a: float = Field(gt=0)
    charge_voltage_v: float = Field(gt=0)
    charge_end_current_a: float = Field(gt=0)
    charge_poll_s: float = Field(gt=0)
    charge_timeout_s: float = Field(gt=0)
    balancing_poll_s: float = Field(gt=0)
    capacity_rest_s: float = Field(ge=0)
    capacity_current_a: float = Field(gt=0)
    capacity_temp_window_c: tuple[float, float]
    capacity_soak_timeout_s: float = Field(ge=0)
    capacity_soak_poll_s: float = Field(gt=0)
    capacity_poll_s: float = Field(gt=0)
    capacity_fine_poll_s: float = Field(gt=0)
    capacity_fine_below_v: float = Field(gt=0)
    capacity_timeout_s: float = Field(gt=0)
    self_discharge_soc_pct: float = Field(gt=0, lt=100)
    self_discharge_rest_s: float = Field(gt=0)
    self_discharge_settle_s: float = Field(ge=0)
    awake_poll_s: float = Field(gt=0)
    finish_soc_pct: float = Field(gt=0, lt=100)
    tier_current_a: float = Field(gt=0)
    tier_start_fraction: float = Field(gt=0, le=1)
    tier_timeout_s: float = Field(gt=0)
    tier_capture_rate_hz: float = Field(gt=0)
    tier_capture_s: float = Field(gt=0)
    release_probe_current_a: float = Field(gt=0)
    in1_current_a: float = Field(gt=0)
    in1_settle_s: float = Field(gt=0)
    in1_deadline_s: float = Field(gt=0)
    in1_poll_s: float = Field(gt=0)
    link_settle_s: float = Field(gt=0)
    cell_readings: int = Field(ge=3, le=200)
    cell_readings_interval_s: float = Field(ge=0)
    design_capacity_ah: float = Field(gt=0)
    nominal_voltage_v: float = Field(gt=0)
