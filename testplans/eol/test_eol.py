"""End-of-line test of one V-series pack, ordered for the shortest cycle (SPEC §8).

The cycle is bounded by one chain: the pack must be dead for the insulation test, at rest
for the open-circuit and standby checks, then every check that needs the discharge path, the
15 s tier and its 30 s release (fixed by the pack), and the under-voltage protections, which
need the discharge path the over-current protection holds during the release. Everything
else is overlapped with that chain (docs/eol-methods.md, "Cycle time"):
- the insulation test runs on a dead pack, before anything is switched on; the ground bond
  (chassis to ground stud, nothing of the pack's circuit) runs on the tester while the pack
  starts and is read after the rest readings;
- the LED analyser records from before SW is pressed, so the power-on flash and two
  periods of the standby Blink 1 are seen without a dwell of their own, while identity,
  communication and the rest measurements run (the pack has not carried current since it
  left storage, so the open-circuit voltage needs no 30 s rest either);
- CAN periods are judged from every frame since power-on: no capture window;
- each 50 A pulse lasts as long as what it measures (the DC resistance 1 s after the step,
  the BMS current accuracy): nothing after the 1 s point enters the resistance;
- the discharging LEDs are recorded inside the 15 s tier, which is a discharge until it trips;
- the 30 s release holds the discharge path open and leaves the charge path conducting
  [§2.1], so the charging LEDs ("protection of one direction, the other flowing", §3), the
  test-mode checks (LED test, forced and real contacts, heater) and the link ports run in it;
- the voltage protections are timed on the MOSFET (the DAQ's shunt), in alternating
  directions, so each one's release overlaps the next one's timing;
- the fast trip comes last; its release is not waited for (the pack is powered off).
Every number that decides PASS/FAIL, and every condition above, is in the limits document
(``testplans/limits/eol/``); the plan speaks SI units and SPEC words through its roles.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from common.clock import wait_until
from drivers.pack.bms import BmsReading, TestMode
from drivers.pack.errors import PackPortError
from reports.record import Firmware
from testplans.eol.conditions import EolConditions
from testplans.eol.state import EolState
from testplans.in1 import check_in1
from testplans.methods import (
    all_on_duration,
    blink_timing,
    channel_errors,
    expected_current_limits,
    mean_reading,
    nearest_error,
    on_intervals,
    ratios_to_median,
    release_time,
    soc_segments,
    solo_order,
    steady,
    trip_time,
)

SOC_LEDS = ("SOC1", "SOC2", "SOC3", "SOC4")


def _initial(edges: dict[str, list[tuple[float, bool]]]) -> dict[str, bool]:
    return {k: (e[0][1] if e and e[0][0] == 0 else False) for k, e in edges.items()}


def _colour(reading: Any) -> str:
    channels = {"red": reading.red, "green": reading.green, "blue": reading.blue}
    return max(channels, key=lambda k: channels[k]) if reading.intensity > 0 else "dark"


def _sleep_until(clock: Any, t: float) -> None:
    clock.sleep(max(0.0, t - clock.now()))


def _captured(leds: Any, seconds: float, cond: EolConditions) -> dict[str, list[tuple[float, bool]]]:
    return leds.capture_sequence(seconds, cond.led_sample_ms)


# ------------------------------------------------------------------------------ steps
def test_safety(step, safety) -> None:
    """Insulation with the pack dead (its terminals tied to the tester at 500 V). The ground
    bond needs no dead pack (chassis to ground stud): it runs while the pack starts."""
    step.measure("insulation_mohm", safety.insulation(500.0))


def test_power_on(step, daq, leds, bms, safety, clock, state: EolState, cond: EolConditions,
                  work_order) -> None:
    # SW held on a pack that is on puts it to sleep [M 2.2]: look first (its CAN frames
    # already on the bus: no station time). A pack found on (started by hand, or a served
    # bench) is switched off at POWER and started like any other, so the power-on flash
    # is captured; terminal_voltage_v's message says what was found.
    safety.start_ground_bond(cond.ground_bond_current_a)   # read in step ground_bond
    found = ""
    if bms.can_heard(cond.can_max_age_s):
        daq.set_relay("power", True)
        daq.set_relay("power", False)
        clock.sleep(cond.power_on_settle_s)
        bms.listen_afresh()
        found = "pack found on (broadcasting on CAN): switched off at POWER, then started with SW"
    if work_order.breaker:   # α Plus: breaker, then POWER, then SW [M 5.4]
        daq.set_relay("power", True)
        daq.press("sw", cond.sw_press_s)
        clock.sleep(cond.power_on_settle_s)
        step.measure("breaker_blocks_start", abs(daq.pack_voltage()) < 1.0)
        daq.set_relay("breaker", True)
    daq.set_relay("power", True)
    leds.start_sequence(cond.standby_capture_s, cond.led_sample_ms)
    state.standby_capture_t0 = clock.now()
    daq.press("sw", cond.sw_press_s)
    clock.sleep(cond.power_on_settle_s)
    state.powered_at = clock.now()
    step.measure("terminal_voltage_v", daq.pack_voltage(), found)


def test_identity(step, bms, recorder) -> None:
    try:
        address = bms.find_address()   # the broadcast address: any single pack answers
        ident = bms.identity()
    except PackPortError as exc:   # a unit that does not answer fails here, it is no station error
        step.measure("serial_rs485", "", f"no answer on RS485: {exc}")
    step.measure("serial_rs485", ident.serial)
    try:
        info = bms.console_identity()
    except PackPortError as exc:
        step.measure("serial_console", "", f"no answer on the console: {exc}")
    recorder.record.firmware = Firmware(
        main=info.main_version, boot=info.boot_version, bms_board=info.board_version
    )
    step.measure("serial_console", info.barcode)
    step.measure("device_name", ident.device_name)
    step.measure("manufacturer_rs485", ident.manufacturer)
    step.measure("fw_main", info.main_version)
    step.measure("fw_boot", info.boot_version)
    step.measure("fw_bms_board", info.board_version)
    major_minor = ".".join(info.main_version.split(".")[:2])
    step.measure("fw_main_rs485_agrees", major_minor == ident.software_version)
    stored, active = bms.parameter_crc()
    step.measure("param_crc_stored", stored)
    step.measure("param_crc_active", active)
    step.measure("dip_setting", info.dip)
    step.measure("rs485_address", address)


def _frame_problem(frame: Any) -> str:
    if frame.rejected:
        return f"{frame.name} sent with DLC {frame.dlc} (refused {frame.rejected}×)"
    return f"{frame.name} never received" if frame.count == 0 else ""


def test_communication(step, bms, cond: EolConditions) -> None:
    """Each of the six CAN frames on its own: present with its DLC, then its period."""
    bms.wait_for_can_frames(cond.can_min_frames, timeout_s=cond.can_min_frames + 1.0)
    frames = bms.can_frames()
    problems = [p for p in map(_frame_problem, frames) if p]
    step.measure("can_frames_valid", "; ".join(problems) or "all six")
    step.measure("manufacturer_can", bms.can_manufacturer())
    for frame in frames:
        why = _frame_problem(frame) or ("" if frame.period_s is not None else
                                        f"fewer than two {frame.name} frames")
        step.measure(f"can_period_{frame.name}_s", frame.period_s, why)
    step.measure("can_protection_flags", ",".join(bms.can_protections()) or "none")
    step.measure("can_request_flags", ",".join(bms.can_requests()) or "none")
    step.measure("console_answers", bms.console_answers())


def test_rest(step, daq, bms, limits_table, cond: EolConditions) -> None:
    """At rest, the BMS against the DAQ: several readings averaged (free: the LED analyser's
    standby capture runs meanwhile), so each channel's error is seen above its noise."""
    ocv = daq.pack_voltage()
    step.measure("ocv_v", ocv)
    readings, currents = [], []
    for _ in range(cond.rest_readings):     # each a fresh BMS measurement (one a frame time)
        readings.append(bms.reading())
        currents.append(bms.console_current_a())
    pack = mean_reading(readings)
    step.measure("cell_spread_mv", pack.cell_spread_v)
    step.measure("bms_pack_voltage_error_v", pack.pack_voltage_v - ocv)
    step.measure("bms_cell_sum_error_v", pack.cell_sum_v - ocv)
    for n, error in enumerate(channel_errors(pack.cell_voltages_v, ocv), start=1):
        step.measure(f"cell_{n:02d}_channel_error_mv", error)
    step.measure("bms_current_error_rest_a", sum(currents) / len(currents) - 0.0)
    ambient = daq.ambient_temperature()
    for sensor, celsius in pack.temperatures_c.items():
        step.measure(f"temp_error_{sensor}_c", celsius - ambient)
    cells = pack.cell_temperatures_c
    allowed = expected_current_limits(limits_table, min(cells), max(cells))
    charge_ok = {c for c, _ in allowed}
    discharge_ok = {d for _, d in allowed}
    can = bms.can_advertised()
    step.measure("can_charge_limit_error_a", nearest_error(can.charge_current_limit_a, charge_ok))
    step.measure("can_discharge_limit_error_a",
                 nearest_error(can.discharge_current_limit_a, discharge_ok))
    mgmt = bms.management()
    step.measure("rs485_charge_limit_error_a", nearest_error(mgmt.charge_current_limit_a, charge_ok))
    step.measure("rs485_discharge_limit_error_a",
                 nearest_error(mgmt.discharge_current_limit_a, discharge_ok))
    step.measure("can_charge_voltage_v", can.charge_voltage_v)
    step.measure("can_discharge_voltage_v", can.discharge_voltage_v)


