"""Reports benchmarks: certificate time, store write rate, a lot report over 200 runs.

Records are synthetic but shaped like an EOL run (60 declared measurements, a population
with off-spec units and re-tests), so the figures are what a station would see.
"""

from __future__ import annotations

import random
import tempfile
import time
import uuid
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import psycopg

from benchmarks.figure import Figure
from common.serial_number import make_serial
from reports.certificate import write_certificate
from reports.exports import write_record_json
from reports.lot_report import write_lot_report
from reports.lot_sql import lot_summary
from reports.record import (
    Failure,
    Firmware,
    Instrument,
    Limit,
    LimitsInfo,
    Measurement,
    Record,
    StationInfo,
)
from reports.store import StoreUnavailable, open_store

N_MEAS = 60
EPOCH = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)


def _record(serial: str, fail: int | None, started: datetime, station: str,
            rng: random.Random) -> Record:
    """An EOL-sized record; ``fail`` is the index of the one measurement that fails."""
    ms = []
    for i in range(N_MEAS):
        bad = i == fail
        value = round(rng.gauss(50.0, 1.0), 4) if not bad else 70.0
        ms.append(Measurement(
            name=f"m{i:02d}_measurement", step=f"step_{i // 6}", unit="V",
            limit=Limit(low=45.0, high=55.0, comparison="range"), critical=False,
            outcome="FAIL" if bad else "PASS", value=value, t=2.0 * i,
            taken_at=started + timedelta(seconds=2 * i)))
    f = ms[fail] if fail is not None else None
    return Record(
        run_id=uuid.UUID(int=rng.getrandbits(128), version=4).hex, serial=serial, model="v5",
        plan="eol", verdict="FAIL" if f else "PASS", started_at=started,
        finished_at=started + timedelta(seconds=2 * N_MEAS), duration_s=2.0 * N_MEAS,
        wall_duration_s=1.5, operator="bench", software_version="0.1.0",
        station=StationInfo(id=station, line="line-A", file="stations/sim.toml", simulated=True),
        instruments=[Instrument(role=r, dialect=f"sim-{r}", resource=f"TCPIP0::127.0.0.1::{4000 + k}::SOCKET",
                                idn=f"SIMLAB,{r.upper()},SN{k},1.0", serial=f"SN{k}",
                                calibration_due=date(2026, 12, 31))
                     for k, r in enumerate(("load", "supply", "daq", "leds", "safety", "chamber"))],
        firmware=Firmware(main="V1.2.1", boot="B0.9", bms_board="HW-C"),
        limits=LimitsInfo(file="testplans/limits/v5.toml", version="2026.1", sha256="ab" * 32),
        work_order={"dip": 1, "heater": False}, measurements=ms,
        failure=Failure(kind="measurement", step=f.step, measurement=f.name) if f else None,
    )


FIRST_CERTIFICATE = """
import sys
from reports.certificate import write_certificate
from reports.record import Record
from pathlib import Path
p = Path(sys.argv[1])
write_certificate(Record.from_json_bytes(p.read_bytes()), sys.argv[2], p.with_suffix(".pdf"))
"""


def _one_page(path: Path) -> None:
    """The reference: reportlab's floor, one paragraph on one page in the same fonts."""
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.platypus import Paragraph, SimpleDocTemplate

    from reports.pdffonts import SANS, register_fonts

    register_fonts()
    SimpleDocTemplate(str(path)).build([Paragraph("certificate", ParagraphStyle("p", fontName=SANS))])


def bench_certificate(folder: Path) -> list[Figure]:
    """Warm: the certificate against reportlab's one-paragraph page, interleaved. First
    run: a fresh process that writes one certificate (imports, fonts) against a fresh
    ``station --help`` process, on one core."""
    import subprocess
    import sys

    from benchmarks.ratio import one_core, paired, ratio

    r = _record(make_serial("S", 26, 1, 1), None, EPOCH, "eol-1", random.Random(1))
    sha = write_record_json(r, folder / "c.json")
    write_certificate(r, sha, folder / "warm.pdf")
    _one_page(folder / "page.pdf")
    warm, page = paired(lambda: write_certificate(r, sha, folder / "c.pdf"),
                        lambda: _one_page(folder / "page.pdf"), repeats=7)
    station = str(Path(sys.executable).with_name("station"))
    with one_core():
        first, helped = paired(
            lambda: subprocess.run([sys.executable, "-c", FIRST_CERTIFICATE, str(folder / "c.json"),
                                    sha], check=True),
            lambda: subprocess.run([station, "--help"], check=True, capture_output=True))
    return [ratio("certificate PDF (60 measurements) ÷ one-paragraph reportlab page", warm, page,
                  "one-paragraph page", None, unit_s="ms", scale=1e3),
            ratio("first certificate in a fresh process ÷ station --help process", first, helped,
                  "station --help", None)]


