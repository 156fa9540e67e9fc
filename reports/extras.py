"""Optional parts of the station, installed as pip extras, and the one error when missing.

PostgreSQL (``psycopg``, extra ``postgresql``) is for a line's shared store; Parquet
(``pyarrow``, extra ``parquet``) for exports and the cert plan's traces. A station with
SQLite and no cert plan needs neither; asking for one that is not installed names the
extra to install, instead of an ImportError from deep inside SQLAlchemy or pandas.
"""

from __future__ import annotations

import importlib.util

#: module → the extra that installs it
EXTRAS = {"psycopg": "postgresql", "pyarrow": "parquet"}


class MissingExtra(ValueError):
    """An optional part is not installed; the message names the extra."""


def missing(module: str, what: str) -> str | None:
    """Why ``what`` cannot be done (``module`` not installed), or None when it can."""
    if importlib.util.find_spec(module) is not None:
        return None
    extra = EXTRAS[module]
    return (f"{what} needs the optional {extra!r} extra ({module} is not installed): "
            f"pip install 'vstation[{extra}]'")


def require(module: str, what: str) -> None:
    """Raise :class:`MissingExtra` when ``module`` is not installed."""
    why = missing(module, what)
    if why is not None:
        raise MissingExtra(why)
