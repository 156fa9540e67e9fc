"""Off-spec designs for the certification pre-check: one change each (unit description
keys, as ``sim.unit.with_changes`` takes them), with the clauses it must FAIL and no other.

A change to the stored parameter set is a design change the CRC sees too, so those designs
also FAIL C02 (the released set), by design. ``python -m sim.cert_designs`` runs every
design through the cert plan on the simulated cert bench and prints its clause verdicts
(minutes of wall time: the suite runs a few, docs/cert-plan.md has the table).
"""

from __future__ import annotations

import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

_HOT_ROW = [
    [-100.0, -10.0, 0.0, 0.0], [-10.0, 0.0, 0.0, 30.0], [0.0, 5.0, 10.0, 75.0],
    [5.0, 10.0, 50.0, 75.0], [10.0, 40.0, 100.0, 100.0],
    [40.0, 45.0, 100.0, 100.0],   # no derating of the charge current between 40 and 45 °C
    [45.0, 50.0, 0.0, 75.0], [50.0, 200.0, 0.0, 0.0],
]


@dataclass(frozen=True)
class CertDesign:
    id: str
    changes: dict[str, Any]
    fails: frozenset[str]        # clause ids that must FAIL; every other judged clause PASSes
    description: str
    model: str = "v5"
    steps: tuple[str, ...] = field(default_factory=tuple)   # the steps a short run needs
    fixtures: tuple[str, ...] = ()   # the work order's fixtures for the run


DESIGNS: tuple[CertDesign, ...] = (
    CertDesign("insulation", {"safety.insulation_ohm": 2e6}, frozenset({"C01"}),
               "pinched cable to the chassis: 2 MΩ", steps=("c01",)),
    CertDesign("firmware", {"identity.fw_main": "2.2.9"}, frozenset({"C02"}),
               "unreleased main firmware", steps=("c01", "c02")),
    CertDesign("capacity", {"cells.capacity_ah": 90.0}, frozenset({"C03"}),
               "90 Ah cells in a 100 Ah design"),
    CertDesign("deep-uv", {"parameters.cell_uv_prot_mv": 2500, "parameters.cell_uv_alarm_mv": 2600,
                           "parameters.pack_uv_prot_mv": 40000, "parameters.pack_uv_alarm_mv": 41000},
               frozenset({"C02", "C04"}), "under-voltage protections set below the cells' 2.80 V"),
    CertDesign("ov-delay", {"parameters.volt_prot_delay_ms": 30000,
                            # 1 % ahead: cell OV decides, and the imbalance costs C03's
                            # capacity only 1 Ah (8 % ahead cost it 8 Ah: a C03 FAIL too)
                            "cells.overrides.7.initial_soc_pct": 51.0},
               frozenset({"C02", "C05"}),
               "voltage protection delay 30 s (one cell group ahead, so cell OV decides)"),
    CertDesign("tier1-late", {"timing.oc_tier1_scale": 1.1}, frozenset({"C06", "C07"}),
               "3-min tier after 208 s (both the high-rate charge and the overload judge it)"),
    CertDesign("latch-clears", {"firmware.oc_latch_trips": 4}, frozenset({"C07"}),
               "the third over-current trip does not latch", steps=("c01", "c02", "c07")),
    CertDesign("hot-charge", {"parameters.chg_ot_prot_dc": 550}, frozenset({"C02", "C09", "C10"}),
               "charge over-temperature protection at 55 °C: a hot charge goes on"),
    CertDesign("derating", {"firmware.derating": _HOT_ROW}, frozenset({"C10"}),
               "charge limit not derated between 40 and 45 °C"),
    CertDesign("bms-cells-cold", {f"sensors.temperature.cells_{a}_{a + 3}.offset": -4.0 for a in (1, 5, 9, 13)},
               frozenset({"C09", "C10"}),
               "the BMS's cell sensors read 4 °C low: the hot soak never reads 48 °C; the cell "
               "thermocouple shows the error", fixtures=("cell_thermocouples",)),
    CertDesign("weak-heater", {"heater.power_w": 100.0}, frozenset({"C11"}),
               "heater 100 W: below 10 K/h at −10 °C"),
    CertDesign("no-sleep", {"firmware.sleep_idle_h": 48.0}, frozenset({"C14"}),
               "sleeps after 48 h idle, not 24 h"),
    CertDesign("cell-ov-late", {"parameters.cell_ov_prot_mv": 3750}, frozenset({"C02", "C05b"}),
               "cell over-voltage protection at 3.75 V: balanced cells stop on pack OV, a group "
               "ahead passes U_ulc", steps=("c01", "c02", "c05b"), fixtures=("prepared_sample",)),
    CertDesign("no-lock", {"firmware.system_lock": False}, frozenset({"C12"}),
               "no system lock", steps=("c01", "c02", "c12"), fixtures=("prepared_sample",)),
    CertDesign("late-balancing", {"firmware.balance_start_mv": 3600}, frozenset({"C13"}),
               "balancing starts at 3.60 V, not 3.40 V", steps=("c01", "c02", "c13"),
               fixtures=("prepared_sample",)),
    CertDesign("slow-short", {"firmware.short_circuit_us": 2000.0}, frozenset({"C08"}),
               "short-circuit trip after 2 ms, not 200 µs (the fixture's 10 ms shot still ends it)",
               steps=("c01", "c02", "c08"), fixtures=("short_circuit",)),
    CertDesign("no-reverse-protection", {"path.reverse_protection": False}, frozenset({"C15"}),
               "no reverse-polarity protection: the reversed supply drives its 1 A limit through "
               "the pack (current-limited, the pack survives: a charge flows after)",
               steps=("c01", "c02", "c15"), fixtures=("reversal_fixture",)),
)


STATION = Path(__file__).resolve().parent.parent / "stations" / "sim-cert.toml"


def design_unit(design: CertDesign, serial: str) -> Any:
    """The cert bench's golden unit (its ``[bench] unit_changes``: the as-built cells) with
    the design's one change on top."""
    from sim.unit import default_unit, with_changes
    from stations.schema import load_station_file

    bench = load_station_file(STATION).bench.unit_changes
    return with_changes(default_unit(design.model, serial), {**bench, **design.changes})


def run_design(design: CertDesign, out: Path, *, short: bool = False) -> dict[str, str]:
    """Run the cert plan on one design (``short``: only its ``steps``); clause → verdict."""
    from fixtures.engine import execute
    from fixtures.session import RunRequest
    from reports.cert_report import clause_rows
    from sim.unit import default_serial, write_unit

    serial = default_serial(design.model, 13)
    unit_file = out / f"{design.id}.toml"
    write_unit(design_unit(design, serial), unit_file)
    station = STATION
    select = ["-k", " or ".join(design.steps)] if short and design.steps else []
    result = execute(RunRequest(plan="cert", serial=serial, station_file=station, out_dir=out,
                                unit_file=unit_file, fixtures=design.fixtures), select=select)
    assert result.record is not None, result.refused
    return {r.id: r.verdict for r in clause_rows(result.record)}


if __name__ == "__main__":   # every design, one full run each
    with tempfile.TemporaryDirectory() as tmp:
        for d in DESIGNS:
            if len(sys.argv) > 1 and d.id not in sys.argv[1:]:
                continue
            verdicts = run_design(d, Path(tmp))
            failed = {k for k, v in verdicts.items() if v == "FAIL"}
            print(f"{d.id:13} fails {','.join(sorted(failed)) or '-':20} expected "
                  f"{','.join(sorted(d.fails))}", flush=True)