def _bms_current_error(bms, daq, clock, cond: EolConditions) -> float:
    """The BMS's current minus the shunt's, averaged over readings spread in time (the BMS
    measures afresh every ``current_interval_s``; its noise is larger than the budget)."""
    errors = []
    for _ in range(cond.current_readings):
        errors.append(bms.console_current_a() - daq.pack_current())
        clock.sleep(cond.current_interval_s)
    return sum(errors) / len(errors)


def test_ground_bond(step, safety) -> None:
    """The ground bond started at power-on: its test time ran while the pack started and
    the BMS was read."""
    step.measure("ground_bond_ohm", safety.ground_bond_result())


def test_leds_standby(step, leds, state: EolState, cond: EolConditions) -> None:
    edges = leds.fetch_sequence()
    init = _initial(edges)
    end = cond.standby_capture_s
    step.measure("led_power_on_s", all_on_duration(edges, init, 0.0, end))
    assert state.powered_at is not None and state.standby_capture_t0 is not None, "no power-on"
    standby_from = state.powered_at - state.standby_capture_t0
    timing = blink_timing(edges["RUN"], init["RUN"], standby_from, end)
    step.measure("led_standby_run_on_s", timing[0] if timing else None,
                 "" if timing else "fewer than two complete RUN blinks")
    step.measure("led_standby_run_period_s", timing[1] if timing else None)
    dark = all(steady(edges[k], init[k], standby_from, end, False) for k in ("ALM", *SOC_LEDS))
    step.measure("led_standby_others_dark", dark)


