"""RMA diagnosis of one returned V-series pack (CERT-RMA.md R00-R12): read it before
disturbing it, compare it with its own EOL record, classify it and say why.

Why this order:
- intake and the safety gates first: a red flag or a failed gate ends the diagnosis (UNSAFE)
  before any energy flows;
- the identity and every read-only dump come before any current: the log, the counters and
  the pack's clock are evidence of the past, read as the customer's pack left them (the
  console is read-only for the whole run, so nothing can clear or set them);
- rest, accuracy and DC resistance at the arrival state (moved into 40-60 % SOC only when
  outside it); then the full charge with its balancing watch, the 0.2 C capacity from full,
  the recharge to about 25 % and the 24 h self-discharge rest off the LFP plateau;
- the finish brings the SOC to storage level and reads the history again: only this run's
  own events may have been added.
Every threshold is in ``testplans/limits/rma/`` (measurement limits and ``[rma]``); the
rules are in ``classify.py``. The waits are on events (a current below a threshold, a cell
at its cut-off), polled coarsely, so the simulated bench crosses the 14-20 h and the 24 h
rest in seconds.
"""

from __future__ import annotations

import json
import math
import re
import statistics
from collections.abc import Callable
from dataclasses import asdict
from itertools import pairwise
from typing import Any, Literal

from common.clock import wait_until
from common.serial_number import parse_serial
from reports.record import Firmware
from testplans.in1 import check_in1
from testplans.methods import release_time, trip_time
from testplans.rma.analysis import (
    age_years,
    cells_median,
    counters_kept,
    cut_off_errors,
    drifts_per_day,
    log_kept,
    ratios_to_median,
    reading_jump,
    uv_spans_h,
    worst,
)
from testplans.rma.baseline import from_record, latest_pass_eol
from testplans.rma.classify import classify
from testplans.rma.conditions import RmaConditions
from testplans.rma.state import RmaState

#: The operator's checklist (CERT-RMA R00): item → the answer that is a red flag.
CHECKLIST = {"swelling": True, "burns": True, "leak_or_corrosion": True, "port_residue": True,
             "seals_intact": False, "breaker_ok": False}
INTAKE_FIELDS = ("rma_number", "claim", "install_date", "inverter")
PERCENT = 0.01   # one percent as a fraction


def _skip(step: Any, state: RmaState, name: str, why: str | None = None) -> bool:
    """The diagnosis ended earlier (or ``why``): this step's measurements are NOT RUN."""
    reason = why or (f"the diagnosis ended earlier: {state.ended}" if state.ended else None)
    if reason is None:
        return False
    taken = {m.name for m in step.record.measurements}
    for spec in list(step.specs.values()):
        if spec.step == name and spec.name not in taken:
            step.not_run(spec.name, reason)
    return True


def _cells_v(bms: Any, n: int) -> list[float]:
    """Each cell's median of ``n`` readings (an intermittent sense lead's single glitching
    report moves nothing: it is judged on its own at R11)."""
    return cells_median([bms.reading().cell_voltages_v for _ in range(n)])


def _attach_json(step: Any, name: str, data: Any, what: str) -> None:
    step.attach(name, json.dumps(data, indent=1, default=str).encode(), "application/json", what)


# ------------------------------------------------------------------------------ R00
def test_intake(step, state: RmaState, intake, store, work_order) -> None:
    """Claim and checklist as the work order gives them; an unanswered item is recorded as
    not given, never assumed either way."""
    checklist = intake.get("checklist", {})
    answers = {k: checklist.get(k) for k in CHECKLIST}
    state.intake = {**{k: intake.get(k) for k in INTAKE_FIELDS}, "checklist": answers,
                    "not_given": [k for k in (*INTAKE_FIELDS, *CHECKLIST)
                                  if (answers.get(k) if k in CHECKLIST else intake.get(k)) is None]}
    flags = [k for k, bad in CHECKLIST.items() if answers[k] is bad]
    state.findings.red_flags = flags
    eol = latest_pass_eol(store, work_order.serial)
    state.baseline = from_record(eol) if eol is not None else None
    state.intake["baseline"] = (asdict(state.baseline) if state.baseline else
                                "none: no PASS EOL record of this serial in the store")
    _attach_json(step, "intake.json", state.intake, "intake, checklist and the EOL baseline found")
    step.measure("intake_red_flags", ",".join(flags) or "none")
    if flags:
        state.ended = f"red flag at intake ({', '.join(flags)}): UNSAFE"


