"""The unit description: one TOML file describes one physical pack completely.

Two layers (DESIGN.md): ``parameters`` is the BMS's stored parameter set (SPEC §7, covered
by the parameter-set CRC), every other section is what no CRC sees (identity, cells,
sensors, firmware timing, wiring, ...). A unit file gives ``model`` and only what differs
from that model's defaults; every value is validated and an error names the file, the
dotted key and what is allowed, so an off-spec unit is one edited line.
"""

from __future__ import annotations

import copy
import tomllib
import types
import typing
from collections.abc import Iterator
from datetime import UTC, datetime
from itertools import pairwise
from pathlib import Path
from typing import Annotated, Any, Literal

import annotated_types
import tomli_w
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    create_model,
    field_validator,
    model_validator,
)
from pydantic.fields import FieldInfo

from common.models import (
    CELLS_IN_SERIES,
    MANUFACTURER,
    MODELS,
    TEMPERATURE_SENSORS,
    UnknownModelError,
    get_model,
)
from common.params import PARAMETERS, default_parameters, order_violation
from common.pylon_can import FRAME_NAMES
from common.serial_number import InvalidSerialError, make_serial, parse_serial
from sim.pack.interface import LEDS


class UnitFileError(ValueError):
    """A unit description that is malformed: names the file, the dotted key, what is allowed."""


def F(default: Any, unit: str, doc: str, allowed: str | None = None, **limits: Any) -> Any:
    """A field with its unit and its allowed range (for validation and the schema doc)."""
    extra: dict[str, Any] = {"unit": unit}
    if allowed:
        extra["allowed"] = allowed
    return Field(default, description=doc, json_schema_extra=extra, **limits)


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# --- layer 1: the stored parameter set --------------------------------------------------

def _param_range(name: str, unit: str) -> tuple[int, int]:
    """Allowed range of one stored parameter (what the firmware's flash layout accepts)."""
    if name.startswith("cell_"):
        return 2000, 4500
    if unit == "mV":
        return 32000, 72000
    if unit == "ms":
        return 0, 600_000
    if unit == "A":
        return 1, 1000
    if unit == "0.1 °C":
        return -400, 1200
    if unit == "0.1 A":
        return 0, 5000
    return 0, 100


def _parameters_model() -> type[BaseModel]:
    fields: dict[str, Any] = {}
    for p in PARAMETERS:
        lo, hi = _param_range(p.name, p.unit)
        fields[p.name] = (
            Annotated[int, Field(strict=True)],
            F(p.default, p.unit, p.description, ge=lo, le=hi),
        )
    return create_model("Parameters", __base__=_Section, **fields)


_ParametersBase = _parameters_model()


class Parameters(_ParametersBase):  # type: ignore[misc, valid-type]
    """SPEC §7's table in its order; the firmware refuses a broken alarm/protection/release order."""

    @model_validator(mode="after")
    def _ordered(self) -> Parameters:
        values = self.model_dump()
        problem = order_violation(values)
        if problem:
            raise ValueError(problem)
        if not values["oc_tier1_a"] < values["oc_tier2_a"] < values["oc_fast_a"]:
            raise ValueError("oc_tier1_a < oc_tier2_a < oc_fast_a is required")
        return self


# --- layer 2: everything the CRC does not see -------------------------------------------

VERSION_PATTERN = r"^\d{1,3}\.\d{1,3}\.\d{1,3}$"


class IdentitySection(_Section):
    serial: str = F("", "-", "16-character serial (PV5 + variant + YYMM + 7 digits + check)",
                    allowed="a valid serial of the model's variant (SPEC §1)")
    fw_main: str = F("2.3.1", "-", "main firmware version", pattern=VERSION_PATTERN)
    fw_boot: str = F("1.0.4", "-", "boot loader version", pattern=VERSION_PATTERN)
    fw_bms_board: str = F("1.2.0", "-", "BMS board firmware version", pattern=VERSION_PATTERN)
    manufacturer: str = F(MANUFACTURER, "-", "manufacturer name (0x51, info)",
                          allowed="ASCII text, at most 20 characters", max_length=20)
    device_name: str = F("", "-", "device name (0x51, info); default by model",
                         allowed="ASCII text, at most 10 characters", max_length=10)


class CellOverride(_Section):
    capacity_ah: float | None = F(None, "Ah", "this cell's capacity", ge=50.0, le=150.0)
    r_ohmic_mohm: float | None = F(None, "mΩ", "this cell's ohmic resistance", ge=0.05, le=20.0)
    rc_r_mohm: float | None = F(None, "mΩ", "this cell's RC-pair resistance", ge=0.0, le=20.0)
    rc_tau_s: float | None = F(None, "s", "this cell's RC time constant", ge=0.1, le=3600.0)
    initial_soc_pct: float | None = F(None, "%", "this cell's state of charge at t = 0", ge=0.0, le=100.0)
    self_discharge_pct_month: float | None = F(None, "%/month", "this cell's self-discharge", ge=0.0, le=50.0)