@dataclass(frozen=True)
class Pulse:
    current_a: float     # the instrument's own current, dcr_after_s into the pulse
    dcr_ohm: float       # ΔV over the step ÷ that current [§8]


@contextmanager
def _pulse(switch: Callable[[bool], None], measure_current: Callable[[], float], daq: Any,
           clock: Any, cond: EolConditions) -> Iterator[Pulse]:
    """One 50 A step: switched on, measured ``dcr_after_s`` later (the DC resistance from
    the voltage step [§8]), held while the step's BMS readings are taken, and switched off
    whatever happens. Nothing after the 1 s point enters the resistance, so the pulse is no
    longer than what it measures; its LED modes are seen elsewhere (docs/eol-methods.md)."""
    v_before = daq.pack_voltage()
    switch(True)
    try:
        clock.sleep(cond.dcr_after_s)
        v_after = daq.pack_voltage()
        amps = measure_current()
        yield Pulse(amps, abs(v_after - v_before) / max(abs(amps), 1e-3))
    finally:
        switch(False)


def test_charge_pulse(step, supply, daq, bms, clock, cond: EolConditions) -> None:
    amps = cond.dcr_current_a
    supply.set_charge(cond.supply_charge_voltage_v, amps)
    with _pulse(supply.set_output, supply.measure_current, daq, clock, cond) as pulse:
        step.measure("charge_current_a", pulse.current_a)
        step.measure("dcr_charge_mohm", pulse.dcr_ohm)
        step.measure("bms_current_error_charge_a", _bms_current_error(bms, daq, clock, cond))


