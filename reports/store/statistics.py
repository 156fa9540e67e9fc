"""The planner's statistics of the store's tables, refreshed where they are missing or stale.

PostgreSQL plans a query from its statistics (``pg_class.reltuples``, ``pg_statistic``),
which ``ANALYZE`` gathers and autovacuum refreshes, if it is on. Where they are missing
(autovacuum off, a bulk import, a restored dump) the planner takes a table of three million
measurements for one of a few hundred rows: a lot report's streaming pass over 20,000 runs
became a nested loop comparing every run with every measurement (ten minutes and more
instead of seconds). Before it reads the store at scale, the lot report asks for
:func:`ensure_statistics`, which analyzes (a sampled read, about 30,000 rows a table) only
the tables that need it. SQLite plans without statistics as it always does: nothing to do.
"""

from __future__ import annotations

import logging
from typing import Any

import sqlalchemy as sa

log = logging.getLogger(__name__)

#: The tables whose statistics decide the report's join plans.
REPORT_TABLES = ("runs", "measurements")
#: A table is stale when more rows changed since its last analysis than this share of it
#: (autovacuum's own default, ``autovacuum_analyze_scale_factor`` 0.1, doubled) …
STALE_SHARE = 0.2
#: … and than this many rows (a small table's plans do not turn on its statistics).
STALE_ROWS = 1_000

_STATE = sa.text(
    "SELECT c.relname, c.reltuples, COALESCE(s.n_mod_since_analyze, 0) "
    "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
    "LEFT JOIN pg_stat_user_tables s ON s.relid = c.oid "
    "WHERE n.nspname = current_schema() AND c.relname = ANY(:names)")


def _state(conn: sa.Connection, names: tuple[str, ...] | list[str]) -> list[Any]:
    """(name, reltuples, rows changed since the last analysis) of each table of ``names``."""
    return list(conn.execute(_STATE, {"names": list(names)}).all())


def stale_tables(conn: sa.Connection, names: tuple[str, ...] = REPORT_TABLES) -> list[str]:
    """The tables of ``names`` never analyzed (``reltuples`` −1) or changed by more than
    :data:`STALE_SHARE` (and :data:`STALE_ROWS`) since."""
    return sorted(name for name, tuples, changed in _state(conn, names)
                  if tuples < 0 or changed > max(STALE_ROWS, STALE_SHARE * tuples))


def ensure_statistics(engine: sa.Engine, names: tuple[str, ...] = REPORT_TABLES) -> list[str]:
    """ANALYZE the tables that need it (PostgreSQL; nothing on SQLite), in a transaction of
    its own (ANALYZE's lock would otherwise be held for the whole report; it never blocks
    the stations' writes); the tables analyzed.

    A role that may not analyze them (not their owner: PostgreSQL skips with a warning) is
    told in the log, and the report goes on with the statistics there are."""
    if engine.dialect.name != "postgresql":
        return []
    with engine.connect() as conn:
        stale = stale_tables(conn, names)
        if not stale:
            return []
        preparer = conn.dialect.identifier_preparer
        try:
            conn.exec_driver_sql("ANALYZE " + ", ".join(preparer.quote(t) for t in stale))
            conn.commit()
        except sa.exc.DBAPIError as exc:
            conn.rollback()
            _cannot(stale, str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc))
            return []
        never = sorted(name for name, tuples, _ in _state(conn, stale) if tuples < 0)
    if never:
        _cannot(never, "not analyzed: is this role their owner?")
    log.info("planner statistics refreshed: ANALYZE %s", ", ".join(stale))
    return [n for n in stale if n not in never]


def _cannot(tables: list[str], why: str) -> None:
    log.warning("planner statistics of %s are missing or stale and were not refreshed (%s): "
                "the report's plans may be slow; run ANALYZE as the tables' owner, or turn "
                "autovacuum on", ", ".join(tables), why)
