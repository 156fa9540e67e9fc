"""IN1, the pack's remote-off input [SPEC §2.1, §4], checked the same way by EOL and RMA:
with a small discharge flowing, IN1 applied must open both paths within a deadline (the
pack's 0.5 s and margin), removed must let them conduct again within it. Each wait ends
when the load's current changes: a pass/fail by a deadline, not a timing."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from common.clock import wait_until


@dataclass(frozen=True)
class In1Result:
    was_flowing: bool   # the discharge flowed before IN1 was applied
    opens_both: bool    # applied: the current stopped and RS485 showed both paths disabled
    resumes: bool       # removed: the current flowed again and both paths enabled

    @property
    def problem(self) -> str:
        """What was wrong, in words ("" when IN1 worked)."""
        if not self.was_flowing:
            return "no discharge flowed before IN1 was applied"
        if not self.opens_both:
            return "IN1 applied: the paths did not both open"
        return "" if self.resumes else "IN1 removed: the paths did not conduct again"


def check_in1(load: Any, daq: Any, bms: Any, clock: Any, *, amps: float, settle_s: float,
              deadline_s: float, poll_s: float, flowing_a: float) -> In1Result:
    """Discharge at ``amps``, apply IN1 (the fixture's relay), remove it; the load's input
    and IN1 are off again however it ends."""
    def flowing() -> bool:
        return load.measure_current() > flowing_a

    load.set_cc(amps)
    load.set_input(True)
    try:
        clock.sleep(settle_s)    # the load's current at its set point
        was_flowing = flowing()
        daq.set_relay("in1", True)
        stopped = wait_until(clock, lambda: not flowing(), deadline_s, poll_s)
        mgmt = bms.management()
        opens = was_flowing and stopped and not mgmt.charge_enabled and not mgmt.discharge_enabled
        daq.set_relay("in1", False)
        resumed = wait_until(clock, flowing, deadline_s, poll_s)
        mgmt = bms.management()
        return In1Result(was_flowing, opens, resumed and mgmt.charge_enabled and mgmt.discharge_enabled)
    finally:
        daq.set_relay("in1", False)
        load.set_input(False)
