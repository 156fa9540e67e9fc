"""The results store on SQLite and on the real PostgreSQL server."""

from __future__ import annotations

import multiprocessing as mp
import sqlite3
from datetime import date
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from recordgen import NAMES, make_record, make_serial
from storeworker import crash_mid_run, station_process

from reports.record import Record
from reports.store import Store, StoreUnavailable, open_store
from reports.store.engine import script_head
from reports.store.tables import metadata

#: The store's schema head: the newest migration in reports/migrations/versions.


def _running(final: Record) -> Record:
    return final.model_copy(deep=True, update={
        "verdict": None, "finished_at": None, "duration_s": None, "measurements": [],
        "failure": None})


def _record_run(store: Store, final: Record, sha: str | None = "ef" * 32) -> int:
    index = store.begin_run(_running(final))
    for m in final.measurements:
        store.add_measurement(final.run_id, m)
    final.retest_index = index
    store.finish_run(final, sha)
    return index


def test_record_round_trips_through_the_store(store: Store) -> None:
    final = make_record(make_serial(11), fail="cell_spread")
    _record_run(store, final)
    assert store.load_record(final.run_id) == final
    runs = store.runs()
    assert list(runs.run_id) == [final.run_id]
    assert runs.record_sha256[0] == "ef" * 32 and runs.verdict[0] == "FAIL"
    meas = store.measurements(run_id=final.run_id)
    assert list(meas.name) == NAMES  # plan order kept
    assert meas.set_index("name").value["param_crc_match"] is True


def test_each_measurement_is_committed_as_taken(store: Store, tmp_path: Path) -> None:
    final = make_record(make_serial(12))
    store.begin_run(_running(final))
    for m in final.measurements[:5]:
        store.add_measurement(final.run_id, m)
    # a second connection (another process would see the same) reads them before the end
    with open_store(store.url if store.dialect == "postgresql" else None, tmp_path) as other:
        got = other.measurements(run_id=final.run_id)
        assert list(got.name) == NAMES[:5]
        assert other.unfinished_runs("eol-1") == [final.run_id]


def test_retest_is_a_new_run_with_next_index(store: Store) -> None:
    serial = make_serial(13)
    first = make_record(serial, fail="ocv")
    second = make_record(serial, started=first.finished_at)
    other = make_record(make_serial(14))
    assert _record_run(store, first) == 0
    assert _record_run(store, other) == 0
    assert _record_run(store, second) == 1
    assert second.retest_index == 1
    runs = store.runs(serial=serial)
    assert list(runs.retest_index) == [0, 1]
    assert list(runs.verdict) == ["FAIL", "PASS"]  # the first run is still there
    # begin_run is idempotent for the same run id
    assert store.begin_run(second) == 1
    assert len(store.runs()) == 3


def test_resent_measurement_replaces_and_keeps_its_place(store: Store) -> None:
    final = make_record(make_serial(15))
    store.begin_run(_running(final))
    a, b = final.measurements[:2]
    store.add_measurement(final.run_id, a)
    store.add_measurement(final.run_id, b)
    store.add_measurement(final.run_id, a.model_copy(update={"value": 0.05}))
    got = store.measurements(run_id=final.run_id)
    assert list(got.name) == [a.name, b.name]
    assert got.value_num[0] == pytest.approx(0.05)


def test_finish_without_begin_and_not_run_entries(store: Store) -> None:
    final = make_record(make_serial(16), fail="insulation")  # critical: the rest NOT_RUN
    store.finish_run(final, None)
    back = store.load_record(final.run_id)
    assert back == final
    assert back.counts()["NOT_RUN"] == len(NAMES) - 2


def test_mark_aborted_keeps_measurements(store: Store) -> None:
    final = make_record(make_serial(17))
    store.begin_run(_running(final))
    for m in final.measurements[:4]:
        store.add_measurement(final.run_id, m)
    store.mark_aborted(final.run_id, "station restarted after a crash")
    back = store.load_record(final.run_id)
    assert back.verdict == "ABORTED"
    assert back.failure is not None and "crash" in back.failure.message
    assert [m.name for m in back.measurements] == NAMES[:4]
    assert back.duration_s == final.measurements[3].t
    assert store.unfinished_runs("eol-1") == []
    with pytest.raises(ValueError, match="already finished"):
        store.mark_aborted(final.run_id, "again")
    with pytest.raises(KeyError, match="not in the store"):
        store.mark_aborted("0" * 32, "x")