# ------------------------------------------------------------------------------ R01
def test_gates(step, safety, daq, clock, state: RmaState, cond: RmaConditions, work_order,
               rma_thresholds) -> None:
    if _skip(step, state, "gates"):
        return
    f = state.findings
    bond, insulation = safety.ground_bond(10.0), safety.insulation(500.0)
    f.bond_ohm = bond
    gates = [step.measure("ground_bond_ohm", bond), step.measure("insulation_mohm", insulation)]
    f.gate_failures = [f"{m.name}: {m.message}" for m in gates if m.outcome != "PASS"]
    if f.gate_failures:   # nothing is switched on after a failed safety gate
        state.ended = "a gate failed: " + "; ".join(f.gate_failures)
        step.not_run("terminal_voltage_v", state.ended)
        return
    if work_order.breaker:   # α Plus: breaker, then POWER, then SW [M 5.4]
        daq.set_relay("breaker", True)
    daq.set_relay("power", True)
    daq.press("sw", cond.sw_press_s)
    clock.sleep(cond.power_on_settle_s)
    volts = daq.pack_voltage()
    m = step.measure("terminal_voltage_v", volts)
    if m.outcome != "PASS":
        f.gate_failures.append(f"terminal_voltage_v: {m.message}")
    if 0 < volts < rma_thresholds["deeply_discharged_v"]:
        f.gate_failures.append("deeply discharged: charge only with authorization [M 4.2]")
    if f.gate_failures:
        state.ended = "a gate failed: " + "; ".join(f.gate_failures)


# ------------------------------------------------------------------------------ R02
def test_identity(step, bms, recorder, state: RmaState, rma_thresholds) -> None:
    if _skip(step, state, "identity"):
        return
    bms.find_address()
    ident = bms.identity()
    info = bms.console_identity()
    recorder.record.firmware = Firmware(main=info.main_version, boot=info.boot_version,
                                        bms_board=info.board_version)
    step.measure("serial_rs485", ident.serial)
    step.measure("serial_console", info.barcode)
    fw = [step.measure("fw_main", info.main_version), step.measure("fw_boot", info.boot_version),
          step.measure("fw_bms_board", info.board_version)]
    state.findings.fw_not_released = [f"{m.name} {m.value}" for m in fw if m.outcome != "PASS"]
    step.not_run("param_crc_stored", "the parameter CRC is printed only in test mode, which an "
                 "RMA run never enters (SPEC §7); the stored parameters are read over RS485")
    released = rma_thresholds["released_system_parameters"]
    stored = bms.system_parameters()
    state.stored_parameters = stored
    differ = [f"{k} {stored.get(k)} (released {v:g})" for k, v in released.items()
              if stored.get(k) is None or not math.isclose(stored[k], v, abs_tol=1e-6)]
    state.findings.parameters_differ = differ
    step.measure("system_parameters_released", not differ, "; ".join(differ))


# ------------------------------------------------------------------------------ R03
def test_dumps(step, bms, clock, state: RmaState) -> None:
    if _skip(step, state, "dumps"):
        return
    state.run_started_at = clock.utcnow()
    dumps = bms.history()
    state.dumps_read_at = clock.now()
    state.dumps = dumps
    for i, d in enumerate(dumps.dumps):
        name = f"dump_{i:02d}_{d.command.replace(' ', '_')}.txt"
        step.attach(name, d.raw, "text/plain", f"console `{d.command}` as received (R03)")
    state.events = [{"time": e.time.isoformat(), "code": e.code, "info": e.info} for e in dumps.log]
    soh = next((d.parsed for d in dumps.dumps if d.command.startswith("soh") and d.parsed), None)
    if soh is not None:
        state.cells["soh_count"] = [c.count for c in soh]
        state.cells["soh_status"] = [c.status for c in soh]
    problems = [f"{d.command}: {d.problem}" for d in dumps.dumps if d.parsed is None]
    step.measure("console_dumps_parsed", not problems, "; ".join(problems))
    step.measure("log_entries", len(dumps.log))


# ------------------------------------------------------------------------------ R04
def test_history(step, state: RmaState, clock, work_order) -> None:
    """Counters and log as misuse indicators; a historical counter is evidence of the past,
    never a present alarm. A label this firmware does not print is an ERROR, never 0."""
    if _skip(step, state, "history", None if state.ended or state.dumps else "no dumps were read"):
        return
    d, f = state.dumps, state.findings
    counters = d.stat.counters if d.stat is not None else {}

    def total(*labels: str) -> int | None:
        return sum(counters[k] for k in labels) if all(k in counters for k in labels) else None

    def why(*labels: str) -> str:
        return "" if total(*labels) is not None else f"`stat` has no {' / '.join(labels)} label"

    f.cycles = total("CYCLE Times")
    step.measure("cycle_times", f.cycles, why("CYCLE Times"))
    sn = parse_serial(work_order.serial)
    f.age_years = age_years(sn.year, sn.month, clock.utcnow())
    step.measure("age_years", f.age_years)
    f.sc_times = total("SC Times")
    step.measure("sc_times", f.sc_times, why("SC Times"))
    f.coc_doc_times = total("COC Times", "DOC Times")
    step.measure("coc_doc_times", f.coc_doc_times, why("COC Times", "DOC Times"))
    f.charge_below_0c = total("CUT Times")
    step.measure("charge_below_0c_events", f.charge_below_0c, why("CUT Times"))
    f.input_ov_times = total("Input OV Times")
    step.measure("input_ov_times", f.input_ov_times, why("Input OV Times"))
    f.rv_times = total("RV Times")
    step.measure("rv_times", f.rv_times, why("RV Times"))
    spans = uv_spans_h(d.log, d.pack_time or clock.utcnow())
    f.uv_span_max_h = max(spans, default=0.0)
    step.measure("uv_span_max_h", f.uv_span_max_h)


