"""Measurements keep their guarded acceptance (SPEC §8): the expanded uncertainty U (k = 2)
and the acceptance limits beside the spec limits. Rows of earlier runs keep NULL: they were
judged against the spec limits alone.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-08
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

COLUMNS = ("uncertainty", "accept_low", "accept_high")


def upgrade() -> None:
    with op.batch_alter_table("measurements") as batch:
        for name in COLUMNS:
            batch.add_column(sa.Column(name, sa.Float(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("measurements") as batch:
        for name in reversed(COLUMNS):
            batch.drop_column(name)
