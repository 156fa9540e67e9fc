"""Certification pre-check of one V-series pack design, clause by clause (CERT-RMA.md).

Order as on a real bench: C01 … C15, about 5–6 days, bound by the chamber and the full
cycles. Every long phase waits on an event (a cut-off, a soak reached, a trip) through the
hard-abort watch (``watch.py``), never sampling at 1 Hz; each leaves a trace (Parquet, hashed
into the record) and declared measurements. Trip times come from instrument-side captures
(the load's digitizer for discharges, the DAQ's scan of the terminals for charges), as the
EOL plan does. A clause whose fixture or sample is absent is skipped here and reported NOT
RUN with its reason (``clauses.py``); its measurements are not declared for this run.
Every number that decides PASS/FAIL is in ``testplans/limits/cert/``.
"""

from __future__ import annotations

import math
from typing import Any, Literal

from common.clock import wait_until
from testplans.cert.conditions import CertConditions
from testplans.cert.state import CertState
from testplans.cert.watch import Trace, Watch, keep
from testplans.methods import (
    blink_timing,
    capture_peak,
    dead_and_back,
    expected_current_limits,
    short_circuit_trip,
    trip_time,
)


def _watch(bms, daq, clock, cond: CertConditions) -> Watch:
    return Watch(bms, daq, clock, cond, cond.sw_press_s)


def _energy_wh(trace: Trace) -> float:
    """∫ V·I dt of a trace (trapezoid), Wh, sign removed."""
    t, v, i = trace.column("t_s"), trace.column("terminal_v"), trace.column("source_a")
    joules = sum(0.5 * (v[k] * i[k] + v[k - 1] * i[k - 1]) * (t[k] - t[k - 1]) for k in range(1, len(t)))
    return abs(joules) / 3600.0


def _charge_full(supply, daq, watch: Watch, clock, cond: CertConditions, trace: Trace) -> bool:
    """CC at ``full_charge_current_a``, CV at the CVL, until the current falls below the end
    of charge (the cells at the top); the supply off after."""
    supply.set_charge(cond.full_charge_voltage_v, cond.full_charge_current_a)
    supply.set_output(True)
    try:
        clock.sleep(cond.power_settle_s)
        return watch.wait(lambda r: supply.measure_current() < cond.eoc_current_a,
                          cond.full_timeout_s, cond.trace_interval_s, trace,
                          lambda: {"terminal_v": daq.pack_voltage(), "source_a": supply.measure_current()})
    finally:
        supply.set_output(False)


def _discharge_until_cutoff(load, daq, watch: Watch, clock, cond: CertConditions, amps: float,
                            timeout: float, trace: Trace, fine_below_v: float | None = None) -> float:
    """CC discharge at ``amps`` until the BMS opens (the load's current below the cut-off);
    returns the station seconds the current flowed. Below ``fine_below_v`` on the lowest cell
    the watch reads every second (the lowest cell at the cut-off is evidence)."""
    load.set_cc(amps)
    load.set_input(True)
    t0 = clock.now()
    try:
        def cut(r: Any) -> bool:
            return load.measure_current() < cond.cutoff_current_a

        def extra() -> dict[str, float]:
            return {"terminal_v": daq.pack_voltage(), "source_a": -load.measure_current()}

        poll = cond.trace_interval_s
        if fine_below_v is not None:
            watch.wait(lambda r: cut(r) or min(r.cell_voltages_v) <= fine_below_v, timeout, poll, trace, extra)
            poll = cond.cutoff_poll_s
        watch.wait(cut, max(0.0, t0 + timeout - clock.now()), poll, trace, extra)
        return clock.now() - t0
    finally:
        load.set_input(False)


def _protections(bms) -> str:
    prot, _alarms, _heater = bms.protection_status()
    return ",".join(sorted(prot)) or "none"


def _precondition_soc(supply, load, watch: Watch, clock, cond: CertConditions) -> None:
    """To about ``precondition_soc_pct`` (BMS SOC) at ``precondition_current_a``."""
    target, amps = cond.precondition_soc_pct, cond.precondition_current_a
    soc = watch.check().soc_pct
    if soc > target:
        load.set_cc(amps)
        load.set_input(True)
        try:
            watch.wait(lambda r: r.soc_pct <= target, 4 * 3600.0, 60.0)
        finally:
            load.set_input(False)
    elif soc < target:
        supply.set_charge(cond.full_charge_voltage_v, amps)
        supply.set_output(True)
        try:
            watch.wait(lambda r: r.soc_pct >= target, 4 * 3600.0, 60.0)
        finally:
            supply.set_output(False)
    clock.sleep(cond.power_settle_s)


def _power_on(daq, clock, cond: CertConditions, work_order) -> None:
    if work_order.breaker:
        daq.set_relay("breaker", True)
    daq.set_relay("power", True)
    daq.press("sw", cond.sw_press_s)
    clock.sleep(cond.power_settle_s)


def _wait_latch_window(clock, state: CertState, cond: CertConditions) -> None:
    """Trips apart by more than the latch window, so no earlier trip counts."""
    if state.last_trip_at is not None:
        clock.sleep(max(0.0, state.last_trip_at + cond.latch_window_s - clock.now()))