def test_discharge_pulse(step, load, daq, bms, clock, cond: EolConditions) -> None:
    load.set_cc(cond.dcr_current_a)
    rest = mean_reading([bms.reading() for _ in range(cond.dcr_readings)])
    with _pulse(load.set_input, load.measure_current, daq, clock, cond) as pulse:
        step.measure("discharge_current_a", pulse.current_a)
        step.measure("dcr_discharge_mohm", pulse.dcr_ohm)
        loaded = mean_reading([bms.reading() for _ in range(cond.dcr_readings)])
        steps_v = [a - b for a, b in zip(rest.cell_voltages_v, loaded.cell_voltages_v, strict=True)]
        for n, ratio in enumerate(ratios_to_median(steps_v), start=1):
            step.measure(f"cell_{n:02d}_dcr_ratio", ratio)
        step.measure("bms_current_discharge_sign", -1 if bms.console_current_a() < 0 else 1)
        step.measure("bms_current_error_discharge_a", _bms_current_error(bms, daq, clock, cond))


def test_in1(step, load, daq, bms, clock, cond: EolConditions) -> None:
    """IN1 opens both paths and, removed, lets them conduct again (testplans/in1.py)."""
    result = check_in1(load, daq, bms, clock, amps=cond.in1_current_a, settle_s=cond.in1_settle_s,
                       deadline_s=cond.in1_hold_s, poll_s=cond.in1_poll_s,
                       flowing_a=cond.trip_current_a)
    step.measure("in1_opens_both_paths", result.opens_both)
    step.measure("in1_paths_resume", result.resumes)


def _start_discharge(load, clock, amps: float, rate_hz: float, capture_s: float) -> float:
    """Discharge at ``amps`` under a running load capture; the station time it began."""
    load.start_capture(rate_hz, capture_s)
    load.set_cc(amps)
    load.set_input(True)
    return clock.now()


def _until_trip(load, clock, cond: EolConditions, started: float, timeout: float) -> bool:
    """Wait for the current to stop (the host only watches for the end; the timing is read
    from the load's capture later)."""
    return wait_until(clock, lambda: load.measure_current() < cond.trip_current_a
                      and clock.now() - started > 0.05,
                      timeout=max(0.0, started + timeout - clock.now()), poll=min(0.5, timeout / 4))


def _trip_by_capture(load, clock, cond: EolConditions, amps: float, rate_hz: float,
                     capture_s: float, timeout: float) -> bool:
    """Discharge at ``amps`` under a running load capture until the current stops."""
    started = _start_discharge(load, clock, amps, rate_hz, capture_s)
    return _until_trip(load, clock, cond, started, timeout)


def _capture_samples(load) -> list[tuple[float, float]]:
    capture = load.fetch_capture()
    return list(zip(capture.times(), capture.samples, strict=True))