# ------------------------------------------------------------------------------ R05
def test_rest(step, bms, daq, clock, state: RmaState, cond: RmaConditions, rma_thresholds) -> None:
    if _skip(step, state, "rest"):
        return
    clock.sleep(cond.rest_s)
    ocv = daq.pack_voltage()
    readings = [bms.reading() for _ in range(cond.rest_readings)]
    pack_v = statistics.fmean(r.pack_voltage_v for r in readings)
    cells = cells_median([r.cell_voltages_v for r in readings])
    cell, jump = reading_jump([r.cell_voltages_v for r in readings])
    if jump > rma_thresholds["cell_reading_jump_v"]:   # R11 looks closer
        state.suspects["cell_readings"] = f"at R05 cell {cell:02d} read {jump * 1e3:.0f} mV off its median"
    step.measure("bms_pack_voltage_error_v", pack_v - ocv)
    step.measure("bms_cell_sum_error_v", sum(cells) - ocv)
    state.findings.accuracy_failures = [
        f"{m.name} {m.value_text()} {m.unit}" for m in step.record.measurements
        if m.step == "rest" and m.outcome == "FAIL"]
    state.cells["rest_v"] = cells
    soc = readings[-1].soc_pct
    low, high = rma_thresholds["rest_soc_window_pct"]
    if low <= soc <= high:
        step.measure("rest_cell_spread_mv", max(cells) - min(cells))
    else:
        step.not_run("rest_cell_spread_mv", f"SOC {soc:.0f} % is outside {low:g}-{high:g} %: "
                     "the spread is judged at R10")


# ------------------------------------------------------------------------------ R11 (at rest)
def _claim(state: RmaState) -> str:
    return state.intake.get("claim") or "no claim given"


def test_targeted_at_rest(step, bms, daq, clock, state: RmaState, cond: RmaConditions) -> None:
    """R11's checks that need no current, at the arrival state right after R05's rest:
    repeated cell readings and both link ports. They run this early because the fixture's
    reference pack sleeps after 24 h idle like any V-series (SPEC 2.6), and the diagnosis
    lasts longer. Which checks run: ``TARGETED`` (the claim) and the R05 readings."""
    if _skip(step, state, "targeted_at_rest"):
        return
    f = state.findings
    pointed = _pointed(state)
    step.measure("targeted_checks", "; ".join(f"{k}: {v}" for k, v in pointed.items()) or "none",
                 f"claim: {_claim(state)}")
    aside = f"neither the claim nor a finding points here (claim: {_claim(state)})"
    if "cell_readings" not in pointed:
        step.not_run("cell_reading_jump_max_mv", aside)
    else:   # read-only, at rest
        readings = []
        for _ in range(cond.cell_readings):
            readings.append(bms.reading().cell_voltages_v)
            clock.sleep(cond.cell_readings_interval_s)
        f.cell_reading_jump = reading_jump(readings)
        cell, jump = f.cell_reading_jump
        step.measure("cell_reading_jump_max_mv", jump,
                     f"cell {cell:02d} over {cond.cell_readings} readings at rest")

    if "ports" not in pointed:
        for port in ("port0", "port1"):
            step.not_run(f"link_{port}_modules", aside)
    else:   # the fixture's reference pack on each port in turn; no current flows
        f.link_modules = {}
        for port in ("port0", "port1"):
            daq.set_relay(f"link_{port}", True)
            try:
                clock.sleep(cond.link_settle_s)
                f.link_modules[port] = bms.stack().module_count
            finally:
                daq.set_relay(f"link_{port}", False)
            step.measure(f"link_{port}_modules", f.link_modules[port])
        clock.sleep(cond.link_settle_s)


# ------------------------------------------------------------------------------ R06
def _bms_current_error(bms, daq, clock, cond: RmaConditions) -> float:
    errors = []
    for _ in range(cond.current_readings):
        errors.append(bms.console_current_a() - daq.pack_current())
        clock.sleep(cond.current_interval_s)
    return statistics.fmean(errors)


def _path_pulse(step, bms, daq, clock, cond: RmaConditions,
                direction: Literal["charge", "discharge"], switch: Callable[[bool], None],
                current: Callable[[], float]) -> str:
    """One pulse through one path (the source switched by ``switch``, its own read-back
    ``current``): does it flow, and how far is the BMS's current from the shunt's? '' when
    it flows, else the MOSFET finding."""
    problem = ""
    switch(True)
    try:
        clock.sleep(cond.pulse_settle_s)
        conducts = current() > cond.trip_current_a
        step.measure(f"{direction}_path_conducts", conducts)
        if conducts:
            step.measure(f"bms_current_error_{direction}_a", _bms_current_error(bms, daq, clock, cond))
        else:
            said_on = getattr(bms.management(), f"{direction}_enabled")
            problem = (f"the {direction} path does not conduct at {cond.current_test_a:g} A"
                       + (f" while the BMS says the {direction} MOSFET is on" if said_on else ""))
            step.not_run(f"bms_current_error_{direction}_a", f"no {direction} current flows")
        clock.sleep(max(0.0, cond.pulse_s - cond.pulse_settle_s))
    finally:
        switch(False)
    clock.sleep(cond.relax_s)
    return problem