class CellsSection(_Section):
    capacity_ah: float = F(100.0, "Ah", "capacity of every cell", ge=50.0, le=150.0)
    r_ohmic_mohm: float = F(0.9, "mΩ", "ohmic resistance of every cell", ge=0.05, le=20.0)
    rc_r_mohm: float = F(0.3, "mΩ", "polarisation (RC pair) resistance", ge=0.0, le=20.0)
    rc_tau_s: float = F(20.0, "s", "polarisation time constant", ge=0.1, le=3600.0)
    initial_soc_pct: float = F(50.0, "%", "state of charge at t = 0", ge=0.0, le=100.0)
    self_discharge_pct_month: float = F(1.5, "%/month", "self-discharge", ge=0.0, le=50.0)
    overrides: dict[int, CellOverride] = Field(
        default_factory=dict, description="per-cell values by index 1..16", json_schema_extra={"unit": "-"}
    )

    @field_validator("overrides")
    @classmethod
    def _indices(cls, v: dict[int, CellOverride]) -> dict[int, CellOverride]:
        bad = [k for k in v if not 1 <= k <= CELLS_IN_SERIES]
        if bad:
            raise ValueError(f"cell index {bad[0]} is not 1..{CELLS_IN_SERIES}")
        return v

    def cell(self, index: int, name: str) -> float:
        """Value of ``name`` for cell ``index`` (1..16): the override, else the common value."""
        o = self.overrides.get(index)
        value = getattr(o, name) if o is not None else None
        return float(getattr(self, name) if value is None else value)


class CellSensorOverride(_Section):
    gain: float | None = F(None, "-", "this channel's gain", ge=0.9, le=1.1)
    offset: float | None = F(None, "mV", "this channel's offset", ge=-500.0, le=500.0)


class CellVoltageSensor(_Section):
    gain: float = F(1.0, "-", "gain of every cell channel", ge=0.9, le=1.1)
    offset: float = F(0.0, "mV", "offset of every cell channel", ge=-500.0, le=500.0)
    noise: float = F(0.5, "mV", "noise (1 σ) of a cell reading", ge=0.0, le=100.0)
    overrides: dict[int, CellSensorOverride] = Field(
        default_factory=dict, description="per-channel gain/offset by cell 1..16", json_schema_extra={"unit": "-"}
    )

    @field_validator("overrides")
    @classmethod
    def _indices(cls, v: dict[int, CellSensorOverride]) -> dict[int, CellSensorOverride]:
        bad = [k for k in v if not 1 <= k <= CELLS_IN_SERIES]
        if bad:
            raise ValueError(f"cell index {bad[0]} is not 1..{CELLS_IN_SERIES}")
        return v


class PackVoltageSensor(_Section):
    gain: float = F(1.0, "-", "gain", ge=0.9, le=1.1)
    offset: float = F(0.0, "mV", "offset", ge=-5000.0, le=5000.0)
    noise: float = F(5.0, "mV", "noise (1 σ)", ge=0.0, le=1000.0)


class CurrentSensor(_Section):
    gain: float = F(1.0, "-", "gain", ge=0.9, le=1.1)
    offset: float = F(0.0, "A", "offset", ge=-50.0, le=50.0)
    noise: float = F(0.02, "A", "noise (1 σ)", ge=0.0, le=10.0)


class TemperatureSensor(_Section):
    offset: float = F(0.0, "°C", "offset", ge=-50.0, le=50.0)
    noise: float = F(0.05, "°C", "noise (1 σ)", ge=0.0, le=10.0)


def _temp_sensors_model() -> type[BaseModel]:
    fields: dict[str, Any] = {
        name: (TemperatureSensor, Field(default_factory=TemperatureSensor, json_schema_extra={"unit": "-"}))
        for name in TEMPERATURE_SENSORS
    }
    return create_model("TemperatureSensors", __base__=_Section, **fields)


TemperatureSensors = _temp_sensors_model()


class SensorsSection(_Section):
    cell_voltage: CellVoltageSensor = Field(default_factory=CellVoltageSensor)
    pack_voltage: PackVoltageSensor = Field(default_factory=PackVoltageSensor)
    current: CurrentSensor = Field(default_factory=CurrentSensor)
    temperature: TemperatureSensors = Field(default_factory=TemperatureSensors)  # type: ignore[valid-type]


_SCALE: dict[str, Any] = {"ge": 0.2, "le": 5.0}


class TimingSection(_Section):
    """The firmware's actual timing: delays are parameter × scale × clock_gain."""

    clock_gain: float = F(1.0, "-", "firmware clock: every delay and blink is multiplied by it", ge=0.5, le=2.0)
    volt_delay_scale: float = F(1.0, "-", "voltage protection delay", **_SCALE)
    alarm_delay_scale: float = F(1.0, "-", "alarm delay", **_SCALE)
    oc_tier1_scale: float = F(1.0, "-", "3-minute over-current tier", **_SCALE)
    oc_tier2_scale: float = F(1.0, "-", "15-second over-current tier", **_SCALE)
    oc_fast_scale: float = F(1.0, "-", "fast trip", **_SCALE)
    short_scale: float = F(1.0, "-", "short-circuit trip", **_SCALE)
    release_scale: float = F(1.0, "-", "over-current auto-release", **_SCALE)
    temp_delay_scale: float = F(1.0, "-", "temperature protection delay", **_SCALE)
    blink1_on_s: float = F(0.3, "s", "Blink 1 on time", gt=0.0, le=20.0)
    blink1_off_s: float = F(3.7, "s", "Blink 1 off time", gt=0.0, le=20.0)
    blink2_on_s: float = F(0.5, "s", "Blink 2 on time", gt=0.0, le=20.0)
    blink2_off_s: float = F(0.5, "s", "Blink 2 off time", gt=0.0, le=20.0)
    blink3_on_s: float = F(0.5, "s", "Blink 3 on time", gt=0.0, le=20.0)
    blink3_off_s: float = F(1.5, "s", "Blink 3 off time", gt=0.0, le=20.0)
    blink4_on_s: float = F(0.7, "s", "Blink 4 on time", gt=0.0, le=20.0)
    blink4_off_s: float = F(9.3, "s", "Blink 4 off time", gt=0.0, le=20.0)
    power_on_flash_s: float = F(1.0, "s", "all LEDs on at power-on", gt=0.0, le=20.0)
    led_test_step_s: float = F(0.5, "s", "each LED of the console's led test", gt=0.0, le=20.0)