# ------------------------------------------------------------------------------ steps
def test_c01_safety(step, safety, cond: CertConditions) -> None:
    step.measure("c01_ground_bond_ohm", safety.ground_bond(cond.bond_current_a))
    step.measure("c01_insulation_mohm", safety.insulation(cond.insulation_v))


def test_c02_identity(step, bms, daq, clock, cond: CertConditions, work_order) -> None:
    bms.stop_listening()   # nothing of this plan is judged on CAN (limits: RS485)
    _power_on(daq, clock, cond, work_order)
    bms.find_address()
    step.measure("c02_serial", bms.identity().serial)
    info = bms.console_identity()
    step.measure("c02_fw_main", info.main_version)
    step.measure("c02_fw_boot", info.boot_version)
    step.measure("c02_fw_bms_board", info.board_version)
    stored, active = bms.parameter_crc()
    step.measure("c02_param_crc_stored", stored)
    step.measure("c02_param_crc_active", active)


def test_c03_performance(step, supply, load, daq, bms, clock, state: CertState,
                         cond: CertConditions) -> None:
    """Full, rest, 0.2 C to the cut-off (Ah, Wh), recharge (Wh): capacity and efficiency."""
    watch = _watch(bms, daq, clock, cond)
    first = Trace("c03_first_charge")
    _charge_full(supply, daq, watch, clock, cond, first)
    keep(step, first, "C03 first charge to full: BMS cells, terminal V (DAQ), supply current")
    clock.sleep(cond.capacity_rest_s)
    out = Trace("c03_discharge")
    seconds = _discharge_until_cutoff(load, daq, watch, clock, cond, cond.capacity_current_a,
                                      cond.capacity_timeout_s, out, fine_below_v=cond.cutoff_near_v)
    keep(step, out, "C03 0.2 C discharge to the BMS cut-off")
    step.measure("c03_capacity_ah", load_ah := cond.capacity_current_a * seconds / 3600.0)
    back = Trace("c03_recharge")
    _charge_full(supply, daq, watch, clock, cond, back)
    keep(step, back, "C03 recharge to full (round-trip efficiency)")
    e_in, e_out = _energy_wh(back), _energy_wh(out)
    state.notes["c03"] = f"{load_ah:.2f} Ah, {e_out:.0f} Wh out, {e_in:.0f} Wh in"
    step.measure("c03_round_trip_efficiency_pct", 100.0 * e_out / e_in if e_in > 0 else math.nan)


def test_c04_over_discharge(step, load, daq, bms, clock, cond: CertConditions) -> None:
    """From full (C03's recharge) at 100 A until the BMS opens; the lowest cell at the end."""
    watch = _watch(bms, daq, clock, cond)
    trace = Trace("c04_over_discharge")
    _discharge_until_cutoff(load, daq, watch, clock, cond, cond.over_discharge_current_a,
                            cond.over_discharge_timeout_s, trace, fine_below_v=cond.cutoff_near_v)
    keep(step, trace, "C04 100 A discharge to the BMS opening")
    lows = [v for v in trace.column("cell_min_v") if math.isfinite(v)]
    step.measure("c04_lowest_cell_v", min(lows) if lows else math.nan)
    step.measure("c04_stop_cause", _protections(bms))


def _overcharge_until_open(supply, daq, watch: Watch, clock, cond: CertConditions,
                           trace: Trace) -> Any:
    """With the overcharge supply on: watch until the BMS opens (coarse while far, every few
    seconds from the top of the plateau or near pack OV, every quarter second at the knee);
    returns the trace's extra columns (terminal voltage, supply current)."""
    clock.sleep(cond.power_settle_s)

    def extra() -> dict[str, float]:
        return {"terminal_v": daq.pack_voltage(), "source_a": supply.measure_current()}

    def stopped(r: Any) -> bool:
        return supply.measure_current() < cond.cutoff_current_a

    def near_cell(r: Any) -> bool:
        return max(r.cell_voltages_v) >= cond.overcharge_near_v

    # coarse while far; every few seconds from the top of the plateau or near the pack OV
    # threshold (a cell ahead of the others climbs the knee within a minute or two at
    # this current); every quarter second once a cell is at the knee
    watch.wait(lambda r: stopped(r) or max(r.cell_voltages_v) >= cond.overcharge_watch_from_v
               or r.pack_voltage_v >= cond.overcharge_near_pack_v,
               cond.overcharge_timeout_s, 300.0, trace, extra)
    watch.wait(lambda r: stopped(r) or near_cell(r), cond.overcharge_timeout_s,
               cond.overcharge_pack_poll_s, trace, extra)
    watch.wait(stopped, cond.overcharge_timeout_s, cond.overcharge_fine_poll_s, trace, extra)
    return extra


