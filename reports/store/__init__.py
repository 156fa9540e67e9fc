"""The results store: SQLite by default (a file in the output folder), PostgreSQL for a line.

``open_store(url, out_dir)`` connects, migrates to head and returns a :class:`Store`;
a database that cannot be reached or written raises :class:`StoreUnavailable` (the CLI's
exit 3) so a run is refused before it starts instead of losing its results.
"""

from __future__ import annotations

from pathlib import Path

from reports.store.engine import DEFAULT_FILE, StoreUnavailable, open_engine
from reports.store.store import Store, StoreWriteError

__all__ = ["DEFAULT_FILE", "Store", "StoreUnavailable", "StoreWriteError", "open_store"]


def open_store(url: str | None, out_dir: Path | str) -> Store:
    """Open (and migrate) the store at ``url``; None means ``out_dir/station.sqlite``."""
    engine, reader, full = open_engine(url, Path(out_dir))
    return Store(engine, full, reader)
