"""Analytics at scale, on SQLite and on the PostgreSQL line store (127.0.0.1:5432):

- the lot report (statistics in the database, then the PDF) over ``BENCH_LOT_RUNS`` runs
  (default 100,000: 3 million measurements) against the same report over 1,000 runs:
  wall ratio, and the peak memory (RSS) of the process that writes it;
- store ingest (a run begun, its 30 measurements committed one by one, finished) into a
  store holding the large lot against the same into an empty store, interleaved;
- opening the store as a run's start does (migrations checked, the integrity check) at the
  large lot against an empty store: a start must not slow as the store grows. The check
  of a large file reads about four pages a tree (each one's leftmost and rightmost path)
  where an empty file's full check reads a handful: at most 4× those few milliseconds,
  whatever the lot (the full check it replaced took 1.9 s at 100,000 runs, ~500×).

Each report runs in a process of its own, so its peak RSS is its own.
"""

from __future__ import annotations

import os
import random
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

from benchmarks.figure import Figure
from benchmarks.lotgen import fill_lot
from benchmarks.ratio import paired, ratio
from reports.store import open_store

SMALL = 1000
REPORT = """
import sys
from reports.store import open_store
from reports.lot_sql import lot_summary
from reports.lot_report import write_lot_report
with open_store(sys.argv[1] if sys.argv[1] != "-" else None, sys.argv[2]) as store:
    summary = lot_summary(store)
write_lot_report(summary, sys.argv[3])
print(summary.n_runs)
"""
PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/test"


def _report(url: str | None, folder: Path) -> tuple[float, float]:
    """(wall s, peak RSS MiB) of a lot report written by a process of its own."""
    started = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-c", REPORT, url or "-", str(folder),
                             str(folder / "lot.pdf")], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - started
    err = proc.stderr.read().decode() if proc.stderr else ""
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"lot report failed: {err[-800:]}")
    return wall, usage.ru_maxrss / 1024


def _ingest_one(store, rng: random.Random) -> float:  # type: ignore[no-untyped-def]
    from benchmarks.bench_reports import EPOCH, _record
    from common.serial_number import make_serial

    r = _record(make_serial("S", 27, 1, rng.randrange(1, 9_999_999)), None, EPOCH, "eol-1", rng)
    r.run_id = uuid.UUID(int=rng.getrandbits(128), version=4).hex
    ms, r.measurements = r.measurements[:30], []
    started = time.perf_counter()
    store.begin_run(r)
    for m in ms:
        store.add_measurement(r.run_id, m)
    r.measurements = ms
    store.finish_run(r, None)
    return time.perf_counter() - started


def _ingest(big, empty, rounds: int = 6) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    rng = random.Random(11)
    _ingest_one(big, rng), _ingest_one(empty, rng)   # first statements compiled
    a, b = [], []
    for _ in range(rounds):
        b.append(_ingest_one(empty, rng))
        a.append(_ingest_one(big, rng))
    return sorted(a)[rounds // 2], sorted(b)[rounds // 2]


def _backend(label: str, urls: tuple[str | None, str | None, str | None], tmp: Path,
             n: int) -> list[Figure]:
    small_url, big_url, empty_url = urls
    folders = [tmp / f"{label}-{k}" for k in ("small", "big", "empty")]
    for f in folders:
        f.mkdir()
    with open_store(small_url, folders[0]) as s:
        fill_lot(s, SMALL)
    started = time.perf_counter()
    with open_store(big_url, folders[1]) as s:
        written = fill_lot(s, n)
    fill_s = time.perf_counter() - started
    small = _report(small_url, folders[0])
    big = _report(big_url, folders[1])
    with open_store(big_url, folders[1]) as b, open_store(empty_url, folders[2]) as e:
        full, blank = _ingest(b, e)
    opened_big, opened_empty = paired(lambda: open_store(big_url, folders[1]).close(),
                                      lambda: open_store(empty_url, folders[2]).close(), 5)
    return [
        ratio(f"{label}: lot report over {n:,} runs ({written:,} measurements) ÷ over {SMALL:,}",
              big[0], small[0], f"{SMALL:,} runs", 10.0),
        Figure(f"{label}: peak memory of the lot report over {n:,} runs", big[1], "MiB", 300.0,
               higher_is_better=False,
               detail=f"{small[1]:.0f} MiB over {SMALL:,} runs; the lot written in {fill_s:.0f} s"),
        ratio(f"{label}: store ingest at {written:,} stored measurements ÷ empty store",
              full, blank, "empty store", 1.5, unit_s="ms", scale=1e3),
        ratio(f"{label}: opening the store at a run's start, {written:,} measurements ÷ empty "
              "(its integrity check included)", opened_big, opened_empty, "empty store", 4.0,
              unit_s="ms", scale=1e3),
    ]


def _postgres(tmp: Path, n: int) -> list[Figure]:
    try:
        import psycopg

        admin = psycopg.connect(PG_ADMIN, autocommit=True, connect_timeout=3)
    except Exception as exc:   # the line's server is not here: said, not hidden
        return [Figure("PostgreSQL: server not answering", float("nan"), "-", 1.0,
                       detail=str(exc).splitlines()[0])]
    names = [f"bench_lot_{uuid.uuid4().hex[:8]}_{k}" for k in ("small", "big", "empty")]
    try:
        for name in names:
            admin.execute(f'CREATE DATABASE "{name}"')
        urls = tuple(f"postgresql://postgres@127.0.0.1:5432/{name}" for name in names)
        return _backend("PostgreSQL", urls, tmp, n)   # type: ignore[arg-type]
    finally:
        for name in names:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


def run() -> list[Figure]:
    n = int(os.environ.get("BENCH_LOT_RUNS", "100000"))
    with tempfile.TemporaryDirectory(prefix="bench-lot-") as tmp:
        figures = _backend("SQLite", (None, None, None), Path(tmp), n)
        figures += _postgres(Path(tmp), n)
    return figures
