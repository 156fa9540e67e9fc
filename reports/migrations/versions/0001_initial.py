"""The first schema: stations, units, instruments, runs, run_instruments, measurements.

Revision ID: 0001
Revises:
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

UTC_TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "instruments",
        sa.Column("pk", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("dialect", sa.Text(), nullable=False),
        sa.Column("serial", sa.Text(), nullable=False),
        sa.Column("idn", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("pk"),
        sa.UniqueConstraint("dialect", "serial", name="uq_instruments_dialect_serial"),
    )
    op.create_table(
        "stations",
        sa.Column("id", sa.Text(), nullable=False),
        sa.Column("line", sa.Text(), nullable=False),
        sa.Column("file", sa.Text(), nullable=False),
        sa.Column("simulated", sa.Boolean(), nullable=False),
        sa.Column("first_seen", UTC_TS, nullable=False),
        sa.Column("last_seen", UTC_TS, nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "units",
        sa.Column("serial", sa.Text(), nullable=False),
        sa.Column("model", sa.Text(), nullable=False),
        sa.Column("first_seen", UTC_TS, nullable=False),
        sa.PrimaryKeyConstraint("serial"),
    )
    op.create_table(
        "runs",
        sa.Column("pk", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("run_id", sa.String(length=32), nullable=False),
        sa.Column("schema_version", sa.Integer(), nullable=False),
        sa.Column("serial", sa.Text(), nullable=False),
        sa.Column("model", sa.Text(), nullable=False),
        sa.Column("plan", sa.Text(), nullable=False),
        sa.Column("verdict", sa.Text(), nullable=True),
        sa.Column("started_at", UTC_TS, nullable=False),
        sa.Column("finished_at", UTC_TS, nullable=True),
        sa.Column("duration_s", sa.Float(), nullable=True),
        sa.Column("wall_duration_s", sa.Float(), nullable=True),
        sa.Column("retest_index", sa.Integer(), nullable=False),
        sa.Column("operator", sa.Text(), nullable=False),
        sa.Column("software_version", sa.Text(), nullable=False),
        sa.Column("station_id", sa.Text(), nullable=False),
        sa.Column("station_line", sa.Text(), nullable=False),
        sa.Column("station_file", sa.Text(), nullable=False),
        sa.Column("station_simulated", sa.Boolean(), nullable=False),
        sa.Column("firmware_main", sa.Text(), nullable=True),
        sa.Column("firmware_boot", sa.Text(), nullable=True),
        sa.Column("firmware_bms_board", sa.Text(), nullable=True),
        sa.Column("limits_file", sa.Text(), nullable=False),
        sa.Column("limits_version", sa.Text(), nullable=False),
        sa.Column("limits_sha256", sa.String(length=64), nullable=False),
        sa.Column("work_order", sa.Text(), nullable=False),
        sa.Column("failure_kind", sa.Text(), nullable=True),
        sa.Column("failure_step", sa.Text(), nullable=True),
        sa.Column("failure_measurement", sa.Text(), nullable=True),
        sa.Column("failure_message", sa.Text(), nullable=True),
        sa.Column("record_sha256", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(["serial"], ["units.serial"]),
        sa.ForeignKeyConstraint(["station_id"], ["stations.id"]),
        sa.PrimaryKeyConstraint("pk"),
        sa.UniqueConstraint("run_id", name="uq_runs_run_id"),
        sa.UniqueConstraint("serial", "retest_index", name="uq_runs_serial_retest"),
    )
    op.create_index("ix_runs_started_at", "runs", ["started_at"], unique=False)
    op.create_index("ix_runs_station_verdict", "runs", ["station_id", "verdict"], unique=False)
    op.create_table(
        "measurements",
        sa.Column("pk", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("run_pk", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("step", sa.Text(), nullable=False),
        sa.Column("unit", sa.Text(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("comparison", sa.Text(), nullable=False),
        sa.Column("low", sa.Float(), nullable=True),
        sa.Column("high", sa.Float(), nullable=True),
        sa.Column("expect", sa.Text(), nullable=True),
        sa.Column("pattern", sa.Text(), nullable=True),
        sa.Column("allowed", sa.Text(), nullable=True),
        sa.Column("critical", sa.Boolean(), nullable=False),
        sa.Column("outcome", sa.Text(), nullable=False),
        sa.Column("value", sa.Text(), nullable=True),
        sa.Column("value_num", sa.Float(), nullable=True),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("t", sa.Float(), nullable=True),
        sa.Column("taken_at", UTC_TS, nullable=True),
        sa.ForeignKeyConstraint(["run_pk"], ["runs.pk"]),
        sa.PrimaryKeyConstraint("pk"),
        sa.UniqueConstraint("run_pk", "name", name="uq_measurements_run_name"),
    )
    op.create_index("ix_measurements_name", "measurements", ["name"], unique=False)
    op.create_table(
        "run_instruments",
        sa.Column("run_pk", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("instrument_pk", sa.Integer(), nullable=False),
        sa.Column("role", sa.Text(), nullable=False),
        sa.Column("resource", sa.Text(), nullable=False),
        sa.Column("idn", sa.Text(), nullable=False),
        sa.Column("calibration_due", sa.Date(), nullable=False),
        sa.ForeignKeyConstraint(["instrument_pk"], ["instruments.pk"]),
        sa.ForeignKeyConstraint(["run_pk"], ["runs.pk"]),
        sa.PrimaryKeyConstraint("run_pk", "position"),
    )


def downgrade() -> None:
    op.drop_table("run_instruments")
    op.drop_index("ix_measurements_name", table_name="measurements")
    op.drop_table("measurements")
    op.drop_index("ix_runs_station_verdict", table_name="runs")
    op.drop_index("ix_runs_started_at", table_name="runs")
    op.drop_table("runs")
    op.drop_table("units")
    op.drop_table("stations")
    op.drop_table("instruments")
