"""The load-time name check sees the names an f-string over a literal set gives (the RMA
accuracy step measures both paths through one helper): a declared name the plan can never
measure is refused, as with literals, and an f-string over anything else stays a pattern."""

from __future__ import annotations

from pathlib import Path

import pytest

from testplans.limits import load_limits
from testplans.plan import PlanDefinition, PlanError, _measured_names, get_plan

SOURCE = '''
from typing import Literal

def _pulse(step, direction: Literal["charge", "discharge"]) -> None:
    step.measure(f"{direction}_path_conducts", True)

def test_links(step) -> None:
    for port in ("port0", "port1"):
        step.not_run(f"link_{port}_modules", "no cable")
    for sensor in step.sensors():
        step.measure(f"temp_{sensor}_c", 0.0)
'''


def _plan(tmp_path: Path) -> PlanDefinition:
    path = tmp_path / "test_names.py"
    path.write_text(SOURCE, encoding="utf-8")

    class Local(PlanDefinition):
        @property
        def path(self) -> Path:
            return path

    return Local("x", object, object, "x")  # type: ignore[arg-type]


def test_an_f_string_over_a_literal_set_gives_its_exact_names(tmp_path: Path) -> None:
    names = _plan(tmp_path).measured_names()
    literal = {n for n in names if isinstance(n, str)}
    assert literal == {"charge_path_conducts", "discharge_path_conducts",
                       "link_port0_modules", "link_port1_modules"}
    patterns = [n.pattern for n in names if not isinstance(n, str)]
    assert patterns == ["temp_[a-z0-9_]+_c"]   # not a literal set: still a pattern


def test_a_declared_name_outside_the_literal_set_is_refused(tmp_path: Path) -> None:
    plan = _plan(tmp_path)
    good = ["charge_path_conducts", "discharge_path_conducts", "link_port0_modules",
            "link_port1_modules", "temp_board_c"]
    plan.check_against(good, "x")
    with pytest.raises(PlanError, match="declares precharge_path_conducts, which no step"):
        plan.check_against([*good, "precharge_path_conducts"], "x")


def test_the_rma_plan_measures_both_paths_by_name() -> None:
    plan = get_plan("rma")
    used = set(_measured_names(plan.path))
    assert {"charge_path_conducts", "discharge_path_conducts", "bms_current_error_charge_a",
            "bms_current_error_discharge_a"} <= used
    for model in ("v5", "v5-alpha", "v5-alpha-plus"):
        limits = load_limits(model, "rma")
        plan.check_against([d.name for d in limits.data.measurement], limits.label)
