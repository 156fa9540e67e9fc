"""Opening the results database: URL rules, connection settings and migrations to head.

Kept apart from the store's queries because it changes for different reasons (a new
database server, a connection setting), and because a database that cannot be reached must
be refused here, before a run starts, with one clear line.
"""

from __future__ import annotations

import fcntl
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

import sqlalchemy as sa

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"
DEFAULT_FILE = "station.sqlite"
#: Key of the PostgreSQL advisory lock that serialises migrations of one database.
_MIGRATION_LOCK = 0x56535441  # "VSTA"


class StoreUnavailable(ValueError):
    """The results database cannot be reached or written: the run must not start."""


def resolve_url(url: str | None, out_dir: Path) -> str:
    """The SQLAlchemy URL for ``url`` (None: the SQLite file under ``out_dir``)."""
    if url is None:
        try:
            out_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreUnavailable(
                f"results folder {out_dir} cannot be created: {exc.strerror or exc}"
            ) from None
        return f"sqlite:///{out_dir / DEFAULT_FILE}"
    if url.startswith(("postgresql://", "postgres://", "postgresql+psycopg://")):
        from reports.extras import missing

        why = missing("psycopg", f"results database {safe_url(url)}")
        if why is not None:
            raise StoreUnavailable(why)
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    if url.startswith("sqlite:///") and len(url) > len("sqlite:///"):
        path = Path(url[len("sqlite:///"):])
        if not path.parent.is_dir():
            raise StoreUnavailable(f"results database {url}: folder {path.parent} does not exist")
        return url
    raise StoreUnavailable(
        f"results database URL {url!r} not supported: use postgresql://... or sqlite:///FILE"
    )


def _sqlite_path(url: str) -> Path | None:
    return Path(url[len("sqlite:///"):]) if url.startswith("sqlite:///") else None