def test_filters(store: Store) -> None:
    a = make_record(make_serial(18), station="eol-1")
    b = make_record(make_serial(19), station="eol-2", fail="ocv", model="v5",
                    started=a.started_at.replace(day=20))
    _record_run(store, a)
    _record_run(store, b)
    assert list(store.runs(station="eol-2").run_id) == [b.run_id]
    assert list(store.runs(since=date(2026, 1, 10)).run_id) == [b.run_id]
    assert list(store.runs(verdict=["FAIL", "ERROR"]).run_id) == [b.run_id]
    assert list(store.measurements(outcome="FAIL").name) == ["ocv"]
    with pytest.raises(TypeError, match="unknown filter colour"):
        store.runs(colour="red")


def test_migrations_match_models(store: Store) -> None:
    with store._engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
    assert diff == []


def test_sqlite_is_a_wal_file_in_the_output_folder(tmp_path: Path) -> None:
    with open_store(None, tmp_path / "out") as s:
        s.finish_run(make_record(make_serial(20)), None)
    db = tmp_path / "out" / "station.sqlite"
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("SELECT version_num FROM alembic_version").fetchone()[0] == script_head()


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("postgresql://postgres@127.0.0.1:1/test", "127.0.0.1:1/test cannot be used: .*refused"),
        ("mysql://x/y", "not supported"),
        ("sqlite:////nonexistent-dir/x.sqlite", "folder /nonexistent-dir does not exist"),
    ],
)
def test_unusable_database_is_refused_with_one_clear_line(url: str, message: str,
                                                           tmp_path: Path) -> None:
    with pytest.raises(StoreUnavailable, match=message) as info:
        open_store(url, tmp_path)
    assert "\n" not in str(info.value)