def _default_derating() -> list[list[float]]:
    # [low °C, high °C, charge A, discharge A], SPEC §2.5
    return [
        [-100.0, -10.0, 0.0, 0.0],
        [-10.0, 0.0, 0.0, 30.0],
        [0.0, 5.0, 10.0, 75.0],
        [5.0, 10.0, 50.0, 75.0],
        [10.0, 40.0, 100.0, 100.0],
        [40.0, 45.0, 50.0, 100.0],
        [45.0, 50.0, 0.0, 75.0],
        [50.0, 200.0, 0.0, 0.0],
    ]


class FirmwareSection(_Section):
    """Firmware constants that are not in the stored parameter set (SPEC §2-4)."""

    short_circuit_a: float = F(500.0, "A", "short-circuit threshold", ge=100.0, le=5000.0)
    short_circuit_us: float = F(200.0, "µs", "short-circuit trip time", gt=0.0, le=100_000.0)
    board_ot_alarm_c: float = F(85.0, "°C", "board/MOSFET over-temperature alarm", ge=0.0, le=150.0)
    board_ot_prot_c: float = F(100.0, "°C", "board/MOSFET over-temperature protection", ge=0.0, le=150.0)
    board_ot_rel_c: float = F(80.0, "°C", "board/MOSFET over-temperature release", ge=0.0, le=150.0)
    temp_delay_s: float = F(2.0, "s", "temperature protection delay", ge=0.0, le=600.0)
    alarm_delay_s: float = F(2.0, "s", "delay of every alarm", ge=0.0, le=600.0)
    cell_alarm_hyst_mv: float = F(50.0, "mV", "cell alarm release hysteresis", ge=0.0, le=1000.0)
    pack_alarm_hyst_mv: float = F(500.0, "mV", "pack alarm release hysteresis", ge=0.0, le=10000.0)
    temp_alarm_hyst_c: float = F(2.0, "°C", "temperature alarm release hysteresis", ge=0.0, le=50.0)
    imbalance_alarm_mv: float = F(300.0, "mV", "cell imbalance alarm (max − min)", ge=1.0, le=2000.0)
    imbalance_rel_mv: float = F(250.0, "mV", "cell imbalance alarm release", ge=0.0, le=2000.0)
    oc_reset_s: float = F(1.0, "s", "time at ≤ tier-1 current that resets the tier timers", ge=0.0, le=600.0)
    oc_latch_trips: int = F(3, "-", "over-current trips that latch the pack off", ge=1, le=100)
    oc_latch_window_s: float = F(600.0, "s", "window of the latch count", ge=1.0, le=86400.0)
    balance_current_ma: float = F(50.0, "mA", "passive balancing bleed current", ge=0.0, le=1000.0)
    balance_start_mv: float = F(3400.0, "mV", "highest cell at which balancing may start", ge=2000.0, le=4500.0)
    balance_start_spread_mv: float = F(30.0, "mV", "spread that starts balancing", ge=0.0, le=1000.0)
    balance_stop_spread_mv: float = F(10.0, "mV", "spread below which balancing stops", ge=0.0, le=1000.0)
    eoc_cell_mv: float = F(3500.0, "mV", "end of charge: highest cell at least", ge=2000.0, le=4500.0)
    eoc_current_a: float = F(5.0, "A", "end of charge: |I| below", ge=0.0, le=100.0)
    eoc_time_s: float = F(30.0, "s", "end of charge: for", ge=0.0, le=3600.0)
    eoc_clear_mv: float = F(3400.0, "mV", "full flag clears when the highest cell falls below", ge=2000.0, le=4500.0)
    taper_cell_mv: float = F(3450.0, "mV", "charge limit tapers while the highest cell is at least", ge=2000.0, le=4500.0)
    taper_clear_mv: float = F(3400.0, "mV", "taper ends below", ge=2000.0, le=4500.0)
    taper_limit_a: float = F(20.0, "A", "tapered charge limit", ge=0.0, le=200.0)
    derating: list[list[float]] = Field(
        default_factory=_default_derating,
        description="rows [low °C, high °C, charge A, discharge A], half-open [low, high)",
        json_schema_extra={"unit": "°C, A", "allowed": "rows of 4 numbers, low < high, currents >= 0"},
    )
    derating_hyst_c: float = F(1.0, "°C", "hysteresis on leaving a derating row", ge=0.0, le=10.0)
    force_charge1_on_pct: float = F(5.0, "%", "force charge I while SOC ≤", ge=0.0, le=100.0)
    force_charge1_off_pct: float = F(10.0, "%", "force charge I until SOC ≥", ge=0.0, le=100.0)
    force_charge2_on_pct: float = F(10.0, "%", "force charge II while SOC ≤", ge=0.0, le=100.0)
    force_charge2_off_pct: float = F(15.0, "%", "force charge II until SOC ≥", ge=0.0, le=100.0)
    full_charge_request_days: float = F(30.0, "days", "full-charge request without end of charge for", ge=0.0, le=3650.0)
    mode_current_a: float = F(0.5, "A", "charging while I > +this, discharging while I < −this "
                              "(SPEC §3: above the BMS's ±0.3 A zero error)", ge=0.0, le=10.0)
    mode_delay_s: float = F(2.0, "s", "mode changes after", ge=0.0, le=60.0)
    in1_threshold_v: float = F(9.0, "V", "IN1 counts as applied at or above", ge=1.0, le=30.0)
    in1_delay_s: float = F(0.5, "s", "IN1 applied for", ge=0.0, le=60.0)
    charger_detect_v: float = F(0.3, "V", "charger present: terminal above pack by", ge=0.0, le=10.0)
    charger_detect_s: float = F(2.0, "s", "charger present: for", ge=0.0, le=60.0)
    charger_current_a: float = F(0.5, "A", "charger present: charge current above", ge=0.0, le=10.0)
    heater_min_c: float = F(-18.0, "°C", "heater works only above", ge=-60.0, le=20.0)
    system_lock: bool = F(True, "-", "the system lock of SPEC 2.2 (false: a design without one)")
    sleep_idle_h: float = F(24.0, "h", "sleep after this long idle", gt=0.0, le=1000.0)
    sw_start_s: float = F(0.9, "s", "SW held at least this long starts / sleeps", ge=0.0, le=10.0)
    sw_shutdown_s: float = F(3.0, "s", "SW held at least this long shuts down", ge=0.0, le=30.0)
    test_mode_timeout_s: float = F(600.0, "s", "test mode ends without console input after", gt=0.0, le=86400.0)

    @field_validator("derating")
    @classmethod
    def _rows(cls, v: list[list[float]]) -> list[list[float]]:
        for i, row in enumerate(v):
            if len(row) != 4 or row[0] >= row[1] or row[2] < 0 or row[3] < 0:
                raise ValueError(f"row {i} must be [low, high, charge A, discharge A] with low < high")
        return v