def _end_cause(bms, load, cond: EolConditions, tripped: bool) -> tuple[str, str]:
    """What ended the discharge, named by what the pack and the load report."""
    if not tripped:
        return "still flowing", "the discharge was still flowing when the station ended it"
    tripped_load = load.protection_status()
    if tripped_load:
        return "load protection", f"the load's own protection tripped ({', '.join(sorted(tripped_load))})"
    age = bms.can_age_s("alarms")
    if age is None or age > cond.can_max_age_s:
        return "CAN silent", f"CAN silent: the last alarms frame is {age or 0:.1f} s old"
    flags = ",".join(bms.can_protections()) or "none"
    return flags, "" if flags == "discharge_over_current" else f"discharge ended by: {flags}"


def test_peak_tier(step, load, daq, leds, bms, clock, state: EolState, cond: EolConditions) -> None:
    """The 15 s tier under a load capture that runs on through the 30 s release: the load
    stays on at the probe current, so the capture shows the trip and the current flowing
    again; both times are read from it after the voltage protections [SPEC §8]. The tier is
    a discharge like any other until it trips, so the discharging LEDs are seen inside it."""
    started = _start_discharge(load, clock, cond.peak_tier_current_a, cond.tier_capture_rate_hz,
                               cond.tier_capture_s)
    _sleep_until(clock, started + cond.mode_settle_s)
    edges = _captured(leds, cond.pulse_capture_s, cond)
    still_flowing = load.measure_current() > cond.trip_current_a
    tripped = _until_trip(load, clock, cond, started, cond.tier_timeout_s)
    state.trip_at = clock.now()
    if tripped:
        load.set_cc(cond.release_probe_current_a)   # input stays on: the release shows as current
        state.oc_trips += 1
        state.release_probe_on = True
    else:
        load.set_input(False)
    clock.sleep(cond.can_settle_s)
    cause, why = _end_cause(bms, load, cond, tripped)
    step.measure("peak_tier_end_cause", cause, why)
    step.measure("contact_no3_protection", daq.inputs()["no3"])
    step.measure("led_alm_colour", _colour(leds.read()["ALM"]))   # ALM is steady on now
    alm = _captured(leds, cond.alm_capture_s, cond)
    step.measure("led_alm_protection",
                 steady(alm["ALM"], _initial(alm)["ALM"], 0.0, cond.alm_capture_s, True))
    if not still_flowing:   # the tier ended inside the LED capture: its timing says why
        for name in ("led_discharging_run_on_s", "led_discharging_run_period_s"):
            step.not_run(name, "the discharge had ended before the LED capture did")
        return
    timing = blink_timing(edges["RUN"], _initial(edges)["RUN"], 0.0, cond.pulse_capture_s)
    step.measure("led_discharging_run_on_s", timing[0] if timing else None)
    step.measure("led_discharging_run_period_s", timing[1] if timing else None)


def test_leds_charging(step, supply, load, leds, bms, clock, state: EolState,
                       cond: EolConditions) -> None:
    """The charging LEDs inside the release window: the over-current protection holds the
    discharge path open and the charge path conducts [§2.1], so the pack shows "protection
    of one direction, the other flowing" [§3]: RUN as the mode (steady on while charging),
    the SOC bar by SOC with its top segment Blink 2. The load's input is off meanwhile (the
    supply would feed it past the pack, a false release on the load's capture) and back on
    at the probe current well before the release can come."""
    amps = cond.dcr_current_a
    load.set_input(False)
    supply.set_charge(cond.supply_charge_voltage_v, amps)
    supply.set_output(True)
    t_on = clock.now()
    try:
        _sleep_until(clock, t_on + cond.mode_settle_s)
        step.measure("led_run_colour", _colour(leds.read()["RUN"]))   # RUN is steady on now
        soc_before = bms.reading().soc_pct
        edges = _captured(leds, cond.pulse_capture_s, cond)
        soc_after = bms.reading().soc_pct
    finally:
        supply.set_output(False)
        if state.release_probe_on:
            load.set_cc(cond.release_probe_current_a)
            load.set_input(True)
    init = _initial(edges)
    end = cond.pulse_capture_s
    step.measure("led_charging_run_steady", steady(edges["RUN"], init["RUN"], 0.0, end, True))
    # the bar at the end of the capture (the top segment blinks: lit within its last period);
    # charging moves SOC, so either side of a 25 % boundary crossed meanwhile is right
    tail = end - cond.soc_bar_window_s
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