def test_c05_overcharge(step, supply, daq, bms, clock, cond: CertConditions) -> None:
    """From the end voltage: CC at the maximum charge current from a supply at 65.1 V until
    the BMS opens; the cells read every quarter second from 3.55 V (the knee); then 1 h
    watched with the supply still applied; the supply off after (no reclose into it)."""
    watch = _watch(bms, daq, clock, cond)
    _cool(watch, cond)
    trace = Trace("c05_overcharge")
    supply.set_charge(cond.overcharge_voltage_v, cond.overcharge_current_a)
    supply.set_output(True)
    try:
        extra = _overcharge_until_open(supply, daq, watch, clock, cond, trace)
        peak = max(trace.column("cell_max_v"))
        step.measure("c05_max_cell_v", peak)
        step.measure("c05_stop_cause", _protections(bms))
        watched = Trace("c05_watch")
        watch.wait(lambda r: False, cond.overcharge_watch_s, cond.overcharge_watch_poll_s, watched, extra)
        keep(step, watched, "C05 1 h watched, the supply applied")
        step.measure("c05_watch_max_cell_v", max(watched.column("cell_max_v")))
        step.measure("c05_watch_current_a", max(watched.column("source_a")))
    finally:
        supply.set_output(False)
        keep(step, trace, "C05 overcharge at 65.1 V, 100 A, to the BMS opening")


def _taps(station, cond: CertConditions) -> Any:
    from drivers.cert_fixtures import CellTaps

    return CellTaps(station, cond.abort_cell_v)


class _TapCharge:
    """Ah through the taps, from the supply's read-back at each look (trapezoid)."""

    def __init__(self, taps: Any, clock) -> None:
        self.taps, self.clock = taps, clock
        self.ah = 0.0
        self._last = (clock.now(), 0.0)

    def look(self) -> dict[str, float]:
        t, amps = self.clock.now(), self.taps.current_a()
        t0, a0 = self._last
        self.ah += 0.5 * (amps + a0) * (t - t0) / 3600.0
        self._last = (t, amps)
        return {"tap_a": amps}


def _tap_for(taps: Any, watch: Watch, clock, cond: CertConditions, up: bool, ah: float) -> float:
    """The supply on the group's taps driving it ``up`` (CV ``tap_source_v``) or down (CV
    ``tap_sink_v``, limits ``tap_current_a``) until ``ah`` went through the taps, the hard
    aborts watched; output off and relay open after; returns the Ah moved. It stops early
    when a cell leaves the window (a group not where the plan expects it: above
    ``tap_ceiling_v`` going up, below ``tap_floor_v`` going down)."""
    def out(r: Any) -> bool:
        return max(r.cell_voltages_v) >= cond.tap_ceiling_v if up else min(r.cell_voltages_v) <= cond.tap_floor_v

    with taps.routed():
        taps.drive(cond.tap_source_v if up else cond.tap_sink_v, cond.tap_current_a, cond.tap_current_a)
        moved = _TapCharge(taps, clock)
        watch.wait(lambda r: abs(moved.ah) >= ah or out(r), cond.lock_timeout_s, cond.tap_poll_s,
                   None, moved.look)
    return abs(moved.ah)


def _ramp(chamber, target_c: float, cond: CertConditions) -> str:
    """The chamber's program: its air ramped to ``target_c`` at the plan's rate, then held
    there (the soak: the plan waits on the cells); returned in words for the evidence."""
    chamber.ramp_to(target_c, cond.chamber_ramp_c_per_min)
    return f"ramp to {target_c:g} °C at {cond.chamber_ramp_c_per_min:g} K/min, then held"


def _to_room(chamber, watch: Watch, cond: CertConditions) -> None:
    """Chamber ramped to 25 °C until the coldest cell reads ``room_min_c`` (after C11's cold
    soak a charge is blocked or derated: the prepared-sample steps need the full-rate window)."""
    _ramp(chamber, 25.0, cond)
    watch.wait(lambda r: min(r.cell_temperatures_c) >= cond.room_min_c, cond.soak_timeout_s, cond.soak_poll_s)


def _overcharge_peak(supply, daq, watch: Watch, clock, cond: CertConditions, trace: Trace) -> float:
    """C05's charge (97 A from 65.1 V) until the BMS opens; the highest cell on the way."""
    supply.set_charge(cond.overcharge_voltage_v, cond.overcharge_current_a)
    supply.set_output(True)
    try:
        _overcharge_until_open(supply, daq, watch, clock, cond, trace)
    finally:
        supply.set_output(False)
    return max(trace.column("cell_max_v"))


def _overcharge_judged(step, supply, daq, bms, watch: Watch, clock, cond: CertConditions,
                       clause: Literal["c05b", "c13"], trace: Trace, what: str) -> None:
    """A prepared sample's overcharge, judged: its highest cell and what stopped it; the
    trace kept whatever happens."""
    try:
        step.measure(f"{clause}_max_cell_v", _overcharge_peak(supply, daq, watch, clock, cond, trace))
        step.measure(f"{clause}_stop_cause", _protections(bms))
    finally:
        keep(step, trace, what)


def test_c05b_overcharge_group(step, station, supply, load, daq, bms, clock, cond: CertConditions,
                               work_order) -> None:
    """Prepared sample only: from about half charge one cell group is driven ahead through
    its taps, then C05's overcharge: the group ahead must stop it (cell OV) below U_ulc."""
    if "prepared_sample" not in work_order.features:
        return   # NOT RUN: the clause row gives the reason
    taps = _taps(station, cond)
    watch = _watch(bms, daq, clock, cond)
    _cool(watch, cond)
    _precondition_soc(supply, load, watch, clock, cond)
    ahead = _tap_for(taps, watch, clock, cond, True, cond.tap_ahead_ah)
    _overcharge_judged(step, supply, daq, bms, watch, clock, cond, "c05b", Trace("c05b_overcharge"),
                       "C05b overcharge with one cell group 8 Ah ahead (prepared sample)")
    _tap_for(taps, watch, clock, cond, False, ahead)   # the group back with the others