ContactWiring = Literal["normal", "stuck_open", "stuck_closed"]


class ContactsSection(_Section):
    no2: ContactWiring = F("normal", "-", "alarm contact wiring")
    no3: ContactWiring = F("normal", "-", "protection contact wiring")
    no4: ContactWiring = F("normal", "-", "generator-start contact wiring")
    swap: Literal["none", "2-3", "2-4", "3-4"] = F("none", "-", "two contacts' wires swapped")
    in1: Literal["normal", "ignored"] = F("normal", "-", "IN1 emergency-stop input")
    closed_ohm: float = F(0.05, "Ω", "resistance of a closed contact", ge=0.0, le=1e9)


class LedSection(_Section):
    colour: tuple[int, int, int] = F((0, 255, 0), "RGB", "colour when lit",
                                     allowed="3 integers 0..255")
    intensity: float = F(1.0, "-", "relative intensity when lit", ge=0.0, le=1.0)
    dead: bool = F(False, "-", "the LED never lights")

    @field_validator("colour")
    @classmethod
    def _rgb(cls, v: tuple[int, int, int]) -> tuple[int, int, int]:
        if not all(0 <= c <= 255 for c in v):
            raise ValueError("each colour component must be 0..255")
        return v


def _leds_model() -> type[BaseModel]:
    def default(name: str) -> Any:
        colour = (255, 0, 0) if name == "ALM" else (0, 255, 0)
        return Field(default_factory=lambda: LedSection(colour=colour), json_schema_extra={"unit": "-"})

    fields: dict[str, Any] = {n: (LedSection, default(n)) for n in LEDS}
    return create_model("LedsSection", __base__=_Section, **fields)


LedsSection = _leds_model()


class HeaterSection(_Section):
    fitted: bool = F(True, "-", "self-heating option fitted")
    power_w: float = F(300.0, "W", "heater power", ge=0.0, le=5000.0)
    open_element: bool = F(False, "-", "the element is open: the firmware switches it on "
                           "(console says On) but no current flows and nothing heats")

    @model_validator(mode="after")
    def _element(self) -> HeaterSection:
        if self.open_element and not self.fitted:
            raise ValueError("open_element needs a fitted heater (heater.fitted = true)")
        return self


class BreakerSection(_Section):
    fitted: bool = F(False, "-", "DC breaker 125 V / 125 A on the front (α Plus)")
    closed_at_start: bool = F(False, "-", "breaker position when the unit arrives at the station")
    welded: bool = F(False, "-", "contacts welded: the breaker is closed whatever "
                     "closed_at_start says, and opening it does nothing")

    @model_validator(mode="after")
    def _welded(self) -> BreakerSection:
        if self.welded and not self.fitted:
            raise ValueError("welded needs a fitted breaker (breaker.fitted = true, α Plus)")
        return self


class CanFrameSection(_Section):
    """One BMS frame as this unit's firmware sends it (SPEC §5: about once a second)."""

    period_s: float = F(1.0, "s", "period of this frame (× timing.clock_gain)", ge=0.05, le=60.0)
    missing: bool = F(False, "-", "the firmware never sends this frame")
    dlc: int | None = F(None, "bytes", "sent with this DLC instead of its own: cut short, or "
                        "padded with 0x00 (absent: its own)", ge=0, le=8)


def _can_frames_model() -> type[BaseModel]:
    fields: dict[str, Any] = {
        name: (CanFrameSection, Field(default_factory=CanFrameSection, json_schema_extra={"unit": "-"}))
        for name in FRAME_NAMES
    }
    return create_model("CanFramesSection", __base__=_Section, **fields)


CanFramesSection = _can_frames_model()

LinkPortState = Literal["normal", "dead"]