def test_accuracy(step, bms, daq, supply, load, clock, state: RmaState, cond: RmaConditions,
                  rma_thresholds) -> None:
    """BMS current at 0, +50 and -50 A against the shunt, temperatures against the ambient
    (the EOL methods); a pulse that does not flow while the BMS says its MOSFET is on is a
    MOSFET that will not conduct."""
    if _skip(step, state, "accuracy"):
        return
    f = state.findings
    before = [m for m in step.record.measurements if m.step == "accuracy"]
    step.measure("bms_current_error_rest_a", _bms_current_error(bms, daq, clock, cond))
    ambient = daq.ambient_temperature()
    temps = bms.reading().temperatures_c
    stuck = [f"{s} {c:.1f} °C" for s, c in temps.items()
             if c <= rma_thresholds["sensor_open_c"] or c >= rma_thresholds["sensor_short_c"]]
    f.stuck_sensors = stuck
    for sensor, celsius in temps.items():
        step.measure(f"temp_error_{sensor}_c", celsius - ambient)
    step.measure("temp_sensor_stuck", ", ".join(stuck) or "none")
    amps = cond.current_test_a
    supply.set_charge(cond.charge_voltage_v, amps)
    charge = _path_pulse(step, bms, daq, clock, cond, "charge", supply.set_output,
                         supply.measure_current)
    load.set_cc(amps)
    discharge = _path_pulse(step, bms, daq, clock, cond, "discharge", load.set_input,
                            load.measure_current)
    mosfets = [p for p in (charge, discharge) if p]
    f.mosfet_failures = mosfets
    stuck_names = {s.split()[0] for s in stuck}
    failed = [m for m in step.record.measurements if m.step == "accuracy" and m not in before
              and m.outcome == "FAIL" and m.limit.comparison == "range"
              and not any(m.name == f"temp_error_{s}_c" for s in stuck_names)]
    f.accuracy_failures = (f.accuracy_failures or []) + [
        f"{m.name} {m.value_text()} {m.unit}" for m in failed]


# ------------------------------------------------------------------------------ R07
def _flows(source_current: Any, cond: RmaConditions) -> bool:
    return source_current() > cond.trip_current_a


def _move_soc(bms, supply, load, clock, cond: RmaConditions, low: float, high: float) -> str:
    """Charge or discharge at 50 A until the BMS SOC is inside [low, high]; '' when done."""
    soc = bms.reading().soc_pct
    if low <= soc <= high:
        return ""
    target = (low + high) / 2
    if soc < low:
        supply.set_charge(cond.charge_voltage_v, cond.charge_current_a)
        switch, current = supply.set_output, supply.measure_current
    else:
        load.set_cc(cond.charge_current_a)
        switch, current = load.set_input, load.measure_current
    switch(True)
    try:
        done = wait_until(clock, lambda: not _flows(current, cond) or
                          (bms.reading().soc_pct >= target if soc < low else
                           bms.reading().soc_pct <= target),
                          cond.soc_move_timeout_s, cond.soc_move_poll_s)
    finally:
        switch(False)
    clock.sleep(cond.relax_s)
    now = bms.reading().soc_pct
    return "" if done and low <= now <= high else f"SOC {now:.0f} % could not be brought to {low:g}-{high:g} %"


