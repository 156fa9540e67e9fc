"""Exports of a run for other systems: the JSON record (MES), CSV and Parquet of the
measurements (spreadsheets, data tools), JUnit XML (CI-style dashboards).

The JSON record is written atomically and its SHA-256 is of the exact bytes on disk, so
the certificate and the store can name the file they vouch for.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
import xml.etree.ElementTree as ET
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from reports.record import Measurement, Record

if TYPE_CHECKING:   # pandas only for the frame exports, never in a run's path
    import pandas as pd


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def sha256_file(path: str | Path) -> str:
    return sha256_bytes(Path(path).read_bytes())


def _umask() -> int:
    """The process's umask, read without changing it (Linux: /proc; else set and restore)."""
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def atomic_write(path: str | Path, data: bytes) -> None:
    """Write ``data`` so that ``path`` holds either the old or the whole new content, with
    the mode an ordinary file gets (0666 less the umask: 0644 under the usual 022), not the
    0600 of a temporary file: records are read by the MES and by people."""
    target = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        os.fchmod(fd, 0o666 & ~_umask())
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_record_json(record: Record, path: str | Path) -> str:
    """Write the record's canonical JSON; return the SHA-256 of the bytes written."""
    checked = Record.model_validate(record.model_dump())  # fields set after creation, too
    data = checked.to_json_bytes()
    atomic_write(path, data)
    return sha256_bytes(data)


# -- measurements as a table -------------------------------------------------------------

COLUMNS = [
    "run_id", "serial", "model", "plan", "station", "retest_index", "verdict", "seq", "step",
    "name", "unit", "outcome", "value_text", "value_type", "value_num", "comparison", "low",
    "high", "uncertainty", "accept_low", "accept_high", "expect", "pattern", "allowed",
    "critical", "message", "t", "taken_at",
]


def _value_text(v: object) -> str:
    if v is None:
        return ""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return repr(v)
    return str(v)


def _type_name(v: object) -> str:
    return "" if v is None else type(v).__name__


def _row(r: Record, seq: int, m: Measurement) -> dict[str, object]:
    v = m.value
    value_num = float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else None
    return {
        "run_id": r.run_id, "serial": r.serial, "model": r.model, "plan": r.plan,
        "station": r.station.id, "retest_index": r.retest_index, "verdict": r.verdict or "",
        "seq": seq, "step": m.step, "name": m.name, "unit": m.unit, "outcome": m.outcome,
        "value_text": _value_text(v), "value_type": _type_name(v),
        "value_num": value_num, "comparison": m.limit.comparison,
        "low": m.limit.low, "high": m.limit.high, "uncertainty": m.limit.uncertainty,
        "accept_low": m.limit.accept_low, "accept_high": m.limit.accept_high,
        "expect": _value_text(m.limit.expect),
        "pattern": m.limit.pattern or "",
        "allowed": json.dumps(m.limit.allowed) if m.limit.allowed is not None else "",
        "critical": m.critical, "message": m.message, "t": m.t, "taken_at": m.taken_at,
    }


def measurements_frame(records: Record | Iterable[Record]) -> pd.DataFrame:
    """One row per measurement of ``records``, in plan order (columns: :data:`COLUMNS`)."""
    import pandas as pd

    items = [records] if isinstance(records, Record) else list(records)
    rows = [_row(r, i, m) for r in items for i, m in enumerate(r.measurements)]
    frame = pd.DataFrame(rows, columns=COLUMNS)
    frame["value_num"] = frame["value_num"].astype("float64")
    frame["low"] = frame["low"].astype("float64")
    for col in ("high", "uncertainty", "accept_low", "accept_high"):
        frame[col] = frame[col].astype("float64")
    frame["t"] = frame["t"].astype("float64")
    frame["taken_at"] = pd.to_datetime(frame["taken_at"], utc=True)
    return frame