def _scan_trip(daq, clock, rate_hz: float, timeout: float, on, off, amps, stop_a: float,
               at_trip=lambda: None) -> float | None:
    """A source or load switched on under a DAQ scan of the terminals: from the step away
    from rest (current on) to the step back (the MOSFET open), on the DAQ's own clock. The
    host only watches ``amps()`` for the end and switches off at once (no reclose into it:
    a reclose 30 s later would trip again and count towards the latch)."""
    v_rest = daq.pack_voltage()
    daq.start_capture(("pack_voltage",), 1.0 / rate_hz, timeout)
    clock.sleep(0.1)
    on()
    started = clock.now()
    try:
        wait_until(clock, lambda: clock.now() - started > 1.0 and amps() < stop_a, timeout - 0.2, 1.0)
    finally:
        off()
    at_trip()   # e.g. the protection that stopped it, before it releases (30 s)
    capture = daq.fetch_capture()
    detect = 0.3
    t_on = capture.first("pack_voltage", lambda v: abs(float(v) - v_rest) >= detect)
    if t_on is None:
        return None
    level = [float(v) for t, v in zip(capture.times("pack_voltage"), capture.values["pack_voltage"],
                                      strict=True) if t_on + 0.5 <= t <= t_on + 1.0]
    if not level:
        return None
    step_v = abs(sum(level) / len(level) - v_rest)   # the resistive step the current made
    # the trip: back nearer rest than half the step (polarisation drifts the loaded level)
    t_off = capture.first("pack_voltage", lambda v: abs(float(v) - v_rest) < step_v / 2, after_s=t_on + 1.0)
    return None if t_off is None else t_off - t_on


def _charge_trip(supply, daq, clock, cond: CertConditions, amps: float, rate_hz: float,
                 at_trip=lambda: None) -> float | None:
    supply.set_charge(cond.overcharge_voltage_v, amps)
    return _scan_trip(daq, clock, rate_hz, cond.tier_timeout_s, lambda: supply.set_output(True),
                      lambda: supply.set_output(False), supply.measure_current, cond.trip_current_a,
                      at_trip)


def _cool(watch: Watch, cond: CertConditions) -> None:
    """Rest until the cells are back to ``cool_cells_c`` (a high-current phase heats them)."""
    watch.wait(lambda r: max(r.cell_temperatures_c) <= cond.cool_cells_c, cond.soak_timeout_s, 600.0)


def test_c06_high_rate_charge(step, supply, load, daq, bms, clock, state: CertState,
                              cond: CertConditions) -> None:
    """1.2 × the declared maximum charge current (120 A, the 3-min tier: the verdict) and
    1.2 × 120 A (144 A, the 15 s tier: evidence), each from about half charge."""
    watch = _watch(bms, daq, clock, cond)
    _cool(watch, cond)
    _precondition_soc(supply, load, watch, clock, cond)
    _cool(watch, cond)
    causes: list[str] = []   # read at the trip: the tier releases 30 s after it
    seconds = _charge_trip(supply, daq, clock, cond, cond.high_rate_factor * cond.max_charge_current_a,
                           cond.tier1_capture_hz, lambda: causes.append(_protections(bms)))
    step.measure("c06_tier1_trip_s", seconds, "" if seconds is not None else "no start or no trip on the scan")
    step.measure("c06_tier1_stop_cause", causes[0])
    state.last_trip_at = clock.now()
    _wait_latch_window(clock, state, cond)
    seconds = _charge_trip(supply, daq, clock, cond, cond.high_rate_factor * cond.high_rate_second_current_a,
                           cond.tier2_capture_hz)
    step.measure("c06_tier2_trip_s", seconds, "" if seconds is not None else "no start or no trip on the scan")
    state.last_trip_at = clock.now()


def _discharge_trip(load, clock, cond: CertConditions, amps: float, rate_hz: float,
                    timeout: float) -> float | None:
    """Discharge at ``amps`` under the load's capture until the current stops; the trip
    time from the capture (its own sample clock); the load off at the trip."""
    load.start_capture(rate_hz, timeout, min_rate_hz=rate_hz)
    load.set_cc(amps)
    load.set_input(True)
    started = clock.now()
    try:
        wait_until(clock, lambda: load.measure_current() < cond.trip_current_a
                   and clock.now() - started > 0.05, timeout=timeout, poll=min(5.0, timeout / 4))
    finally:
        load.set_input(False)
    capture = load.fetch_capture()
    found = trip_time(list(zip(capture.times(), capture.samples, strict=True)), amps,
                      cond.tier_start_fraction, cond.trip_current_a)
    return None if found is None else found[1] - found[0]


def _flows(load, clock, cond: CertConditions) -> bool:
    load.set_cc(cond.latch_probe_current_a)
    load.set_input(True)
    try:
        clock.sleep(cond.power_settle_s)
        return load.measure_current() > cond.trip_current_a
    finally:
        load.set_input(False)


