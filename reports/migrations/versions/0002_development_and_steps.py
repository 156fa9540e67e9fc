"""Runs record whether they were development runs (some steps only), their steps and the
process that owns them while they run; a development run has a retest sequence of its own,
so it never moves a production run's.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("runs") as batch:
        batch.add_column(sa.Column("development", sa.Boolean(), server_default=sa.false(),
                                   nullable=False))
        batch.add_column(sa.Column("steps", sa.Text(), nullable=True))
        batch.add_column(sa.Column("owner", sa.Text(), nullable=True))
        batch.drop_constraint("uq_runs_serial_retest", type_="unique")
        batch.create_unique_constraint("uq_runs_serial_retest",
                                       ["serial", "retest_index", "development"])


def downgrade() -> None:
    with op.batch_alter_table("runs") as batch:
        batch.drop_constraint("uq_runs_serial_retest", type_="unique")
        batch.create_unique_constraint("uq_runs_serial_retest", ["serial", "retest_index"])
        batch.drop_column("owner")
        batch.drop_column("steps")
        batch.drop_column("development")
