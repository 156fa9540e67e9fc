"""The results store's tables (SQLAlchemy Core): stations, units, instruments, runs, measurements.

The schema is normalised so a line's database answers questions across runs (yield by
station, every run of a serial, one measurement's distribution) with plain SQL, and so a
measurement row can be written on its own (``Store.add_measurement``). Alembic migrations
(``reports/migrations``) create it; a test checks that they match these tables. Core
tables, not ORM models: the store writes and reads rows with Core statements, and the ORM
would cost every run about 0.1 s of import and mapping for nothing.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Column


class UtcDateTime(sa.types.TypeDecorator[datetime]):
    """Timezone-aware UTC in and out, on SQLite (no time zones) as on PostgreSQL."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value.isoformat()} cannot be stored (UTC needed)")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class ExactJSON(sa.types.TypeDecorator[Any]):
    """JSON kept as text. SQLite gives a column declared JSON numeric affinity and would
    turn the text 0.0 into the integer 0; a value must come back with its exact type."""

    impl = sa.Text
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: sa.Dialect) -> str:
        return json.dumps(value, ensure_ascii=False, allow_nan=False)

    def process_result_value(self, value: str | None, dialect: sa.Dialect) -> Any:
        return None if value is None else json.loads(value)


metadata = sa.MetaData()


def _text(name: str, *args: Any, nullable: bool = False, **kw: Any) -> Column[Any]:
    return Column(name, sa.Text, *args, nullable=nullable, **kw)


def _when(name: str, *, nullable: bool = False) -> Column[Any]:
    return Column(name, UtcDateTime, nullable=nullable)


def _json(name: str) -> Column[Any]:
    return Column(name, ExactJSON, nullable=True)


def _float(name: str) -> Column[Any]:
    return Column(name, sa.Float, nullable=True)


STATIONS = sa.Table(
    "stations", metadata,
    _text("id", primary_key=True),
    _text("line"),
    _text("file"),
    Column("simulated", sa.Boolean, nullable=False),
    _when("first_seen"),
    _when("last_seen"),
)

UNITS = sa.Table(
    "units", metadata,
    _text("serial", primary_key=True),
    _text("model"),
    _when("first_seen"),
)

INSTRUMENTS = sa.Table(
    "instruments", metadata,
    Column("pk", sa.Integer, primary_key=True, autoincrement=True),
    _text("dialect"),
    _text("serial"),
    _text("idn"),
    sa.UniqueConstraint("dialect", "serial", name="uq_instruments_dialect_serial"),
)

RUNS = sa.Table(
    "runs", metadata,
    Column("pk", sa.Integer, primary_key=True, autoincrement=True),
    Column("run_id", sa.String(32), nullable=False),
    Column("schema_version", sa.Integer, nullable=False),
    _text("serial", sa.ForeignKey("units.serial")),
    _text("model"),
    _text("plan"),
    _text("verdict", nullable=True),
    _when("started_at"),
    _when("finished_at", nullable=True),
    _float("duration_s"),
    _float("wall_duration_s"),
    Column("retest_index", sa.Integer, nullable=False),
    _text("operator"),
    _text("software_version"),
    _text("station_id", sa.ForeignKey("stations.id")),
    _text("station_line"),   # as at the run (stations may move)
    _text("station_file"),
    Column("station_simulated", sa.Boolean, nullable=False),
    _text("firmware_main", nullable=True),
    _text("firmware_boot", nullable=True),
    _text("firmware_bms_board", nullable=True),
    _text("limits_file"),
    _text("limits_version"),
    Column("limits_sha256", sa.String(64), nullable=False),
    Column("work_order", ExactJSON, nullable=False),
    _text("failure_kind", nullable=True),
    _text("failure_step", nullable=True),
    _text("failure_measurement", nullable=True),
    _text("failure_message", nullable=True),
    Column("record_sha256", sa.String(64), nullable=True),
    Column("development", sa.Boolean, nullable=False, server_default=sa.false()),
    _json("steps"),         # the per-step record
    _json("owner"),         # host, pid of a live run
    _json("time_use"),      # the cycle time's breakdown
    _json("attachments"),   # files beside the record
    _json("software"),      # commit, plan hash, dependencies
    sa.UniqueConstraint("run_id", name="uq_runs_run_id"),
    sa.UniqueConstraint("serial", "retest_index", "development", name="uq_runs_serial_retest"),
    sa.Index("ix_runs_started_at", "started_at"),
    sa.Index("ix_runs_plan_started_at", "plan", "started_at"),   # the lot report's scan
    sa.Index("ix_runs_station_verdict", "station_id", "verdict"),
)

RUN_INSTR = sa.Table(
    "run_instruments", metadata,
    Column("run_pk", sa.Integer, sa.ForeignKey("runs.pk"), primary_key=True),
    Column("position", sa.Integer, primary_key=True),
    Column("instrument_pk", sa.Integer, sa.ForeignKey("instruments.pk"), nullable=False),
    _text("role"),
    _text("resource"),
    _text("idn"),
    Column("calibration_due", sa.Date, nullable=False),
)

MEAS = sa.Table(
    "measurements", metadata,
    Column("pk", sa.Integer, primary_key=True, autoincrement=True),
    Column("run_pk", sa.Integer, sa.ForeignKey("runs.pk"), nullable=False),
    Column("seq", sa.Integer, nullable=False),   # position in plan order
    _text("name"),
    _text("step"),
    _text("unit"),
    _text("description"),
    _text("comparison"),
    _float("low"),
    _float("high"),
    _json("expect"),   # exact type kept
    _text("pattern", nullable=True),
    _json("allowed"),
    # guarded acceptance (SPEC §8): U (k = 2) and the acceptance limits; NULL before 0003
    _float("uncertainty"),
    _float("accept_low"),
    _float("accept_high"),
    Column("critical", sa.Boolean, nullable=False),
    _text("outcome"),
    _json("value"),   # exact type kept
    _float("value_num"),   # numeric values, for analytics
    _text("message"),
    _float("t"),
    _when("taken_at", nullable=True),
    sa.UniqueConstraint("run_pk", "name", name="uq_measurements_run_name"),
    sa.Index("ix_measurements_name", "name"),
)
