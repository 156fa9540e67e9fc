"""Runs keep the cycle time's breakdown (dwell, I/O, other) and the files kept beside the
record (name, media type, SHA-256). Rows of earlier runs keep NULL: their records had neither.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

COLUMNS = ("time_use", "attachments")


# Plain ALTER TABLE, not batch mode: on SQLite a batch copy of ``runs`` would drop the table
# its measurements refer to (refused with foreign keys on); SQLite ≥ 3.35 drops a column
# in place.


def upgrade() -> None:
    for name in COLUMNS:
        op.add_column("runs", sa.Column(name, sa.Text(), nullable=True))


def downgrade() -> None:
    for name in reversed(COLUMNS):
        op.execute(f"ALTER TABLE runs DROP COLUMN {name}")
