"""Off-spec designs (sim/cert_designs.py) FAIL their clause: the cheap ones run here as short
runs of the steps they need (a full run per design is `python -m sim.cert_designs`, minutes;
docs/cert-plan.md has its table)."""

from __future__ import annotations

from pathlib import Path

import pytest

from sim.cert_designs import DESIGNS, run_design

SHORT = [d for d in DESIGNS if d.steps]


@pytest.mark.parametrize("design", SHORT, ids=[d.id for d in SHORT])
def test_a_design_fails_its_clause_and_no_other_it_ran(design, tmp_path: Path) -> None:
    verdicts = run_design(design, tmp_path, short=True)
    failed = {k for k, v in verdicts.items() if v == "FAIL"}
    assert failed == design.fails
    ran = {k for k, v in verdicts.items() if v in ("PASS", "FAIL")}
    assert ran >= design.fails and len(ran) >= 1


def test_every_judged_clause_has_a_design_that_must_fail_it() -> None:
    judged = {"C01", "C02", "C03", "C04", "C05", "C05b", "C06", "C07", "C08", "C09", "C10", "C11",
              "C12", "C13", "C14", "C15"}
    assert judged <= set().union(*(d.fails for d in DESIGNS))
