"""Per-measurement cost and the transport, as ratios against references run side by side.

Every variant makes the same SCPI query (``MEAS:CURR?``) to the simulated load over pyvisa
on 127.0.0.1 and judges the value against a range, :data:`N` times:

- ours: under pytest, the station's recorder (declared spec, limit check, record) with
  the run journal (each line written, fsynced at each step's end, as in a run) and the
  store (SQLite, one commit per measurement) as sinks, in a pytest session with the
  options the engine runs a plan with (``fixtures.engine.PLAN_PYTEST_ARGS``),
  once with every measurement its own step and once with the EOL plan's measurements per
  step; the plan plugin's own hooks (``fixtures.plugin.PlanPlugin``) are not in this path;
- references: an OpenHTF phase with an ``in_range`` measurement per value, and a bare
  pytest test with an assert per value.

And the transport: the station's :class:`VisaTransport` query against a raw pyvisa one.
On one core (the simulated instruments' threads share it with the station, as in a run).
"""

from __future__ import annotations

import random
import tempfile
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from benchmarks.figure import Figure
from benchmarks.ratio import one_core, paired, ratio, timed
from common.clock import VirtualClock
from drivers.instruments.transport import VisaTransport
from fixtures.engine import PLAN_PYTEST_ARGS
from reports.record import Limit
from reports.store import open_store
from sim.instruments import start_instruments
from sim.pack import SimPack
from sim.unit import default_unit

N = 120
QUERY = "MEAS:CURR?"
#: What the generated pytest modules call (set before each session).
STEP: Callable[[int], None] = lambda k: None  # noqa: E731


def _eol_per_step() -> int:
    """Measurements per step of the EOL plan (declared ÷ steps, rounded)."""
    from testplans.limits import load_limits

    declared = load_limits("v5", "eol").data.measurement
    return max(1, round(len(declared) / len({d.step for d in declared})))


#: A plain pytest session's options (the bare reference): the environment's plugins load.
PLAIN_PYTEST_ARGS = ("-p", "no:terminal", "-p", "no:cacheprovider", "-p", "no:randomly",
                     "-o", "addopts=")


def _pytest_session(folder: Path, tests: int, args: tuple[str, ...] = PLAIN_PYTEST_ARGS) -> None:
    folder.mkdir(exist_ok=True)
    body = "from benchmarks import bench_measure as B\n\n" + "".join(
        f"def test_{k}():\n    B.STEP({k})\n\n" for k in range(tests))
    path = folder / f"test_gen_{folder.name}_{tests}.py"
    path.write_text(body)
    code = pytest.main([str(path), *args, "--rootdir", str(folder), "--import-mode=importlib"])
    if code != 0:
        raise RuntimeError(f"generated session failed: exit {code}")


class _Ours:
    """The recorder with its real sinks, a fresh run for each session."""

    def __init__(self, out: Path, t: VisaTransport, per_step: int) -> None:
        from benchmarks.bench_reports import EPOCH, _record
        from common.serial_number import make_serial
        from fixtures.recorder import Recorder
        from fixtures.sinks import JournalSink, StoreSink
        from testplans.limits import MeasurementSpec

        self.t, self.per_step = t, per_step
        self.store = open_store(None, out)
        record = _record(make_serial("S", 26, 5, random.randrange(1, 10**6)), None, EPOCH,
                         "eol-1", random.Random(5))
        record.run_id, record.measurements = uuid.uuid4().hex, []
        limit = Limit(low=-100.0, high=100.0, comparison="range")
        specs = {f"m{i}": MeasurementSpec(name=f"m{i}", step=f"s{i // per_step}", unit="A",
                                          description="", critical=False, limit=limit)
                 for i in range(N)}
        journal = JournalSink(out, record.run_id)
        sinks = [journal, StoreSink(self.store, journal)]
        self.rec = Recorder(record=record, specs=specs, clock=VirtualClock(), out_dir=out)
        self.rec.sinks.extend(lambda m, s=s: s.measurement(record, m) for s in sinks)
        self.rec.step_ends.append(lambda step: journal.step_end(record, step))
        for s in sinks:
            s.begin(record)

    def step(self, k: int) -> None:
        with self.rec.in_step(f"s{k}"):
            for i in range(k * self.per_step, min(N, (k + 1) * self.per_step)):
                self.rec.measure(f"m{i}", float(self.t.query(QUERY)))


