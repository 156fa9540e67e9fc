"""The record model: exact JSON round trip, validation, schema in sync."""

from __future__ import annotations

import json
from datetime import datetime

import jsonschema
import pytest
from recordgen import NAMES, make_record, make_serial

from reports.record import SCHEMA_PATH, Measurement, Record, json_schema_text


def test_round_trip_is_exact_and_deterministic() -> None:
    r = make_record(make_serial(1), fail="cell_spread")
    data = r.to_json_bytes()
    back = Record.from_json_bytes(data)
    assert back == r
    assert back.to_json_bytes() == data
    # types survive: bool stays bool, int stays int, str stays str
    assert back.measurement("param_crc_match").value is True
    assert isinstance(back.measurement("ocv").value, float)
    assert back.measurement("serial_rs485").value == r.serial


def test_first_failure_is_first_in_plan_order() -> None:
    r = make_record(make_serial(2), fail="dc_resistance")
    r.measurements[NAMES.index("shipping_soc")].outcome = "FAIL"
    assert r.first_failure().name == "dc_resistance"
    assert make_record(make_serial(3)).first_failure() is None
    e = make_record(make_serial(4), error="ocv")
    assert e.first_failure().name == "ocv" and e.first_failure().outcome == "ERROR"


def test_critical_failure_leaves_rest_not_run() -> None:
    r = make_record(make_serial(5), fail="insulation")
    assert r.counts() == {"PASS": 1, "FAIL": 1, "NOT_RUN": len(NAMES) - 2, "ERROR": 0}


def test_validation_names_the_field() -> None:
    good = make_record(make_serial(6)).model_dump()
    with pytest.raises(ValueError, match="run_id"):
        Record.model_validate({**good, "run_id": "not-a-uuid"})
    with pytest.raises(ValueError, match="started_at must be timezone-aware"):
        Record.model_validate({**good, "started_at": datetime(2026, 1, 5, 8)})
    dup = {**good, "measurements": good["measurements"] + good["measurements"][:1]}
    with pytest.raises(ValueError, match="appears twice"):
        Record.model_validate(dup)
    with pytest.raises(ValueError, match="outcome"):
        Measurement.model_validate({**good["measurements"][0], "outcome": "MAYBE"})


def test_non_finite_value_becomes_null_with_a_note() -> None:
    m = make_record(make_serial(7)).measurements[0].model_copy(update={"value": float("nan")})
    m = Measurement.model_validate(m.model_dump())
    assert m.value is None and "non-finite" in m.message


def test_checked_in_schema_matches_model_and_validates_records() -> None:
    assert SCHEMA_PATH.read_text(encoding="utf-8") == json_schema_text(), (
        "reports/record.schema.json is stale: run python -m reports.record"
    )
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    doc = json.loads(make_record(make_serial(8), fail="ocv").to_json_bytes())
    jsonschema.validate(doc, schema)
    doc["measurements"][0]["outcome"] = "MAYBE"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(doc, schema)


def test_numpy_values_keep_their_kind() -> None:
    import numpy as np

    base = make_record(make_serial(9)).measurements[0].model_dump()
    for raw, kind in ((np.bool_(True), bool), (np.int64(3), int), (np.float64(1.25), float)):
        m = Measurement.model_validate({**base, "value": raw})
        assert type(m.value) is kind and m.value == raw
