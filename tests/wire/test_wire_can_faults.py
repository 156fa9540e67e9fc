"""Per-frame CAN faults of the unit description, seen through the station's ``bms`` role on the
simulated bench's real python-can bus: a frame's own period, a missing frame, a wrong DLC,
and the name frame carrying ``identity.manufacturer``."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from common import pylon_can as pc
from drivers.pack.bms import Bms, CanFrameView
from drivers.pack.can_monitor import CanMonitor
from drivers.pack.console import ConsoleClient
from drivers.pack.rs485 import Rs485Client
from sim.bench import SimBench
from sim.unit import default_unit, with_changes


@contextmanager
def bms_on(changes: dict[str, Any], model: str = "v5") -> Iterator[tuple[SimBench, Bms]]:
    unit = with_changes(default_unit(model), changes) if changes else default_unit(model)
    bench = SimBench(unit, power_on=True, instruments=False)
    d = bench.start()
    can = CanMonitor.open(d["can"], bench.clock)
    rs485 = Rs485Client.open(d["rs485"], bench.clock, timeout=2.0)
    console = ConsoleClient.open(d["console"], bench.clock, timeout=2.0)
    try:
        yield bench, Bms(can, rs485, console, bench.clock)
    finally:
        can.close()
        rs485.close()
        console.close()
        bench.close()


def frames(bms: Bms, seconds: float) -> dict[str, CanFrameView]:
    bms.listen()
    bms.clock.sleep(seconds)
    return {f.name: f for f in bms.can_frames()}


@pytest.mark.parametrize("name", list(pc.FRAME_NAMES))
def test_one_frame_with_its_own_period(name: str) -> None:
    with bms_on({f"comms.can_frames.{name}.period_s": 1.3}) as (_, bms):
        seen = frames(bms, 14.0)
    assert seen[name].period_s == pytest.approx(1.3) and seen[name].count in (10, 11)
    for other, view in seen.items():
        if other != name:
            assert view.period_s == pytest.approx(1.0) and view.count == 14, other


def test_a_missing_frame_is_never_seen_the_others_are() -> None:
    with bms_on({"comms.can_frames.soc_soh.missing": True}) as (_, bms):
        seen = frames(bms, 5.0)
        assert bms.can_silent(2.0) == ("soc_soh",)
    assert (seen["soc_soh"].count, seen["soc_soh"].period_s, seen["soc_soh"].dlc) == (0, None, None)
    assert all(v.count == 5 for n, v in seen.items() if n != "soc_soh")


def test_a_frame_with_a_wrong_dlc_is_refused_and_named() -> None:
    """Judged as sent (DLC 5, no period), read as far as its bytes go (docs/protocols.md)."""
    with bms_on({"comms.can_frames.measurements.dlc": 5}) as (_, bms):
        seen = frames(bms, 5.0)
        m = seen["measurements"]
        assert (m.count, m.period_s, m.dlc, m.rejected) == (0, None, 5, 5)
        assert all((v.count, v.rejected) == (5, 0) for n, v in seen.items() if n != "measurements")
        assert seen["alarms"].dlc == 7
        assert bms.can.latest("PackVoltage").value > 40.0       # bytes 0..1 arrived
        with pytest.raises(Exception, match=r"Temperature.*DLC 5"):
            bms.can.latest("Temperature")                       # byte 5 did not


def test_firmware_clock_gain_stretches_every_frame_period() -> None:
    with bms_on({"timing.clock_gain": 1.1}) as (_, bms):
        seen = frames(bms, 12.0)
    assert {round(v.period_s or 0.0, 6) for v in seen.values()} == {1.1}


@pytest.mark.parametrize(("manufacturer", "text", "dlc"), [
    ("PYTES", "PYTES", 5), ("PYLON   ", "PYLON", 8), ("PYTES ENERGY", "PYTES EN", 8)])
def test_name_frame_follows_the_identity(manufacturer: str, text: str, dlc: int) -> None:
    with bms_on({"identity.manufacturer": manufacturer}) as (_, bms):
        seen = frames(bms, 3.0)
        assert bms.can_manufacturer() == text
        assert bms.identity().manufacturer == manufacturer.rstrip()   # RS485 0x51 agrees
    assert (seen["name"].dlc, seen["name"].rejected, seen["name"].count) == (dlc, 0, 3)


def test_module_count_alone_is_one_and_none_when_stale() -> None:
    with bms_on({}) as (bench, bms):
        frames(bms, 2.0)
        assert bms.can_module_count(max_age_s=1.5) == 1
        bench.broadcaster.stop()                       # a silent bus says nothing of now
        bms.clock.sleep(3.0)
        assert bms.can_module_count(max_age_s=1.5) is None
