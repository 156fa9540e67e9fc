"""Property-based: any value a measurement may hold survives JSON, the store, JUnit and PDF."""

from __future__ import annotations

import tempfile
import xml.etree.ElementTree as ET
from pathlib import Path

import pypdf
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from recordgen import make_record, make_serial

from reports.certificate import certificate_bytes
from reports.exports import junit_xml
from reports.record import Record
from reports.store import open_store

values = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**53), max_value=2**53),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=40),
)
texts = st.text(max_size=60)


def _with(value: object, message: str) -> Record:
    r = make_record(make_serial(61), fail="ocv")
    ocv = r.measurement("ocv")
    r.measurements[r.measurements.index(ocv)] = ocv.model_copy(
        update={"value": value, "message": message})
    return Record.model_validate(r.model_dump())


@settings(max_examples=100, deadline=None)
@given(value=values, message=texts)
def test_json_round_trip_keeps_value_and_type(value: object, message: str) -> None:
    r = _with(value, message)
    back = Record.from_json_bytes(r.to_json_bytes())
    got = back.measurement("ocv").value
    assert got == value and type(got) is type(value)
    assert back.to_json_bytes() == r.to_json_bytes()


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(value=values, message=texts)
def test_store_round_trip_keeps_value_and_type(value: object, message: str) -> None:
    r = _with(value, message)
    with tempfile.TemporaryDirectory() as tmp, open_store(None, Path(tmp)) as store:
        store.finish_run(r, None)
        back = store.load_record(r.run_id)
    assert back == r
    assert type(back.measurement("ocv").value) is type(value)


@settings(max_examples=60, deadline=None)
@given(message=texts, value=values)
def test_junit_is_well_formed_for_any_text(message: str, value: object) -> None:
    suite = ET.fromstring(junit_xml(_with(value, message))).find("testsuite")
    assert suite is not None and suite.get("failures") in ("0", "1")


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(message=texts)
def test_certificate_renders_any_message(message: str) -> None:
    import io

    pdf = certificate_bytes(_with(50.9, message), "a" * 64)
    text = "".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(pdf)).pages)
    assert "Record SHA-256: " + "a" * 64 in text