def test_c07_overload(step, load, daq, bms, clock, state: CertState, cond: CertConditions,
                      work_order) -> None:
    """The 3-min tier at 110 A (timed on the DAQ's scan: the load holds 150 s at 100 Hz), the
    peak tier, the fast trip (the load's capture): three trips within 10 min, so the third
    latches; held 15 min later; released by a power-on only."""
    _cool(_watch(bms, daq, clock, cond), cond)
    _wait_latch_window(clock, state, cond)
    why = "no start or no trip on the capture"
    load.set_cc(cond.tier1_current_a)
    t1 = _scan_trip(daq, clock, cond.tier1_capture_hz, cond.tier_timeout_s, lambda: load.set_input(True),
                    lambda: load.set_input(False), load.measure_current, cond.trip_current_a)
    step.measure("c07_tier1_trip_s", t1, "" if t1 is not None else why)
    clock.sleep(cond.reclose_wait_s)
    t2 = _discharge_trip(load, clock, cond, cond.peak_current_a, cond.tier2_capture_hz, 20.0)
    step.measure("c07_peak_trip_s", t2, "" if t2 is not None else why)
    clock.sleep(cond.reclose_wait_s)
    t3 = _discharge_trip(load, clock, cond, cond.fast_trip_current_a, cond.fast_capture_hz, cond.fast_timeout_s)
    step.measure("c07_fast_trip_s", t3 if t3 is not None else cond.fast_timeout_s,
                 "" if t3 is not None else f"no trip within {cond.fast_timeout_s:g} s")
    state.last_trip_at = clock.now()
    clock.sleep(cond.latch_hold_s)
    step.measure("c07_latch_held", not _flows(load, clock, cond))
    daq.set_relay("power", False)
    clock.sleep(cond.power_settle_s)
    _power_on(daq, clock, cond, work_order)
    step.measure("c07_latch_released_by_power_on", _flows(load, clock, cond))


def test_c08_short_circuit(step, station, load, supply, daq, clock, state: CertState,
                           cond: CertConditions, work_order) -> None:
    """Short-circuit fixture only (≤ 20 mΩ, ≥ 2 kA, ≥ 1 MS/s capture, interlocked, one
    shot): its capture gives the peak and the trip (SPEC 2.3: from above 500 A to the
    current gone); the DAQ's scan of the terminals the reclose 30 ± 1 s later."""
    if "short_circuit" not in work_order.features:
        return   # NOT RUN: the clause row gives the reason
    from drivers.cert_fixtures import ShortCircuit

    fixture = ShortCircuit(station)   # a station without the fixture: the step ERRORs, said why
    load.set_input(False)
    supply.set_output(False)          # the fixture's current is the pack's alone
    if daq.pack_voltage() < 1.0:      # dead terminals (a run without C02): power the pack on
        _power_on(daq, clock, cond, work_order)
    clock.sleep(cond.power_settle_s)
    with station.envelope.allow_short("short_circuit"):
        shot = fixture.shot(window_s=cond.short_window_s, pre_trigger_s=cond.short_pre_trigger_s,
                            rate_hz=cond.short_capture_hz, trigger_a=cond.short_trigger_a,
                            full_scale_a=cond.short_full_scale_a, watch_s=cond.short_watch_s,
                            scan_interval_s=cond.short_scan_interval_s,
                            trigger_timeout_s=cond.short_trigger_timeout_s)
    state.last_trip_at = clock.now()
    record = shot.capture
    none = f"the capture did not trigger at {cond.short_trigger_a:g} A"
    peak = capture_peak(record.samples) if record else None
    clipped = peak is not None and not math.isfinite(peak)
    step.measure("c08_peak_current_a", peak, none if record is None else
                 "the capture clipped: the true peak is off its screen" if clipped else "")
    trip = (short_circuit_trip(record.times(), record.samples, cond.short_threshold_a, cond.short_off_a)
            if record else None)
    step.measure("c08_trip_s", trip, "" if trip is not None else none if record is None else
                 f"no fall below {cond.short_off_a:g} A within the capture's "
                 f"{cond.short_window_s * 1000:g} ms")
    reclose = dead_and_back(shot.scan.times("pack_voltage"), shot.scan.values["pack_voltage"])
    step.measure("c08_reclose_s", reclose, "" if reclose is not None else
                 f"the terminals did not go and come back within {cond.short_watch_s:g} s")


def _tcs(daq, work_order) -> dict[str, float]:
    """The thermocouples on the pack, when the fixture has them (trace columns)."""
    if "cell_thermocouples" not in work_order.features:
        return {}
    return {"cell_tc_c": daq.pack_thermocouple("cell_tc"), "case_tc_c": daq.pack_thermocouple("case_tc")}