def write_csv(records: Record | Iterable[Record], path: str | Path) -> pd.DataFrame:
    """Measurements as CSV (UTF-8, ISO 8601 UTC times); returns the frame written."""
    import pandas as pd

    frame = measurements_frame(records)
    out = frame.copy()
    out["taken_at"] = out["taken_at"].map(lambda ts: "" if pd.isna(ts) else ts.isoformat())
    atomic_write(path, out.to_csv(index=False).encode("utf-8"))
    return frame


def write_parquet(records: Record | Iterable[Record], path: str | Path) -> pd.DataFrame:
    """Measurements as Parquet (typed columns); returns the frame written."""
    from reports.extras import require

    require("pyarrow", "the Parquet export")
    frame = measurements_frame(records)
    data = frame.to_parquet(index=False, engine="pyarrow")
    atomic_write(path, data)
    return frame


# -- JUnit XML -----------------------------------------------------------------------------

_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")


def _xml_text(text: str) -> str:
    """Text XML 1.0 can carry: control characters (from a console, say) become U+FFFD."""
    return _NOT_XML.sub("\ufffd", text)

def junit_xml(record: Record) -> bytes:
    """The run as one JUnit test suite: a test case per measurement.

    FAIL → ``<failure>``, ERROR → ``<error>``, NOT_RUN → ``<skipped>``; a run that ended
    ABORTED or ERROR without a measurement to blame gets one more case carrying why."""
    counts = record.counts()
    suite = ET.Element("testsuite", {
        "name": _xml_text(f"{record.plan}:{record.serial}"),
        "tests": str(len(record.measurements)),
        "failures": str(counts["FAIL"]),
        "errors": str(counts["ERROR"]),
        "skipped": str(counts["NOT_RUN"]),
        "time": f"{record.duration_s or 0.0:.3f}",
        "timestamp": record.started_at.isoformat(),
        "hostname": _xml_text(record.station.id),
    })
    props = ET.SubElement(suite, "properties")
    for key, value in (
        ("run_id", record.run_id), ("serial", record.serial), ("model", record.model),
        ("plan", record.plan), ("verdict", record.verdict or "RUNNING"),
        ("retest_index", str(record.retest_index)), ("operator", record.operator),
        ("station", record.station.id), ("line", record.station.line),
        ("limits_version", record.limits.version), ("limits_sha256", record.limits.sha256),
        ("software_version", record.software_version),
    ):
        ET.SubElement(props, "property", {"name": key, "value": _xml_text(value)})
    previous = 0.0
    for m in record.measurements:
        elapsed = max(0.0, (m.t - previous)) if m.t is not None else 0.0
        if m.t is not None:
            previous = m.t
        case = ET.SubElement(suite, "testcase", {
            "classname": _xml_text(f"{record.plan}.{m.step}"), "name": _xml_text(m.name),
            "time": f"{elapsed:.3f}"})
        detail = _xml_text(
            f"{m.name} = {m.value_text()} {m.unit} (limit {m.limit.text()})".replace("  ", " "))
        message = _xml_text(m.message)
        if m.outcome == "FAIL":
            ET.SubElement(case, "failure", {"message": message or detail, "type": "FAIL"}).text = detail
        elif m.outcome == "ERROR":
            ET.SubElement(case, "error", {"message": message or "error", "type": "ERROR"}).text = detail
        elif m.outcome == "NOT_RUN":
            ET.SubElement(case, "skipped", {"message": "NOT_RUN"})
        else:
            ET.SubElement(case, "system-out").text = detail
    f = record.failure
    if record.verdict in ("ABORTED", "ERROR") and (f is None or f.measurement is None):
        case = ET.SubElement(suite, "testcase", {
            "classname": f"{record.plan}.run", "name": "run", "time": "0.000"})
        ET.SubElement(case, "error", {
            "message": _xml_text((f.message if f else "") or record.verdict),
            "type": record.verdict})
        suite.set("tests", str(len(record.measurements) + 1))
        suite.set("errors", str(counts["ERROR"] + 1))
    root = ET.Element("testsuites")
    root.append(suite)
    ET.indent(root)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True) + b"\n"


def write_junit(record: Record, path: str | Path) -> None:
    atomic_write(path, junit_xml(record))