def test_dcir(step, bms, daq, supply, load, clock, state: RmaState, cond: RmaConditions) -> None:
    """A 50 A, 10 s discharge step at 50 ± 10 % SOC: the pack's DCR (EOL method) and each
    cell's ΔV/ΔI at 1 s and 10 s, against the median cell and the EOL baseline."""
    f = state.findings
    why = "the discharge path does not conduct" if f.mosfet_failures and any(
        "discharge" in m for m in f.mosfet_failures) else None
    if _skip(step, state, "dcir", why):
        return
    low, high = cond.dcir_soc_window_pct
    problem = _move_soc(bms, supply, load, clock, cond, low, high)
    if problem:
        _skip(step, state, "dcir", problem)
        return
    rest = _cells_v(bms, cond.dcir_readings)
    v0 = daq.pack_voltage()
    load.set_cc(cond.dcir_current_a)
    load.set_input(True)
    t_on = clock.now()
    try:
        clock.sleep(cond.dcir_after_s)
        v1, amps = daq.pack_voltage(), load.measure_current()
        at_1s = _cells_v(bms, cond.dcir_readings)
        clock.sleep(max(0.0, t_on + cond.pulse_s - clock.now() - 0.5))
        at_10s = _cells_v(bms, cond.dcir_readings)
    finally:
        load.set_input(False)
    amps = max(amps, 1e-3)
    dcr = (v0 - v1) / amps
    cell_1s = [(a - b) / amps for a, b in zip(rest, at_1s, strict=True)]
    cell_10s = [(a - b) / amps for a, b in zip(rest, at_10s, strict=True)]
    f.dcr_ohm, f.cells_dcir_sum_ohm = dcr, sum(cell_1s)
    step.measure("dcr_mohm", dcr)
    step.measure("cells_dcir_sum_mohm", sum(cell_1s))
    ratios = ratios_to_median(cell_1s)
    f.cell_dcir_ratio_max = worst(ratios)
    step.measure("cell_dcir_ratio_max", f.cell_dcir_ratio_max[1],
                 f"cell {f.cell_dcir_ratio_max[0]:02d}")
    step.measure("cell_dcir_10s_ratio_max", worst(ratios_to_median(cell_10s))[1])
    state.cells.update(dcir_1s_ohm=cell_1s, dcir_10s_ohm=cell_10s, dcir_ratio=ratios)
    base = state.baseline
    if base is None or base.dcr_ohm is None:
        why = "no PASS EOL record of this serial in the store: nothing to compare with"
        step.not_run("dcr_rise_ratio", why)
        step.not_run("cell_dcir_rise_max", why)
        return
    f.dcr_eol_ohm = base.dcr_ohm
    step.measure("dcr_rise_ratio", dcr / base.dcr_ohm,
                 f"{dcr * 1e3:.2f} mΩ now, {base.dcr_ohm * 1e3:.2f} mΩ at EOL ({base.started_at})")
    rises = [r / b if b else float("nan") for r, b in zip(ratios, base.cell_dcr_ratios, strict=True)
             if b is not None]
    state.cells["dcir_ratio_eol"] = list(base.cell_dcr_ratios)
    if len(rises) != len(ratios):
        step.not_run("cell_dcir_rise_max", "the EOL record lacks some cells' DCR ratios")
        return
    f.cell_dcir_rise_max = worst(rises)
    step.measure("cell_dcir_rise_max", f.cell_dcir_rise_max[1], f"cell {f.cell_dcir_rise_max[0]:02d}")


# ------------------------------------------------------------------------------ R08
def _balancing_watch(bms, clock, cond: RmaConditions, th: dict[str, Any]) -> tuple[str, str, list]:
    """After the end of charge: is balancing needed, and does the spread fall while the BMS
    balances? (state, evidence, [[h, spread V, balancing]])"""
    series: list[list[float]] = []
    t0 = clock.now()

    def spread() -> tuple[float, float, bool]:
        cells = _cells_v(bms, 4)
        return max(cells) - min(cells), max(cells), any(bms.balancing())

    s0, top, bal = spread()
    series.append([0.0, s0, float(bal)])
    if top < th["balancing_start_v"] or s0 < th["balancing_start_spread_v"]:
        return "not needed", f"top cell {top:.3f} V, spread {s0 * 1e3:.0f} mV", series
    window = th["balancing_window_h"] * 3600.0
    while clock.now() - t0 < window:
        clock.sleep(min(cond.balancing_poll_s, window - (clock.now() - t0)))
        s, _, bal = spread()
        series.append([(clock.now() - t0) / 3600.0, s, float(bal)])
        if s0 - s >= th["balancing_min_fall_v"]:
            return "working", f"spread {s0 * 1e3:.0f} → {s * 1e3:.0f} mV in {series[-1][0]:.1f} h", series
    said = "the BMS reports balancing" if any(p[2] for p in series) else "no cell balancing reported"
    return "inert", (f"spread {s0 * 1e3:.0f} → {series[-1][1] * 1e3:.0f} mV in {window / 3600:g} h "
                     f"from a top cell of {top:.3f} V ({said})"), series


def test_charge(step, bms, supply, clock, state: RmaState, cond: RmaConditions, rma_thresholds) -> None:
    f = state.findings
    why = None
    if f.mosfet_failures:
        why = "a MOSFET does not conduct: " + "; ".join(f.mosfet_failures)
    if _skip(step, state, "charge", why):
        return
    supply.set_charge(cond.charge_voltage_v, cond.charge_current_a)
    t0 = last = clock.now()
    ah = 0.0
    amps = cond.charge_current_a
    curve: list[list[float]] = []
    supply.set_output(True)
    try:
        while clock.now() - t0 < cond.charge_timeout_s:
            clock.sleep(cond.charge_poll_s)
            amps_now = supply.measure_current()
            now = clock.now()
            ah += (amps + amps_now) / 2 * (now - last) / 3600.0
            amps, last = amps_now, now
            curve.append([(now - t0) / 3600.0, ah, amps_now])
            if amps_now < cond.charge_end_current_a:
                state.charged = True
                break
    finally:
        supply.set_output(False)
    state.series["charge"] = curve
    step.measure("charged_ah", ah, "" if state.charged else "the charge did not end within the timeout")
    clock.sleep(cond.relax_s)
    cells = _cells_v(bms, 4)
    state.cells["top_of_charge_v"] = cells
    step.measure("top_of_charge_spread_mv", max(cells) - min(cells))
    verdict, evidence, series = _balancing_watch(bms, clock, cond, rma_thresholds)
    state.series["balancing"] = series
    f.balancing, f.balancing_evidence = verdict, evidence
    step.measure("balancing", verdict, evidence)


