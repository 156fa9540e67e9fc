"""Per-measurement cost and the transport, as ratios against references run side by side.

Every variant makes the same SCPI query (``MEAS:CURR?``) to the simulated load over pyvisa
on 127.0.0.1 and judges the value against a range:

- ours: a pytest session run as the engine runs a plan (``fixtures.engine.PLAN_PYTEST_ARGS``
  and ``-s``) with the plan plugin in the path (``fixtures.plugin.PlanPlugin``'s hooks and
  the ``step`` fixture each step receives); each measurement goes through the station's
  recorder (declared spec, limit check, record) to the run journal (each line written,
  fsynced at each step's end, as in a run) and the store (SQLite: the run opened before,
  its measurements written when it ends, not timed here); once with the EOL plan's measurements per step, once with every
  measurement its own step;
- references: an OpenHTF phase with an ``in_range`` measurement per value, and a bare
  pytest test with an assert per value.

"Per measurement" is the cost of one more: the slope between a run of :data:`N_SMALL`
and one of :data:`N` measurements (five of each, interleaved, medians), on both sides alike, so what a run pays once (a pytest
or an OpenHTF session starting) is left to the start-up figures (``bench_start``). The
average over a run of :data:`N`, start included, is printed beside it for information.

And the transport: the station's :class:`VisaTransport` query against a raw pyvisa one.
On one core (the simulated instruments' threads share it with the station, as in a run).
"""

from __future__ import annotations

import random
import statistics
import tempfile
import uuid
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from benchmarks.figure import Figure
from benchmarks.ratio import one_core, paired, ratio, timed
from common.clock import VirtualClock
from drivers.instruments.transport import VisaTransport
from fixtures.engine import PLAN_PYTEST_ARGS
from fixtures.plugin import PlanPlugin
from reports.record import Limit
from reports.store import open_store
from sim.instruments import start_instruments
from sim.pack import SimPack
from sim.unit import default_unit

N = 280
N_SMALL = 56
QUERY = "MEAS:CURR?"
#: What the generated pytest modules call (set before each session): step index, recorder.
STEP: Callable[[int, Any], None] = lambda k, step: None  # noqa: E731


def _eol_per_step() -> int:
    """Measurements per step of the EOL plan (declared ÷ steps, rounded)."""
    from testplans.limits import load_limits

    declared = load_limits("v5", "eol").data.measurement
    return max(1, round(len(declared) / len({d.step for d in declared})))


#: A plain pytest session's options (the bare reference): the environment's plugins load.
PLAIN_PYTEST_ARGS = ("-p", "no:terminal", "-p", "no:cacheprovider", "-p", "no:randomly",
                     "-o", "addopts=")


def _pytest_session(folder: Path, tests: int, args: tuple[str, ...] = PLAIN_PYTEST_ARGS,
                    plugins: list[Any] | None = None) -> None:
    folder.mkdir(exist_ok=True)
    fixture = "step" if plugins else ""
    body = "from benchmarks import bench_measure as B\n\n" + "".join(
        f"def test_s{k}({fixture}):\n    B.STEP({k}, {fixture or 'None'})\n\n"
        for k in range(tests))
    path = folder / f"test_gen_{folder.name}_{tests}.py"
    path.write_text(body)
    code = pytest.main([str(path), *args, "--rootdir", str(folder), "--import-mode=importlib"],
                       plugins=plugins)
    if code != 0:
        raise RuntimeError(f"generated session failed: exit {code}")


