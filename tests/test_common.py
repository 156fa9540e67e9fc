"""The shared pieces: virtual clock, serial numbers, parameter table."""

from __future__ import annotations

import pytest

from common.clock import VirtualClock, wait_until
from common.params import (
    default_parameters,
    golden_crc,
    order_violation,
    parameter_crc,
    serialize,
)
from common.serial_number import InvalidSerialError, make_serial, parse_serial


def test_virtual_sleep_runs_events_in_order_at_their_time() -> None:
    clock = VirtualClock()
    seen: list[tuple[str, float]] = []
    clock.call_at(5.0, lambda t: seen.append(("once", t)))
    clock.call_every(2.0, lambda t: seen.append(("tick", t)))
    clock.sleep(6.5)
    assert seen == [("tick", 2.0), ("tick", 4.0), ("once", 5.0), ("tick", 6.0)]
    assert clock.now() == 6.5


def test_cancelled_event_never_runs_and_periodic_stops() -> None:
    clock = VirtualClock()
    seen: list[float] = []
    h = clock.call_every(1.0, seen.append)
    clock.sleep(2.5)
    h.cancel()
    clock.sleep(10)
    assert seen == [1.0, 2.0]


def test_event_may_schedule_another_inside_the_same_sleep() -> None:
    clock = VirtualClock()
    seen: list[float] = []
    clock.call_at(1.0, lambda t: clock.call_later(0.5, seen.append))
    clock.sleep(2)
    assert seen == [1.5]


def test_wait_until_uses_virtual_time() -> None:
    clock = VirtualClock()
    flag = {"v": False}
    clock.call_at(30.0, lambda t: flag.update(v=True))
    assert wait_until(clock, lambda: flag["v"], timeout=60, poll=1)
    assert 30.0 <= clock.now() <= 31.0
    assert not wait_until(clock, lambda: False, timeout=5, poll=1)


def test_negative_sleep_is_refused() -> None:
    with pytest.raises(ValueError):
        VirtualClock().sleep(-1)


@pytest.mark.parametrize("variant", ["S", "A", "P"])
def test_serial_round_trip(variant: str) -> None:
    text = make_serial(variant, 26, 3, 1234)
    sn = parse_serial(text)
    assert sn.model.variant == variant and sn.sequence == 1234 and sn.month == 3


def test_single_typo_in_serial_is_caught() -> None:
    text = make_serial("A", 26, 3, 1234)
    for i in range(4, 15):
        ch = text[i]
        other = "7" if ch != "7" else "8"
        bad = text[:i] + other + text[i + 1 :]
        with pytest.raises(InvalidSerialError):
            parse_serial(bad)


@pytest.mark.parametrize(
    "bad",
    ["", "PV5S2601000001", "PX5S260100000013", "PV5X260100000010", "PV5S261300000013"],
)
def test_malformed_serials_are_refused_with_reason(bad: str) -> None:
    with pytest.raises(InvalidSerialError, match="serial"):
        parse_serial(bad)


def test_parameter_crc_covers_every_value() -> None:
    values = default_parameters("v5")
    assert parameter_crc(values) == golden_crc("v5")
    assert golden_crc("v5") != golden_crc("v5-alpha")  # oc_fast_a differs
    for name in values:
        changed = dict(values, **{name: values[name] + 1})
        assert parameter_crc(changed) != golden_crc("v5"), name
    assert serialize(values).startswith(b"cell_ov_alarm_mv=3550\ncell_ov_prot_mv=3650\n")


def test_order_rule_catches_crossed_thresholds() -> None:
    values = default_parameters("v5")
    assert order_violation(values) is None
    values["cell_ov_prot_mv"] = 3500  # below its alarm
    assert "cell_ov" in (order_violation(values) or "")


class _CoarseClock(VirtualClock):
    """A clock that ignores waits below a nanosecond, as a station's sleep does."""

    def sleep(self, seconds: float) -> None:
        if seconds > 1e-9:
            super().sleep(seconds)


def test_wait_until_ends_when_float_time_lands_a_hair_short_of_the_deadline() -> None:
    clock = _CoarseClock(start=62.24520833333338)
    assert not wait_until(clock, lambda: False, timeout=4, poll=0.1)
    assert abs(clock.now() - 66.2452083333) < 1e-6
