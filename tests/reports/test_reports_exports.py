"""JSON record, CSV, Parquet and JUnit exports."""

from __future__ import annotations

import hashlib
import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest
from recordgen import NAMES, make_record, make_serial

from reports.exports import junit_xml, write_csv, write_junit, write_parquet, write_record_json
from reports.record import Record


def test_record_json_hash_is_of_the_exact_bytes(tmp_path: Path) -> None:
    r = make_record(make_serial(31), fail="ocv")
    path = tmp_path / "r.json"
    sha = write_record_json(r, path)
    data = path.read_bytes()
    assert sha == hashlib.sha256(data).hexdigest()
    assert Record.load(path) == r
    # deterministic: the same record writes the same bytes
    assert write_record_json(Record.load(path), tmp_path / "again.json") == sha
    assert json.loads(data)["serial"] == r.serial
    assert not list(tmp_path.glob(".*.tmp"))  # atomic write leaves no temporaries


def test_record_json_refuses_an_invalid_record(tmp_path: Path) -> None:
    r = make_record(make_serial(32))
    r.finished_at = r.finished_at.replace(tzinfo=None)  # set after creation, unchecked until written
    with pytest.raises(ValueError, match="finished_at must be timezone-aware"):
        write_record_json(r, tmp_path / "bad.json")
    assert not (tmp_path / "bad.json").exists()


def test_bad_record_file_names_the_file(tmp_path: Path) -> None:
    p = tmp_path / "broken.json"
    p.write_text('{"serial": 1}')
    with pytest.raises(ValueError, match=r"broken\.json: not a valid record"):
        Record.load(p)


def test_csv_and_parquet_hold_every_measurement(tmp_path: Path) -> None:
    a = make_record(make_serial(33), fail="cell_spread")
    b = make_record(make_serial(34), fail="insulation")  # critical: rest NOT_RUN
    write_csv([a, b], tmp_path / "m.csv")
    write_parquet([a, b], tmp_path / "m.parquet")
    csv = pd.read_csv(tmp_path / "m.csv", keep_default_na=False)
    par = pq.read_table(tmp_path / "m.parquet").to_pandas()
    for frame in (csv, par):
        assert len(frame) == 2 * len(NAMES)
        assert list(frame.name[: len(NAMES)]) == NAMES
        fails = frame[frame.outcome == "FAIL"]
        assert sorted(fails.name) == ["cell_spread", "insulation"]
        assert (frame[frame.run_id == b.run_id].outcome == "NOT_RUN").sum() == len(NAMES) - 2
    ocv = a.measurement("ocv").value
    assert par.set_index(["run_id", "name"]).value_num[(a.run_id, "ocv")] == ocv
    assert float(csv.set_index(["run_id", "name"]).value_text[(a.run_id, "ocv")]) == ocv
    crc = csv.set_index(["run_id", "name"]).loc[(a.run_id, "param_crc_match")]
    assert (crc.value_text, crc.value_type) == ("true", "bool")
    assert str(par.taken_at.dtype).startswith("datetime64") and str(par.taken_at.dt.tz) == "UTC"


def test_junit_counts_and_cases(tmp_path: Path) -> None:
    r = make_record(make_serial(35), fail="dc_resistance")
    write_junit(r, tmp_path / "j.xml")
    root = ET.parse(tmp_path / "j.xml").getroot()
    suite = root.find("testsuite")
    assert suite is not None
    assert (suite.get("tests"), suite.get("failures"), suite.get("errors")) == (
        str(len(NAMES)), "1", "0")
    props = {p.get("name"): p.get("value") for p in suite.iter("property")}
    assert props["serial"] == r.serial and props["verdict"] == "FAIL"
    failed = [c.get("name") for c in suite.iter("testcase") if c.find("failure") is not None]
    assert failed == ["dc_resistance"]


def test_junit_of_aborted_run_says_why() -> None:
    r = make_record(make_serial(36), verdict_override="ABORTED")
    suite = ET.fromstring(junit_xml(r)).find("testsuite")
    assert suite is not None
    run_case = [c for c in suite.iter("testcase") if c.get("name") == "run"]
    assert len(run_case) == 1 and run_case[0].find("error").get("message") == "operator stop"
    assert suite.get("errors") == "1"
    e = make_record(make_serial(37), error="ocv")
    suite = ET.fromstring(junit_xml(e)).find("testsuite")
    assert [c.get("name") for c in suite.iter("testcase") if c.find("error") is not None] == ["ocv"]
    assert int(suite.get("skipped")) == len(NAMES) - NAMES.index("ocv") - 1