def test_unwritable_output_folder_is_refused(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(StoreUnavailable, match="cannot be created"):
        open_store(None, blocker / "results")


def test_postgres_password_is_not_shown(tmp_path: Path) -> None:
    with pytest.raises(StoreUnavailable) as info:
        open_store("postgresql://u:secret@127.0.0.1:1/db", tmp_path)
    assert "secret" not in str(info.value)


def _concurrent(url: str | None, out_dir: Path) -> None:
    """Four station processes test overlapping serials at once."""
    ctx = mp.get_context("spawn")
    plans = {f"eol-{k}": [(k * 3 + i) % 10 for i in range(12)] for k in range(4)}
    with ctx.Pool(4) as pool:
        results = pool.starmap(station_process, [
            (url, str(out_dir), st, serials, k) for k, (st, serials) in enumerate(plans.items())])
    done = [row for rows in results for row in rows]
    with open_store(url, out_dir) as store:
        runs = store.runs()
        meas = store.measurements()
    # nothing lost, nothing duplicated
    assert len(done) == sum(len(s) for s in plans.values()) == len(runs)
    assert sorted(runs.run_id) == sorted(r[0] for r in done)
    per_run = meas.groupby("run_id").size()
    expected = {r: len(NAMES) for r in runs.run_id}
    # a critical FAIL would stop early; the workers only fail non-critical measurements
    assert per_run.to_dict() == expected
    assert not runs.verdict.isna().any()
    # retest indexes: 0..n-1 per serial, each the one the station was told
    for serial, group in runs.groupby("serial"):
        assert sorted(group.retest_index) == list(range(len(group))), serial
    told = {run_id: index for run_id, _, index in done}
    assert runs.set_index("run_id").retest_index.to_dict() == told
    assert (runs.record_sha256 == runs.retest_index.map(lambda i: f"{i:064x}")).all()


def test_four_station_processes_on_postgresql(pg_fresh_url: str, tmp_path: Path) -> None:
    _concurrent(pg_fresh_url, tmp_path)


def test_four_station_processes_on_one_sqlite_file(tmp_path: Path) -> None:
    _concurrent(f"sqlite:///{tmp_path / 'line.sqlite'}", tmp_path)


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_sigkill_mid_run_loses_nothing(backend: str, tmp_path: Path,
                                       request: pytest.FixtureRequest) -> None:
    url = None if backend == "sqlite" else request.getfixturevalue("pg_fresh_url")
    serial = make_serial(21)
    proc = mp.get_context("spawn").Process(target=crash_mid_run,
                                           args=(url, str(tmp_path), serial, 6))
    proc.start()
    proc.join(60)
    assert proc.exitcode == -9
    run_id = (tmp_path / "run_id").read_text()
    with open_store(url, tmp_path) as store:
        assert store.unfinished_runs("eol-crash") == [run_id]
        assert store.unfinished_runs("eol-1") == []  # another station's runs are not touched
        (back,) = store.recover_unfinished("eol-crash")
        assert store.unfinished_runs("eol-crash") == []
        assert store.record_sha256(run_id) is None  # the JSON was never written
    assert back.verdict == "ABORTED" and back.run_id == run_id
    assert back.failure is not None and "unfinished" in back.failure.message
    assert [m.name for m in back.measurements] == NAMES[:6]
    assert all(m.outcome == "PASS" and m.value is not None for m in back.measurements)


def test_store_tables_exist_after_open(tmp_path: Path) -> None:
    with open_store(None, tmp_path) as s:
        names = set(sa.inspect(s._engine).get_table_names())
    assert {"stations", "units", "instruments", "runs", "run_instruments", "measurements",
            "alembic_version"} <= names


def test_a_store_file_replaced_between_opens_in_one_process_is_the_new_file(
        tmp_path: Path) -> None:
    """A lot's units reopen one store in one process (its engine kept for its compiled
    statements): each open must still read the file that is there now, not the one an
    earlier open had."""
    first = make_record(make_serial(31))
    with open_store(None, tmp_path) as s:
        _record_run(s, first)
    for suffix in ("", "-wal", "-shm"):
        (tmp_path / f"station.sqlite{suffix}").unlink(missing_ok=True)
    with open_store(None, tmp_path) as s:
        assert s.runs().empty
        second = make_record(make_serial(32))
        _record_run(s, second)
    with open_store(None, tmp_path) as s:
        assert list(s.runs().run_id) == [second.run_id]


def test_postgres_connection_dropped_mid_run_loses_nothing(pg_fresh_url: str,
                                                           tmp_path: Path) -> None:
    """The server ends the station's session (restart, failover, idle kill) between two
    measurements: the next one reconnects and nothing is lost."""
    import psycopg

    final = make_record(make_serial(22))
    with open_store(pg_fresh_url, tmp_path) as store:
        store.begin_run(_running(final))
        store.add_measurement(final.run_id, final.measurements[0])
        db = pg_fresh_url.rsplit("/", 1)[1]
        with psycopg.connect(pg_fresh_url.rsplit("/", 1)[0] + "/test", autocommit=True) as admin:
            killed = admin.execute(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE datname = %s AND pid <> pg_backend_pid()", (db,)).fetchone()[0]
        assert killed >= 1
        for m in final.measurements[1:]:
            store.add_measurement(final.run_id, m)
        store.finish_run(final, None)
        assert store.load_record(final.run_id) == final


def test_database_gone_mid_run_is_one_clear_error(tmp_path: Path) -> None:
    from reports.store import StoreWriteError

    final = make_record(make_serial(23))
    store = open_store(None, tmp_path)
    store.begin_run(_running(final))
    with store._engine.begin() as conn:  # the fault: the table is gone (a broken database)
        conn.exec_driver_sql("DROP TABLE measurements")
    with pytest.raises(StoreWriteError, match=r"station\.sqlite failed in add_measurement: no such table"):
        store.add_measurement(final.run_id, final.measurements[0])
    store.close()


def test_migrations_downgrade_and_upgrade_again(tmp_path: Path) -> None:
    from alembic import command

    from reports.store.engine import _alembic_config

    with open_store(None, tmp_path) as s:
        cfg = _alembic_config()
        with s._engine.connect() as conn:
            cfg.attributes["connection"] = conn
            command.downgrade(cfg, "base")
            conn.commit()
        assert "runs" not in sa.inspect(s._engine).get_table_names()
    with open_store(None, tmp_path) as s:  # opening migrates to head again
        s.finish_run(make_record(make_serial(24)), None)
        assert len(s.runs()) == 1


def _open_together(url: str, out_dir: Path, openers: int) -> list[Exception]:
    """``openers`` threads open ``url`` at the same instant; the errors they met."""
    import threading
    start = threading.Barrier(openers)
    errors: list[Exception] = []

    def opener() -> None:
        start.wait()
        try:
            open_store(url, out_dir).close()
        except Exception as exc:
            errors.append(exc)

    threads = [threading.Thread(target=opener) for _ in range(openers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return errors


def test_station_processes_opening_a_new_sqlite_file_together_all_get_it(tmp_path: Path) -> None:
    """The first opener creates the file; the others must not see it, still empty, in that
    instant and take it for a truncated store."""
    for round_ in range(6):
        errors = _open_together(f"sqlite:///{tmp_path / f'new{round_}.sqlite'}", tmp_path, 6)
        assert errors == [], f"round {round_}: {errors[0]}"
