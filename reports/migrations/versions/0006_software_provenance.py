"""Runs keep what software made them beyond its version: the commit and dirty flag, the
plan files' SHA-256 and the resolved dependency set (``Record.software``). Rows of earlier
runs keep NULL: their records had none.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:   # plain ALTER TABLE, as 0004 (a batch copy would drop runs)
    op.add_column("runs", sa.Column("software", sa.Text(), nullable=True))


def downgrade() -> None:
    op.execute("ALTER TABLE runs DROP COLUMN software")