class CommsSection(_Section):
    rs485_baud: int | None = F(None, "bit/s", "override of the DIP's baud (absent: from DIP bit 4)",
                               allowed="1200..921600 or absent")
    can_bitrate: int = F(500_000, "bit/s", "CAN bitrate", ge=10_000, le=1_000_000)
    console_baud: int = F(115_200, "bit/s", "RS232 console baud", ge=1200, le=921_600)
    can_frames: CanFramesSection = Field(default_factory=CanFramesSection)  # type: ignore[valid-type]
    link_port0: LinkPortState = F("normal", "-", "Link Port 0 (to the previous pack's Port 1): "
                                  "dead = no link is ever made through it")
    link_port1: LinkPortState = F("normal", "-", "Link Port 1 (to the next pack's Port 0): "
                                  "dead = no link is ever made through it")
    link_negotiation_s: float = F(0.3, "s", "a new link (cable, or a pack starting) carries "
                                  "the stack after this long (the slower end counts)",
                                  ge=0.0, le=60.0)

    @field_validator("rs485_baud")
    @classmethod
    def _baud(cls, v: int | None) -> int | None:
        if v is not None and not 1200 <= v <= 921_600:
            raise ValueError("rs485_baud must be 1200..921600 or absent")
        return v


class ThermalSection(_Section):
    cell_heat_capacity_j_k: float = F(40_000.0, "J/K", "heat capacity of the cells and case", gt=0.0, le=1e7)
    cell_to_air_w_k: float = F(4.0, "W/K", "conductance cells/case → air", ge=0.0, le=1000.0)
    board_heat_capacity_j_k: float = F(1500.0, "J/K", "heat capacity of BMS board and MOSFETs", gt=0.0, le=1e6)
    board_to_air_w_k: float = F(0.5, "W/K", "conductance board → air", ge=0.0, le=1000.0)
    board_to_cells_w_k: float = F(1.5, "W/K", "conductance board → cells", ge=0.0, le=1000.0)
    mosfet_sensor_k_w: float = F(0.3, "K/W", "MOSFET sensor rise over the board per W dissipated", ge=0.0, le=100.0)
    initial_c: float | None = F(None, "°C", "temperature at t = 0 (None: the ambient)", ge=-60.0, le=120.0)


class PathSection(_Section):
    r_mosfet_mohm: float = F(1.2, "mΩ", "both MOSFETs in series", ge=0.0, le=100.0)
    r_busbar_mohm: float = F(0.8, "mΩ", "busbars, terminals, shunt", ge=0.0, le=100.0)
    reverse_protection: bool = F(True, "-", "reverse-polarity protection at the terminals: a "
                                 "reversed charger drives no current (false: a design without it)")


class SafetySection(_Section):
    ground_bond_ohm: float = F(0.02, "Ω", "chassis to ground stud", ge=0.0, le=1e6)
    insulation_ohm: float = F(500e6, "Ω", "terminals to chassis", ge=0.0, le=1e15)


#: Lifetime counters of the console's ``stat`` (SPEC §7), as Pylontech-style consoles label them.
STAT_COUNTERS: tuple[str, ...] = (
    "Charge Times", "COC Times", "DOC Times", "SC Times", "Bat OV Times", "Bat UV Times",
    "COT Times", "CUT Times", "DOT Times", "DUT Times", "Shut Times", "Reset Times",
    "RV Times", "Input OV Times", "SysLock Times",
)


class HistoryEvent(_Section):
    """One entry the pack logged in the field, before it came back (SPEC §4, §7 ``log``)."""

    time: datetime = F(..., "UTC", "when the pack logged it (its own calendar clock)",
                       allowed="a TOML date-time with offset, before the bench's epoch")
    code: str = F(..., "-", "event code as the firmware logs it (e.g. short_prot, cell_uv_prot, "
                  "cell_uv_prot_end, chg_ut_prot, input_ov, reverse)", pattern=r"^[a-z][a-z0-9_]*$")
    info: str = F("-", "-", "the log's Info column (one word, e.g. cell05)", pattern=r"^\S{1,16}$")
    pack_v: float = F(51.2, "V", "pack voltage logged with it", ge=0.0, le=80.0)
    current_a: float = F(0.0, "A", "current logged with it (+ = charge)", ge=-5000.0, le=5000.0)
    cell_max_v: float = F(3.2, "V", "highest cell logged with it", ge=0.0, le=5.0)
    cell_min_v: float = F(3.2, "V", "lowest cell logged with it", ge=0.0, le=5.0)
    temp_c: float = F(25.0, "°C", "highest cell temperature logged with it", ge=-60.0, le=200.0)

    @field_validator("time")
    @classmethod
    def _aware(cls, v: datetime) -> datetime:
        if v.tzinfo is None:
            raise ValueError("give the time with its offset (e.g. 2025-06-01T12:00:00Z)")
        return v.astimezone(UTC)


