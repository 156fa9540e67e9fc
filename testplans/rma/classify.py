"""The RMA classification (CERT-RMA "Classification"): rules in the table's order, each a
small function of the findings and the ``[rma]`` thresholds that returns its evidence (or
None). The first match is the primary class; every match is listed with its evidence; a rule
whose inputs were not measured is listed as NOT RUN with what it lacked, never guessed.

Pure: no station, no clock. The plan fills :class:`Findings` in SI units as it measures.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

CLASSES = ("UNSAFE", "FIRMWARE", "BMS", "WIRING", "CELL", "MISUSE", "WEAR-OUT", "NO FAULT FOUND")

#: The disposition of each primary class (CERT-RMA: return, BMS repair, cell module
#: replacement, reflash, scrap) [A: the pairing is this project's].
DISPOSITION = {
    "UNSAFE": "scrap", "FIRMWARE": "reflash", "BMS": "BMS repair", "WIRING": "BMS repair",
    "CELL": "cell module replacement", "MISUSE": "return to customer (outside warranty)",
    "WEAR-OUT": "return to customer (end of life)", "NO FAULT FOUND": "return to customer",
}

#: What an NFF report asks the installer to check [M 5.3.3].
SYSTEM_SIDE_CAUSES = (
    "inverter protocol and DIP setting", "CVL/CCL settings of the inverter",
    "cabling and torque of the terminals", "parallel cables of unequal length [M 5.3.3]",
)


@dataclass
class Findings:
    """What the steps established, SI units; None = not measured (NOT RUN)."""

    red_flags: list[str] = field(default_factory=list)
    gate_failures: list[str] = field(default_factory=list)
    fw_not_released: list[str] = field(default_factory=list)
    parameters_differ: list[str] | None = None
    soc_error_pct: float | None = None
    accuracy_failures: list[str] | None = None
    stuck_sensors: list[str] | None = None
    balancing: str | None = None              # "working" | "not needed" | "inert"
    balancing_evidence: str = ""
    mosfet_failures: list[str] | None = None
    bond_ohm: float | None = None
    dcr_ohm: float | None = None
    dcr_eol_ohm: float | None = None
    cells_dcir_sum_ohm: float | None = None
    cell_dcir_ratio_max: tuple[int, float] | None = None      # (cell 1..16, ratio)
    cell_dcir_rise_max: tuple[int, float] | None = None
    measured_soh_pct: float | None = None
    limiting_cell: int | None = None
    rest_spread_v: float | None = None        # at 20-80 % SOC after balancing
    drift_max_v_day: tuple[int, float] | None = None          # (cell, signed drift)
    sc_times: int | None = None
    coc_doc_times: int | None = None
    charge_below_0c: int | None = None
    input_ov_times: int | None = None
    rv_times: int | None = None
    uv_span_max_h: float | None = None
    cycles: int | None = None
    age_years: float | None = None
    # R11 targeted checks (None: not run, the claim did not point there)
    cut_off_error_v: dict[str, float] | None = None   # "pack"/"cell": logged at trip − stored
    tier_trip_s: float | None = None
    tier_release_s: float | None = None
    tier_no_trip: str = ""                    # why the tier gave no time (it did not trip ...)
    in1_problem: str | None = None            # R11: "" IN1 worked, else what was wrong
    link_modules: dict[str, int] | None = None           # port → modules RS485 answers for
    cell_reading_jump: tuple[int, float] | None = None   # (cell, V off its median)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Match:
    cls: str
    rule: str
    evidence: str


@dataclass(frozen=True)
class Diagnosis:
    primary: str
    rule: str
    matches: tuple[Match, ...]
    not_run: tuple[tuple[str, str], ...]      # (rule, what it lacked)

    @property
    def disposition(self) -> str:
        return DISPOSITION[self.primary]

    @property
    def classes(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(m.cls for m in self.matches))

    def as_dict(self) -> dict[str, Any]:
        return {"primary": self.primary, "rule": self.rule, "disposition": self.disposition,
                "matches": [asdict(m) for m in self.matches],
                "not_run": [{"rule": r, "why": w} for r, w in self.not_run],
                "system_side_causes": list(SYSTEM_SIDE_CAUSES)
                if self.primary == "NO FAULT FOUND" else []}


class NotMeasured(Exception):
    """A rule's input is missing: the rule is NOT RUN (the message says what is missing)."""


