"""Alembic migrations of the results store (run to head by ``open_store``)."""