class HistorySection(_Section):
    cycles: int = F(0, "-", "cycle count at t = 0", ge=0, le=100_000)
    cumulative_ah: float = F(0.0, "Ah", "discharged Ah at t = 0", ge=0.0, le=1e8)
    days_since_full_charge: float = F(0.0, "days", "days since the last end of charge", ge=0.0, le=10_000.0)
    events: list[HistoryEvent] = Field(
        default_factory=list, description="the field's event log, oldest first (console `log`)",
        json_schema_extra={"unit": "-", "allowed": "tables [[history.events]]"})
    counters: dict[str, int] = Field(
        default_factory=dict, description="`stat` counts beyond those of the logged events "
        "(events that scrolled out of the 1000-entry log), by label",
        json_schema_extra={"unit": "-", "allowed": "labels of SPEC §7 `stat`, counts >= 0"})
    soh_counts: dict[int, int] = Field(
        default_factory=dict, description="`soh N` SOHCount per cell 1..16 (absent: 0)",
        json_schema_extra={"unit": "-"})
    learned_capacity_ah: float | None = F(None, "Ah", "the BMS's learnt full capacity (absent: "
                                          "the weakest cell's, as it learns it)", ge=1.0, le=200.0)
    bms_soc_pct: float | None = F(None, "%", "the BMS's SOC at t = 0 (absent: the cells' mean)",
                                  ge=0.0, le=100.0)

    @field_validator("counters")
    @classmethod
    def _labels(cls, v: dict[str, int]) -> dict[str, int]:
        bad = [k for k in v if k not in STAT_COUNTERS]
        if bad:
            raise ValueError(f"unknown counter {bad[0]!r}; allowed: {', '.join(STAT_COUNTERS)}")
        if any(n < 0 for n in v.values()):
            raise ValueError("counts are >= 0")
        return v

    @field_validator("soh_counts")
    @classmethod
    def _cells(cls, v: dict[int, int]) -> dict[int, int]:
        bad = [k for k in v if not 1 <= k <= CELLS_IN_SERIES]
        if bad:
            raise ValueError(f"cell index {bad[0]} is not 1..{CELLS_IN_SERIES}")
        return v

    @field_validator("events")
    @classmethod
    def _ordered(cls, v: list[HistoryEvent]) -> list[HistoryEvent]:
        if any(b.time < a.time for a, b in pairwise(v)):
            raise ValueError("events must be oldest first")
        return v


StuckAt = Literal["open", "short"]
#: The protections a ``defects.protection_offsets`` entry can move.
PROTECTION_OFFSETS = ("cell_ov_prot", "cell_uv_prot", "pack_ov_prot", "pack_uv_prot")


class DefectsSection(_Section):
    """BMS faults only a diagnosis finds (none of them changes a reply's format)."""

    balancing_dead: bool = F(False, "-", "the bleed circuit is dead: the firmware balances "
                             "(console BAL Y) but no current flows")
    stuck_temperature: dict[str, StuckAt] = Field(
        default_factory=dict, description="temperature sensors stuck at an open (−40 °C) or "
        "short (150 °C) value, by name (bms_board, cells_1_4 … cells_13_16, mosfet)",
        json_schema_extra={"unit": "-", "allowed": "sensor name → 'open' | 'short'"})
    discharge_fet_open: bool = F(False, "-", "the discharge MOSFET will not conduct (the firmware "
                                 "says it is on; a charge flows through its body diode)")
    charge_fet_open: bool = F(False, "-", "the charge MOSFET will not conduct (the firmware says "
                              "it is on)")
    protection_offsets: dict[str, float] = Field(
        default_factory=dict, description="a protection the BMS applies away from its stored "
        "threshold, by this much (a drifted comparator: RS485 and the CRC still show the stored "
        "set), V, by name (cell_ov_prot, cell_uv_prot, pack_ov_prot, pack_uv_prot)",
        json_schema_extra={"unit": "V", "allowed": "name → -1.0 … 1.0"})
    intermittent_cell: int | None = F(None, "-", "the sense lead of this cell (1-16) opens now and "
                                      "then: every 7th report reads it 0.4 V low (the "
                                      "protections see the true value)", ge=1, le=CELLS_IN_SERIES)

    @field_validator("protection_offsets")
    @classmethod
    def _offsets(cls, v: dict[str, float]) -> dict[str, float]:
        bad = [k for k in v if k not in PROTECTION_OFFSETS]
        if bad:
            raise ValueError(f"unknown protection {bad[0]!r}; allowed: {', '.join(PROTECTION_OFFSETS)}")
        if any(not -1.0 <= x <= 1.0 for x in v.values()):
            raise ValueError("offsets are -1.0 … 1.0 V")
        return v

    @field_validator("stuck_temperature")
    @classmethod
    def _sensors(cls, v: dict[str, str]) -> dict[str, str]:
        bad = [k for k in v if k not in TEMPERATURE_SENSORS]
        if bad:
            raise ValueError(f"unknown sensor {bad[0]!r}; allowed: {', '.join(TEMPERATURE_SENSORS)}")
        return v


ModelId = Literal.__getitem__(tuple(MODELS))  # the models of common/models.py


class UnitDescription(_Section):
    """One physical unit. ``parameters`` is layer 1 (CRC-covered); the rest is layer 2."""

    model: ModelId = F("v5", "-", "model id (common/models.py)")  # type: ignore[valid-type]
    parameters: Parameters = Field(default_factory=Parameters)
    identity: IdentitySection = Field(default_factory=IdentitySection)
    cells: CellsSection = Field(default_factory=CellsSection)
    sensors: SensorsSection = Field(default_factory=SensorsSection)
    timing: TimingSection = Field(default_factory=TimingSection)
    firmware: FirmwareSection = Field(default_factory=FirmwareSection)
    contacts: ContactsSection = Field(default_factory=ContactsSection)
    leds: LedsSection = Field(default_factory=LedsSection)  # type: ignore[valid-type]
    dip: int = F(0, "-", "DIP switch ADD, bits 1-3 group, bit 4 RS485 115200", ge=0, le=15)
    heater: HeaterSection = Field(default_factory=HeaterSection)
    breaker: BreakerSection = Field(default_factory=BreakerSection)
    comms: CommsSection = Field(default_factory=CommsSection)
    thermal: ThermalSection = Field(default_factory=ThermalSection)
    path: PathSection = Field(default_factory=PathSection)
    safety: SafetySection = Field(default_factory=SafetySection)
    history: HistorySection = Field(default_factory=HistorySection)
    defects: DefectsSection = Field(default_factory=DefectsSection)

    @model_validator(mode="after")
    def _consistent(self) -> UnitDescription:
        info = get_model(self.model)
        try:
            serial = parse_serial(self.identity.serial)
        except InvalidSerialError as exc:
            raise ValueError(f"identity.serial: {exc}") from None
        if serial.model.id != self.model:
            raise ValueError(
                f"identity.serial {self.identity.serial} is a {serial.model.id} serial, "
                f"but model is {self.model!r}"
            )
        if self.breaker.fitted and not info.breaker:
            raise ValueError(f"breaker.fitted: model {self.model} has no breaker")
        return self

    @property
    def stored_parameters(self) -> dict[str, int]:
        return {p.name: int(getattr(self.parameters, p.name)) for p in PARAMETERS}