def _need(value: Any, what: str) -> Any:
    if value is None:
        raise NotMeasured(what)
    return value


Thresholds = Mapping[str, Any]
Rule = Callable[[Findings, Thresholds], str | None]


# -- UNSAFE ---------------------------------------------------------------------------------
def intake_red_flag(f: Findings, th: Thresholds) -> str | None:
    return f"red flags at intake: {', '.join(f.red_flags)}" if f.red_flags else None


def gate_failed(f: Findings, th: Thresholds) -> str | None:
    return "; ".join(f.gate_failures) if f.gate_failures else None


# -- FIRMWARE -------------------------------------------------------------------------------
def firmware_not_released(f: Findings, th: Thresholds) -> str | None:
    return "not released: " + ", ".join(f.fw_not_released) if f.fw_not_released else None


def parameters_not_released(f: Findings, th: Thresholds) -> str | None:
    differ = _need(f.parameters_differ, "the stored parameters (RS485)")
    return "stored parameters differ from the released set: " + ", ".join(differ) if differ else None


def soc_error(f: Findings, th: Thresholds) -> str | None:
    err = _need(f.soc_error_pct, "the SOC comparison of the capacity test")
    if _cell_evidence(f, th):
        return None   # only on healthy cells: a cell fault explains a wrong SOC
    limit = th["soc_error_max_pct"]
    return f"BMS SOC off by {err:.1f} % (> {limit:g} %) on healthy cells" if err > limit else None


# -- BMS --------------------------------------------------------------------------------------
def sensor_stuck(f: Findings, th: Thresholds) -> str | None:
    stuck = _need(f.stuck_sensors, "the temperature readings")
    return "sensors at an open/short value: " + ", ".join(stuck) if stuck else None


def bms_accuracy(f: Findings, th: Thresholds) -> str | None:
    bad = _need(f.accuracy_failures, "the accuracy checks")
    return "outside the EOL limits: " + "; ".join(bad) if bad else None


def balancing_inert(f: Findings, th: Thresholds) -> str | None:
    state = _need(f.balancing, "the top-of-charge balancing watch")
    return f.balancing_evidence or "balancing inert" if state == "inert" else None


def mosfet_stuck(f: Findings, th: Thresholds) -> str | None:
    bad = _need(f.mosfet_failures, "the charge and discharge pulses")
    return "; ".join(bad) if bad else None


def protection_wrong(f: Findings, th: Thresholds) -> str | None:
    """R11: the under-voltage cut-off where the BMS's stored threshold says, and the 15 s
    tier's trip and release inside SPEC 2.3's station limits."""
    tier = f.tier_trip_s is not None or bool(f.tier_no_trip)
    if f.cut_off_error_v is None and not tier:
        raise NotMeasured("a targeted check of the protections (R11)")
    bad = []
    for kind, err in sorted((f.cut_off_error_v or {}).items()):
        tol = th[f"cut_off_{kind}_tol_v"]
        if abs(err) > tol:
            bad.append(f"{kind} under-voltage protection {err * 1e3:+.0f} mV from its stored "
                       f"threshold (> ±{tol * 1e3:g} mV)")
    if f.tier_no_trip:
        bad.append(f"15 s tier: {f.tier_no_trip}")
    for what, value, key in (("trip", f.tier_trip_s, "tier_trip_s"),
                             ("release", f.tier_release_s, "tier_release_s")):
        low, high = th[key]
        if value is not None and not low <= value <= high:
            bad.append(f"15 s tier {what} after {value:.2f} s (station limits {low:g}-{high:g} s)")
    return "; ".join(bad) if bad else None


def in1_ignored(f: Findings, th: Thresholds) -> str | None:
    """R11: IN1, the remote-off input, does not open both paths or does not let them
    conduct again (the input is on the BMS board [A])."""
    if f.in1_problem is None:
        raise NotMeasured("IN1 (R11)")
    return f.in1_problem or None


