"""An index for the lot report's scan: runs of one plan in start order (a store shared by
several plans, a ``--since`` window), so the streaming pass over a lot's measurements
walks its runs in order without sorting them.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01
"""

from __future__ import annotations

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_runs_plan_started_at", "runs", ["plan", "started_at"])


def downgrade() -> None:
    op.drop_index("ix_runs_plan_started_at", table_name="runs")
