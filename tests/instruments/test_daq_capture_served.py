"""The DAQ's timed scan on a bench served in real time (the bench clock paced by the wall
clock, as `station sim serve` runs it; the station side on the wall clock, over pyvisa):
the same capture with and without 50 ms of host latency before every command gives the
same instrument timestamps and the same edges, although the busy host starts the scan
about a second later and fetches it late."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from common.clock import VirtualClock, WallClock
from drivers.instruments.envelope import Envelope
from drivers.instruments.registry import get_dialect
from drivers.instruments.transport import open_transport
from sim.instruments import InstrumentBench, start_instruments
from tests.instruments.conftest import FIXTURE, WIDE
from tests.instruments.fakepack import FakePack

CONTACT_S, STEP_S = 0.4037, 0.6551      # after the scan starts, in the bench's world


class SlowHost:
    """A transport on a busy host: ``delay_s`` of latency before every command."""

    def __init__(self, inner: Any, delay_s: float) -> None:
        self._inner, self.delay_s = inner, delay_s

    def write(self, line: str) -> None:
        time.sleep(self.delay_s)
        self._inner.write(line)

    def query(self, line: str) -> str:
        time.sleep(self.delay_s)
        return self._inner.query(line)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


@pytest.fixture
def served() -> Iterator[tuple[InstrumentBench, FakePack]]:
    clock = VirtualClock()
    pack = FakePack(clock)
    bench = start_instruments(pack, clock)
    clock.start_realtime()
    try:
        yield bench, pack
    finally:
        clock.stop_realtime()
        bench.close()


def _driver(bench: InstrumentBench, role: str, delay_s: float, **options: Any) -> Any:
    desc = bench.describe()[role]
    cls = get_dialect(desc["dialect"])
    transport = SlowHost(open_transport("visa", desc["resource"], timeout_ms=2000), delay_s)
    return cls(transport, name=role, envelope=Envelope(**WIDE), clock=WallClock(), options=options)


def _capture(bench: InstrumentBench, pack: FakePack, delay_s: float) -> Any:
    """One 1 s scan at 10 ms; the bench closes NO3 and drops the pack's discharge path at
    fixed times after the DAQ starts it (the unit's world, not the host's)."""
    clock, engine = bench.clock, bench.daq.scan
    pack.contacts[3] = False
    pack.set_paths(True, True)
    real_init = engine.init

    def init() -> None:             # the events are placed at the instrument's own start
        real_init()
        clock.call_at(engine.t0 + CONTACT_S, lambda t: pack.contacts.update({3: True}))
        clock.call_at(engine.t0 + STEP_S, lambda t: pack.set_paths(True, False))

    engine.init = init  # type: ignore[method-assign]
    load = _driver(bench, "load", delay_s)
    daq = _driver(bench, "daq", delay_s, **FIXTURE)
    try:
        load.set_cc(50.0)
        load.set_input(True)
        daq.start_capture(["pack_voltage", "inputs"], 0.010, 1.0)
        return daq.fetch_capture()
    finally:
        engine.init = real_init  # type: ignore[method-assign]
        load.set_input(False)
        for d in (load, daq):
            d.close()


def test_instrument_timestamps_do_not_depend_on_host_latency(served) -> None:
    bench, pack = served
    quiet = _capture(bench, pack, 0.0)
    busy = _capture(bench, pack, 0.05)
    for cap in (quiet, busy):
        assert cap.times_s == pytest.approx([k * 0.01 for k in range(101)], abs=1e-9)
        closed = cap.first("no3", bool)
        step = cap.first("pack_voltage", lambda v: v > 52.15)
        assert closed is not None and step is not None
        assert CONTACT_S <= closed <= CONTACT_S + 0.011
        assert STEP_S <= step <= STEP_S + 0.011
    assert busy.times_s == quiet.times_s
    assert busy.first("no3", bool) == quiet.first("no3", bool)
    assert busy.first("pack_voltage", lambda v: v > 52.15) == quiet.first("pack_voltage", lambda v: v > 52.15)
