"""Bad input is refused before anything starts: exit 3, one clear line naming the file
and key or the value, no bench started, no record. A re-test is counted, never overwritten."""

from __future__ import annotations

import hashlib
import io
import socket
from pathlib import Path
from typing import Any

import pytest
from cases import BY_ID
from harness import SERIAL, SIM_STATION
from procs import ROOT
from rich.console import Console

import stations.simbench as simbench
import testplans.limits as limits_mod
from fixtures.session import RunRequest
from reports.store import StoreUnavailable, open_store
from sim.unit import default_unit, write_unit
from stations.cli_run import run_plan


def _refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, **request: Any) -> str:
    started: list[object] = []
    monkeypatch.setattr(simbench, "start_sim_bench", lambda *a, **k: started.append(a))
    out = request.pop("out_dir", tmp_path / "out")
    fields = {"plan": "eol", "serial": SERIAL, "station_file": SIM_STATION, "out_dir": out,
              **request}
    so, se = io.StringIO(), io.StringIO()
    code = run_plan(RunRequest(**fields), Console(file=so, width=300), Console(file=se, width=300))
    text = so.getvalue() + se.getvalue()
    assert code == 3, text
    assert not started, "the bench was started for a refused run"
    lines = [ln for ln in text.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("refused: "), text
    if out.is_dir():
        assert not list(out.glob("*.json")) and not list(out.glob("*.pdf"))
        if (out / "station.sqlite").exists():
            try:
                store = open_store(None, out)
            except StoreUnavailable:   # the store is what was refused: nothing went into it
                pass
            else:
                with store:
                    assert store.runs().empty
    return lines[0]


def _says(case_id: str, line: str) -> None:
    assert BY_ID[case_id].exit == 3
    assert BY_ID[case_id].says in line, line


def _station(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "station-bad.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_station_file_malformed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    bad = _station(tmp_path, SIM_STATION.read_text(encoding="utf-8") + "\n[broken\n")
    line = _refused(tmp_path, monkeypatch, station_file=bad)
    _says("station-malformed", line)
    assert str(bad) in line


def test_station_file_bad_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = SIM_STATION.read_text(encoding="utf-8").replace("watchdog_s = 30.0", 'watchdog_s = "x"')
    line = _refused(tmp_path, monkeypatch, station_file=_station(tmp_path, text))
    _says("station-bad-key", line)


@pytest.mark.parametrize(("case_id", "key", "value", "rating"), [
    ("envelope-over-rating", "max_current_a = 250.0", "max_current_a = 5000.0", "1200 A"),
    ("envelope-gb-over-rating", "short_steps =", "max_ground_bond_a = 50.0\nshort_steps =", "30 A"),
])
def test_station_envelope_above_the_instruments_rating(case_id: str, key: str, value: str, rating: str,
                                                       tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = SIM_STATION.read_text(encoding="utf-8")
    assert key in text
    path = _station(tmp_path, text.replace(key, value, 1))
    line = _refused(tmp_path, monkeypatch, station_file=path)
    _says(case_id, line)
    assert str(path) in line and rating in line   # the file, the key, both values


def test_station_file_missing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    line = _refused(tmp_path, monkeypatch, station_file=tmp_path / "station-none.toml")
    _says("station-missing", line)


def _limits_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                   base: tuple[str, str] | None = None, override: tuple[str, str] | None = None) -> Path:
    """A copy of the EOL limits with one replacement in the base or the V5° override."""
    folder = tmp_path / "limits"
    (folder / "eol").mkdir(parents=True)
    for name, change in (("base.toml", base), ("budget.toml", None), ("v5.toml", override)):
        text = (limits_mod.LIMITS_DIR / "eol" / name).read_text(encoding="utf-8")
        if change is not None:
            assert change[0] in text, change[0]
            text = text.replace(change[0], change[1], 1)
        (folder / "eol" / name).write_text(text, encoding="utf-8")
    monkeypatch.setattr(limits_mod, "LIMITS_DIR", folder)
    return folder


def test_limits_file_malformed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = _limits_folder(tmp_path, monkeypatch, override=('model = "', 'model = ="'))
    line = _refused(tmp_path, monkeypatch)
    _says("limits-malformed", line)
    assert str(folder / "eol" / "v5.toml") in line


def test_limits_condition_misspelt(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _limits_folder(tmp_path, monkeypatch, base=("dcr_after_s = 1.0", "dcr_afer_s = 1.0"))
    line = _refused(tmp_path, monkeypatch)
    _says("limits-condition-typo", line)
    assert "dcr_after_s" in line   # the key the plan needs is named too


def test_limits_non_finite_bound(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _limits_folder(tmp_path, monkeypatch, base=("low = 10.0\ncritical", "low = nan\ncritical"))
    _says("limits-non-finite", _refused(tmp_path, monkeypatch))


def test_limits_declare_what_no_step_measures(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    extra = '\n[[measurement]]\nname = "ocv_twice_v"\nstep = "rest"\nunit = "V"\nlow = 1.0\n'
    _limits_folder(tmp_path, monkeypatch, base=("\n# Advertised current", extra + "\n# Advertised current"))
    _says("limits-unmeasured", _refused(tmp_path, monkeypatch))


def _unit_file(tmp_path: Path, change: tuple[str, str] | None, extra: str = "") -> Path:
    path = tmp_path / "unit.toml"
    write_unit(default_unit("v5", SERIAL), path)
    text = path.read_text(encoding="utf-8")
    if change is not None:
        assert change[0] in text, change[0]
        text = text.replace(change[0], change[1], 1)
    path.write_text(text + extra, encoding="utf-8")
    return path


def test_unit_file_malformed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    unit = _unit_file(tmp_path, None, "\n[cells\n")
    line = _refused(tmp_path, monkeypatch, unit_file=unit)
    _says("unit-malformed", line)


def test_unit_file_bad_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    unit = _unit_file(tmp_path, None, '\n[cells]\nr_ohmic_mohm = "x"\n')
    line = _refused(tmp_path, monkeypatch, unit_file=unit)
    _says("unit-bad-key", line)
    assert "unit.toml" in line


@pytest.mark.parametrize(("case_id", "serial", "model"), [
    ("serial-check", "PV5S260100000012", None),
    ("serial-variant", "PV5X260100000013", None),
    ("serial-model", SERIAL, "v5-alpha"),
    ("model-unknown", SERIAL, "v9"),
])
def test_serial_and_model(case_id: str, serial: str, model: str | None, tmp_path: Path,
                          monkeypatch: pytest.MonkeyPatch) -> None:
    line = _refused(tmp_path, monkeypatch, serial=serial, model=model)
    _says(case_id, line)


def test_output_folder_cannot_be_written(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder", encoding="utf-8")
    line = _refused(tmp_path, monkeypatch, out_dir=blocker / "results")
    _says("out-unwritable", line)
    assert str(blocker / "results") in line


def test_database_unreachable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket() as s:   # a port nobody listens on: bound, then released
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"postgresql+psycopg://station:secret@127.0.0.1:{port}/station"
    line = _refused(tmp_path, monkeypatch, db=url)
    _says("db-unreachable", line)
    assert "secret" not in line, "the password must not be printed"


def _digests(out: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(out.iterdir()) if p.suffix in (".json", ".pdf")}


def test_retest_is_counted_never_overwritten(tmp_path: Path) -> None:
    from reports.record import Record

    out = tmp_path / "out"
    seen: dict[str, str] = {}
    indexes = []
    for n in range(3):
        req = RunRequest(plan="eol", serial=SERIAL, station_file=SIM_STATION, out_dir=out)
        code = run_plan(req, Console(quiet=True), Console(stderr=True, quiet=True))
        assert code == BY_ID["retest"].exit
        now = _digests(out)
        assert len(now) == 2 * (n + 1), now
        assert {k: now[k] for k in seen} == seen, "an earlier record or certificate changed"
        new = [k for k in now if k not in seen and k.endswith(".json")]
        indexes.append(Record.load(out / new[0]).retest_index)
        seen = now
    assert indexes == [0, 1, 2]
    with open_store(None, out) as store:
        assert len(store.runs()) == 3


@pytest.mark.parametrize(("case_id", "operator"), [("operator-huge", "x" * 10_000),
                                                   ("operator-blank", "   ")])
def test_operator_name_is_bounded_before_start(case_id: str, operator: str, tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    _says(case_id, _refused(tmp_path, monkeypatch, operator=operator))


def test_an_ascii_terminal_gets_the_run_not_a_traceback(tmp_path: Path) -> None:
    import os
    import subprocess

    case = BY_ID["ascii-terminal"]
    env = {**os.environ, "PYTHONIOENCODING": "ascii", "NO_COLOR": "1"}
    done = subprocess.run([str(ROOT / ".venv" / "bin" / "station"), "run", "eol", "--serial",
                           SERIAL, "--out", str(tmp_path)], env=env, capture_output=True,
                          timeout=120)
    text = (done.stdout + done.stderr).decode("ascii")   # ascii only, as the terminal asked
    assert done.returncode == case.exit, text
    assert "Traceback" not in text and case.says in text


def test_a_store_truncated_to_nothing_is_refused_not_started_afresh(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "station.sqlite").write_bytes(b"")
    line = _refused(tmp_path, monkeypatch, out_dir=out)
    _says("store-empty", line)
    assert (out / "station.sqlite").stat().st_size == 0   # nothing written over it


def test_a_damaged_store_page_is_refused_at_start(tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "out"
    with open_store(None, out) as store:
        for i in range(200):   # enough rows for several pages
            store.begin_run(_stored_run(i))
    db = out / "station.sqlite"
    import sqlite3

    with sqlite3.connect(db) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    data = bytearray(db.read_bytes())
    page = 4096
    assert len(data) > 4 * page
    for start in range(2 * page, len(data) - page, page):   # the rows' pages, scrambled
        data[start + 8: start + 808] = b"\xa5" * 800
    db.write_bytes(bytes(data))
    _says("store-damaged", _refused(tmp_path, monkeypatch, out_dir=out))


def _stored_run(i: int) -> Any:
    import uuid
    from datetime import UTC, datetime

    from reports.record import Firmware, LimitsInfo, Record, StationInfo

    return Record(run_id=uuid.uuid4().hex, serial=SERIAL, model="v5", plan="eol", verdict=None,
                  started_at=datetime(2026, 1, 5, tzinfo=UTC), finished_at=None, duration_s=None,
                  wall_duration_s=None, operator="t" * 50, software_version="0",
                  station=StationInfo(id=f"S{i}", line="l", file="f" * 100, simulated=False),
                  instruments=[], firmware=Firmware(),
                  limits=LimitsInfo(file="x", version="1", sha256="0" * 64), measurements=[])


def _filled_store(out: Path) -> Path:
    """A store of 200 runs, its log checkpointed into the file (pages where dbstat says)."""
    import sqlite3

    with open_store(None, out) as store:
        for i in range(200):
            store.begin_run(_stored_run(i))
    db = out / "station.sqlite"
    with sqlite3.connect(db) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return db


def _leaves(db: Path, table: str) -> list[int]:
    """The leaf pages of ``table``'s tree, from its left edge to its right (SQLite's dbstat)."""
    import sqlite3

    with sqlite3.connect(db) as conn:
        rows = conn.execute("SELECT pageno FROM dbstat WHERE name = ? AND pagetype = 'leaf' "
                            "ORDER BY path", (table,)).fetchall()
    return [r[0] for r in rows]


def _scramble(db: Path, pageno: int) -> None:
    data = bytearray(db.read_bytes())
    start = (pageno - 1) * 4096
    data[start + 8: start + 808] = b"\xa5" * 800   # the cell pointers: unreadable rows
    db.write_bytes(bytes(data))


def test_a_large_store_damaged_where_runs_write_is_refused_at_start(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import reports.store.engine as store_engine

    monkeypatch.setattr(store_engine, "FULL_CHECK_MAX_BYTES", 0)   # every store is "large"
    out = tmp_path / "out"
    db = _filled_store(out)
    _scramble(db, _leaves(db, "runs")[-1])   # the right edge: where the next run goes
    _says("store-damaged", _refused(tmp_path, monkeypatch, out_dir=out))


def test_a_large_store_damaged_inside_opens_and_store_check_finds_it(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The start's bounded check reads the tables' edges only; `station store check` reads
    every page, and says which store is damaged with exit 1 (0 while it was sound)."""
    from typer.testing import CliRunner

    import reports.store.engine as store_engine
    from stations.cli import app

    monkeypatch.setattr(store_engine, "FULL_CHECK_MAX_BYTES", 0)
    out = tmp_path / "out"
    db = _filled_store(out)
    sound = CliRunner().invoke(app, ["store", "check", "--out", str(out)])
    assert sound.exit_code == 0 and "sound" in sound.output, sound.output
    leaves = _leaves(db, "runs")
    assert len(leaves) >= 3, leaves
    _scramble(db, leaves[len(leaves) // 2])
    open_store(None, out).close()   # the start does not read that page
    found = CliRunner().invoke(app, ["store", "check", "--out", str(out)])
    assert found.exit_code == 1, found.output
    assert "damaged" in found.output and "station.sqlite" in found.output, found.output
