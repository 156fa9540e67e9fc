"""``station export``: a run, a serial or a date range as CSV, Parquet and JUnit XML.

Records come from the store (the copy every run keeps); the measurements of all selected
runs go in one CSV and one Parquet table, and each run gets its own JUnit file."""

from __future__ import annotations

from pathlib import Path

from reports.exports import write_csv, write_junit, write_parquet


def export_runs(out: Path, to: Path, *, db: str | None = None, run_id: str | None = None,
                serial: str | None = None, since: str | None = None,
                until: str | None = None) -> list[Path]:
    """Write the exports into ``to``; the files written (ValueError: no run matches)."""
    from reports.store import open_store

    if not (run_id or serial or since or until):
        raise ValueError("give --run, --serial or a date range (--since/--until)")
    with open_store(db, out) as store:
        runs = store.runs(run_id=run_id, serial=serial, since=since, until=until, finished=True)
        records = [store.load_record(r) for r in runs.run_id]
    if not records:
        raise ValueError("no finished run matches")
    to.mkdir(parents=True, exist_ok=True)
    stem = run_id or serial or f"{since or 'start'}_{until or 'now'}"
    written = [to / f"{stem}.csv", to / f"{stem}.parquet"]
    write_csv(records, written[0])
    write_parquet(records, written[1])
    for rec in records:
        path = to / f"{rec.serial}_{rec.run_id[:8]}.junit.xml"
        write_junit(rec, path)
        written.append(path)
    return written