def _openhtf(t: VisaTransport) -> Callable[[], None] | None:
    try:
        import openhtf as htf
    except ImportError:
        return None

    @htf.measures(htf.Measurement("current").in_range(-100.0, 100.0))
    def phase(test: Any) -> None:
        test.measurements.current = float(t.query(QUERY))

    def run() -> None:
        test = htf.Test(*[phase] * N)
        test.configure(default_dut_id="bench")
        test.execute(test_start=lambda: "bench")

    return run


def run() -> list[Figure]:
    global STEP
    figures: list[Figure] = []
    clock = VirtualClock()
    pack = SimPack(default_unit("v5"), clock)
    with one_core(), tempfile.TemporaryDirectory(prefix="bench-measure-") as tmp:
        bench = start_instruments(pack, clock)
        t = VisaTransport(bench.describe()["load"]["resource"])
        try:
            t.query("*IDN?")
            folder = Path(tmp)
            counter = iter(range(10**6))

            rigs: list[_Ours] = []

            def setup(per_step: int) -> Callable[[], None]:
                """A fresh run whose store is open (migrated) before the clock starts, as a
                run opens its store before its plan."""
                return lambda: rigs.append(_Ours(folder / f"o{next(counter)}", t, per_step))

            def ours(per_step: int) -> Callable[[], None]:
                def go() -> None:
                    global STEP
                    rig = rigs.pop()
                    STEP = rig.step
                    # with the options the engine runs a plan with
                    _pytest_session(folder / "ours", -(-N // per_step), PLAN_PYTEST_ARGS)
                    rig.store.close()
                return go

            def bare() -> None:
                global STEP

                def one(k: int) -> None:
                    assert -100.0 < float(t.query(QUERY)) < 100.0
                STEP = one
                _pytest_session(folder / "bare", N)

            htf_run = _openhtf(t)
            eol = _eol_per_step()
            if htf_run is None:
                figures.append(Figure("per measurement ÷ OpenHTF phase: openhtf not installed",
                                      float("nan"), "×", 0.5, higher_is_better=False))
            else:
                htf_run()   # imports and first-phase costs, for both sides
                setup(1)()
                ours(1)()
                for per_step, label in ((eol, f"{eol} a step, as the EOL plan"),
                                        (1, "every measurement its own step")):
                    a, b = paired(ours(per_step), htf_run, before=setup(per_step))
                    figures.append(ratio(f"per measurement ÷ OpenHTF phase ({label})", a / N,
                                         b / N, "OpenHTF phase", 0.5 if per_step == eol else None,
                                         unit_s="ms", scale=1e3))
            a, b = paired(ours(eol), bare, before=setup(eol))
            figures.append(ratio("per measurement ÷ bare pytest test", a / N, b / N,
                                 "bare pytest test", None, unit_s="ms", scale=1e3))
            figures.append(_transport(t, bench.describe()["load"]["resource"]))
        finally:
            t.close()
            bench.close()
    STEP = lambda k: None  # noqa: E731
    return figures


def _transport(t: VisaTransport, resource: str) -> Figure:
    import pyvisa

    raw = pyvisa.ResourceManager("@py").open_resource(resource)
    raw.read_termination = raw.write_termination = "\n"
    try:
        raw.query("*IDN?")
        a, b = paired(lambda: [t.query(QUERY) for _ in range(300)],
                      lambda: [raw.query(QUERY) for _ in range(300)], repeats=5)
    finally:
        raw.close()
    return ratio("station transport query ÷ raw pyvisa query", a / 300, b / 300,
                 "raw pyvisa", 1.2, unit_s="ms", scale=1e3)


__all__ = ["run", "timed"]
