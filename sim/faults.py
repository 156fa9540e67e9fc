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
    # --- just outside each spec limit (SPEC §8, §2-§4), both sides of two-sided ones ------
    Fault("ground-bond-edge", "safety.ground_bond_ohm", 0.11, "ground_bond_ohm",
          "ground bond 0.11 Ω (limit ≤ 0.1 Ω)"),
    Fault("insulation-edge", "safety.insulation_ohm", 9e6, "insulation_mohm",
          "insulation 9 MΩ (limit ≥ 10 MΩ)"),
    Fault("ocv-low", "cells.initial_soc_pct", 12.0, "ocv_v",
          "arrives at 12 % SOC: open-circuit voltage below 51.5 V"),
    Fault("ocv-high", "cells.initial_soc_pct", 96.0, "ocv_v",
          "arrives at 96 % SOC: open-circuit voltage above 53.6 V"),
    Fault("pack-v-high", "sensors.pack_voltage.offset", 280.0, "bms_pack_voltage_error_v",
          "pack voltage channel 0.28 V high (±0.25 V)"),
    Fault("pack-v-low", "sensors.pack_voltage.offset", -280.0, "bms_pack_voltage_error_v",
          "pack voltage channel 0.28 V low"),
    Fault("cell-sum-high", "sensors.cell_voltage.offset", 10.5, "bms_cell_sum_error_v",
          "every cell channel 10.5 mV high: their sum 0.168 V off (±0.15 V)"),
    Fault("cell-sum-low", "sensors.cell_voltage.offset", -10.5, "bms_cell_sum_error_v",
          "every cell channel 10.5 mV low"),
    Fault("cell-channel-high", "sensors.cell_voltage.overrides.5.offset", 12.0,
          "cell_05_channel_error_mv", "cell 5 channel 12 mV high (±10 mV), the others exact"),
    Fault("cell-channel-low", "sensors.cell_voltage.overrides.12.offset", -12.0,
          "cell_12_channel_error_mv", "cell 12 channel 12 mV low"),
    Fault("cell-channel-20", "sensors.cell_voltage.overrides.9.offset", 20.0,
          "cell_09_channel_error_mv", "cell 9 channel 20 mV high (escaped when only spread and sum were judged)"),
    Fault("current-rest-high", "sensors.current.offset", 0.35, "bms_current_error_rest_a",
          "current zero 0.35 A high (±0.3 A at 0 A)"),
    Fault("current-rest-low", "sensors.current.offset", -0.35, "bms_current_error_rest_a",
          "current zero 0.35 A low"),
    Fault("current-gain-low", "sensors.current.gain", 0.975, "bms_current_error_charge_a",
          "current shunt gain 2.5 % low (±(1 % + 0.3 A) at 50 A)"),
    Fault("temp-high-edge", "sensors.temperature.bms_board.offset", 2.3, "temp_error_bms_board_c",
          "BMS board sensor 2.3 °C high (±2 °C)"),
    Fault("temp-low-edge", "sensors.temperature.mosfet.offset", -2.3, "temp_error_mosfet_c",
          "MOSFET sensor 2.3 °C low"),
    Fault("dcr-edge", "cells.r_ohmic_mohm", 1.45, "dcr_charge_mohm",
          "every cell 1.45 mΩ: pack DC resistance 25.4 mΩ (limit 25 mΩ)"),
    Fault("cell-dcr-high", "cells.overrides.9.r_ohmic_mohm", 1.5, "cell_09_dcr_ratio",
          "cell 9 at 1.67 × its neighbours' resistance (limit 1.5 × the median)"),
    Fault("cell-dcr-4x", "cells.overrides.3.r_ohmic_mohm", 3.6, "cell_03_dcr_ratio",
          "cell 3 at 4 × its neighbours' resistance: the pack DC resistance still passes"),
    Fault("tier2-late-edge", "timing.oc_tier2_scale", 1.055, "peak_tier_trip_s",
          "15 s tier after 16.6 s (limit 16.5 s)"),
    Fault("tier2-early-edge", "timing.oc_tier2_scale", 0.945, "peak_tier_trip_s",
          "15 s tier after 14.9 s (limit 15 s)"),
    Fault("release-late-edge", "timing.release_scale", 1.04, "peak_tier_release_s",
          "over-current release after 31.2 s (limit 31 s)"),
    Fault("release-early-edge", "timing.release_scale", 0.96, "peak_tier_release_s",
          "over-current release after 28.8 s (limit 29 s)"),
    Fault("fast-trip-edge", "timing.oc_fast_scale", 2.1, "fast_trip_s",
          "fast trip after 315 ms (limit 300 ms)"),
    Fault("volt-delay-long", "timing.volt_delay_scale", 1.12, "cell_ov_protection_s",
          "voltage protections after 1.12 s (limit 1.1 s)"),
    Fault("volt-delay-short", "timing.volt_delay_scale", 0.88, "cell_ov_protection_s",
          "voltage protections after 0.88 s (limit 0.9 s)"),
    Fault("blink1-long-edge", "timing.blink1_on_s", 0.36, "led_standby_run_on_s",
          "standby blink on for 0.36 s (0.3 s ± 50 ms)"),
    Fault("blink1-short-edge", "timing.blink1_on_s", 0.24, "led_standby_run_on_s",
          "standby blink on for 0.24 s"),
    Fault("flash-long-edge", "timing.power_on_flash_s", 1.15, "led_power_on_s",
          "power-on flash 1.15 s (1 s ± 10 %)"),
    Fault("heater-low-edge", "heater.power_w", 230.0, "heater_power_w",
          "heater 230 W (300 W ± 20 %)"),
    Fault("heater-high-edge", "heater.power_w", 370.0, "heater_power_w", "heater 370 W"),
    Fault("soc-low-ship", "cells.initial_soc_pct", 40.5, "shipping_soc_pct",
          "arrives at 40.5 % SOC: below 40 % after the EOL's own discharge"),
    Fault("soc-high-ship", "cells.initial_soc_pct", 61.0, "shipping_soc_pct",
          "arrives at 61 % SOC: above the 60 % shipping window"),
    # --- what the twin could not express before (issue 12) ------------------------------
    Fault("can-alarms-slow", "comms.can_frames.alarms.period_s", 1.25, "can_period_alarms_s",
          "alarms frame (0x359) every 1.25 s, the others on time (1 s ± 20 %)"),
    Fault("can-limits-fast", "comms.can_frames.limits.period_s", 0.75, "can_period_limits_s",
          "limits frame (0x351) every 0.75 s"),
    Fault("can-name-missing", "comms.can_frames.name.missing", True, "can_frames_valid",
          "name frame (0x35E) never sent"),
    Fault("can-requests-dlc", "comms.can_frames.requests.dlc", 1, "can_frames_valid",
          "requests frame (0x35C) cut to one byte"),
    Fault("breaker-welded", "breaker.welded", True, "breaker_blocks_start",
          "α Plus breaker welded closed: the pack starts with the breaker open", model="v5-alpha-plus"),
    Fault("heater-open", "heater.open_element", True, "heater_power_w",
          "heater element open: reported on, draws nothing"),
    Fault("link-port1-dead", "comms.link_port1", "dead", "link_port1_modules",
          "Link Port 1 dead: the next pack of a stack is never seen"),
    Fault("link-port0-dead", "comms.link_port0", "dead", "link_port0_modules",
          "Link Port 0 dead: the pack cannot be a slave"),
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
