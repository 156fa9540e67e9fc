"""PostgreSQL (psycopg) and Parquet (pyarrow) are optional extras: a station without them
says which extra to install, before anything is switched on, instead of an ImportError.

The package is made unimportable in a child process the way Python itself knows for a
module that is not there (``sys.modules[name] = None``: ``import`` raises, ``find_spec``
finds nothing); everything else is the real command."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

from tests.reliability.procs import ROOT


def _station_without(module: str, *args: str) -> subprocess.CompletedProcess[str]:
    code = (f"import sys; sys.modules[{module!r}] = None; sys.argv = ['station', *{list(args)!r}]\n"
            "from stations.cli import main\nmain()")
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120, cwd=ROOT, env={"COLUMNS": "200", "NO_COLOR": "1",
                                                      "PATH": "/usr/bin:/bin"})


def test_pyproject_declares_both_extras_and_the_core_needs_neither() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    core = " ".join(project["dependencies"])
    assert "psycopg" not in core and "pyarrow" not in core
    extras = project["optional-dependencies"]
    assert any(d.startswith("psycopg") for d in extras["postgresql"])
    assert any(d.startswith("pyarrow") for d in extras["parquet"])
    assert "vstation[postgresql,parquet]" in extras["dev"]


def test_postgresql_store_without_psycopg_names_the_extra(tmp_path: Path) -> None:
    out = tmp_path / "out"
    done = _station_without("psycopg", "run", "eol", "--serial", "PV5S260100000013",
                            "--out", str(out), "--db", "postgresql://postgres@127.0.0.1:5432/test")
    assert done.returncode == 3, done.stdout + done.stderr
    assert "needs the optional 'postgresql' extra" in done.stderr
    assert "pip install 'vstation[postgresql]'" in done.stderr
    assert "Traceback" not in done.stderr
    assert not list(out.glob("*.json"))    # refused: no record


def test_cert_plan_and_parquet_export_without_pyarrow_name_the_extra(tmp_path: Path) -> None:
    out = tmp_path / "out"
    done = _station_without("pyarrow", "run", "cert", "--serial", "PV5S260100000013",
                            "--out", str(out))
    assert done.returncode == 3, done.stdout + done.stderr
    assert "the cert plan (its traces are Parquet) needs the optional 'parquet' extra" in done.stderr
    assert not out.exists()    # refused before anything: no store, no record
    code = ("import sys; sys.modules['pyarrow'] = None\n"
            "sys.path.insert(0, 'tests/reports')\n"
            "from recordgen import make_record, make_serial\n"
            "from reports.exports import write_parquet\n"
            f"write_parquet(make_record(make_serial(1)), {str(tmp_path / 'm.parquet')!r})")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120, cwd=ROOT)
    assert done.returncode != 0
    assert done.stderr.strip().splitlines()[-1] == (
        "reports.extras.MissingExtra: the Parquet export needs the optional 'parquet' extra "
        "(pyarrow is not installed): pip install 'vstation[parquet]'")
    assert not (tmp_path / "m.parquet").exists()
