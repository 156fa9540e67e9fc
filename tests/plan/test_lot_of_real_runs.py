"""A lot report over 16 real EOL runs on the simulated bench (10 in-spec units, 4 off-spec,
2 re-tests) shows the yield, first-pass yield, retest rate and Pareto the runs imply."""

from __future__ import annotations

import subprocess
import sys
from collections import Counter
from pathlib import Path

from pypdf import PdfReader

from common.serial_number import make_serial
from reports.record import Record
from sim.faults import FAULTS
from sim.population import generate
from sim.unit import default_unit, with_change

STATION = str(Path(sys.executable).with_name("station"))
OFF_SPEC = ("current-offset", "blink1", "cell-resistance", "heater-weak")
GOOD = 10


def test_lot_report_of_real_runs_matches_the_runs(tmp_path: Path, eol) -> None:
    out = tmp_path / "line"
    units = generate(GOOD, seed=4242, model_id="v5")
    faults = {f.id: f for f in FAULTS}
    for i, fid in enumerate(OFF_SPEC):
        f = faults[fid]
        unit = with_change(default_unit("v5", make_serial("S", 26, 2, 500 + i)), f.key, f.value)
        units.append(unit)
    for unit in units:
        eol(out, unit)
    for unit in units[-2:]:                 # two failed units re-tested (and failing again)
        eol(out, unit)

    records = [Record.load(p) for p in sorted(out.glob("PV5*.json"))]
    n_units = GOOD + len(OFF_SPEC)
    assert len(records) == n_units + 2 and len({r.serial for r in records}) == n_units
    assert sum(r.retest_index > 0 for r in records) == 2
    assert Counter(r.verdict for r in records) == {"PASS": GOOD, "FAIL": len(OFF_SPEC) + 2}, [
        (r.serial, r.verdict, r.failure) for r in records if r.verdict not in ("PASS", "FAIL")]
    failing = Counter(m.name for r in records for m in r.measurements if m.outcome in ("FAIL", "ERROR"))

    report = tmp_path / "lot.pdf"
    done = subprocess.run([STATION, "report", "lot", "--results", str(out), "--out", str(report)],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    # every unit that passed passed first time; the retest rate counts runs
    y, r = f"{100 * GOOD / n_units:.1f} %", f"{100 * 2 / (n_units + 2):.1f} %"
    assert (f"{n_units + 2} runs, {n_units} units: yield {y}, first-pass yield {y}, "
            f"retest rate {r}") in done.stdout, done.stdout
    text = " ".join(page.extract_text() for page in PdfReader(report).pages)
    assert y in text and r in text
    # the Pareto's first entries are the most frequent failures, with their counts
    top_name, top_count = failing.most_common(1)[0]
    assert top_name in text
    pareto_at = text.index("Pareto")
    for name in failing:
        assert name in text[pareto_at:], name
    assert top_count == max(failing.values())
