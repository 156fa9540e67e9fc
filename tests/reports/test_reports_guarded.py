"""Spec limit, U and acceptance limit kept by the JSON record and the store (SQLite and the
real PostgreSQL), records from before U still loading byte for byte, and migration 0003 on
a store of 0002 that already holds runs."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from recordgen import make_record, make_serial

from reports.record import Limit, Record
from reports.signing import check_signature, sign_record
from reports.store import Store, open_store
from reports.store.engine import _alembic_config, script_head

#: The store's schema head: the newest migration in reports/migrations/versions.

GUARDED = "uncertainty", "accept_low", "accept_high"


def _old_style(serial: int) -> Record:
    """A record as written before U was kept: limits without uncertainty, schema 1."""
    r = make_record(make_serial(serial))
    for m in r.measurements:
        m.limit = Limit.model_validate(m.limit.model_dump(exclude=set(GUARDED)))
    r.schema_version = 1
    return r


def _record_run(store: Store, final: Record) -> None:
    running = final.model_copy(deep=True, update={
        "verdict": None, "finished_at": None, "duration_s": None, "measurements": [], "failure": None})
    final.retest_index = store.begin_run(running)
    for m in final.measurements:
        store.add_measurement(final.run_id, m)
    store.finish_run(final, "ab" * 32)


def test_the_record_keeps_spec_u_and_acceptance() -> None:
    r = make_record(make_serial(61))
    back = Record.from_json_bytes(r.to_json_bytes())
    ocv = back.measurement("ocv").limit
    assert (ocv.low, ocv.high, ocv.uncertainty, ocv.accept_low, ocv.accept_high) == (
        51.5, 53.6, 0.0032, 51.5032, 53.5968)
    assert back == r and back.to_json_bytes() == r.to_json_bytes()
    assert b'"uncertainty": 0.0032' in r.to_json_bytes()


def test_a_record_from_before_u_loads_and_keeps_its_bytes_and_signature() -> None:
    old = _old_style(62)
    old.signature = sign_record(old, Ed25519PrivateKey.generate())
    data = old.to_json_bytes()
    assert not any(f'"{k}"'.encode() in data for k in GUARDED)   # the layout of schema 1
    back = Record.from_json_bytes(data)
    assert all(getattr(m.limit, k) is None for m in back.measurements for k in GUARDED)
    assert back.schema_version == 1 and back.to_json_bytes() == data
    assert check_signature(back) is None
    # judged as it was: against the spec limit alone
    assert back.measurement("ocv").limit.judge(51.5001, "V") == ("PASS", "")


def test_guarded_limits_round_trip_through_the_store(store: Store) -> None:
    final, old = make_record(make_serial(63)), _old_style(64)
    for r in (final, old):
        _record_run(store, r)
        assert store.load_record(r.run_id) == r
    rows = store.measurements(run_id=final.run_id).set_index("name")
    assert (rows.loc["ocv", "uncertainty"], rows.loc["ocv", "accept_low"]) == (0.0032, 51.5032)
    assert rows.loc["tier_15s_time", "accept_high"] == 16.4916
    assert store.measurements(run_id=old.run_id)["uncertainty"].isna().all()


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str | None]:
    yield None if request.param == "sqlite" else request.getfixturevalue("pg_fresh_url")


def _revision_and_columns(store: Store) -> tuple[str, set[str]]:
    with store._engine.connect() as conn:
        rev = conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar_one()
    return rev, {c["name"] for c in sa.inspect(store._engine).get_columns("measurements")}


def test_migration_0003_upgrades_a_store_of_0002_that_holds_runs(url: str | None, tmp_path: Path) -> None:
    old = _old_style(65)
    with open_store(url, tmp_path) as s:
        _record_run(s, old)
        cfg = _alembic_config()
        with s._engine.connect() as conn:   # back to the schema of 0002, rows kept
            cfg.attributes["connection"] = conn
            command.downgrade(cfg, "0002")
            conn.commit()
        rev, columns = _revision_and_columns(s)
        assert rev == "0002" and not set(GUARDED) & columns and "high" in columns
    with open_store(url, tmp_path) as s:   # opening migrates to head (0003 and later)
        rev, columns = _revision_and_columns(s)
        assert rev == script_head() and set(GUARDED) <= columns
        assert s.load_record(old.run_id) == old   # the old run, its limits without U
        new = make_record(make_serial(66))
        _record_run(s, new)
        assert s.load_record(new.run_id).measurement("ocv").limit.accept_high == 53.5968


def test_lot_capability_judges_the_process_against_the_spec_limits(sqlite_store: Store) -> None:
    """Cp/Cpk are the process's: the spec limits, never the station's acceptance limits."""
    from reports.analytics import capability, indices

    for k in range(30):
        sqlite_store.finish_run(make_record(make_serial(100 + k)), None)
    row = capability(sqlite_store.measurements()).set_index("name").loc["ocv"]
    assert (row["low"], row["high"]) == (51.5, 53.6)
    values = list(row["values"])
    mu = sum(values) / len(values)
    s = (sum((v - mu) ** 2 for v in values) / (len(values) - 1)) ** 0.5
    assert row["ppk"] == pytest.approx(indices(mu, s, 51.5, 53.6)[1])
