"""Wire benchmarks: CAN decoding rate of the station's monitor, cost of one RS485 transaction.

- CAN: the monitor's full receive path (DBC decode, latest values, period statistics) over
  the six Pylon frames, on one core. A saturated 500 kbit/s bus carries about 4,000 frames/s.
- RS485: one analog-values (0x42) transaction through the station driver, over a real pty,
  against the simulated pack: its simulated duration (the wire time at 9600 bit/s) and its
  wall time on this machine.
"""

from __future__ import annotations

import dataclasses
import statistics
import time

import can

from benchmarks.figure import Figure
from common.clock import VirtualClock
from drivers.pack.can_monitor import CanMonitor
from sim.bench import SimBench
from sim.wire.can_frames import encode_frames

CAN_FRAMES = 60_000
RS485_TRANSACTIONS = 40


class _NoBus(can.BusABC):
    """A bus that never receives: the monitor is fed frames directly."""

    def __init__(self) -> None:
        super().__init__(channel="none")

    def _recv_internal(self, timeout: float | None) -> tuple[None, bool]:
        return None, False

    def send(self, msg: can.Message, timeout: float | None = None) -> None:
        pass


def can_decoding() -> Figure:
    with SimBench(power_on=True, instruments=False) as bench:
        snap = bench.pack.bms.snapshot()
    messages = []
    for k in range(CAN_FRAMES // 6):
        s = dataclasses.replace(snap, current_ma=snap.current_ma + 100 * (k % 50),
                                soc_pct=(snap.soc_pct + k) % 100)
        messages += [can.Message(timestamp=float(k), arbitration_id=fid, data=data,
                                 is_extended_id=False) for fid, data in encode_frames(s)]
    mon = CanMonitor(_NoBus(), VirtualClock(), same_timebase=True)
    started = time.perf_counter()
    for msg in messages:
        mon.handle(msg)
    elapsed = time.perf_counter() - started
    assert mon.rx.frames == len(messages) and mon.late() == {}
    return Figure("can_decode_rate", len(messages) / elapsed, "frames/s", None,
                  detail=f"{len(messages)} Pylon frames through CanMonitor.handle, one core")


def rs485_transaction() -> list[Figure]:
    from drivers.pack.rs485 import Rs485Client

    with SimBench(power_on=True, instruments=False) as bench:
        assert bench.description is not None
        with Rs485Client.open(bench.description["rs485"], bench.clock) as client:
            client.analog_values()
            sim, wall = [], []
            for _ in range(RS485_TRANSACTIONS):
                t0, w0 = bench.clock.now(), time.perf_counter()
                client.analog_values()
                wall.append(time.perf_counter() - w0)
                sim.append(bench.clock.now() - t0)
    return [
        Figure("rs485_analog_sim_time", statistics.median(sim) * 1000, "ms", None,
               detail="simulated duration of one 0x42 transaction at 9600 bit/s (wire time "
                      "of 168 bytes + 5 ms turnaround)"),
        Figure("rs485_analog_wall_time", statistics.median(wall) * 1000, "ms", None,
               higher_is_better=False,
               detail=f"median wall time of {RS485_TRANSACTIONS} transactions over a pty"),
    ]


def run() -> list[Figure]:
    return [can_decoding(), *rs485_transaction()]