# --- defaults, loading, dumping, one-value changes --------------------------------------

def default_serial(model_id: str, sequence: int = 1) -> str:
    return make_serial(get_model(model_id).variant, 26, 1, sequence)


def model_defaults(model_id: str) -> dict[str, Any]:
    """The full description of a new unit of ``model_id`` as plain data (SPEC defaults)."""
    info = get_model(model_id)
    base = _plain(UnitDescription(identity=IdentitySection(serial=default_serial("v5"))).model_dump())
    base["model"] = model_id
    base["parameters"] = default_parameters(model_id)
    base["identity"]["serial"] = default_serial(model_id)
    base["identity"]["device_name"] = info.device_name
    base["breaker"]["fitted"] = info.breaker
    return base


def _plain(data: Any) -> Any:
    """Tuples → lists and int keys → str keys, so defaults and TOML compare equal."""
    if isinstance(data, dict):
        return {str(k): _plain(v) for k, v in data.items()}
    if isinstance(data, list | tuple):
        return [_plain(v) for v in data]
    return data


def _merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(base)
    for k, v in over.items():
        if isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = _merge(out[k], v)
        else:
            out[k] = copy.deepcopy(v)
    return out


def _validate(data: dict[str, Any], source: str) -> UnitDescription:
    model_id = data.get("model", "v5")
    try:
        get_model(str(model_id))
    except UnknownModelError:
        raise UnitFileError(
            f"{source}: model: unknown model {model_id!r}; allowed: {', '.join(MODELS)}"
        ) from None
    merged = _merge(model_defaults(str(model_id)), data)
    try:
        return UnitDescription.model_validate(merged)
    except ValidationError as exc:
        raise UnitFileError(_format_errors(source, exc)) from None


def default_unit(model_id: str = "v5", serial: str | None = None) -> UnitDescription:
    """A unit exactly as SPEC.md describes the model (optionally with its own serial)."""
    data: dict[str, Any] = {"model": model_id}
    if serial is not None:
        data["identity"] = {"serial": serial}
    return _validate(data, f"<default {model_id}>")


def unit_from_dict(data: dict[str, Any], source: str = "<dict>") -> UnitDescription:
    """Validate ``data`` (only what differs from the model's defaults, plus ``model``)."""
    return _validate(data, source)


def load_unit(path: str | Path) -> UnitDescription:
    p = Path(path)
    try:
        data = tomllib.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UnitFileError(f"{p}: no such unit file") from None
    except tomllib.TOMLDecodeError as exc:
        raise UnitFileError(f"{p}: not valid TOML: {exc}") from None
    return _validate(data, str(p))