def port_dead(f: Findings, th: Thresholds) -> str | None:
    """R11: a link port through which the reference pack is never seen (the V's link ports
    are on the BMS board: a dead one is a BMS repair [A])."""
    counts = _need(f.link_modules, "the link ports (R11)")
    want = th["link_modules"]
    dead = [f"Link {p.replace('port', 'Port ')} ({n} of {want} modules)"
            for p, n in sorted(counts.items()) if n < want]
    return "no link through " + ", ".join(dead) if dead else None


# -- WIRING -----------------------------------------------------------------------------------
def dcr_rise_path(f: Findings, th: Thresholds) -> str | None:
    """Pack DCR > 1.5 × its EOL baseline while the cells' ΔV is normal: the cells alone stay
    below what the whole pack measured at EOL, so the rise is in the path (busbars,
    terminals, MOSFETs), not in the cells [A]."""
    eol = _need(f.dcr_eol_ohm, "an EOL baseline of the DC resistance")
    now = _need(f.dcr_ohm, "the DC resistance")
    cells = _need(f.cells_dcir_sum_ohm, "the cells' DC resistance")
    rise = now / eol
    if rise > th["dcr_rise_max"] and cells < eol:
        return (f"pack DCR {now * 1e3:.1f} mΩ = {rise:.2f} × the EOL {eol * 1e3:.1f} mΩ, "
                f"the cells' {cells * 1e3:.1f} mΩ below it")
    return None


def bond_high(f: Findings, th: Thresholds) -> str | None:
    bond = _need(f.bond_ohm, "the ground bond")
    limit = th["bond_max_ohm"]
    return f"ground bond {bond:.3f} Ω > {limit:g} Ω" if bond > limit else None


def cell_reading_intermittent(f: Findings, th: Thresholds) -> str | None:
    """R11: one cell's reading jumps at rest while the others hold (a sense lead, not a cell)."""
    cell, jump = _need(f.cell_reading_jump, "repeated cell readings at rest (R11)")
    limit = th["cell_reading_jump_v"]
    return (f"cell {cell:02d} reading jumps {jump * 1e3:.0f} mV off its median at rest "
            f"(> {limit * 1e3:g} mV)" if jump > limit else None)


# -- CELL -------------------------------------------------------------------------------------
def cell_dcir_median(f: Findings, th: Thresholds) -> str | None:
    cell, ratio = _need(f.cell_dcir_ratio_max, "the cells' DC resistance")
    limit = th["cell_dcir_median_max"]
    return f"cell {cell:02d} DCIR {ratio:.2f} × the median (> {limit:g})" if ratio > limit else None


def cell_dcir_baseline(f: Findings, th: Thresholds) -> str | None:
    cell, rise = _need(f.cell_dcir_rise_max, "an EOL baseline of the cells' DC resistance")
    limit = th["cell_dcir_rise_max"]
    return f"cell {cell:02d} DCIR {rise:.2f} × its EOL value (> {limit:g})" if rise > limit else None


def soh_below_min(f: Findings, th: Thresholds) -> str | None:
    soh = _need(f.measured_soh_pct, "the capacity test")
    limit = th["soh_min_pct"]
    if soh >= limit:
        return None
    where = f", limited by cell {f.limiting_cell:02d}" if f.limiting_cell else ""
    return f"measured SOH {soh:.1f} % < {limit:g} %{where}"


def rest_spread(f: Findings, th: Thresholds) -> str | None:
    spread = _need(f.rest_spread_v, "a rest at 20-80 % SOC after balancing")
    limit = th["rest_spread_max_v"]
    return (f"rest spread {spread * 1e3:.0f} mV > {limit * 1e3:g} mV after balancing"
            if spread > limit else None)


def self_discharge_drift(f: Findings, th: Thresholds) -> str | None:
    cell, drift = _need(f.drift_max_v_day, "the 24 h self-discharge rest")
    limit = th["drift_max_v_per_day"]
    return (f"cell {cell:02d} drifts {drift * 1e3:+.1f} mV/day against the median "
            f"(> {limit * 1e3:g})" if abs(drift) > limit else None)


def _cell_evidence(f: Findings, th: Thresholds) -> bool:
    for rule in CELL_RULES:
        try:
            if rule(f, th):
                return True
        except NotMeasured:
            continue
    return False