# ------------------------------------------------------------------------------ R09
def test_capacity(step, bms, daq, load, clock, state: RmaState, cond: RmaConditions) -> None:
    f = state.findings
    why = None if state.charged else "the pack was not charged to full (R08)"
    if _skip(step, state, "capacity", why):
        return
    clock.sleep(cond.capacity_rest_s)
    lo, hi = cond.capacity_temp_window_c

    def cell_temp() -> float:
        return statistics.fmean(bms.reading().cell_temperatures_c)

    wait_until(clock, lambda: lo <= cell_temp() <= hi, cond.capacity_soak_timeout_s,
               cond.capacity_soak_poll_s)   # the charge warmed the cells: 25 ± 2 °C first
    temp = cell_temp()
    note = "" if lo <= temp <= hi else f"cells at {temp:.1f} °C, outside {lo:g}-{hi:g} °C"
    load.set_cc(cond.capacity_current_a)
    t0 = last = clock.now()
    ah = wh = 0.0
    v_last, curve, socs = daq.pack_voltage(), [], []
    low_cell = min(_cells_v(bms, 3))
    load.set_input(True)
    try:
        while clock.now() - t0 < cond.capacity_timeout_s:
            fine = low_cell < cond.capacity_fine_below_v   # near the cut-off: only the current
            clock.sleep(cond.capacity_fine_poll_s if fine else cond.capacity_poll_s)
            amps = load.measure_current()
            now = clock.now()
            if amps < cond.trip_current_a:   # the BMS cut off: the last interval counts half
                ah += cond.capacity_current_a * (now - last) / 2 / 3600.0
                break
            ah += amps * (now - last) / 3600.0
            wh += amps * v_last * (now - last) / 3600.0
            last = now
            if not fine:
                v_last = daq.pack_voltage()
                low_cell = min(_cells_v(bms, 3))
                curve.append([ah, v_last, low_cell])
                socs.append([ah, bms.console_soc_pct()])
    finally:
        load.set_input(False)
    cells_last = _cells_v(bms, 3)   # at the cut-off, before they relax far
    curve.append([ah, daq.pack_voltage(), min(cells_last)])
    state.series["capacity"] = curve
    state.capacity_ah = ah
    state.soc_known_pct = 0.0
    step.measure("capacity_ah", ah, note)
    step.measure("energy_wh", wh)
    f.measured_soh_pct = 100.0 * ah / cond.design_capacity_ah
    step.measure("measured_soh_pct", f.measured_soh_pct)
    f.limiting_cell = worst([-v for v in cells_last])[0]
    state.cells["end_of_discharge_v"] = cells_last
    step.measure("limiting_cell", f"cell{f.limiting_cell:02d}")
    errors = [abs(soc - 100.0 * (1 - done / ah)) for done, soc in socs] if ah > 0 else []
    f.soc_error_pct = max(errors, default=0.0)
    step.measure("bms_soc_error_pct", f.soc_error_pct)
    soh_bms = 100.0 * bms.reading().full_ah / cond.design_capacity_ah
    step.measure("bms_soh_error_pct", abs(soh_bms - f.measured_soh_pct))


# ------------------------------------------------------------------------------ R10
def _charge_ah(supply, clock, cond: RmaConditions, ah: float) -> None:
    supply.set_charge(cond.charge_voltage_v, cond.charge_current_a)
    supply.set_output(True)
    try:
        clock.sleep(ah / cond.charge_current_a * 3600.0)
    finally:
        supply.set_output(False)


def _rest_awake(bms, clock, seconds: float, poll_s: float) -> None:
    """Rest ``seconds`` with no current; a console read every ``poll_s`` keeps the BMS from
    its 24 h idle sleep (SPEC §2.6), as an inverter's polling does in the field."""
    end = clock.now() + seconds
    while clock.now() < end:
        clock.sleep(min(poll_s, end - clock.now()))
        bms.console_soc_pct()


def test_self_discharge(step, bms, supply, clock, state: RmaState, cond: RmaConditions) -> None:
    why = None if state.capacity_ah else "no capacity was measured (R09): the SOC is not known"
    if _skip(step, state, "self_discharge", why):
        return
    assert state.capacity_ah is not None and state.soc_known_pct is not None
    target = cond.self_discharge_soc_pct
    _charge_ah(supply, clock, cond, (target - state.soc_known_pct) * PERCENT * state.capacity_ah)
    state.soc_known_pct = target
    clock.sleep(cond.self_discharge_settle_s)
    before = _cells_v(bms, 8)
    t0 = clock.now()
    _rest_awake(bms, clock, cond.self_discharge_rest_s, cond.awake_poll_s)
    after = _cells_v(bms, 8)
    drifts = drifts_per_day(before, after, clock.now() - t0)
    state.cells["drift_v_per_day"] = drifts
    state.findings.drift_max_v_day = worst(drifts, absolute=True)
    cell, drift = state.findings.drift_max_v_day
    step.measure("cell_drift_max_mv_day", abs(drift), f"cell {cell:02d}: {drift * 1e3:+.2f} mV/day")


