"""``station run PLAN``: run a test plan against a station (added by the EOL plan work)."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """No ``run`` command yet: the EOL plan adds it."""
    del app