@contextmanager
def _folder_lock(path: Path | None) -> Iterator[None]:
    """Serialise the openers of one SQLite file (an exclusive lock on its folder) from the
    check of the file to the end of the migrations. Without it a second station process
    sees the first one's file in the instant it is created, still empty, and takes it for
    a truncated store."""
    if path is None:
        yield
        return
    fd = os.open(path.parent, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases the lock


def _check_sqlite_writable(path: Path) -> None:
    if path.exists() and path.stat().st_size == 0:   # truncated: not a new store, a lost one
        raise StoreUnavailable(f"results database {path} is an empty file: it is not a store "
                               "(restore it from a backup, or move it away to start a new one)")
    target = path if path.exists() else path.parent
    if not os.access(target, os.W_OK):
        raise StoreUnavailable(f"results database {path} is not writable")


def safe_url(url: str) -> str:
    """The URL without its password, fit for a message."""
    try:
        return sa.engine.make_url(url).render_as_string(hide_password=True)
    except sa.exc.ArgumentError:
        return url


@lru_cache(maxsize=8)
def create_engine(url: str, *, immediate: bool = True) -> sa.Engine:
    """An engine with the settings a station needs (WAL on SQLite; ``immediate``: every
    transaction takes SQLite's write lock at BEGIN, for writers; readers do not).

    One engine per URL in a process: a lot's units (``--serial A --serial B``) reopen the
    same store, and the engine keeps its compiled statements (SQLAlchemy compiles per
    engine, a tenth of a unit's store time). A closed store disposes the engine's pool,
    so every open connects to the file afresh (a file replaced meanwhile is the new one)."""
    if url.startswith("sqlite"):
        engine = sa.create_engine(url, connect_args={"timeout": 30.0})
        _configure_sqlite(engine, immediate)
        return engine
    return sa.create_engine(url, connect_args={"connect_timeout": 5}, pool_pre_ping=True)


def _configure_sqlite(engine: sa.Engine, immediate: bool) -> None:
    """WAL (readers never block the writer), and BEGIN IMMEDIATE so concurrent station
    processes sharing one file queue for the write lock instead of failing on upgrade."""

    @sa.event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # we issue BEGIN ourselves
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        # NORMAL in WAL mode: a commit survives a crash of the process (the case the
        # station must survive); only a power cut may lose the last commits.
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.close()

    @sa.event.listens_for(engine, "begin")
    def _on_begin(conn: sa.Connection) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


_REVISION = re.compile(r"^(down_revision|revision)\s*=\s*(None|[\"'][^\"']+[\"'])", re.M)


@cache
def script_head() -> str | None:
    """The head revision, read from the migration files' ``revision`` / ``down_revision``
    lines without Alembic (importing it and executing every script is a tenth of a
    run's start). None when that reading is not a single line of revisions: Alembic
    decides then."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for path in (MIGRATIONS_DIR / "versions").glob("*.py"):
        found = dict(_REVISION.findall(path.read_text(encoding="utf-8")))
        if "revision" not in found:
            continue
        revisions.add(found["revision"].strip("\"'"))
        down = found.get("down_revision", "None")
        if down != "None":
            parents.add(down.strip("\"'"))
    heads = revisions - parents
    return heads.pop() if len(heads) == 1 and parents <= revisions else None


def _alembic_config() -> Any:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    return cfg


def _current_revisions(conn: sa.Connection) -> set[str]:
    """What ``alembic_version`` holds (empty for a new database), read with plain SQL."""
    if not sa.inspect(conn).has_table("alembic_version"):
        return set()
    return {row[0] for row in conn.exec_driver_sql("SELECT version_num FROM alembic_version")}


def migrate(engine: sa.Engine) -> None:
    """Bring the schema to head; concurrent openers wait for each other, one migrates.
    Alembic is imported only when the schema is behind (or its head cannot be read)."""
    with engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(sa.select(sa.func.pg_advisory_xact_lock(_MIGRATION_LOCK)))
        # On SQLite the first statement began an IMMEDIATE transaction: the write lock.
        head = script_head()
        if head is None or _current_revisions(conn) != {head}:
            from alembic import command

            cfg = _alembic_config()
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "head")
        conn.commit()


#: A SQLite store up to this size is wholly checked (``PRAGMA quick_check``) at every open:
#: the check reads every page, about 4 ms a MiB on this project's machines, so at most
#: ~35 ms. A year of a station's runs is hundreds of MiB (453 MiB for 100,000 EOL runs: 1.9 s
#: at every start, at every unit of a lot), so a larger store gets the bounded check
#: (:func:`_check_edges`) and the whole check is ``station store check``, for maintenance.
FULL_CHECK_MAX_BYTES = 8 * 2**20


def _store_bytes(path: Path) -> int:
    """The file and its write-ahead log, as the check would read them."""
    return sum(p.stat().st_size for p in (path, path.with_name(path.name + "-wal")) if p.exists())


def quick_check(engine: sa.Engine) -> list[str]:
    """SQLite's whole-file check: ``["ok"]``, or up to three problems found."""
    with engine.connect() as conn:
        found = [str(row[0]) for row in conn.exec_driver_sql("PRAGMA quick_check(3)")]
        conn.commit()
    return found


def _check_edges(engine: sa.Engine, path: Path) -> list[str] | None:
    """The bounded check (:mod:`reports.store.sqlite_pages`): the file's pages down both edges
    of every table's and index's tree, the right edge being where a run's rows go. A damaged
    page there is refused now; one elsewhere is met by the write that touches it (the run
    goes on, its journal keeps the record, ``station store sync`` catches the store up once it
    is repaired) or found by ``station store check``. None when the file is not the whole
    database (a write-ahead log another process still holds): then the whole check decides."""
    from reports.store.sqlite_pages import edge_problems

    wal = path.with_name(path.name + "-wal")
    raw = engine.raw_connection()
    db = raw.driver_connection   # isolation_level None: the statements below are as written
    assert db is not None
    try:
        if wal.exists() and wal.stat().st_size:   # a crash's or another process's log
            db.execute("PRAGMA busy_timeout=0")    # not waiting for its readers
            db.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
            db.execute("PRAGMA busy_timeout=30000")
        db.execute("BEGIN")   # a reader of the file alone: no checkpoint writes to it now
        roots = {str(name): int(root) for name, root in db.execute(
            "SELECT name, rootpage FROM sqlite_master WHERE rootpage > 0")}
        if wal.exists() and wal.stat().st_size:
            return None
        return edge_problems(path, roots) or ["ok"]
    finally:
        if db.in_transaction:
            db.execute("ROLLBACK")
        raw.close()


def _check_integrity(engine: sa.Engine, url: str) -> None:
    """A damaged store is refused now, not met half-way through a run: wholly checked where
    that is cheap, its trees' edges where the store is large."""
    path = _sqlite_path(url)
    found = None
    if path is not None and _store_bytes(path) > FULL_CHECK_MAX_BYTES:
        found = _check_edges(engine, path)
    found = found or quick_check(engine)
    if found != ["ok"]:
        engine.dispose()
        raise StoreUnavailable(f"results database {safe_url(url)} is damaged: {'; '.join(found)} "
                               "(restore it from a backup)")


def open_engine(url: str | None, out_dir: Path) -> tuple[sa.Engine, sa.Engine, str]:
    """Resolve, connect, migrate; return (writer, reader, URL) engines or raise
    :class:`StoreUnavailable` with one clear line."""
    full = resolve_url(url, Path(out_dir))
    path = _sqlite_path(full)
    with _folder_lock(path):
        if path is not None:
            _check_sqlite_writable(path)
        engine = create_engine(full)
        try:
            migrate(engine)  # on SQLite the file has its header once this returns
            if engine.dialect.name == "sqlite":
                _check_integrity(engine, full)
        except sa.exc.DBAPIError as exc:
            engine.dispose()
            reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
            raise StoreUnavailable(
                f"results database {safe_url(url or full)} cannot be used: {reason}"
            ) from None
    reader = create_engine(full, immediate=False) if engine.dialect.name == "sqlite" else engine
    return engine, reader, full