# ------------------------------------------------------------------------------ R11
#: R11 "only where the claim points": each targeted check and the claim's words that point
#: at it (lower case, each the start of a word: "port" is not "reports"); a finding of an earlier step can point at one too
#: (``RmaState.suspects``). Only read-only or reversible stimuli: the log the run already
#: caused, readings at rest, the link relays with no current, and the 15 s tier the pack
#: recloses from after 30 s (as at EOL, at the storage SOC).
TARGETED: dict[str, tuple[str, ...]] = {
    "cut_off": ("capacity", "runtime", "run time", "shuts", "shut down", "switches off",
                "turns off", "cuts off", "cut off"),
    "cell_readings": ("cell voltage", "jump", "erratic", "intermittent", "flicker"),
    "ports": ("communicat", "parallel", "stack", "link", "port", "not seen", "master", "slave"),
    "tier": ("overload", "under load", "trips", "shuts", "switches off", "turns off",
             "high current", "surge"),
    "in1": ("in1", "emergency stop", "e-stop", "remote off", "remote stop", "dry contact"),
}


def _pointed(state: RmaState) -> dict[str, str]:
    """Each check to run → why (the claim's word, or the finding that suspects it)."""
    claim = (state.intake.get("claim") or "").lower()
    out = {}
    for check, words in TARGETED.items():
        word = next((w for w in words if re.search(rf"\b{re.escape(w)}", claim)), None)
        if word is not None:
            out[check] = f"the claim says {word!r}"
        elif check in state.suspects:
            out[check] = state.suspects[check]
    return out


def _tier(load, clock, cond: RmaConditions) -> tuple[float | None, float | None, float, str]:
    """The 15 s tier under a load capture through its release (the EOL method): (trip s,
    release s, Ah drawn, why no time)."""
    load.start_capture(cond.tier_capture_rate_hz, cond.tier_capture_s)
    started = clock.now()
    load.set_cc(cond.tier_current_a)
    load.set_input(True)
    try:
        tripped = wait_until(clock, lambda: load.measure_current() < cond.trip_current_a
                             and clock.now() - started > 0.05, cond.tier_timeout_s, 0.5)
        if tripped:   # the input stays on at the probe current: the release shows as current
            load.set_cc(cond.release_probe_current_a)
            clock.sleep(max(0.0, started + cond.tier_capture_s - clock.now()))
    finally:
        load.set_input(False)
    capture = load.fetch_capture()   # waits for its end: the load is idle after
    samples = list(zip(capture.times(), capture.samples, strict=True))
    ah = sum(abs(a[1]) * (b[0] - a[0]) for a, b in pairwise(samples)) / 3600.0
    if not tripped:
        return None, None, ah, f"no trip within {cond.tier_timeout_s:g} s at {cond.tier_current_a:g} A"
    found = trip_time(samples, cond.tier_current_a, cond.tier_start_fraction, cond.trip_current_a)
    if found is None:
        return None, None, ah, "the capture shows no start at the set point"
    t0, t_trip = found
    t_release = release_time(samples, t_trip, cond.trip_current_a)
    return t_trip - t0, None if t_release is None else t_release - t_trip, ah, ""


def test_targeted(step, bms, supply, load, daq, clock, state: RmaState, cond: RmaConditions) -> None:
    """R11 after R10: R09's cut-off as the pack logged it, IN1, and the 15 s tier at the
    storage SOC (the EOL methods); each only where pointed (TARGETED), else NOT RUN with why."""
    if _skip(step, state, "targeted"):
        return
    f = state.findings
    pointed = _pointed(state)
    aside = f"neither the claim nor a finding points here (claim: {_claim(state)})"
    why: str | None
    if "cut_off" not in pointed or not state.capacity_ah or state.run_started_at is None:
        why = aside if "cut_off" not in pointed else "no capacity test ran to the BMS cut-off (R09)"
        for kind in ("pack", "cell"):
            step.not_run(f"cut_off_{kind}_uv_error_v", why)
    else:   # read-only: the protection that ended R09, as the pack logged it
        f.cut_off_error_v = cut_off_errors(bms.history().log, state.run_started_at,
                                           state.stored_parameters)
        for kind in ("pack", "cell"):
            if kind in f.cut_off_error_v:
                step.measure(f"cut_off_{kind}_uv_error_v", f.cut_off_error_v[kind])
            else:
                step.not_run(f"cut_off_{kind}_uv_error_v",
                             f"R09's cut-off was not a {kind} under-voltage protection")

    why = None
    if "in1" not in pointed:
        why = aside
    elif f.mosfet_failures:
        why = "a MOSFET does not conduct: " + "; ".join(f.mosfet_failures)
    if why:
        step.not_run("in1_opens_both_paths", why)
        step.not_run("in1_paths_resume", why)
    else:   # a 10 A discharge for about two seconds: the EOL method (testplans/in1.py)
        in1 = check_in1(load, daq, bms, clock, amps=cond.in1_current_a, settle_s=cond.in1_settle_s,
                        deadline_s=cond.in1_deadline_s, poll_s=cond.in1_poll_s,
                        flowing_a=cond.trip_current_a)
        f.in1_problem = in1.problem
        step.measure("in1_opens_both_paths", in1.opens_both, "" if in1.opens_both else in1.problem)
        step.measure("in1_paths_resume", in1.resumes, "" if in1.resumes else in1.problem)

    why = None
    if "tier" not in pointed:
        why = aside
    elif f.mosfet_failures:
        why = "a MOSFET does not conduct: " + "; ".join(f.mosfet_failures)
    elif not state.capacity_ah or state.soc_known_pct is None:
        why = "the SOC is not known (no capacity test): the tier is not run near a cut-off"
    if why:
        step.not_run("tier_trip_s", why)
        step.not_run("tier_release_s", why)
        return
    assert state.capacity_ah is not None and state.soc_known_pct is not None
    delta = (cond.finish_soc_pct - state.soc_known_pct) * PERCENT * state.capacity_ah
    if delta > 0:   # at the storage SOC: 16 s at 150 A leaves every cell far from its cut-off
        _charge_ah(supply, clock, cond, delta)
        state.soc_known_pct = cond.finish_soc_pct
        clock.sleep(cond.relax_s)
    trip, release, ah, problem = _tier(load, clock, cond)
    state.soc_known_pct -= ah / state.capacity_ah / PERCENT
    f.tier_trip_s, f.tier_release_s, f.tier_no_trip = trip, release, problem
    step.measure("tier_trip_s", trip, problem)
    step.measure("tier_release_s", release, problem or ("" if release is not None else
                                                         "the capture shows no current after the trip"))
    clock.sleep(cond.relax_s)


