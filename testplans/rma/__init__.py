"""The RMA diagnosis of a returned pack (CERT-RMA.md R00-R12): steps in ``test_rma.py``,
limits and the classification's thresholds in ``testplans/limits/rma/``, the rules in
``classify.py`` (pure), the EOL baseline in ``baseline.py``."""

from testplans.plan import PlanDefinition
from testplans.rma.conditions import RmaConditions
from testplans.rma.state import RmaState

PLAN = PlanDefinition(name="rma", conditions=RmaConditions, state=RmaState,
                      module="testplans.rma.test_rma",
                      roles=("load", "supply", "daq", "safety"))