def _forced(tm: TestMode, daq, clock, cond: EolConditions, n: int) -> bool:
    tm.force_contact(n, True)
    clock.sleep(cond.contact_settle_s)
    closed = daq.inputs()[f"no{n}"]
    tm.force_contact(n, False)
    clock.sleep(cond.contact_settle_s)
    return closed and not daq.inputs()[f"no{n}"]


def test_test_mode(step, bms, daq, leds, clock, cond: EolConditions, work_order) -> None:
    with bms.test_mode() as tm:
        tm.led_test()
        edges = _captured(leds, cond.led_test_capture_s, cond)
        order = solo_order(edges, _initial(edges), 0.0, cond.led_test_capture_s)
        step.measure("led_test_order", ",".join(order))
        for n in (2, 3, 4):
            step.measure(f"contact_no{n}_forced", _forced(tm, daq, clock, cond, n))
        tm.restart()   # releases the forced contacts
        pack = bms.reading()
        rel, alarm = cond.alarm_thr_offsets_v
        top = max(pack.cell_voltages_v)
        tm.set_thresholds("cell_ov", release_v=top - rel, alarm_v=top - alarm)
        step.measure("contact_no2_alarm", wait_until(
            clock, lambda: daq.inputs()["no2"], cond.alarm_timeout_s, 0.1))
        tm.clear_thresholds()
        off, on = cond.soc_low_margin_pct
        tm.set_soc_low(off_pct=pack.soc_pct + off, on_pct=pack.soc_pct + on)
        step.measure("contact_no4_soc_low", wait_until(
            clock, lambda: daq.inputs()["no4"], cond.alarm_timeout_s, 0.1))
        tm.clear_thresholds()
        if work_order.heater:
            before = bms.reading()
            tm.heater(True)
            clock.sleep(cond.heater_settle_s)
            after = bms.reading()
            tm.heater(False)
            step.measure("heater_power_w",
                         (before.current_a - after.current_a) * after.pack_voltage_v)


def _sent_since(bms, clock, t: float) -> Callable[[], bool]:
    """Whether an alarms frame arrived after station time ``t``."""
    def check() -> bool:
        age = bms.can_age_s("alarms")
        return age is not None and age < clock.now() - t
    return check


def test_link_ports(step, bms, daq, clock, cond: EolConditions) -> None:
    """Both link ports against the fixture's reference pack, inside the release window (no
    current flows, nothing else needs the pack): on Port 1 the unit is the master of two
    (RS485 ``FF`` and the CAN module count say so), on Port 0 it is the reference's slave
    and still answers for the stack [manual 5.3.4, SPEC §5-§6]."""
    for port in ("port1", "port0"):
        relay = f"link_{port}"
        daq.set_relay(relay, True)
        try:
            clock.sleep(cond.link_settle_s)
            step.measure(f"link_{port}_modules", bms.stack().module_count)
            if port == "port1":   # a module count the pack sent after the link came up
                fresh = wait_until(clock, _sent_since(bms, clock, clock.now()), cond.can_max_age_s, 0.05)
                count = bms.can_module_count(cond.can_max_age_s) if fresh else None
                step.measure("link_can_module_count", count,
                             "" if fresh else "no alarms frame since the link came up")
        finally:
            daq.set_relay(relay, False)
    clock.sleep(cond.link_settle_s)
    step.measure("link_alone_modules", bms.stack().module_count)