def test_c09_charge_over_temperature(step, supply, load, chamber, daq, bms, clock,
                                     cond: CertConditions, work_order) -> None:
    """About half charge at 75 A; chamber at 50 °C until the cells read 48 °C; the charge
    resumed under a DAQ scan: it must stop within the protection delay."""
    watch = _watch(bms, daq, clock, cond)
    _precondition_soc(supply, load, watch, clock, cond)
    program = _ramp(chamber, cond.ot_chamber_c, cond)
    soak = Trace("c09_soak")
    tcs = "cell_thermocouples" in work_order.features

    def soaked(r: Any) -> bool:   # on the BMS, and on the cell thermocouple beyond its U
        return max(r.cell_temperatures_c) >= cond.ot_soak_until_c and (
            not tcs or soak.rows[-1]["cell_tc_c"] >= cond.ot_soak_tc_c)

    watch.wait(soaked, cond.soak_timeout_s, cond.soak_poll_s, soak,
               lambda: {"chamber_c": chamber.temperature(), **_tcs(daq, work_order)})
    keep(step, soak, f"C09 soak at 50 °C until the cells read 48 °C (chamber: {program})")
    step.measure("c09_cells_soaked_c", max(watch.last.cell_temperatures_c))
    if tcs:   # the cells on their own thermocouple
        step.measure("c09_tc_cells_c", soak.rows[-1]["cell_tc_c"])
    v_rest = daq.pack_voltage()
    supply.set_charge(cond.full_charge_voltage_v, cond.ot_charge_current_a)
    daq.start_capture(("pack_voltage",), cond.ot_scan_interval_s, cond.ot_scan_s)
    clock.sleep(0.1)
    supply.set_output(True)
    t_switch = 0.1
    try:
        capture = daq.fetch_capture()
        flowing = supply.measure_current()
    finally:
        supply.set_output(False)
    t_on = capture.first("pack_voltage", lambda v: float(v) - v_rest >= 0.3)
    if t_on is None:   # no charge current ever reached the cells: stopped at once
        stop = 0.0 if flowing < cond.ot_stop_current_a else math.nan
    else:
        t_off = capture.first("pack_voltage", lambda v: float(v) - v_rest < 0.3, after_s=t_on)
        stop = (t_off - t_switch) if t_off is not None else capture.times_s[-1] - t_switch
    step.measure("c09_stop_s", stop, "" if math.isfinite(stop) else "charge current still flowing")
    clock.sleep(cond.can_settle_s)
    step.measure("c09_charge_ot_flag", _protections(bms))
    step.measure("c09_charge_limit_a", bms.management().charge_current_limit_a)


def test_c10_temperature_limits(step, chamber, daq, bms, clock, limits_table,
                                cond: CertConditions, work_order) -> None:
    """Chamber to 25 °C, to the hot edge, to the cold edge, back: read along the ramps,
    the advertised limits against SPEC 2.5 row by row and the temperature at which each
    temperature protection trips."""
    watch = _watch(bms, daq, clock, cond)
    hot, cold = cond.edge_chamber_c
    trips: dict[str, float] = {}
    before: set[str] = set(bms.protection_status()[0])
    mismatches = 0
    odd: list[str] = []   # the mismatches, for the record
    board = -math.inf
    trace = Trace("c10_ramps")
    programs: list[str] = []
    for target in (25.0, hot, cold, 25.0):
        programs.append(_ramp(chamber, target, cond))

        def look(r: Any, target: float = target) -> bool:
            nonlocal mismatches, board, before
            prot, _, _ = bms.protection_status()
            cells = r.cell_temperatures_c
            for name, value in (("chg_ot", max(cells)), ("dsg_ot", max(cells)),
                                ("chg_ut", min(cells)), ("dsg_ut", min(cells))):
                if name in prot and name not in before and name not in trips:   # a trip seen
                    trips[name] = value
            before = set(prot)
            # SPEC 2.5: a protected direction advertises 0 A whatever its row says
            chg_blocked = bool(prot & {"chg_ot", "chg_ut", "cell_ov", "pack_ov"})
            dsg_blocked = bool(prot & {"dsg_ot", "dsg_ut", "cell_uv", "pack_uv"})
            allowed = {(0.0 if chg_blocked else c, 0.0 if dsg_blocked else d)
                       for c, d in expected_current_limits(limits_table, min(cells), max(cells), cond.derating_band_c)}
            adv = bms.management()
            pair = (adv.charge_current_limit_a, adv.discharge_current_limit_a)
            if not any(abs(pair[0] - c) < 0.5 and abs(pair[1] - d) < 0.5 for c, d in allowed) \
                    and not _limits_agree(bms, limits_table, cond.derating_band_c):   # held on a second, consistent look
                mismatches += 1
                odd.append(f"{min(cells):.1f}…{max(cells):.1f} °C, {','.join(sorted(prot)) or 'no protection'}: "
                            f"advertised {pair[0]:g}/{pair[1]:g} A, SPEC 2.5 {sorted(allowed)}")
            board = max(board, *(v for k, v in r.temperatures_c.items() if k not in ("cell1", "cell2", "cell3", "cell4")))
            return abs(sum(cells) / len(cells) - target) <= 1.0
        watch.wait(look, cond.edge_timeout_s, cond.edge_poll_s, trace,
                   lambda: {"chamber_c": chamber.temperature(), **_tcs(daq, work_order)})
    keep(step, trace, "C10 ramps: 25 °C, the hot edge, the cold edge, 25 °C (chamber: "
                      + "; ".join(programs) + ")")
    hottest, coldest = max(trace.column("cell_max_c")), min(trace.column("cell_min_c"))
    for name, threshold, extreme in (("chg_ot", 45.0, hottest), ("dsg_ot", 50.0, hottest),
                                     ("chg_ut", 0.0, coldest), ("dsg_ut", -10.0, coldest)):
        seen = trips.get(name)
        passed = extreme >= threshold if name.endswith("_ot") else extreme <= threshold
        if seen is not None:
            step.measure(f"c10_{name}_trip_error_c", seen - threshold)
        elif passed:   # the cells went beyond the threshold and it never tripped: at least this late
            step.measure(f"c10_{name}_trip_error_c", extreme - threshold,
                         f"{name} never tripped, the cells reached {extreme:.1f} °C")
        else:
            step.measure(f"c10_{name}_trip_error_c", None,
                         f"the ramps never took the cells to {threshold:g} °C")
    step.measure("c10_derating_mismatches", mismatches, "; ".join(odd[:3]))
    step.measure("c10_max_board_c", board)
    if "cell_thermocouples" in work_order.features:   # the BMS's cell sensors against the thermocouple
        errors = [abs(0.5 * (hi + lo) - tc) for hi, lo, tc in zip(
            trace.column("cell_max_c"), trace.column("cell_min_c"), trace.column("cell_tc_c"), strict=True)]
        step.measure("c10_bms_temperature_error_c", max(errors) if errors else None)