class _Ours:
    """The recorder with its real sinks, a fresh run for each session, bound to the pytest
    session by the plan plugin as a run is (the run's lifecycle, store and journal opened
    before, is the engine's: not in the measured path)."""

    def __init__(self, out: Path, t: VisaTransport, per_step: int, n: int) -> None:
        from benchmarks.bench_reports import EPOCH, _record
        from common.serial_number import make_serial
        from fixtures.recorder import Recorder
        from fixtures.sinks import JournalSink, StoreSink
        from testplans.limits import MeasurementSpec

        self.t, self.per_step, self.n = t, per_step, n
        self.store = open_store(None, out)
        record = _record(make_serial("S", 26, 5, random.randrange(1, 10**6)), None, EPOCH,
                         "eol-1", random.Random(5))
        record.run_id, record.measurements = uuid.uuid4().hex, []
        limit = Limit(low=-100.0, high=100.0, comparison="range")
        specs = {f"m{i}": MeasurementSpec(name=f"m{i}", step=f"s{i // per_step}", unit="A",
                                          description="", critical=False, limit=limit)
                 for i in range(n)}
        journal = JournalSink(out, record.run_id)
        sinks = [journal, StoreSink(self.store, journal)]
        self.recorder = Recorder(record=record, specs=specs, clock=VirtualClock(), out_dir=out)
        self.recorder.sinks.extend(lambda m, s=s: s.measurement(record, m) for s in sinks)
        self.recorder.step_ends.extend(lambda step, s=s: s.step_end(record, step)
                                       for s in sinks if hasattr(s, "step_end"))
        for s in sinks:
            s.begin(record)
        # what the plan plugin reads of a run (fixtures.session.PlanRun)
        self.current_step: str | None = None
        self.stopped = self.error = self.aborted = None
        self.prepared = SimpleNamespace(request=SimpleNamespace(stop_on_fail=False))

    @property
    def steps(self) -> int:
        return -(-self.n // self.per_step)

    def begin(self, selected_steps: list[str]) -> None:
        """The plugin's collection hook: the record began before the session (above)."""

    def step(self, k: int, step: Any) -> None:
        for i in range(k * self.per_step, min(self.n, (k + 1) * self.per_step)):
            step.measure(f"m{i}", float(self.t.query(QUERY)))


def _openhtf_runs(t: VisaTransport) -> Callable[[int], Callable[[], None]] | None:
    """A run of n OpenHTF phases, each with its measurement, or None without openhtf."""
    try:
        import openhtf as htf
    except ImportError:
        return None

    @htf.measures(htf.Measurement("current").in_range(-100.0, 100.0))
    def phase(test: Any) -> None:
        test.measurements.current = float(t.query(QUERY))

    def runs(n: int) -> Callable[[], None]:
        def run() -> None:
            test = htf.Test(*[phase] * n)
            test.configure(default_dut_id="bench")
            test.execute(test_start=lambda: "bench")
        return run

    return runs


def _slopes(ours: Callable[[int], tuple[Callable[[], None], Callable[[], None]]],
            reference: Callable[[int], Callable[[], None]],
            repeats: int = 5) -> tuple[float, float, float, float]:
    """Per-measurement slopes (N_SMALL to N) of ours and of the reference, and their
    averages over a run of N, start included; the four runs interleaved, medians."""
    mine: dict[int, list[float]] = {N_SMALL: [], N: []}
    theirs: dict[int, list[float]] = {N_SMALL: [], N: []}
    for _ in range(repeats):
        for n in (N_SMALL, N):
            theirs[n].append(timed(reference(n)))
            setup, go = ours(n)
            setup()
            mine[n].append(timed(go))
    a = {n: statistics.median(v) for n, v in mine.items()}
    b = {n: statistics.median(v) for n, v in theirs.items()}
    span = N - N_SMALL
    return (a[N] - a[N_SMALL]) / span, (b[N] - b[N_SMALL]) / span, a[N] / N, b[N] / N


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

            def ours(per_step: int) -> Callable[[int], tuple[Callable[[], None], Callable[[], None]]]:
                def at(n: int) -> tuple[Callable[[], None], Callable[[], None]]:
                    rigs: list[_Ours] = []

                    def setup() -> None:
                        """A fresh run whose store is open (migrated) before the clock starts,
                        as a run opens its store before its plan."""
                        rigs.append(_Ours(folder / f"o{next(counter)}", t, per_step, n))

                    def go() -> None:
                        global STEP
                        rig = rigs.pop()
                        STEP = rig.step
                        _pytest_session(folder / "ours", rig.steps, (*PLAN_PYTEST_ARGS, "-s"),
                                        plugins=[PlanPlugin(rig)])
                        rig.store.close()
                    return setup, go
                return at

            def bare(n: int) -> Callable[[], None]:
                def one(k: int, step: Any) -> None:
                    assert -100.0 < float(t.query(QUERY)) < 100.0

                def go() -> None:
                    global STEP
                    STEP = one
                    _pytest_session(folder / "bare", n)
                return go

            htf_runs = _openhtf_runs(t)
            eol = _eol_per_step()
            if htf_runs is None:
                figures.append(Figure("per measurement ÷ OpenHTF phase: openhtf not installed",
                                      float("nan"), "×", 0.5, higher_is_better=False))
            else:
                htf_runs(N_SMALL)()   # imports and first-phase costs, for both sides
                first_setup, first_go = ours(eol)(N_SMALL)
                first_setup()
                first_go()
                for per_step, label in ((eol, f"{eol} a step, as the EOL plan"),
                                        (1, "every measurement its own step")):
                    a, b, a_avg, b_avg = _slopes(ours(per_step), htf_runs)
                    figures.append(ratio(f"per measurement ÷ OpenHTF phase ({label})", a, b,
                                         "OpenHTF phase", 0.5 if per_step == eol else None,
                                         unit_s="ms", scale=1e3))
                    figures.append(ratio(f"per measurement, averaged over a run of {N} with its "
                                         f"start ÷ OpenHTF ({label})", a_avg, b_avg,
                                         "OpenHTF phase", None, unit_s="ms", scale=1e3))
            a, b, _, _ = _slopes(ours(eol), bare)
            figures.append(ratio("per measurement ÷ bare pytest test", a, b,
                                 "bare pytest test", None, unit_s="ms", scale=1e3))
            figures.append(_transport(t, bench.describe()["load"]["resource"]))
        finally:
            t.close()
            bench.close()
    STEP = lambda k, step: None  # noqa: E731
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
