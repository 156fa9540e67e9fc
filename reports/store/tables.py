"""SQLAlchemy models of the results store: stations, units, instruments, runs, measurements.

The schema is normalised so a line's database answers questions across runs (yield by
station, every run of a serial, one measurement's distribution) with plain SQL, and so a
measurement row can be written on its own (``Store.add_measurement``). Alembic migrations
(``reports/migrations``) create it; a test checks that they match these models.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any, ClassVar

import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


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


class Base(DeclarativeBase):
    type_annotation_map = {datetime: UtcDateTime, dict[str, Any]: ExactJSON}
    if TYPE_CHECKING:   # every model here is declared with its columns: a Table
        __table__: ClassVar[sa.Table]


class Station(Base):
    __tablename__ = "stations"
    id: Mapped[str] = mapped_column(sa.Text, primary_key=True)
    line: Mapped[str] = mapped_column(sa.Text)
    file: Mapped[str] = mapped_column(sa.Text)
    simulated: Mapped[bool] = mapped_column(sa.Boolean)
    first_seen: Mapped[datetime]
    last_seen: Mapped[datetime]


class Unit(Base):
    __tablename__ = "units"
    serial: Mapped[str] = mapped_column(sa.Text, primary_key=True)
    model: Mapped[str] = mapped_column(sa.Text)
    first_seen: Mapped[datetime]


class InstrumentRow(Base):
    __tablename__ = "instruments"
    __table_args__ = (sa.UniqueConstraint("dialect", "serial", name="uq_instruments_dialect_serial"),)
    pk: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=True)
    dialect: Mapped[str] = mapped_column(sa.Text)
    serial: Mapped[str] = mapped_column(sa.Text)
    idn: Mapped[str] = mapped_column(sa.Text)


class Run(Base):
    __tablename__ = "runs"
    __table_args__ = (
        sa.UniqueConstraint("run_id", name="uq_runs_run_id"),
        sa.UniqueConstraint("serial", "retest_index", "development", name="uq_runs_serial_retest"),
        sa.Index("ix_runs_started_at", "started_at"),
        sa.Index("ix_runs_plan_started_at", "plan", "started_at"),   # the lot report's scan
        sa.Index("ix_runs_station_verdict", "station_id", "verdict"),
    )
    pk: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=True)
    run_id: Mapped[str] = mapped_column(sa.String(32))
    schema_version: Mapped[int] = mapped_column(sa.Integer)
    serial: Mapped[str] = mapped_column(sa.ForeignKey("units.serial"))
    model: Mapped[str] = mapped_column(sa.Text)
    plan: Mapped[str] = mapped_column(sa.Text)
    verdict: Mapped[str | None] = mapped_column(sa.Text)
    started_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]
    duration_s: Mapped[float | None] = mapped_column(sa.Float)
    wall_duration_s: Mapped[float | None] = mapped_column(sa.Float)
    retest_index: Mapped[int] = mapped_column(sa.Integer)
    operator: Mapped[str] = mapped_column(sa.Text)
    software_version: Mapped[str] = mapped_column(sa.Text)
    station_id: Mapped[str] = mapped_column(sa.ForeignKey("stations.id"))
    station_line: Mapped[str] = mapped_column(sa.Text)  # as at the run (stations may move)
    station_file: Mapped[str] = mapped_column(sa.Text)
    station_simulated: Mapped[bool] = mapped_column(sa.Boolean)
    firmware_main: Mapped[str | None] = mapped_column(sa.Text)
    firmware_boot: Mapped[str | None] = mapped_column(sa.Text)
    firmware_bms_board: Mapped[str | None] = mapped_column(sa.Text)
    limits_file: Mapped[str] = mapped_column(sa.Text)
    limits_version: Mapped[str] = mapped_column(sa.Text)
    limits_sha256: Mapped[str] = mapped_column(sa.String(64))
    work_order: Mapped[dict[str, Any]]
    failure_kind: Mapped[str | None] = mapped_column(sa.Text)
    failure_step: Mapped[str | None] = mapped_column(sa.Text)
    failure_measurement: Mapped[str | None] = mapped_column(sa.Text)
    failure_message: Mapped[str | None] = mapped_column(sa.Text)
    record_sha256: Mapped[str | None] = mapped_column(sa.String(64))
    development: Mapped[bool] = mapped_column(sa.Boolean, server_default=sa.false())
    steps: Mapped[Any] = mapped_column(ExactJSON, nullable=True)   # the per-step record
    owner: Mapped[Any] = mapped_column(ExactJSON, nullable=True)   # host, pid of a live run
    time_use: Mapped[Any] = mapped_column(ExactJSON, nullable=True)      # the cycle time's breakdown
    attachments: Mapped[Any] = mapped_column(ExactJSON, nullable=True)   # files beside the record
    software: Mapped[Any] = mapped_column(ExactJSON, nullable=True)      # commit, plan hash, dependencies


class RunInstrument(Base):
    __tablename__ = "run_instruments"
    run_pk: Mapped[int] = mapped_column(sa.ForeignKey("runs.pk"), primary_key=True)
    position: Mapped[int] = mapped_column(sa.Integer, primary_key=True)
    instrument_pk: Mapped[int] = mapped_column(sa.ForeignKey("instruments.pk"))
    role: Mapped[str] = mapped_column(sa.Text)
    resource: Mapped[str] = mapped_column(sa.Text)
    idn: Mapped[str] = mapped_column(sa.Text)
    calibration_due: Mapped[date] = mapped_column(sa.Date)


class MeasurementRow(Base):
    __tablename__ = "measurements"
    __table_args__ = (
        sa.UniqueConstraint("run_pk", "name", name="uq_measurements_run_name"),
        sa.Index("ix_measurements_name", "name"),
    )
    pk: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=True)
    run_pk: Mapped[int] = mapped_column(sa.ForeignKey("runs.pk"))
    seq: Mapped[int] = mapped_column(sa.Integer)  # position in plan order
    name: Mapped[str] = mapped_column(sa.Text)
    step: Mapped[str] = mapped_column(sa.Text)
    unit: Mapped[str] = mapped_column(sa.Text)
    description: Mapped[str] = mapped_column(sa.Text)
    comparison: Mapped[str] = mapped_column(sa.Text)
    low: Mapped[float | None] = mapped_column(sa.Float)
    high: Mapped[float | None] = mapped_column(sa.Float)
    expect: Mapped[Any] = mapped_column(ExactJSON, nullable=True)  # exact type kept
    pattern: Mapped[str | None] = mapped_column(sa.Text)
    allowed: Mapped[Any] = mapped_column(ExactJSON, nullable=True)
    # guarded acceptance (SPEC §8): U (k = 2) and the acceptance limits; NULL before 0003
    uncertainty: Mapped[float | None] = mapped_column(sa.Float)
    accept_low: Mapped[float | None] = mapped_column(sa.Float)
    accept_high: Mapped[float | None] = mapped_column(sa.Float)
    critical: Mapped[bool] = mapped_column(sa.Boolean)
    outcome: Mapped[str] = mapped_column(sa.Text)
    value: Mapped[Any] = mapped_column(ExactJSON, nullable=True)  # exact type kept
    value_num: Mapped[float | None] = mapped_column(sa.Float)  # numeric values, for analytics
    message: Mapped[str] = mapped_column(sa.Text)
    t: Mapped[float | None] = mapped_column(sa.Float)
    taken_at: Mapped[datetime | None]


metadata = Base.metadata