def _limits_agree(bms, table, band: float) -> bool:
    """Temperatures, protections and advertised limits read together once more (the three
    reads of a look are a second apart; a row boundary or a release may fall between)."""
    r = bms.reading()
    prot = bms.protection_status()[0]
    adv = bms.management()
    cells = r.cell_temperatures_c
    chg_blocked = bool(prot & {"chg_ot", "chg_ut", "cell_ov", "pack_ov"})
    dsg_blocked = bool(prot & {"dsg_ot", "dsg_ut", "cell_uv", "pack_uv"})
    allowed = {(0.0 if chg_blocked else c, 0.0 if dsg_blocked else d)
               for c, d in expected_current_limits(table, min(cells), max(cells), band)}
    return any(abs(adv.charge_current_limit_a - c) < 0.5 and abs(adv.discharge_current_limit_a - d) < 0.5
               for c, d in allowed)


def test_c11_heater(step, supply, chamber, daq, bms, clock, cond: CertConditions, work_order) -> None:
    """Chamber at −10 °C until the cells follow; a charger present: the heater on below
    5 °C, its warming over the first hour, off at 10 °C."""
    if not work_order.heater:
        return
    watch = _watch(bms, daq, clock, cond)
    program = _ramp(chamber, cond.heater_chamber_c, cond)
    trace = Trace("c11_heater")
    watch.wait(lambda r: min(r.cell_temperatures_c) <= cond.heater_chamber_c + 2.0, cond.heater_timeout_s,
               600.0, trace, lambda: {"chamber_c": chamber.temperature()})
    supply.set_charge(cond.heater_charge_voltage_v, cond.heater_charge_limit_a)
    supply.set_output(True)
    try:
        def heater(r: Any) -> bool:
            """The element's draw on the cells: what the supply gives less what the cells take
            (the heater hangs behind the BMS shunt, on the cell side) [SPEC 2.6: 300 W]."""
            return supply.measure_current() - r.current_a > cond.heater_detect_a

        on = watch.wait(heater, 600.0, 10.0, trace)
        t_on, c_on = clock.now(), min(watch.last.cell_temperatures_c)
        step.measure("c11_heater_on_c", c_on if on else None, "" if on else "the heater never came on")
        if not on:
            step.measure("c11_warming_k_per_h", None, "the heater never came on")
            step.measure("c11_heater_off_error_c", None, "the heater never came on")
            return
        warmed: list[tuple[float, float]] = []   # (t, lowest cell) while on, up to an hour

        def gone(r: Any) -> bool:
            if heater(r):
                if clock.now() <= t_on + 3600.0:
                    warmed.append((clock.now(), min(r.cell_temperatures_c)))
                return False
            return True

        off = watch.wait(gone, cond.heater_timeout_s, cond.heater_poll_s, trace,
                         lambda: {"chamber_c": chamber.temperature()})
        t_end, c_end = warmed[-1] if warmed else (t_on, c_on)
        step.measure("c11_warming_k_per_h", (c_end - c_on) * 3600.0 / (t_end - t_on)
                     if t_end > t_on else None, "" if t_end > t_on else "the heater did not stay on")
        step.measure("c11_heater_off_error_c", min(watch.last.cell_temperatures_c) - 10.0 if off else None,
                     "" if off else "the heater never went off")
    finally:
        supply.set_output(False)
        keep(step, trace, f"C11 soak at -10 °C, the heater with a charger present (chamber: {program})")


def _charge_flows(supply, daq, clock, cond: CertConditions) -> bool:
    """A small charge (56.0 V, 10 A) for a moment: does the pack take it (the fixture's
    shunt in the pack's lead: the supply's read-back also counts what the BMS's charger
    detection draws while both MOSFETs are open)?"""
    supply.set_charge(cond.lock_probe_voltage_v, cond.lock_probe_current_a)
    supply.set_output(True)
    try:
        clock.sleep(cond.power_settle_s)
        return daq.pack_current() > cond.probe_flow_a
    finally:
        supply.set_output(False)


