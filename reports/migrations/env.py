"""Alembic environment: migrate the connection ``open_store`` hands over.

The store calls Alembic programmatically with an open connection in
``config.attributes["connection"]``; there is no alembic.ini and no URL here, so the
migrations run wherever the store runs (SQLite file or a line's PostgreSQL server).
"""

from __future__ import annotations

from alembic import context

from reports.store.tables import metadata

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("reports migrations run through reports.store.open_store (no connection given)")

context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
