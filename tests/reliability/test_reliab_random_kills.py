"""SIGKILL at 12 random moments of real-time EOL runs: within 10 s of each kill no current
flows (asked of the served instruments, no command sent), and the next start recovers
exactly that one run as an ABORTED record that `station verify` accepts.

Four served benches, three kills each (two tests of two benches, side by side under xdist);
every new run is also the next victim,
so each start recovers the run killed before it. The moments are drawn from a seeded
generator (the seed is printed) over the first 28 s of the plan: safety, power-on,
identity, CAN, rest, LEDs, both pulses (the supply on, then the load on) and IN1; the
150 A tier and test mode have kills of their own in test_reliab_deadman.py.
"""

from __future__ import annotations

import random
import re
import signal
import threading
import time
from pathlib import Path

import pytest
from cases import BY_ID
from procs import Instruments, Proc, run_eol, served_bench

from reports.record import Record
from reports.verify import verify

pytestmark = pytest.mark.timeout(420)

BENCHES, KILLS_EACH, WINDOW_S, BOUND_S = 4, 3, (1.0, 28.0), 10.0
SEED = 20261201


def _no_current(ins: Instruments) -> bool:
    load = float(ins.query("load", "MEAS:CURR?"))
    supply = float(ins.query("supply", "MEAS:CURR?"))
    return abs(load) < 0.5 and abs(supply) < 0.5


def _recovered_ids(run: Proc) -> list[str]:
    return [m.group(1) for ln in run.err if (m := re.search(r"recovered unfinished run (\w{32})", ln))]


def _bench(n: int, moments: list[float], folder: Path, results: list[dict]) -> None:
    out = folder / "out"
    with served_bench(folder / "bench") as desc:
        ins = Instruments(desc)
        killed: list[str] = []
        try:
            for i, moment in enumerate([*moments, None]):
                run = run_eol(desc["station_file"], desc["serial"], out)
                try:
                    run.wait_line("── safety", 60)            # the plan has begun
                    if i:   # this start recovered the run killed before it, and only it
                        deadline = time.monotonic() + 5   # stderr's reader may lag stdout's
                        while not _recovered_ids(run) and time.monotonic() < deadline:
                            time.sleep(0.05)
                        results.append({"bench": n, "recovered": _recovered_ids(run),
                                        "expected": killed[-1]})
                    if moment is None:
                        run.signal(signal.SIGINT)
                        run.wait(30)
                        break
                    time.sleep(moment)
                    run.signal(signal.SIGKILL)
                    t_kill = time.monotonic()
                    run.wait(10)
                    while not _no_current(ins):
                        assert time.monotonic() - t_kill < BOUND_S, f"bench {n}: current {moment:.1f} s in"
                        time.sleep(0.05)
                    results.append({"bench": n, "moment": moment,
                                    "no_current_after_s": time.monotonic() - t_kill})
                    killed.append(_started_run(out, killed))
                finally:
                    run.stop()
        finally:   # the resources only: pyvisa's resource manager is shared by the threads
            for res in ins._res.values():
                res.close()


def _started_run(out: Path, already: list[str]) -> str:
    """The run id of the run just killed: the one unfinished run the store holds now."""
    from reports.store import open_store

    with open_store(None, out) as store:
        runs = store.runs()
    open_ids = [r for r, v in zip(runs.run_id, runs.verdict, strict=True)
                if not isinstance(v, str) and r not in already]   # no verdict: None or NaN
    journals = sorted(q.name for q in out.rglob("*.jsonl"))
    assert len(open_ids) == 1, (f"unfinished runs {open_ids}; store: "
                                f"{list(zip(runs.run_id, runs.verdict, strict=True))}; "
                                f"journals {journals}; killed before {already}")
    return str(open_ids[0])


@pytest.mark.parametrize("half", [0, 1])
def test_sigkill_at_20_random_moments_stops_the_current_and_recovers_one_record(
        half: int, tmp_path: Path) -> None:
    """Two halves of six kills each (two benches of three), so xdist runs them side by side."""
    case = BY_ID["sigkill-random"]
    rng = random.Random(SEED)
    moments = [[rng.uniform(*WINDOW_S) for _ in range(KILLS_EACH)] for _ in range(BENCHES)]
    plan = moments[2 * half:2 * half + 2]
    print(f"\nseed {SEED}: kill moments " + "; ".join(", ".join(f"{m:.1f}" for m in b) for b in plan))
    results: list[dict] = []
    errors: list[BaseException] = []

    def work(n: int) -> None:
        try:
            _bench(n, plan[n], tmp_path / f"b{n}", results)
        except BaseException as exc:   # reported below, with the bench
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(len(plan))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(400)
    assert not errors, errors
    kills = [r for r in results if "moment" in r]
    assert len(kills) == len(plan) * KILLS_EACH == 6   # with the other half: 12
    worst = max(r["no_current_after_s"] for r in kills)
    print(f"kill → no current: worst {worst:.2f} s of {len(kills)} kills")
    assert worst < BOUND_S and case.exit == -9
    recoveries = [r for r in results if "recovered" in r]
    assert len(recoveries) == len(plan) * KILLS_EACH   # every start after a kill recovered it
    for r in recoveries:
        assert r["recovered"] == [r["expected"]], r   # exactly that one run
    for n in range(len(plan)):
        out = tmp_path / f"b{n}" / "out"
        aborted = [Record.load(p) for p in out.glob("*.json")]
        aborted = [rec for rec in aborted if rec.verdict == "ABORTED"
                   and rec.failure is not None and case.says in rec.failure.message]
        assert len(aborted) == KILLS_EACH, [p.name for p in out.glob("*.json")]
        for rec in aborted:
            path = next(p for p in out.glob("*.json") if Record.load(p).run_id == rec.run_id)
            v = verify(path)
            assert v.ok, (rec.run_id, v.problems)