def bench_store_rate(url: str | None, folder: Path, label: str, target: float | None) -> Figure:
    rng = random.Random(2)
    with open_store(url, folder) as store:
        total, elapsed = 0, 0.0
        for k in range(5):
            r = _record(make_serial("S", 26, 2, 100 + k), None, EPOCH + timedelta(hours=k),
                        "eol-1", rng)
            ms, r.measurements = r.measurements, []
            store.begin_run(r)
            start = time.perf_counter()
            for m in ms:
                store.add_measurement(r.run_id, m)
            for i in range(340):  # a long plan: 400 per run
                store.add_measurement(r.run_id, ms[0].model_copy(update={"name": f"x{i}"}))
            elapsed += time.perf_counter() - start
            total += len(ms) + 340
    return Figure(f"measurements committed one by one into {label}", total / elapsed, "1/s",
                  target, detail=f"{total} measurements, each its own transaction")


def bench_lot(folder: Path, runs_wanted: int = 200) -> list[Figure]:
    rng = random.Random(3)
    expected_fails: Counter[str] = Counter()
    last: dict[str, bool] = {}
    first: dict[str, bool] = {}
    runs = 0
    t = EPOCH
    with open_store(None, folder) as store:
        seq = 0
        while runs < runs_wanted:
            seq += 1
            serial = make_serial("S", 26, 3, seq)
            fail = rng.choice([None] * 8 + [7, 21, 21, 40])
            for attempt in range(2):
                t += timedelta(minutes=3)
                # index 40 is a real defect: the re-test fails again; the others were set-up faults
                again = fail if attempt == 0 or fail == 40 else None
                r = _record(serial, again, t, f"eol-{seq % 4 + 1}", rng)
                store.begin_run(r)
                store.finish_run(r, None)
                runs += 1
                first.setdefault(serial, r.verdict == "PASS")
                last[serial] = r.verdict == "PASS"
                if again is not None:
                    expected_fails[r.measurements[again].name] += 1
                if r.verdict == "PASS" or runs >= runs_wanted:
                    break
        start = time.perf_counter()
        summary = lot_summary(store)   # in the database, as `station report lot`
        write_lot_report(summary, folder / "lot.pdf")
        elapsed = time.perf_counter() - start
    got = dict(zip(summary.pareto.name, summary.pareto["count"], strict=True))
    agrees = (summary.n_runs == runs and got == dict(expected_fails)
              and abs(summary.yield_ - sum(last.values()) / len(last)) < 1e-12
              and abs(summary.first_pass_yield - sum(first.values()) / len(first)) < 1e-12)
    return [
        Figure(f"lot report PDF over {runs} runs ({len(last)} units)", elapsed, "s",
               higher_is_better=False,
               detail=f"yield {100 * summary.yield_:.1f} %, first-pass yield "
                      f"{100 * summary.first_pass_yield:.1f} %, retest rate "
                      f"{100 * summary.retest_rate:.1f} %"),
        Figure("lot report yield and Pareto equal the inputs", 1.0 if agrees else 0.0, "bool", 1.0,
               detail=f"Pareto {got}"),
    ]


def bench_postgres(folder: Path) -> Figure:
    """The same rate on the line's server, in a database of its own (dropped after)."""
    name = f"bench_reports_{uuid.uuid4().hex[:10]}"
    try:
        admin = psycopg.connect("postgresql://postgres@127.0.0.1:5432/test", autocommit=True,
                                connect_timeout=3)
    except psycopg.Error as exc:
        return Figure("measurements into PostgreSQL: server not answering", 0.0, "1/s",
                      detail=str(exc).splitlines()[0])
    try:
        admin.execute(f'CREATE DATABASE "{name}"')
        return bench_store_rate(f"postgresql://postgres@127.0.0.1:5432/{name}", folder,
                                "PostgreSQL (127.0.0.1)", None)
    except StoreUnavailable as exc:
        return Figure("measurements into PostgreSQL", 0.0, "1/s", detail=str(exc))
    finally:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


def run() -> list[Figure]:
    figures = []
    with tempfile.TemporaryDirectory(prefix="bench-reports-") as tmp:
        folder = Path(tmp)
        figures += bench_certificate(folder)
        (folder / "sqlite").mkdir()
        figures.append(bench_store_rate(None, folder / "sqlite", "SQLite (WAL)", None))
        figures.append(bench_postgres(folder))
        (folder / "lot").mkdir()
        figures += bench_lot(folder / "lot")
    return figures
