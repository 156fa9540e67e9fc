"""The system lock (SPEC 2.2): a cell at or below 2.00 V (or at or above 3.90 V, or 70 °C)
for 5 s opens both MOSFETs and latches across power cycles; only `unlock` in test mode
clears it. Provoked as a prepared sample would: a source on one cell group's taps."""

from __future__ import annotations

import pytest

from sim.pack.interface import NotInTestMode
from sim.unit import default_unit, with_change
from tests.sim.conftest import Make, set_current, start


def _sink(amps: float, floor_v: float):
    """A tap source drawing ``amps`` from the cell while it is above ``floor_v`` (CV)."""
    return lambda v_open, r: -amps if v_open > floor_v else 0.0


def _draw_until_lock_or(pack, limit_s: float) -> float | None:
    """Draw cell 7 through its taps; the time the lock set, or None."""
    pack.set_tap_network(7, _sink(50.0, 1.9))
    t0 = pack.clock.now()
    while pack.clock.now() - t0 < limit_s:
        pack.clock.sleep(10.0)
        if "system_lock" in pack.bms.snapshot().protections:
            return pack.clock.now()
    return None


def test_a_cell_below_2_v_for_5_s_locks_across_a_power_cycle_until_unlock(make_pack: Make) -> None:
    pack, net = make_pack()
    assert _draw_until_lock_or(pack, 6 * 3600) is not None
    assert min(pack.bms.snapshot().cell_mv) / 1000 <= 2.0 + 0.02   # locked near 2.00 V
    pack.set_tap_network(7, None)
    s = pack.bms.snapshot()
    assert not s.charge_fet and not s.discharge_fet
    pack.set_power_button(False)
    pack.clock.sleep(5.0)
    start(pack)
    set_current(pack, net, 10.0)   # a charge: held off by the lock, not by cell UV
    pack.clock.sleep(3.0)
    assert pack.current() == 0.0 and "system_lock" in pack.bms.snapshot().protections
    with pytest.raises(NotInTestMode):
        pack.bms.unlock()
    pack.bms.login_debug()
    pack.bms.set_test_mode(True)
    pack.bms.unlock()
    pack.clock.sleep(1.0)
    assert "system_lock" not in pack.bms.snapshot().protections
    assert pack.current() == 10.0   # charge flows (cell UV still blocks discharge only)
    assert [e.code for e in pack.bms.events()][-1] == "system_unlock"


def test_a_design_without_the_lock_never_locks(make_pack: Make) -> None:
    pack, _ = make_pack(with_change(default_unit("v5"), "firmware.system_lock", False))
    assert _draw_until_lock_or(pack, 3 * 3600) is None
    assert pack.true_soc()[6] < -5.0   # drawn well below 2.00 V all the same
