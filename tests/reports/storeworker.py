"""Station processes for the concurrency and crash tests (run in child processes)."""

from __future__ import annotations

import os
import random
import signal
from pathlib import Path

from recordgen import EPOCH, make_record, make_serial

from reports.store import open_store


def station_process(url: str | None, out_dir: str, station: str, serials: list[int],
                    seed: int) -> list[tuple[str, str, int]]:
    """Test each serial in turn as a station would: begin, measure one by one, finish.

    Returns (run_id, serial, retest index the store gave) for every run."""
    rng = random.Random(seed)
    store = open_store(url, Path(out_dir))
    done = []
    try:
        for i, seq in enumerate(serials):
            serial = make_serial(seq)
            fail = rng.choice([None, None, "ocv", "dc_resistance"])
            final = make_record(serial, fail=fail, station=station, rng=rng,
                                started=EPOCH.replace(hour=9, minute=i))
            running = final.model_copy(deep=True, update={
                "verdict": None, "finished_at": None, "duration_s": None, "measurements": [],
                "failure": None})
            index = store.begin_run(running)
            for m in final.measurements:
                if m.outcome != "NOT_RUN":
                    store.add_measurement(final.run_id, m)
            final.retest_index = index
            store.finish_run(final, f"{index:064x}")
            done.append((final.run_id, serial, index))
    finally:
        store.close()
    return done


def crash_mid_run(url: str | None, out_dir: str, serial: str, taken: int) -> None:
    """Begin a run, store ``taken`` measurements, then die by SIGKILL (no clean-up)."""
    store = open_store(url, Path(out_dir))
    final = make_record(serial, station="eol-crash")
    running = final.model_copy(deep=True, update={
        "verdict": None, "finished_at": None, "duration_s": None, "measurements": []})
    store.begin_run(running)
    for m in final.measurements[:taken]:
        store.add_measurement(final.run_id, m)
    Path(out_dir, "run_id").write_text(final.run_id)
    os.kill(os.getpid(), signal.SIGKILL)
