"""``station verify`` and ``station report ...`` (added by the reports work)."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """No report commands yet."""
    del app
