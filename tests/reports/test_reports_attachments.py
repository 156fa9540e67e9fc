"""Files a step keeps beside its record (traces, raw dumps) are bound to it by their hash."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from recordgen import make_record, make_serial

from common.clock import VirtualClock
from fixtures.recorder import MeasurementError, Recorder
from reports.record import Record
from reports.verify import Verification, _check_attachments


def _recorder(tmp_path: Path) -> Recorder:
    record = make_record(make_serial(1))
    record.attachments = []
    return Recorder(record=record, specs={}, clock=VirtualClock(), out_dir=tmp_path)


def test_an_attachment_is_written_beside_the_record_with_its_hash(tmp_path: Path) -> None:
    rec = _recorder(tmp_path)
    data = b"t_s,v\n0,51.2\n1,51.3\n"
    entry = rec.attach("pack_voltage.csv", data, "text/csv", "pack voltage while resting")
    path = tmp_path / entry.file
    assert path.read_bytes() == data
    assert entry.sha256 == hashlib.sha256(data).hexdigest() and entry.size == len(data)
    # the record carries it through its canonical bytes
    again = Record.from_json_bytes(rec.record.to_json_bytes())
    assert again.attachments == [entry]
    with pytest.raises(MeasurementError, match="already kept"):
        rec.attach("pack_voltage.csv", b"other", "text/csv")


def test_a_record_without_attachments_keeps_its_bytes(tmp_path: Path) -> None:
    record = make_record(make_serial(2))
    assert b"attachments" not in record.to_json_bytes()


def test_verify_finds_a_changed_or_missing_attachment(tmp_path: Path) -> None:
    rec = _recorder(tmp_path)
    first = rec.attach("dump_stat.txt", b"CYCLE Times : 12\n", "text/plain")
    rec.attach("dump_log.txt", b"log page 1\n", "text/plain")
    ok = Verification()
    _check_attachments(rec.record, tmp_path, ok)
    assert ok.problems == [] and len(ok.checked) == 2
    (tmp_path / first.file).write_bytes(b"CYCLE Times : 2\n")
    (tmp_path / rec.record.attachments[1].file).unlink()
    bad = Verification()
    _check_attachments(rec.record, tmp_path, bad)
    assert any("dump_stat.txt" in p and "changed" in p for p in bad.problems)
    assert any("dump_log.txt" in p and "not found" in p for p in bad.problems)


def test_the_store_keeps_attachments_and_the_time_breakdown(tmp_path: Path) -> None:
    from reports.record import TimeUse
    from reports.store import open_store

    rec = _recorder(tmp_path)
    rec.attach("trace.parquet", b"PAR1...PAR1", "application/vnd.apache.parquet")
    record = rec.record
    record.time_use = TimeUse(dwell_s=50.0, io_s=12.5, other_s=3.25)
    with open_store(None, tmp_path) as store:
        store.begin_run(record)
        store.finish_run(record, "0" * 64)
        back = store.load_record(record.run_id)
    assert back.attachments == record.attachments
    assert back.time_use == record.time_use