def test_release(step, load, clock, state: EolState, cond: EolConditions) -> None:
    """The discharge path conducts again after the release (the time is on the capture)."""
    tripped_at = state.trip_at
    assert tripped_at is not None, "no 15 s tier trip to release from"
    try:
        flowing = wait_until(clock, lambda: load.measure_current() > cond.trip_current_a,
                             timeout=max(0.0, tripped_at + cond.release_timeout_s - clock.now()),
                             poll=cond.release_poll_s)
        if not flowing:
            step.measure("discharge_after_release_a", load.measure_current(),
                         "discharge not re-enabled within the release timeout")
            return
        load.set_cc(cond.dcr_current_a)
        clock.sleep(cond.release_settle_s)
        step.measure("discharge_after_release_a", load.measure_current())
    finally:
        load.set_input(False)


@dataclass(frozen=True)
class Stimulus:
    """The step that makes a protection's condition true: a source switched on and off."""

    on: Callable[[], None]
    off: Callable[[], None]


@dataclass(frozen=True)
class TimedProtection:
    """One voltage protection: seconds from the step to the MOSFET opening (the window when
    it did not open), why there is no time, and NO3 as the scan ended, the protection held."""

    seconds: float
    why: str
    no3_closed: bool


def _timed_protection(tm: TestMode, daq, clock, cond: EolConditions, group: str,
                      volts: tuple[float, float, float], stimulus: Stimulus) -> TimedProtection:
    """Thresholds set so the condition is false at rest and true under a 50 A step; one DAQ
    scan of the shunt times the step (the current flowing) and the MOSFET opening (the
    current stopped), both on the DAQ's own clock; NO3 is read as the scan ends, the
    protection still held. The thresholds are restored at once: the protection's release
    runs while the next one, of the other direction, is timed."""
    tm.set_thresholds(group, release_v=volts[0], alarm_v=volts[1], protection_v=volts[2])
    daq.start_capture(("pack_current",), cond.protection_scan_interval_s, cond.protection_capture_s)
    clock.sleep(cond.protection_pre_s)
    stimulus.on()
    try:
        capture = daq.fetch_capture()
        no3 = bool(daq.inputs()["no3"])
    finally:
        stimulus.off()
        tm.clear_thresholds()
    t_step = capture.first("pack_current", lambda a: abs(float(a)) >= cond.protection_step_detect_a)
    if t_step is None:
        return TimedProtection(math.nan, "the DAQ saw no current step: the source did not "
                               "reach the pack", no3)
    t_open = capture.first("pack_current", lambda a: abs(float(a)) < cond.trip_current_a,
                           after_s=t_step)
    window = capture.times_s[-1] - t_step
    if t_open is None:
        return TimedProtection(window, f"the current did not stop within {window:.2f} s of the step", no3)
    return TimedProtection(t_open - t_step, "", no3)


def _thresholds(level: float, offsets: tuple[float, float, float], sign: int) -> tuple[float, float, float]:
    """Release, alarm and protection around ``level``: the protection ``offsets[2]`` beyond
    it in the direction ``sign`` (+1 over, -1 under), the alarm ``offsets[1]``, the release
    ``offsets[0]`` back on the other side (so the protection holds once the step ends)."""
    rel, alarm, prot = offsets
    return level - sign * rel, level + sign * alarm, level + sign * prot