# -- MISUSE -----------------------------------------------------------------------------------
def _count(value: int | None, what: str, text: str) -> str | None:
    n = _need(value, what)
    return f"{text}: {n}" if n > 0 else None


def short_circuit(f: Findings, th: Thresholds) -> str | None:
    return _count(f.sc_times, "`stat` SC Times", "short circuits (SC Times)")


def over_current(f: Findings, th: Thresholds) -> str | None:
    return _count(f.coc_doc_times, "`stat` COC/DOC Times", "over-current protections (COC + DOC Times)")


def uv_span(f: Findings, th: Thresholds) -> str | None:
    span = _need(f.uv_span_max_h, "the event log")
    limit = th["uv_span_max_h"]
    return f"under-voltage for {span:.1f} h (> {limit:g} h) in the log" if span > limit else None


def charge_below_0c(f: Findings, th: Thresholds) -> str | None:
    return _count(f.charge_below_0c, "`stat` CUT Times", "charging below 0 °C (CUT Times)")


def input_ov(f: Findings, th: Thresholds) -> str | None:
    return _count(f.input_ov_times, "`stat` Input OV Times", "input over-voltage (Input OV Times)")


def reversal(f: Findings, th: Thresholds) -> str | None:
    return _count(f.rv_times, "`stat` RV Times", "reversed connection (RV Times)")


# -- WEAR-OUT ---------------------------------------------------------------------------------
def wear_out(f: Findings, th: Thresholds) -> str | None:
    soh = _need(f.measured_soh_pct, "the capacity test")
    if not th["soh_min_pct"] <= soh < th["wear_soh_max_pct"]:
        return None
    old = []
    if f.cycles is not None and f.cycles >= th["wear_cycles"]:
        old.append(f"{f.cycles} cycles ≥ {th['wear_cycles']}")
    if f.age_years is not None and f.age_years >= th["wear_age_years"]:
        old.append(f"{f.age_years:.1f} years ≥ {th['wear_age_years']:g}")
    if not old:
        if f.cycles is None and f.age_years is None:
            raise NotMeasured("the cycle count and the age")
        return None
    return f"measured SOH {soh:.1f} % with " + " and ".join(old)


CELL_RULES: tuple[Rule, ...] = (cell_dcir_median, cell_dcir_baseline, soh_below_min,
                                rest_spread, self_discharge_drift)

#: (class, rules) in the table's order; inside a class, the specific before the general
#: (a stuck sensor also reads outside the accuracy limit: it is named as stuck).
RULES: tuple[tuple[str, tuple[Rule, ...]], ...] = (
    ("UNSAFE", (intake_red_flag, gate_failed)),
    ("FIRMWARE", (firmware_not_released, parameters_not_released, soc_error)),
    ("BMS", (sensor_stuck, bms_accuracy, balancing_inert, mosfet_stuck, protection_wrong,
             in1_ignored, port_dead)),
    ("WIRING", (dcr_rise_path, bond_high, cell_reading_intermittent)),
    ("CELL", CELL_RULES),
    ("MISUSE", (short_circuit, over_current, uv_span, charge_below_0c, input_ov, reversal)),
    ("WEAR-OUT", (wear_out,)),
)


def classify(f: Findings, th: Thresholds) -> Diagnosis:
    """Every rule in order: the first match is primary, every match is evidence."""
    matches: list[Match] = []
    not_run: list[tuple[str, str]] = []
    for cls, rules in RULES:
        for rule in rules:
            try:
                evidence = rule(f, th)
            except NotMeasured as exc:
                not_run.append((rule.__name__, f"not measured: {exc}"))
                continue
            if evidence:
                matches.append(Match(cls, rule.__name__, evidence))
    if matches:
        return Diagnosis(matches[0].cls, matches[0].rule, tuple(matches), tuple(not_run))
    nff = Match("NO FAULT FOUND", "no_fault_found",
                "no rule matched; check the system side: " + "; ".join(SYSTEM_SIDE_CAUSES))
    return Diagnosis("NO FAULT FOUND", "no_fault_found", (nff,), tuple(not_run))