# ------------------------------------------------------------------------------ R12
def test_finish(step, bms, supply, load, clock, state: RmaState, cond: RmaConditions,
                rma_thresholds) -> None:
    if _skip(step, state, "finish", None if state.dumps else "no dumps were read"):
        return
    if state.capacity_ah and state.soc_known_pct is not None:
        delta = (cond.finish_soc_pct - state.soc_known_pct) * PERCENT * state.capacity_ah
        if delta > 0:
            _charge_ah(supply, clock, cond, delta)
        soc = cond.finish_soc_pct
        step.measure("finish_soc_pct", soc, "from the station's own Ah count")
    else:
        paths_ok = not state.findings.mosfet_failures
        problem = _move_soc(bms, supply, load, clock, cond, 40.0, 60.0) if paths_ok else \
            "a MOSFET does not conduct: the SOC is left as it came"
        soc = bms.reading().soc_pct
        step.measure("finish_soc_pct", soc, problem or "the BMS's SOC (no capacity measured)")
    low, high = rma_thresholds["rest_soc_window_pct"]
    if state.findings.balancing in ("working", "not needed", "inert") and low <= soc <= high:
        clock.sleep(cond.self_discharge_settle_s)
        cells = _cells_v(bms, 8)
        state.cells["storage_v"] = cells
        state.findings.rest_spread_v = max(cells) - min(cells)
        step.measure("rest_spread_20_80_mv", state.findings.rest_spread_v)
    else:
        step.not_run("rest_spread_20_80_mv", "no rest at 20-80 % SOC after a top-of-charge balancing")
    step.measure("test_mode_off", bms.console_in_normal_mode())
    after = bms.history()
    for i, d in enumerate(after.dumps):
        step.attach(f"after_{i:02d}_{d.command.replace(' ', '_')}.txt", d.raw, "text/plain",
                    f"console `{d.command}` at the end (R12)")
    before = state.dumps
    lost = counters_kept(before.stat.counters if before.stat else {},
                         after.stat.counters if after.stat else {})
    assert state.run_started_at is not None
    log_problem = log_kept(before.log, after.log, state.run_started_at)
    problems = ([f"counters fell: {', '.join(lost)}"] if lost else []) + ([log_problem] if log_problem else [])
    step.measure("history_untouched", not problems, "; ".join(problems))
    if before.pack_time is None or after.pack_time is None or state.dumps_read_at is None:
        step.measure("pack_clock_error_s", None, "the pack's time was not read")
    else:
        elapsed = clock.now() - state.dumps_read_at
        step.measure("pack_clock_error_s",
                     (after.pack_time - before.pack_time).total_seconds() - elapsed)


# ------------------------------------------------------------------------------ classify
def test_classify(step, state: RmaState, rma_thresholds) -> None:
    """The rules of CERT-RMA in order: the first match is the class; every match, and every
    rule that could not run, is kept with its evidence (diagnosis.json)."""
    diagnosis = classify(state.findings, rma_thresholds)
    _attach_json(step, "diagnosis.json", {**diagnosis.as_dict(), "findings": state.findings.as_dict(),
                                          "intake": state.intake, "cells": state.cells,
                                          "series": state.series, "events": state.events},
                 "the class, the rule, every match with its evidence, the findings and series")
    first = diagnosis.matches[0]
    step.measure("rma_class", diagnosis.primary, first.evidence)
    step.measure("rma_rule", diagnosis.rule)
