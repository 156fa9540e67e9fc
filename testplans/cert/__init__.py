"""The certification pre-check (CERT-RMA.md): steps C01-C15 in ``test_cert.py``, limits,
budgets and clause rows in ``testplans/limits/cert/``, clause verdicts in ``clauses.py``."""

from testplans.cert.conditions import CertConditions
from testplans.cert.state import CertState
from testplans.plan import PlanDefinition

PLAN = PlanDefinition(name="cert", conditions=CertConditions, state=CertState,
                      module="testplans.cert.test_cert")
