"""The factory end-of-line plan (SPEC §8): steps in ``test_eol.py``, limits in
``testplans/limits/eol/``, conditions and plan state typed beside them."""

from testplans.eol.conditions import EolConditions
from testplans.eol.state import EolState
from testplans.plan import PlanDefinition

PLAN = PlanDefinition(name="eol", conditions=EolConditions, state=EolState,
                      module="testplans.eol.test_eol",
                      roles=("load", "supply", "daq", "leds", "safety"))   # no chamber: bench ambient
