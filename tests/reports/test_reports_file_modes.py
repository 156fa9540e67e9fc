"""Records and certificates get the mode of any file the station's user makes (0666 less
the umask), not the 0600 of the temporary file they are written through."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from recordgen import make_record, make_serial

from reports.certificate import write_certificate
from reports.exports import write_record_json


@pytest.fixture
def umask() -> Iterator[None]:
    old = os.umask(0o022)
    os.umask(old)
    yield
    os.umask(old)


@pytest.mark.parametrize(("mask", "mode"), [(0o022, 0o644), (0o027, 0o640), (0o002, 0o664)])
def test_record_and_certificate_honour_the_umask(mask: int, mode: int, tmp_path: Path,
                                                 umask: None) -> None:
    os.umask(mask)
    record = make_record(make_serial(3))
    sha = write_record_json(record, tmp_path / "r.json")
    write_certificate(record, sha, tmp_path / "r.pdf")
    for name in ("r.json", "r.pdf"):
        got = stat.S_IMODE((tmp_path / name).stat().st_mode)
        assert got == mode, f"{name}: mode {got:o} under umask {mask:03o}, expected {mode:o}"