def _diff(full: dict[str, Any], base: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in full.items():
        b = base.get(k)
        if isinstance(v, dict) and isinstance(b, dict):
            d = _diff(v, b)
            if d:
                out[k] = d
        elif v != b:
            out[k] = v
    return out


def _drop_none(data: Any) -> Any:
    if isinstance(data, dict):
        return {k: _drop_none(v) for k, v in data.items() if v is not None}
    return data


def dump_unit(unit: UnitDescription, *, full: bool = False) -> str:
    """TOML text: ``model``, the serial and what differs from the model (all with ``full``)."""
    data = _plain(unit.model_dump())
    if not full:
        diff = _diff(data, model_defaults(unit.model))
        diff.setdefault("identity", {})["serial"] = unit.identity.serial
        data = {"model": unit.model, **{k: v for k, v in diff.items() if k != "model"}}
    return tomli_w.dumps(_drop_none(data))


def write_unit(unit: UnitDescription, path: str | Path) -> None:
    Path(path).write_text(dump_unit(unit), encoding="utf-8")


def with_change(unit: UnitDescription, key: str, value: Any) -> UnitDescription:
    """``unit`` with one value changed at the dotted ``key`` (how off-spec units are made)."""
    return with_changes(unit, {key: value})


def with_changes(unit: UnitDescription, changes: dict[str, Any]) -> UnitDescription:
    """``unit`` with several values changed at once (for changes that must move together,
    such as a protection and its release)."""
    data = _plain(unit.model_dump())
    for key, value in changes.items():
        parts = key.split(".")
        node = data
        for i, part in enumerate(parts[:-1]):
            nxt = node.get(part)
            if nxt is None and _is_dict_field(parts[: i + 1]):
                nxt = node[part] = {}
            if not isinstance(nxt, dict):
                raise UnitFileError(f"<with_change>: unknown key {'.'.join(parts[: i + 1])!r}")
            node = nxt
        if parts[-1] not in node and not _is_dict_field(parts[:-1]):
            raise UnitFileError(
                f"<with_change>: unknown key {key!r}; allowed here: {', '.join(node)}"
            )
        node[parts[-1]] = value
    return _validate(data, f"<with_change {', '.join(changes)}>")


def _is_dict_field(parts: list[str]) -> bool:
    return parts[-1] == "overrides" or (len(parts) >= 2 and parts[-2] == "overrides")


# --- error messages ----------------------------------------------------------------------

def _field_at(loc: tuple[Any, ...]) -> FieldInfo | None:
    """FieldInfo of the field at ``loc`` in UnitDescription (dict keys skipped)."""
    model: Any = UnitDescription
    info: FieldInfo | None = None
    i = 0
    while i < len(loc):
        if not (isinstance(model, type) and issubclass(model, BaseModel)):
            return info
        fields = model.model_fields
        if str(loc[i]) not in fields:
            return None
        info = fields[str(loc[i])]
        model = _unwrap(info.annotation)
        i += 1
        if typing.get_origin(model) is dict:
            i += 1  # the dict's key
            model = _unwrap(typing.get_args(model)[1])
    return info


def _unwrap(tp: Any) -> Any:
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        return _unwrap(args[0]) if len(args) == 1 else tp
    if origin is Annotated:
        return _unwrap(typing.get_args(tp)[0])
    return tp


def allowed_text(info: FieldInfo) -> str:
    """What a field accepts, in words (for errors and the schema doc)."""
    extra = info.json_schema_extra if isinstance(info.json_schema_extra, dict) else {}
    if "allowed" in extra:
        return str(extra["allowed"])
    tp = info.annotation
    base = _unwrap(tp)
    if typing.get_origin(base) is Literal:
        return "one of " + ", ".join(repr(a) for a in typing.get_args(base))
    lo: object = None
    hi: object = None
    lo_op, hi_op = ">=", "<="
    for m in info.metadata:
        if isinstance(m, annotated_types.Ge):
            lo = m.ge
        elif isinstance(m, annotated_types.Gt):
            lo, lo_op = m.gt, ">"
        elif isinstance(m, annotated_types.Le):
            hi = m.le
        elif isinstance(m, annotated_types.Lt):
            hi, hi_op = m.lt, "<"
    if lo is not None and hi is not None:
        return f"{'[' if lo_op == '>=' else '('}{lo:g}, {hi:g}{']' if hi_op == '<=' else ')'}"
    if base is bool:
        return "true or false"
    for m in info.metadata:
        if hasattr(m, "pattern") and m.pattern:
            return f"text matching {m.pattern}"
    return getattr(base, "__name__", str(base))


def _format_errors(source: str, exc: ValidationError) -> str:
    lines = []
    for err in exc.errors():
        loc = tuple(err["loc"])
        key = ".".join(str(p) for p in loc) or "(top level)"
        if err["type"] == "extra_forbidden":
            parent = _field_at(loc[:-1]) if len(loc) > 1 else None
            model = _unwrap(parent.annotation) if parent else UnitDescription
            allowed = ", ".join(model.model_fields) if isinstance(model, type) and issubclass(model, BaseModel) else "-"
            lines.append(f"{source}: unknown key {key!r}; allowed here: {allowed}")
            continue
        info = _field_at(loc)
        leaf = info is not None and not (
            isinstance(_unwrap(info.annotation), type) and issubclass(_unwrap(info.annotation), BaseModel)
        )
        allowed = f"; allowed: {allowed_text(info)}" if leaf and info is not None else ""
        got = err.get("input")
        got_text = "" if isinstance(got, dict) else f" (got {got!r})"
        msg = str(err["msg"]).removeprefix("Value error, ")
        lines.append(f"{source}: {key}: {msg}{got_text}{allowed}" if loc else f"{source}: {msg}")
    return "\n".join(lines)


# --- the schema, for docs/unit-description.md --------------------------------------------

def schema_rows() -> Iterator[tuple[str, str, str, str, str, str]]:
    """(dotted key, layer, unit, default for v5, allowed, description) for every field."""
    defaults = model_defaults("v5")

    def walk(model: type[BaseModel], prefix: str, dflt: Any) -> Iterator[tuple[str, str, str, str, str, str]]:
        for name, info in model.model_fields.items():
            key = f"{prefix}{name}"
            tp = _unwrap(info.annotation)
            value = dflt.get(name) if isinstance(dflt, dict) else None
            if isinstance(tp, type) and issubclass(tp, BaseModel):
                yield from walk(tp, key + ".", value)
                continue
            extra = info.json_schema_extra if isinstance(info.json_schema_extra, dict) else {}
            layer = "1 (CRC)" if key.startswith("parameters.") else "2"
            if typing.get_origin(tp) is dict:
                sub = _unwrap(typing.get_args(tp)[1])
                if isinstance(sub, type) and issubclass(sub, BaseModel):
                    yield (f"{key}.N", layer, "-", "{}", "N = 1..16", info.description or "")
                    yield from walk(sub, f"{key}.N.", {})
                    continue
            if typing.get_origin(tp) is list:
                sub = _unwrap(typing.get_args(tp)[0])
                if isinstance(sub, type) and issubclass(sub, BaseModel):
                    yield (f"{key}[]", layer, "-", "[]", allowed_text(info), info.description or "")
                    yield from walk(sub, f"{key}[].", {})
                    continue
            yield (
                key,
                layer,
                str(extra.get("unit", "-")),
                "-" if value is None else repr(value) if isinstance(value, str) else str(value),
                allowed_text(info),
                info.description or "",
            )

    yield from walk(UnitDescription, "", defaults)


def schema_markdown() -> str:
    """The schema table of docs/unit-description.md (``python -m sim.unit`` prints it)."""
    lines = [
        "| key | layer | unit | default (v5) | allowed | meaning |",
        "|---|---|---|---|---|---|",
    ]
    for key, layer, unit, default, allowed, doc in schema_rows():
        cells = (key, layer, unit, default, allowed, doc)
        lines.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(schema_markdown(), end="")
