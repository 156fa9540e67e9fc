"""The fault table: off-spec units, one value changed each, with the measurement of the EOL plan
that must be the first to fail for it (used by the fault-coverage tests and `station study`).

Layer "parameters" changes the BMS's stored parameter set: the CRC catches it first.
Layer "unit" changes what no CRC sees (sensors, firmware timing, wiring, identity, ...):
a functional measurement must catch it. Several faults come in pairs: the same behaviour
caused once through the parameter set and once by a defect the CRC cannot see.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Fault:
    id: str
    key: str
    value: Any
    first_failure: str
    description: str
    model: str = "v5"
    layer: str = "unit"
    scanned_serial: str | None = None   # the label's serial when the BMS says another


P = "parameters"

FAULTS: tuple[Fault, ...] = (
    # --- parameter set (CRC-covered) ----------------------------------------------------
    Fault("param-cell-ov", "parameters.cell_ov_prot_mv", 3700, "param_crc_stored",
          "cell over-voltage protection set 50 mV high", layer=P),
    Fault("param-tier2-time", "parameters.oc_tier2_ms", 17500, "param_crc_stored",
          "15 s tier stored as 17.5 s", layer=P),
    Fault("param-volt-delay", "parameters.volt_prot_delay_ms", 1300, "param_crc_stored",
          "voltage protection delay stored as 1.3 s", layer=P),
    Fault("param-cvl", "parameters.cvl_mv", 55000, "param_crc_stored",
          "advertised charge voltage 55.0 V", layer=P),
    # --- identity and configuration -----------------------------------------------------
    Fault("serial-mismatch", "identity.serial", "PV5S260100000021", "serial_rs485",
          "the BMS carries another pack's serial (label and BMS disagree)",
          scanned_serial="PV5S260100000013"),
    Fault("fw-main", "identity.fw_main", "2.2.9", "fw_main", "unreleased main firmware"),
    Fault("fw-boot", "identity.fw_boot", "1.0.3", "fw_boot", "old boot loader"),
    Fault("fw-board", "identity.fw_bms_board", "1.1.0", "fw_bms_board", "old BMS board firmware"),
    Fault("device-name", "identity.device_name", "V5A", "device_name",
          "firmware of another model"),
    Fault("manufacturer", "identity.manufacturer", "PYLON", "manufacturer_rs485",
          "third-party manufacturer string"),
    Fault("dip", "dip", 1, "dip_setting", "DIP switch set to group 1"),
    # --- safety ---------------------------------------------------------------------------
    Fault("ground-bond", "safety.ground_bond_ohm", 0.25, "ground_bond_ohm",
          "loose ground stud"),
    Fault("insulation", "safety.insulation_ohm", 2e6, "insulation_mohm",
          "pinched cable to the chassis"),
    # --- cells and sensors ----------------------------------------------------------------
    Fault("cell-imbalance", "cells.overrides.7.initial_soc_pct", 75.0, "cell_spread_mv",
          "one cell group far above the others"),
    Fault("cell-resistance", "cells.r_ohmic_mohm", 2.0, "dcr_charge_mohm",
          "high cell resistance (bad welds)"),
    Fault("pack-v-offset", "sensors.pack_voltage.offset", 400.0, "bms_pack_voltage_error_v",
          "pack voltage channel off by 0.4 V"),
    Fault("cell-v-gain", "sensors.cell_voltage.gain", 1.006, "bms_cell_sum_error_v",
          "cell voltage channels 0.6 % high"),
    Fault("current-offset", "sensors.current.offset", 0.6, "bms_current_error_rest_a",
          "current shunt offset 0.6 A"),
    Fault("current-gain", "sensors.current.gain", 1.03, "bms_current_error_charge_a",
          "current shunt gain 3 % high"),
    Fault("temp-offset", "sensors.temperature.cells_5_8.offset", 3.5, "temp_error_cells_5_8_c",
          "cell-group temperature sensor 3.5 °C high"),
    # --- firmware timing --------------------------------------------------------------------
    Fault("blink1", "timing.blink1_on_s", 0.5, "led_standby_run_on_s",
          "standby blink on for 0.5 s instead of 0.3 s"),
    Fault("power-on-flash", "timing.power_on_flash_s", 2.0, "led_power_on_s",
          "power-on flash 2 s long"),
    Fault("blink2", "timing.blink2_on_s", 0.7, "led_charging_top_on_s",
          "charging SOC segment blinks 0.7 s on"),
    Fault("blink3", "timing.blink3_on_s", 0.8, "led_discharging_run_on_s",
          "discharging blink on for 0.8 s"),
    Fault("tier2-slow", "timing.oc_tier2_scale", 1.1, "peak_tier_trip_s",
          "15 s tier timer runs 10 % slow (17.3 s)"),
    Fault("release-slow", "timing.release_scale", 1.1, "peak_tier_release_s",
          "over-current release after 33 s"),
    Fault("volt-delay-slow", "timing.volt_delay_scale", 1.3, "cell_ov_protection_s",
          "voltage protection timer 30 % slow"),
    Fault("fast-trip-slow", "timing.oc_fast_scale", 2.5, "fast_trip_s",
          "fast trip after 375 ms"),
    # --- indicators, contacts, IN1 ------------------------------------------------------
    Fault("run-colour", "leds.RUN.colour", [255, 0, 0], "led_run_colour",
          "red LED fitted in the RUN position"),
    Fault("soc3-dead", "leds.SOC3.dead", True, "led_power_on_s",
          "SOC3 LED dead (the power-on flash is not all six; the LED test sees it too)"),
    Fault("no2-open", "contacts.no2", "stuck_open", "contact_no2_forced",
          "alarm contact never closes"),
    Fault("no3-closed", "contacts.no3", "stuck_closed", "contact_no3_forced",
          "protection contact welded closed"),
    Fault("no4-open", "contacts.no4", "stuck_open", "contact_no4_forced",
          "generator-start contact never closes"),
    Fault("contacts-swapped", "contacts.swap", "2-3", "contact_no3_protection",
          "NO2 and NO3 wired to each other's terminals"),
    Fault("in1-ignored", "contacts.in1", "ignored", "in1_opens_both_paths",
          "emergency-stop input not connected"),
    # --- options --------------------------------------------------------------------------
    Fault("heater-missing", "heater.fitted", False, "heater_power_w",
          "work order says heater, none fitted"),
    Fault("heater-weak", "heater.power_w", 150.0, "heater_power_w", "heater element at half power"),
    Fault("breaker-missing", "breaker.fitted", False, "breaker_blocks_start",
          "α Plus without a working DC breaker", model="v5-alpha-plus"),
)


def markdown_table() -> str:
    """The table docs/fault-coverage.md carries (kept equal by a test)."""
    rows = ["| fault | layer | model | unit-file change | first failing measurement |",
            "|---|---|---|---|---|"]
    for f in FAULTS:
        layer = "parameter set (CRC)" if f.layer == P else "unit (no CRC)"
        rows.append(f"| {f.description} | {layer} | {f.model} | `{f.key} = {f.value!r}` "
                    f"| `{f.first_failure}` |")
    return "\n".join(rows) + "\n"


if __name__ == "__main__":  # print the table for docs/fault-coverage.md
    print(markdown_table(), end="")