def test_c12_system_lock(step, station, supply, chamber, daq, bms, clock, cond: CertConditions,
                         work_order) -> None:
    """Prepared sample only: one group drawn through its taps below the lock's 2.00 V for
    5 s; locked (no current) across a power cycle; unlock in test mode clears it; the group
    recharged through its taps by what was drawn."""
    if "prepared_sample" not in work_order.features:
        return   # NOT RUN: the clause row gives the reason
    taps = _taps(station, cond)
    watch = _watch(bms, daq, clock, cond)
    _to_room(chamber, watch, cond)
    trace = Trace("c12_drawn_group")
    with taps.routed():
        taps.drive(cond.tap_sink_v, cond.tap_current_a, cond.tap_current_a)
        drawn = _TapCharge(taps, clock)
        watch.wait(lambda r: min(r.cell_voltages_v) <= cond.lock_near_v, cond.lock_timeout_s,
                   cond.tap_poll_s, trace, drawn.look)
        def lock(r: Any) -> bool:
            return "system_lock" in bms.protection_status()[0]

        locked = watch.wait(lambda r: lock(r) or min(r.cell_voltages_v) <= cond.lock_beyond_v,
                            cond.lock_timeout_s, cond.lock_poll_s, trace, drawn.look)
        locked = watch.wait(lock, cond.lock_hold_s, cond.lock_poll_s, trace, drawn.look)
    keep(step, trace, "C12 one group drawn through its taps to the system lock")
    daq.set_relay("power", False)
    clock.sleep(cond.power_settle_s)
    _power_on(daq, clock, cond, work_order)
    step.measure("c12_locked_after_power_cycle", locked and not _charge_flows(supply, daq, clock, cond),
                 "" if locked else "the BMS never reported the system lock")
    step.measure("c12_lock_flag", _protections(bms))
    with bms.test_mode() as tm:
        tm.unlock()
    step.measure("c12_cleared_by_unlock", _charge_flows(supply, daq, clock, cond))
    # the group back up (not after an error or an abort: the plan then ends in the safe state)
    _tap_for(taps, watch, clock, cond, True, abs(drawn.ah))


def test_c13_imbalanced_charge(step, station, supply, load, chamber, daq, bms, clock,
                               cond: CertConditions, work_order) -> None:
    """Prepared sample only: full at 56.0 V; one group drawn 50 Ah through its taps (the
    others at the end voltage); balancing at rest; C05's charge until the BMS opens."""
    if "prepared_sample" not in work_order.features:
        return   # NOT RUN: the clause row gives the reason
    taps = _taps(station, cond)
    watch = _watch(bms, daq, clock, cond)
    _to_room(chamber, watch, cond)
    _cool(watch, cond)
    _charge_full(supply, daq, watch, clock, cond, Trace("c13_full"))
    low = _tap_for(taps, watch, clock, cond, False, cond.tap_low_ah)
    clock.sleep(cond.power_settle_s)
    step.measure("c13_balancing_at_rest", any(bms.balancing()))
    _overcharge_judged(step, supply, daq, bms, watch, clock, cond, "c13", Trace("c13_charge"),
                       "C13 charge with one group at 50 %, the others full")
    _tap_for(taps, watch, clock, cond, True, low)   # the group back up
    # to the plateau: the group's last few mV of spread at the top would keep the balancing
    # (50 mA) on for hours
    _precondition_soc(supply, load, watch, clock, cond)


def test_c14_sleep_wake(step, supply, chamber, daq, leds, bms, clock, cond: CertConditions) -> None:
    """24 h idle (no current, no console input): RUN Blink 4; SW held 1 s wakes it; idle
    again, a charger wakes it."""
    chamber.set_temperature(25.0)
    chamber.run()
    clock.sleep(cond.idle_s + cond.idle_margin_s)
    edges = leds.capture_sequence(cond.sleep_led_capture_s, cond.led_sample_ms)
    run = edges["RUN"]
    init = bool(run and run[0][0] == 0 and run[0][1])
    timing = blink_timing(run, init, 0.0, cond.sleep_led_capture_s)
    step.measure("c14_sleep_run_period_s", timing[1] if timing else None,
                 "" if timing else "fewer than two complete RUN blinks")
    daq.press("sw", cond.sw_press_s)
    clock.sleep(cond.wake_settle_s)
    step.measure("c14_woken_by_sw", _answers(bms))
    clock.sleep(cond.idle_s + cond.idle_margin_s)
    asleep = not _answers(bms)
    supply.set_charge(cond.charger_wake_voltage_v, cond.charger_wake_limit_a)
    supply.set_output(True)
    try:
        clock.sleep(cond.wake_settle_s)
        step.measure("c14_woken_by_charger", asleep and _answers(bms),
                     "" if asleep else "the pack did not fall asleep again")
    finally:
        supply.set_output(False)


def _answers(bms) -> bool:
    from drivers.pack.errors import PackPortError

    try:
        bms.reading()
        return True
    except PackPortError:
        return False


def test_c15_reverse_polarity(step, station, supply, daq, clock, cond: CertConditions, work_order) -> None:
    """Polarity-reversal fixture only: the supply at 10 V, 1 A with its leads crossed (no
    current may flow), then the right way round: the pack takes a charge."""
    if "reversal_fixture" not in work_order.features:
        return   # NOT RUN: the clause row gives the reason
    from drivers.cert_fixtures import Reversal

    reversal = Reversal(station)
    with reversal.routed():
        supply.set_charge(cond.reverse_voltage_v, cond.reverse_limit_a)
        supply.set_output(True)
        clock.sleep(cond.reverse_hold_s)
        step.measure("c15_reverse_current_a", abs(daq.pack_current()))   # the fixture's shunt
    step.measure("c15_works_after", _charge_flows(supply, daq, clock, cond))
