"""pytest entry point of the repository.

The station's plugin (options ``--station-serial``, ``--station-file``, ..., and the fixtures
a plan's steps receive) is registered by the installed package's ``pytest11`` entry point
(``vstation = fixtures.plugin``), so ``pytest --pyargs testplans.eol --station-serial SN``
works from an installed station as from this checkout.
"""

import os
from collections.abc import Iterator

import pytest


@pytest.fixture(scope="session", autouse=True)
def _station_keys_outside_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Every run of the suite signs records: with keys of its own, never the real home's
    (subprocesses inherit the variable)."""
    old = os.environ.get("VSTATION_KEYS")
    os.environ["VSTATION_KEYS"] = str(tmp_path_factory.mktemp("station-keys"))
    yield
    if old is None:
        os.environ.pop("VSTATION_KEYS", None)
    else:
        os.environ["VSTATION_KEYS"] = old
