"""Timelines (current, MOSFETs, contacts, LEDs), lazy integration, threads, idle cost."""

from __future__ import annotations

import threading

import pytest

from sim.pack.timeline import LedTimeline, Timeline, blink
from tests.sim.conftest import Make, set_current


def test_current_history_first_entry_is_the_value_at_t0(make_pack: Make) -> None:
    pack, net = make_pack()
    t0 = pack.clock.now()
    set_current(pack, net, -20.0)
    pack.clock.sleep(10)
    set_current(pack, net, -30.0)
    pack.clock.sleep(10)
    assert pack.current_history(t0 + 5, t0 + 15) == [(t0 + 5, -20.0), (t0 + 10, -30.0)]
    assert pack.current_history(t0 - 1, t0 - 0.5) == [(t0 - 1, 0.0)]
    with pytest.raises(ValueError, match="before t0"):
        pack.current_history(5, 1)


def test_history_keeps_at_least_two_hours_of_changes(make_pack: Make) -> None:
    pack, net = make_pack()
    for k in range(int(3.5 * 1800)):  # a change every 2 s: old entries get pruned
        set_current(pack, net, -10.0 if k % 2 else -11.0)
        pack.clock.sleep(2.0)
    now = pack.clock.now()
    hist = pack.current_history(now - 7200, now)
    assert hist[0] == (now - 7200, -11.0 if (now - 7200 - 3.0) % 4 < 2 else -10.0)
    assert len(hist) == 3600


def test_timeline_prunes_beyond_its_horizon_but_keeps_two_hours() -> None:
    tl: Timeline[int] = Timeline(0.0, 0)
    for k in range(1, 20001):
        tl.set(float(k), k)
    assert tl.oldest > 0.0  # pruned
    assert tl.changes(20000.0 - 7200.0, 20000.0)[0] == (12800.0, 12800)
    assert len(tl.changes(20000.0 - 7200.0, 20000.0)) == 7201


def test_sync_before_a_change_keeps_the_past_with_the_old_setting(make_pack: Make) -> None:
    pack, net = make_pack()
    t0 = pack.clock.now()
    with pack.changing():
        net.amps = -10.0
    pack.clock.sleep(100)
    pack.sync()
    net.amps = -40.0
    pack.inputs_changed()
    pack.clock.sleep(1)
    assert pack.current_history(t0, pack.clock.now()) == [(t0, -10.0), (t0 + 100, -40.0)]
    assert pack.bms.snapshot().soc_pct == pytest.approx(50.0 - (10 * 100 + 40) / 3600, abs=0.01)


def test_a_change_without_sync_is_taken_as_made_now(make_pack: Make) -> None:
    pack, net = make_pack()
    t0 = pack.clock.now()
    set_current(pack, net, -10.0)
    pack.clock.sleep(100)
    net.amps = -150.0  # an instrument that forgets pack.sync()
    pack.inputs_changed()
    pack.clock.sleep(20)
    hist = pack.current_history(t0, pack.clock.now())
    assert hist == [(t0, -10.0), (t0 + 100, -150.0), (pytest.approx(t0 + 115.75), 0.0)]


def test_fet_and_contact_history(make_pack: Make) -> None:
    pack, net = make_pack()
    t0 = pack.clock.now()
    set_current(pack, net, -150.0)
    pack.clock.sleep(20)
    fets = pack.fet_history(t0, pack.clock.now())
    assert fets == [(t0, (True, True)), (pytest.approx(t0 + 15.75), (True, False))]
    no3 = pack.contact_history(3, t0, pack.clock.now())
    assert no3 == [(t0, False), (pytest.approx(t0 + 15.75), True)]


def test_a_week_idle_ends_asleep(make_pack: Make) -> None:
    # its cost is a benchmark (bench_pack: an idle hour ÷ a loaded hour), not a timed test
    pack, _ = make_pack()
    pack.clock.sleep(7 * 86400)
    pack.sync()
    assert pack.state == "sleep"


def test_threads_calling_in_while_time_moves(make_pack: Make) -> None:
    pack, net = make_pack()
    set_current(pack, net, -30.0)
    errors: list[BaseException] = []
    stop = threading.Event()

    def reader() -> None:
        try:
            while not stop.is_set():
                s = pack.bms.snapshot()
                assert len(s.cell_mv) == 16
                pack.led_edges("RUN", max(0.0, s.t - 10), s.t)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=reader) for _ in range(2)]
    for th in threads:
        th.start()
    for _ in range(200):
        pack.clock.sleep(1.0)
    stop.set()
    for th in threads:
        th.join(timeout=5)
    assert not errors
    assert pack.current() == -30.0


def test_timeline_unit_behaviour() -> None:
    tl: Timeline[int] = Timeline(0.0, 0)
    tl.set(1.0, 1)
    tl.set(1.0, 2)  # a second change at the same instant replaces the first
    tl.set(2.0, 2)  # no change
    assert tl.changes(0.0, 5.0) == [(0.0, 0), (1.0, 2)]
    tl.set(3.0, 0)
    assert tl.at(2.5) == 2 and tl.at(3.0) == 0


def test_led_timeline_edges_across_pattern_changes() -> None:
    led = LedTimeline(0.0)
    led.set(1.0, blink(0.5, 1.5))
    led.set(6.2, ("const", True))
    edges = led.edges(0.0, 10.0)
    assert edges == [(1.0, True), (1.5, False), (3.0, True), (3.5, False), (5.0, True),
                     (5.5, False), (6.2, True)]
    # a sub-interval starting exactly on an edge includes it
    assert led.edges(3.0, 3.6) == [(3.0, True), (3.5, False)]
    assert led.on_at(3.2) and not led.on_at(3.6)
