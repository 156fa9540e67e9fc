"""`station report`: one clear line for an --out that cannot be written, no store created
where there is none, "—" and never "nan" for a missing value."""

from __future__ import annotations

import random
from datetime import timedelta
from pathlib import Path

import typer
from recordgen import EPOCH, make_record, make_serial
from typer.testing import CliRunner

from reports.cli import register
from reports.store import Store


def _app() -> typer.Typer:
    app = typer.Typer()
    register(app)
    return app


def _fill(store: Store) -> None:
    rng = random.Random(3)
    for k, fail in enumerate((None, "insulation", None)):
        r = make_record(make_serial(1 + k // 2), fail=fail, rng=rng,
                        started=EPOCH + timedelta(minutes=5 * k))
        store.begin_run(r)
        store.finish_run(r, None)


def test_lot_report_into_a_missing_folder_is_one_line(sqlite_store: Store, tmp_path: Path) -> None:
    _fill(sqlite_store)
    out = tmp_path / "no" / "such" / "folder" / "lot.pdf"
    res = CliRunner().invoke(_app(), ["report", "lot", "--db", sqlite_store.url, "--out", str(out)])
    assert res.exit_code == 2, res.output
    assert res.exception is None or isinstance(res.exception, SystemExit)
    lines = [ln for ln in res.output.splitlines() if ln.strip()]
    assert len(lines) == 1 and "does not exist" in lines[0] and "Traceback" not in res.output
    assert not out.parent.exists()


def test_reports_in_a_folder_without_a_store_create_nothing(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    missing = tmp_path / "missing"
    for folder in (empty, missing):
        res = CliRunner().invoke(_app(), ["report", "unit", make_serial(1), "--results", str(folder)])
        assert res.exit_code == 1, res.output
        assert f"no store at {folder / 'station.sqlite'}" in " ".join(res.output.split())
        res = CliRunner().invoke(_app(), ["report", "lot", "--results", str(folder),
                                          "--out", str(tmp_path / "lot.pdf")])
        assert res.exit_code == 1, res.output
        assert "no store at" in res.output and "no runs" not in res.output
    assert list(empty.iterdir()) == [] and not missing.exists()
    assert not (tmp_path / "lot.pdf").exists()
    url = f"sqlite:///{tmp_path / 'other.sqlite'}"
    res = CliRunner().invoke(_app(), ["report", "unit", make_serial(1), "--db", url])
    assert res.exit_code == 1 and "no store at" in res.output
    assert not (tmp_path / "other.sqlite").exists()


def test_unit_report_prints_a_dash_never_nan(sqlite_store: Store) -> None:
    _fill(sqlite_store)
    res = CliRunner().invoke(_app(), ["report", "unit", make_serial(1), "--db", sqlite_store.url,
                                      "--measurements"], env={"COLUMNS": "200"})
    assert res.exit_code == 0, res.output
    assert "nan" not in res.output.lower().replace("nanos", "")
    assert "—" in res.output
    assert "NOT_RUN" in res.output and "insulation" in res.output
