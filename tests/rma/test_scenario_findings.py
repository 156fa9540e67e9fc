"""Every returned-pack scenario, classified again from the findings its real run produced
(``python -m benchmarks.bench_rma --save`` ran the plans and kept them): the class, the rule
and every contributing class the scenario states. The full runs of a few scenarios are in
test_scenarios.py; this covers all of them at no bench cost."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from benchmarks.bench_rma import FINDINGS
from sim.rma_scenarios import load, names
from testplans.limits import load_limits
from testplans.rma.classify import CLASSES, Findings, classify


def _findings(path: Path) -> Findings:
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))["findings"]
    pairs = ("cell_dcir_ratio_max", "cell_dcir_rise_max", "drift_max_v_day", "cell_reading_jump")
    return Findings(**{k: tuple(v) if k in pairs and v is not None else v for k, v in data.items()})


def test_every_class_has_two_scenarios_or_more_and_mixed_ones_exist() -> None:
    scenarios = [load(n) for n in names()]
    assert len(scenarios) >= 16
    per_class = Counter(s.primary for s in scenarios)
    assert all(per_class[c] >= 2 for c in CLASSES), per_class
    assert sum(len(s.classes) > 1 for s in scenarios) >= 2
    assert sum(not s.baseline for s in scenarios) >= 1


@pytest.mark.parametrize("name", names())
def test_the_findings_of_its_real_run_give_the_scenarios_class_and_rule(name: str) -> None:
    path = FINDINGS / f"{name}.json"
    assert path.exists(), f"run `python -m benchmarks.bench_rma --save {name}`"
    scenario = load(name)
    d = classify(_findings(path), dict(load_limits(scenario.aged.model, "rma").data.rma))
    assert (d.primary, d.rule, d.classes) == (scenario.primary, scenario.rule, scenario.classes), \
        d.matches
