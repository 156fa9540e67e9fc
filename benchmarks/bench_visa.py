"""pyvisa round trip against a simulated instrument on loopback.

Opens the simulated Chroma load through pyvisa's pure-Python backend
(``TCPIP0::127.0.0.1::PORT::SOCKET``) and times ``MEAS:CURR?`` queries and checked writes
(a setting followed by ``SYST:ERR?``, what every driver write costs).
"""

from __future__ import annotations

import statistics
import time

from benchmarks.figure import Figure
from common.clock import VirtualClock
from drivers.instruments.transport import VisaTransport
from sim.instruments import start_instruments
from sim.pack import SimPack
from sim.unit import default_unit

QUERIES = 2000
WRITES = 500


def _timed(fn, n: int) -> list[float]:
    out = []
    for _ in range(n):
        t0 = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t0)
    return out


def run() -> list[Figure]:
    clock = VirtualClock()
    pack = SimPack(default_unit("v5"), clock)
    bench = start_instruments(pack, clock)
    try:
        visa = VisaTransport(bench.describe()["load"]["resource"], timeout_ms=2000)
        try:
            visa.query("*IDN?")
            q = _timed(lambda: visa.query("MEAS:CURR?"), QUERIES)
            w = _timed(lambda: (visa.write("CURR:STAT:L1 1.000"), visa.query("SYST:ERR?")), WRITES)
        finally:
            visa.close()
    finally:
        bench.close()
    q_ms = sorted(x * 1e3 for x in q)
    return [
        Figure("visa query round trip (median)", statistics.median(q_ms), "ms", target=None,
               higher_is_better=False, detail=f"{QUERIES} × MEAS:CURR? on 127.0.0.1, pyvisa @py"),
        Figure("visa query round trip (p99)", q_ms[int(0.99 * len(q_ms))], "ms",
               higher_is_better=False),
        Figure("visa checked write (median)", statistics.median(w) * 1e3, "ms", target=None,
               higher_is_better=False, detail="setting + SYST:ERR?"),
    ]