def test_voltage_protection(step, bms, daq, supply, load, clock, cond: EolConditions) -> None:
    """Each voltage protection started by a real 50 A step across a threshold set just
    beyond the rest value, timed by the DAQ's shunt from the step to the current stopping
    [SPEC §8]. Directions alternate, so each protection's release (it opened only its own
    MOSFET [§2.1]) overlaps the next one's timing; the last is a charge one, so the fast
    trip's discharge follows at once."""
    amps = cond.dcr_current_a
    supply.set_charge(cond.supply_charge_voltage_v, amps)
    load.set_input(False)
    load.set_cc(amps)
    charge = Stimulus(lambda: supply.set_output(True), lambda: supply.set_output(False))
    discharge = Stimulus(lambda: load.set_input(True), lambda: load.set_input(False))
    with bms.test_mode() as tm:
        pack: BmsReading = bms.reading()
        top, low = max(pack.cell_voltages_v), min(pack.cell_voltages_v)
        cells, packs = cond.cell_thr_offsets_v, cond.pack_thr_offsets_v
        held: dict[str, TimedProtection] = {}

        held["cell UV"] = t = _timed_protection(tm, daq, clock, cond, "cell_uv",
                                                _thresholds(low, cells, -1), discharge)
        step.measure("cell_uv_protection_s", t.seconds, t.why)
        m = bms.management()
        step.measure("cell_uv_opens_discharge_only", m.charge_enabled and not m.discharge_enabled)

        held["cell OV"] = t = _timed_protection(tm, daq, clock, cond, "cell_ov",
                                                _thresholds(top, cells, +1), charge)
        step.measure("cell_ov_protection_s", t.seconds, t.why)
        m = bms.management()
        step.measure("cell_ov_opens_charge_only", not m.charge_enabled and m.discharge_enabled)

        held["pack UV"] = t = _timed_protection(tm, daq, clock, cond, "pack_uv",
                                                _thresholds(pack.pack_voltage_v, packs, -1), discharge)
        step.measure("pack_uv_protection_s", t.seconds, t.why)

        held["pack OV"] = t = _timed_protection(tm, daq, clock, cond, "pack_ov",
                                                _thresholds(pack.pack_voltage_v, packs, +1), charge)
        step.measure("pack_ov_protection_s", t.seconds, t.why)
        open_in = [name for name, t in held.items() if not t.no3_closed]
        step.measure("contact_no3_voltage_protection", not open_in,
                     "NO3 open while held: " + ", ".join(open_in) if open_in else "")

        stored, active = tm.parameter_crc()
        step.measure("param_crc_stored_after", stored)
        step.measure("param_crc_active_after", active)


def test_peak_tier_timing(step, load, cond: EolConditions) -> None:
    """Trip and release of the 15 s tier from the load's own capture (its sample clock)."""
    samples = _capture_samples(load)
    amps = cond.peak_tier_current_a
    found = trip_time(samples, amps, cond.tier_start_fraction, cond.trip_current_a)
    if found is None:
        step.measure("peak_tier_trip_s", None, "the capture shows no start at the set point or no trip")
        return
    t0, t_trip = found
    step.measure("peak_tier_trip_s", t_trip - t0)
    t_release = release_time(samples, t_trip, cond.trip_current_a)
    step.measure("peak_tier_release_s", None if t_release is None else t_release - t_trip,
                 "" if t_release is not None else "the capture shows no current after the trip")


def test_fast_trip(step, load, clock, state: EolState, cond: EolConditions) -> None:
    timeout = cond.fast_trip_timeout_s
    tripped = _trip_by_capture(load, clock, cond, cond.fast_trip_current_a, cond.capture_rate_hz,
                               timeout, timeout)
    load.set_input(False)
    samples = _capture_samples(load)
    found = trip_time(samples, cond.fast_trip_current_a, cond.tier_start_fraction, cond.trip_current_a)
    state.oc_trips += tripped
    step.measure("fast_trip_s", (found[1] - found[0]) if found else timeout,
                 "" if found else f"no trip within {timeout:g} s")
    step.measure("oc_trip_count", state.oc_trips)


def test_final_state(step, bms, clock, cond: EolConditions) -> None:
    bms.set_clock(clock.utcnow())
    bms.clear_event_log()
    step.measure("test_mode_off", bms.console_in_normal_mode())
    step.measure("pack_clock_error_s", (bms.clock_time() - clock.utcnow()).total_seconds())
    step.measure("event_log_entries", bms.event_log_entries())
    step.measure("shipping_soc_pct", bms.reading().soc_pct)
    silent = bms.can_silent(cond.can_max_age_s)
    step.measure("can_frames_fresh", not silent,
                 "" if not silent else "CAN silent: no " + ", ".join(f"{n} frame" for n in silent))
