"""End-of-line test of one V-series pack, ordered for the shortest cycle (SPEC §8).

Why this order and these dwells:
- safety (ground bond, insulation) runs on a dead pack, before anything is switched on;
- the LED analyser records from before SW is pressed, so the power-on flash and two
  periods of the standby Blink 1 are seen without a dwell of their own, while identity,
  communication and the rest measurements run (the pack has not carried current since it
  left storage, so the open-circuit voltage needs no 30 s rest either);
- CAN periods are judged from every frame since power-on: no capture window;
- the 10 s charge and discharge pulses carry the DC resistance, the BMS current accuracy
  and the LED modes (charging, discharging) at once;
- the 30 s auto-release after the 15 s tier trip is used for the test-mode checks
  (LED test, forced and real contacts, heater), which need no discharge path;
- the voltage protections, which are timed on NO3, run once NO3 is free again;
- the fast trip comes last; its release is not waited for (the pack is powered off).
Every number that decides PASS/FAIL, and every condition above, is in the limits file.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from common.clock import wait_until
from common.pylon_rs485 import CID2_PROTOCOL_VERSION
from drivers.pack.errors import PackPortError
from reports.record import Firmware
from testplans.methods import (
    all_on_duration,
    blink_timing,
    expected_current_limits,
    nearest_error,
    on_intervals,
    soc_segments,
    solo_order,
    steady,
    trip_time,
)

SOC_LEDS = ("SOC1", "SOC2", "SOC3", "SOC4")
TEMP_SENSORS = ("bms_board", "cells_1_4", "cells_5_8", "cells_9_12", "cells_13_16", "mosfet")


def _initial(edges: dict[str, list[tuple[float, bool]]]) -> dict[str, bool]:
    return {k: (e[0][1] if e and e[0][0] == 0 else False) for k, e in edges.items()}


def _colour(reading: Any) -> str:
    channels = {"red": reading.red, "green": reading.green, "blue": reading.blue}
    return max(channels, key=lambda k: channels[k]) if reading.intensity > 0 else "dark"


def _analog(bms_rs485: Any) -> Any:
    return bms_rs485.analog_values().modules[0]


def _soc(bms_rs485: Any) -> float:
    """SOC in % from the remaining and full capacity of 0x42 (finer than CAN's 1 %)."""
    pack = _analog(bms_rs485)
    return 100.0 * pack.remaining_mah / max(pack.total_mah, 1)


# ------------------------------------------------------------------------------ steps
def test_safety(step, safety) -> None:
    step.measure("ground_bond_ohm", safety.ground_bond(10.0))
    step.measure("insulation_mohm", safety.insulation(500.0) / 1e6)


def test_power_on(step, daq, leds, clock, context, conditions) -> None:
    if "breaker_blocks_start" in step.declared:  # α Plus: breaker, then POWER, then SW [M 5.4]
        daq.set_relay("power", True)
        daq.press("sw", conditions("sw_press_s"))
        clock.sleep(conditions("power_on_settle_s"))
        step.measure("breaker_blocks_start", abs(daq.pack_voltage()) < 1.0)
        daq.set_relay("breaker", True)
    daq.set_relay("power", True)
    leds.start_sequence(conditions("standby_capture_s"), int(conditions("led_sample_ms")))
    context["standby_capture_t0"] = clock.now()
    daq.press("sw", conditions("sw_press_s"))
    clock.sleep(conditions("power_on_settle_s"))
    context["powered_at"] = clock.now()
    step.measure("terminal_voltage_v", daq.pack_voltage())


def test_identity(step, bms_rs485, console, bms_can, work_order, recorder) -> None:
    try:
        address = bms_rs485.transact(CID2_PROTOCOL_VERSION, adr=0).adr  # ADR 0: any pack answers
        bms_rs485.address = address
        serial = bms_rs485.serial_number()
    except PackPortError as exc:   # a unit that does not answer fails here, it is no station error
        step.measure("serial_rs485", "", f"no answer on RS485: {exc}")
    step.measure("serial_rs485", serial)
    try:
        info = console.info()
    except PackPortError as exc:
        step.measure("serial_console", "", f"no answer on the console: {exc}")
    recorder.record.firmware = Firmware(
        main=info.main_version, boot=info.boot_version, bms_board=info.board_version
    )
    step.measure("serial_console", info.barcode)
    maker = bms_rs485.manufacturer_info()
    step.measure("device_name", maker.device_name)
    step.measure("manufacturer_rs485", maker.manufacturer)
    step.measure("manufacturer_can", bms_can.name())
    step.measure("fw_main", info.main_version)
    step.measure("fw_boot", info.boot_version)
    step.measure("fw_bms_board", info.board_version)
    major_minor = ".".join(info.main_version.split(".")[:2])
    step.measure("fw_main_rs485_agrees",
                 major_minor == f"{maker.software_version[0]}.{maker.software_version[1]}")
    console.login_debug()
    stored, active = console.crc()
    step.measure("param_crc_stored", f"{stored:08X}")
    step.measure("param_crc_active", f"{active:08X}")
    console.logout()
    step.measure("dip_setting", info.dip)
    step.measure("rs485_address", address)


def test_communication(step, bms_can, console, clock, conditions) -> None:
    ids = (0x351, 0x355, 0x356, 0x359, 0x35C, 0x35E)
    wait_until(clock, lambda: all(bms_can.frame(i).count >= conditions("can_min_frames") for i in ids),
               timeout=conditions("can_min_frames") + 1.0, poll=0.1)
    for frame_id in (0x351, 0x355, 0x356, 0x359, 0x35C, 0x35E):
        period = bms_can.frame(frame_id).mean_period
        step.measure(f"can_period_{frame_id:x}_s", period)
    flags = bms_can.frame(0x359).last_data
    step.measure("can_protection_flags", int.from_bytes(flags[:2], "little") if flags else None)
    requests = bms_can.frame(0x35C).last_data
    step.measure("can_request_flags", f"{requests[0]:02X}" if requests else None)
    step.measure("console_answers", len(console.pwr()) >= 1 and console.prompt == "PYTES>")


def test_rest(step, daq, bms_rs485, bms_can, limits_table, context) -> None:
    ocv = daq.pack_voltage()
    step.measure("ocv_v", ocv)
    pack = _analog(bms_rs485)
    cells = pack.cell_mv
    step.measure("cell_spread_mv", max(cells) - min(cells))
    step.measure("bms_pack_voltage_error_v", pack.voltage_mv / 1000 - ocv)
    step.measure("bms_cell_sum_error_v", sum(cells) / 1000 - ocv)
    step.measure("bms_current_error_rest_a", pack.current_da / 10 - 0.0)
    ambient = daq.ambient_temperature()
    for name, dc in zip(TEMP_SENSORS, pack.temps_dc, strict=False):
        step.measure(f"temp_error_{name}_c", dc / 10 - ambient)
    cell_temps = [dc / 10 for dc in pack.temps_dc[1:5]]
    allowed = expected_current_limits(limits_table, min(cell_temps), max(cell_temps))
    charge_ok = {c for c, _ in allowed}
    discharge_ok = {d for _, d in allowed}
    step.measure("can_charge_limit_error_a",
                 nearest_error(bms_can.latest("ChargeCurrentLimit").value, charge_ok))
    step.measure("can_discharge_limit_error_a",
                 nearest_error(bms_can.latest("DischargeCurrentLimit").value, discharge_ok))
    mgmt = bms_rs485.management_info()
    step.measure("rs485_charge_limit_error_a", nearest_error(mgmt.charge_current_da / 10, charge_ok))
    step.measure("rs485_discharge_limit_error_a",
                 nearest_error(-mgmt.discharge_current_da / 10, discharge_ok))
    step.measure("can_charge_voltage_v", bms_can.latest("ChargeVoltageLimit").value)
    step.measure("can_discharge_voltage_v", bms_can.latest("DischargeVoltageLimit").value)
    context["soc_pct"] = bms_can.latest("SOC").value


def test_leds_standby(step, leds, context, conditions) -> None:
    edges = leds.fetch_sequence()
    init = _initial(edges)
    end = conditions("standby_capture_s")
    step.measure("led_power_on_s", all_on_duration(edges, init, 0.0, end))
    standby_from = context["powered_at"] - context["standby_capture_t0"]
    timing = blink_timing(edges["RUN"], init["RUN"], standby_from, end)
    step.measure("led_standby_run_on_s", timing[0] if timing else None,
                 "" if timing else "fewer than two complete RUN blinks")
    step.measure("led_standby_run_period_s", timing[1] if timing else None)
    dark = all(steady(edges[k], init[k], standby_from, end, False) for k in ("ALM", *SOC_LEDS))
    step.measure("led_standby_others_dark", dark)


@dataclass(frozen=True)
class Pulse:
    t_on: float          # station time the source or load was switched on
    current_a: float     # the instrument's own current, dcr_after_s into the pulse
    dcr_mohm: float      # ΔV over the step ÷ that current [§8]


@contextmanager
def _pulse(switch: Any, measure_current: Any, daq: Any, clock: Any, conditions: Any) -> Iterator[Pulse]:
    """One pulse of ``pulse_s``: switched on, measured ``dcr_after_s`` later (the DC
    resistance from the voltage step), held to its end and switched off whatever happens."""
    v_before = daq.pack_voltage()
    switch(True)
    t_on = clock.now()
    try:
        clock.sleep(conditions("dcr_after_s"))
        v_after = daq.pack_voltage()
        amps = measure_current()
        yield Pulse(t_on, amps, abs(v_after - v_before) / max(abs(amps), 1e-3) * 1000)
    finally:
        _sleep_until(clock, t_on + conditions("pulse_s"))
        switch(False)


def _sleep_until(clock: Any, t: float) -> None:
    clock.sleep(max(0.0, t - clock.now()))


def test_charge_pulse(step, supply, daq, leds, bms_rs485, clock, conditions) -> None:
    amps = conditions("dcr_current_a")
    supply.set_voltage(conditions("supply_charge_voltage_v"))
    supply.set_current_limits(amps, amps)
    with _pulse(supply.set_output, supply.measure_current, daq, clock, conditions) as pulse:
        step.measure("charge_current_a", pulse.current_a)
        step.measure("dcr_charge_mohm", pulse.dcr_mohm)
        step.measure("bms_current_error_charge_a",
                     _analog(bms_rs485).current_da / 10 - pulse.current_a)
        _sleep_until(clock, pulse.t_on + conditions("mode_settle_s"))
        step.measure("led_run_colour", _colour(leds.read()["RUN"]))   # RUN is steady on now
        soc_before = _soc(bms_rs485)
        edges = leds.capture_sequence(conditions("pulse_capture_s"), int(conditions("led_sample_ms")))
        soc_after = _soc(bms_rs485)
    init = _initial(edges)
    end = conditions("pulse_capture_s")
    step.measure("led_charging_run_steady", steady(edges["RUN"], init["RUN"], 0.0, end, True))
    # the bar at the end of the capture (the top segment blinks: lit within its last period);
    # charging moves SOC, so either side of a 25 % boundary crossed meanwhile is right
    tail = end - conditions("soc_bar_window_s")
    lit = [k for k in SOC_LEDS if on_intervals(edges[k], init[k], tail, end)]
    # the blinking top segment: the SOC LED with the most blinks (SOC may move it up by one)
    blinking = {k: on_intervals(edges[k], init[k], 0.0, end) for k in SOC_LEDS
                if blink_timing(edges[k], init[k], 0.0, end) is not None}
    top = max(blinking, key=lambda k: len(blinking[k])) if blinking else None
    timing = blink_timing(edges[top], init[top], 0.0, end) if top else None
    step.measure("led_charging_top_on_s", timing[0] if timing else None)
    step.measure("led_charging_top_period_s", timing[1] if timing else None)
    expected = {float(soc_segments(soc_before)), float(soc_segments(soc_after))}
    step.measure("led_soc_segments_error", round(nearest_error(len(lit), expected)))


def test_discharge_pulse(step, load, daq, leds, bms_rs485, clock, conditions) -> None:
    load.set_cc(conditions("dcr_current_a"))
    with _pulse(load.set_input, load.measure_current, daq, clock, conditions) as pulse:
        step.measure("discharge_current_a", pulse.current_a)
        step.measure("dcr_discharge_mohm", pulse.dcr_mohm)
        bms_a = _analog(bms_rs485).current_da / 10
        step.measure("bms_current_discharge_sign", -1 if bms_a < 0 else 1)
        step.measure("bms_current_error_discharge_a", bms_a - (-pulse.current_a))
        _sleep_until(clock, pulse.t_on + conditions("mode_settle_s"))
        edges = leds.capture_sequence(conditions("pulse_capture_s"), int(conditions("led_sample_ms")))
    init = _initial(edges)
    timing = blink_timing(edges["RUN"], init["RUN"], 0.0, conditions("pulse_capture_s"))
    step.measure("led_discharging_run_on_s", timing[0] if timing else None)
    step.measure("led_discharging_run_period_s", timing[1] if timing else None)


def test_in1(step, load, daq, bms_rs485, clock, conditions) -> None:
    load.set_cc(conditions("in1_current_a"))
    load.set_input(True)
    try:
        clock.sleep(conditions("mode_settle_s"))
        flowing = load.measure_current() > conditions("trip_current_a")
        daq.set_relay("in1", True)
        clock.sleep(conditions("in1_hold_s"))
        mgmt = bms_rs485.management_info()
        stopped = load.measure_current() < conditions("trip_current_a")
        step.measure("in1_opens_both_paths",
                     flowing and stopped and not mgmt.charge_enable and not mgmt.discharge_enable)
        daq.set_relay("in1", False)
        clock.sleep(conditions("in1_hold_s"))
        mgmt = bms_rs485.management_info()
        resumed = load.measure_current() > conditions("trip_current_a")
        step.measure("in1_paths_resume", resumed and mgmt.charge_enable and mgmt.discharge_enable)
    finally:
        daq.set_relay("in1", False)
        load.set_input(False)


def _timed_trip(load, clock, conditions, amps: float, timeout: float) -> tuple[float | None, float]:
    """Discharge at ``amps`` until the pack trips; (trip time from t0 or None, trip instant)."""
    threshold = conditions("trip_current_a")
    capture_start = clock.now()
    load.start_capture(conditions("capture_rate_hz"), timeout)
    load.set_cc(amps)
    load.set_input(True)
    started = clock.now()
    try:
        wait_until(clock, lambda: load.measure_current() < threshold
                   and clock.now() - started > 0.05, timeout=timeout, poll=min(0.5, timeout / 4))
    finally:
        load.set_input(False)
    capture = load.fetch_capture()
    found = trip_time(list(zip(capture.times(), capture.samples, strict=True)), amps,
                      conditions("tier_start_fraction"), threshold)
    if found is None:
        return None, clock.now()
    t0, t_trip = found
    return t_trip - t0, capture_start + (t_trip - capture.t0)


def test_peak_tier(step, load, daq, leds, bms_can, clock, context, conditions) -> None:
    seconds, tripped_at = _timed_trip(load, clock, conditions, conditions("peak_tier_current_a"),
                                      conditions("tier_timeout_s"))
    context["trip_at"] = tripped_at
    context["oc_trips"] = context.get("oc_trips", 0) + (seconds is not None)
    timeout = conditions("tier_timeout_s")
    step.measure("peak_tier_trip_s", seconds if seconds is not None else timeout,
                 "" if seconds is not None else f"no trip within {timeout:g} s")
    clock.sleep(conditions("can_settle_s"))
    age = bms_can.age(0x359)
    fresh = age is not None and age <= conditions("can_max_age_s")
    step.measure("peak_tier_oc_flag", fresh and bms_can.latest("ProtDischargeOverCurrent").value == 1,
                 "" if fresh else f"CAN silent: the last 0x359 is {age or 0:.1f} s old")
    step.measure("contact_no3_protection", daq.inputs()["no3"])
    step.measure("led_alm_colour", _colour(leds.read()["ALM"]))   # ALM is steady on now
    edges = leds.capture_sequence(conditions("alm_capture_s"), int(conditions("led_sample_ms")))
    step.measure("led_alm_protection",
                 steady(edges["ALM"], _initial(edges)["ALM"], 0.0, conditions("alm_capture_s"), True))


def _forced(console, daq, clock, conditions, n: int) -> bool:
    console.relay(n, True)
    clock.sleep(conditions("contact_settle_s"))
    closed = daq.inputs()[f"no{n}"]
    console.relay(n, False)
    clock.sleep(conditions("contact_settle_s"))
    return closed and not daq.inputs()[f"no{n}"]


def _set_group(console, names: tuple[str, str, str], values: list[float]) -> None:
    """Move release, alarm, protection in the order the firmware's rule allows."""
    for name, value in zip(names, values, strict=True):
        console.setthr(name, round(value))


def test_test_mode(step, console, daq, leds, bms_rs485, clock, conditions) -> None:
    console.login_debug()
    console.tmode(True)
    try:
        console.led_test()
        edges = leds.capture_sequence(conditions("led_test_capture_s"), int(conditions("led_sample_ms")))
        order = solo_order(edges, _initial(edges), 0.0, conditions("led_test_capture_s"))
        step.measure("led_test_order", ",".join(order))
        for n in (2, 3, 4):
            step.measure(f"contact_no{n}_forced", _forced(console, daq, clock, conditions, n))
        console.tmode(False)   # releases the forced relays
        console.tmode(True)
        pack = _analog(bms_rs485)
        rel, alarm, _ = conditions("cell_thr_offsets_mv")
        top = max(pack.cell_mv)
        _set_group(console, ("cell_ov_rel_mv", "cell_ov_alarm_mv"), [top - rel, top - alarm])
        step.measure("contact_no2_alarm", wait_until(
            clock, lambda: daq.inputs()["no2"], conditions("alarm_timeout_s"), 0.1))
        console.clrthr()
        soc = 100.0 * pack.remaining_mah / max(pack.total_mah, 1)
        off, on = conditions("soc_low_margin_pct")
        console.setthr("soc_low_off_pct", round(soc + off))
        console.setthr("soc_low_on_pct", round(soc + on))
        step.measure("contact_no4_soc_low", wait_until(
            clock, lambda: daq.inputs()["no4"], conditions("alarm_timeout_s"), 0.1))
        console.clrthr()
        if "heater_power_w" in step.declared:
            before = _analog(bms_rs485)
            console.heater(True)
            clock.sleep(conditions("heater_settle_s"))
            after = _analog(bms_rs485)
            console.heater(False)
            step.measure("heater_power_w",
                         (before.current_da - after.current_da) / 10 * after.voltage_mv / 1000)
    finally:
        console.tmode(False)
        console.logout()


def test_release(step, load, bms_rs485, clock, context, conditions) -> None:
    tripped_at = context.get("trip_at")
    assert tripped_at is not None, "no 15 s tier trip to release from"
    _sleep_until(clock, tripped_at + conditions("release_s") - 1.5)
    reclosed = wait_until(clock, lambda: bms_rs485.management_info().discharge_enable,
                          timeout=max(0.0, tripped_at + conditions("release_timeout_s") - clock.now()),
                          poll=conditions("release_poll_s"))
    step.measure("peak_tier_release_s", clock.now() - tripped_at,
                 "" if reclosed else "discharge not re-enabled within the release timeout")
    load.set_cc(conditions("dcr_current_a"))
    load.set_input(True)
    try:
        clock.sleep(conditions("release_settle_s"))
        step.measure("discharge_after_release_a", load.measure_current())
    finally:
        load.set_input(False)


def _timed_protection(console, daq, clock, conditions, names, values) -> float:
    """Set thresholds so the protection starts now; seconds until NO3 closes (the timeout,
    which fails the limit, if it never does)."""
    _set_group(console, names[:2], values[:2])
    console.setthr(names[2], round(values[2]))
    t_set = clock.now()
    wait_until(clock, lambda: daq.inputs()["no3"], conditions("protection_timeout_s"),
               conditions("protection_poll_s"))
    return clock.now() - t_set


def _clear(console, daq, clock, conditions) -> None:
    console.clrthr()
    wait_until(clock, lambda: not daq.inputs()["no3"], conditions("protection_timeout_s"), 0.05)


def test_voltage_protection(step, console, daq, bms_rs485, clock, conditions) -> None:
    console.login_debug()
    console.tmode(True)
    try:
        pack = _analog(bms_rs485)
        c_rel, c_alarm, c_prot = conditions("cell_thr_offsets_mv")
        p_rel, p_alarm, p_prot = conditions("pack_thr_offsets_mv")
        top, low, volts = max(pack.cell_mv), min(pack.cell_mv), pack.voltage_mv

        delay = _timed_protection(console, daq, clock, conditions,
                                  ("cell_ov_rel_mv", "cell_ov_alarm_mv", "cell_ov_prot_mv"),
                                  [top - c_rel, top - c_alarm, top - c_prot])
        step.measure("cell_ov_protection_s", delay)
        m = bms_rs485.management_info()
        step.measure("cell_ov_opens_charge_only", not m.charge_enable and m.discharge_enable)
        _clear(console, daq, clock, conditions)

        delay = _timed_protection(console, daq, clock, conditions,
                                  ("cell_uv_rel_mv", "cell_uv_alarm_mv", "cell_uv_prot_mv"),
                                  [low + c_rel, low + c_alarm, low + c_prot])
        step.measure("cell_uv_protection_s", delay)
        m = bms_rs485.management_info()
        step.measure("cell_uv_opens_discharge_only", m.charge_enable and not m.discharge_enable)
        _clear(console, daq, clock, conditions)

        delay = _timed_protection(console, daq, clock, conditions,
                                  ("pack_ov_rel_mv", "pack_ov_alarm_mv", "pack_ov_prot_mv"),
                                  [volts - p_rel, volts - p_alarm, volts - p_prot])
        step.measure("pack_ov_protection_s", delay)
        _clear(console, daq, clock, conditions)

        delay = _timed_protection(console, daq, clock, conditions,
                                  ("pack_uv_rel_mv", "pack_uv_alarm_mv", "pack_uv_prot_mv"),
                                  [volts + p_rel, volts + p_alarm, volts + p_prot])
        step.measure("pack_uv_protection_s", delay)
        _clear(console, daq, clock, conditions)

        stored, active = console.crc()
        step.measure("param_crc_stored_after", f"{stored:08X}")
        step.measure("param_crc_active_after", f"{active:08X}")
    finally:
        console.tmode(False)
        console.logout()


def test_fast_trip(step, load, clock, context, conditions) -> None:
    seconds, _ = _timed_trip(load, clock, conditions, conditions("fast_trip_current_a"),
                             conditions("fast_trip_timeout_s"))
    context["oc_trips"] = context.get("oc_trips", 0) + (seconds is not None)
    timeout = conditions("fast_trip_timeout_s")
    step.measure("fast_trip_s", seconds if seconds is not None else timeout,
                 "" if seconds is not None else f"no trip within {timeout:g} s")
    step.measure("oc_trip_count", context["oc_trips"])


def test_final_state(step, console, bms_can, bms_rs485, clock, conditions) -> None:
    console.set_time(clock.utcnow())
    console.log_clear()
    step.measure("test_mode_off", console.prompt == "PYTES>")
    step.measure("pack_clock_error_s", (console.time() - clock.utcnow()).total_seconds())
    step.measure("event_log_entries", len(console.log()))
    step.measure("shipping_soc_pct", _soc(bms_rs485))
    silent = bms_can.missing(conditions("can_max_age_s"))
    step.measure("can_frames_fresh", not silent,
                 "" if not silent else "CAN silent: no " + ", ".join(f"0x{i:03X}" for i in silent))
