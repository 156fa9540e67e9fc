"""What the operator's commands print when piped: paths never folded, flags without `<bool>`."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

from tests.reliability.procs import STATION


def _piped_env() -> dict[str, str]:
    env = dict(os.environ)
    env.pop("COLUMNS", None)    # a pipe: rich assumes 80 columns
    env.pop("FORCE_COLOR", None)
    env["NO_COLOR"] = "1"
    return env


def test_record_and_certificate_paths_are_never_wrapped(tmp_path: Path) -> None:
    out = tmp_path / ("a-very-long-results-folder-name-" * 3) / "line1" / "cell3"
    done = subprocess.run([STATION, "run", "eol", "--serial", "PV5S260100000013", "--out", str(out)],
                          capture_output=True, text=True, timeout=300, env=_piped_env())
    assert done.returncode == 0, done.stdout + done.stderr
    records = list(out.glob("*.json"))
    certificates = list(out.glob("*.pdf"))
    assert len(records) == len(certificates) == 1
    assert len(str(records[0])) > 100
    lines = done.stdout.splitlines()
    assert f"record {records[0]}" in lines, done.stdout[-600:]
    assert f"certificate {certificates[0]}" in lines


def test_flags_read_naturally_in_help() -> None:
    env = {**_piped_env(), "COLUMNS": "150"}
    for args, flags in ((["run", "--help"], ("--heater", "--quiet")),
                        (["report", "unit", "--help"], ("--measurements",)),
                        (["check", "--help"], ("--pack",))):
        text = subprocess.run([STATION, *args], capture_output=True, text=True, timeout=60,
                              env=env).stdout
        for flag in flags:
            line = next(ln for ln in text.splitlines() if re.search(rf"{flag}\b", ln))
            assert "<bool>" not in line, line
