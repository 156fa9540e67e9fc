"""The shipped Pylon DBC against SPEC §5, and the pack's frames through it."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import given
from hypothesis import strategies as st

from common import pylon_can as pc
from sim.wire.can_frames import encode_frames
from tests.wire.fake_pack import healthy_snapshot

# SPEC §5 table: ID -> DLC (0x35E: the name's bytes, at most 8; PYTES is 5)
SPEC_DLC = {0x351: 8, 0x355: 4, 0x356: 6, 0x359: 7, 0x35C: 2, 0x35E: 8, 0x305: 8}


def test_dbc_has_exactly_the_spec_frames_with_their_dlc() -> None:
    db = pc.database()
    assert {m.frame_id: m.length for m in db.messages} == SPEC_DLC
    assert all(not m.is_extended_frame for m in db.messages)
    for m in db.messages:
        for s in m.signals:
            assert s.byte_order == "little_endian", (m.name, s.name)


@pytest.mark.parametrize(
    ("fid", "signal", "start", "length", "signed", "scale"),
    [
        (0x351, "ChargeVoltageLimit", 0, 16, False, 0.1),
        (0x351, "ChargeCurrentLimit", 16, 16, True, 0.1),
        (0x351, "DischargeCurrentLimit", 32, 16, True, 0.1),
        (0x351, "DischargeVoltageLimit", 48, 16, False, 0.1),
        (0x355, "SOC", 0, 16, False, 1),
        (0x355, "SOH", 16, 16, False, 1),
        (0x356, "PackVoltage", 0, 16, True, 0.01),
        (0x356, "PackCurrent", 16, 16, True, 0.1),
        (0x356, "Temperature", 32, 16, True, 0.1),
        (0x359, "ProtOverVoltage", 1, 1, False, 1),
        (0x359, "ProtUnderVoltage", 2, 1, False, 1),
        (0x359, "ProtOverTemperature", 3, 1, False, 1),
        (0x359, "ProtUnderTemperature", 4, 1, False, 1),
        (0x359, "ProtDischargeOverCurrent", 7, 1, False, 1),
        (0x359, "ProtChargeOverCurrent", 8, 1, False, 1),
        (0x359, "ProtSystemError", 11, 1, False, 1),
        (0x359, "WarnHighVoltage", 17, 1, False, 1),
        (0x359, "WarnLowVoltage", 18, 1, False, 1),
        (0x359, "WarnHighTemperature", 19, 1, False, 1),
        (0x359, "WarnLowTemperature", 20, 1, False, 1),
        (0x359, "WarnDischargeHighCurrent", 23, 1, False, 1),
        (0x359, "WarnChargeHighCurrent", 24, 1, False, 1),
        (0x359, "WarnInternalCommFail", 27, 1, False, 1),
        (0x359, "ModuleCount", 32, 8, False, 1),
        (0x35C, "ChargeEnable", 7, 1, False, 1),
        (0x35C, "DischargeEnable", 6, 1, False, 1),
        (0x35C, "ForceCharge1", 5, 1, False, 1),
        (0x35C, "ForceCharge2", 4, 1, False, 1),
        (0x35C, "FullChargeRequest", 3, 1, False, 1),
    ],
)
def test_signal_layout_is_the_spec_layout(fid, signal, start, length, signed, scale) -> None:
    s = pc.message(fid).get_signal_by_name(signal)
    assert (s.start, s.length, s.is_signed, s.scale) == (start, length, signed, scale)


def test_healthy_idle_pack_frames_are_the_spec_bytes() -> None:
    snap = dataclasses.replace(healthy_snapshot(), current_ma=0, mode="standby")
    frames = dict(encode_frames(snap))
    assert list(dict(encode_frames(snap))) == list(pc.BMS_FRAME_IDS)
    assert frames[0x35C] == bytes([0xC0, 0x00])               # "a healthy idle pack sends C0 00"
    assert frames[0x35E] == b"PYTES"
    assert frames[0x359] == bytes([0, 0, 0, 0, 1]) + b"PN"
    assert frames[0x351] == bytes.fromhex("3002 E803 E803 E501".replace(" ", ""))
    assert frames[0x355] == (52).to_bytes(2, "little") + (99).to_bytes(2, "little")


def test_every_frame_decodes_to_the_snapshot_values() -> None:
    snap = dataclasses.replace(
        healthy_snapshot(), protections=frozenset({"dsg_oc"}), alarms=frozenset({"chg_ot"}),
        discharge_fet=False, discharge_limit_da=0, current_ma=-123456)
    got = {fid: pc.decode(fid, data) for fid, data in encode_frames(snap)}
    assert got[0x351]["ChargeVoltageLimit"] == pytest.approx(56.0)
    assert got[0x351]["DischargeCurrentLimit"] == 0
    assert got[0x356]["PackVoltage"] == pytest.approx(snap.pack_mv / 1000, abs=0.01)
    assert got[0x356]["PackCurrent"] == pytest.approx(-123.5)
    assert got[0x356]["Temperature"] == pytest.approx(24.3)  # highest cell group, not MOSFET
    assert got[0x359]["ProtDischargeOverCurrent"] == 1 and got[0x359]["ProtOverVoltage"] == 0
    assert got[0x359]["WarnHighTemperature"] == 1
    assert got[0x35C]["DischargeEnable"] == 0 and got[0x35C]["ChargeEnable"] == 1
    assert pc.decode_name(got[0x35E]) == "PYTES"


def test_wrong_dlc_and_unknown_id_are_named_errors() -> None:
    with pytest.raises(pc.CanCodecError, match="DLC 3"):
        pc.decode(0x355, b"\x01\x02\x03")
    with pytest.raises(pc.CanCodecError, match="0x123"):
        pc.decode(0x123, b"")


@given(st.sampled_from(sorted(SPEC_DLC)), st.binary(max_size=8))
def test_any_payload_decodes_or_raises_the_codec_error(fid: int, data: bytes) -> None:
    try:
        pc.decode(fid, data)
    except pc.CanCodecError:
        assert len(data) != SPEC_DLC[fid] and fid != pc.NAME_ID


@pytest.mark.parametrize(("text", "data"), [
    ("PYTES", b"PYTES"),                 # SPEC §5: DLC 5
    ("PYLON   ", b"PYLON   "),           # a Pylontech pack: DLC 8, its padding is its text
    ("PYTES ENERGY CO", b"PYTES EN"),    # longer than 8: the first 8 bytes
    ("", b""),
])
def test_name_frame_is_the_text_at_most_eight_bytes(text: str, data: bytes) -> None:
    assert pc.encode_name(text) == data
    assert pc.decode_name(pc.decode(pc.NAME_ID, data)) == text[:8].rstrip()


def test_name_frame_longer_than_eight_is_refused() -> None:
    with pytest.raises(pc.CanCodecError, match="DLC 9"):
        pc.decode(pc.NAME_ID, b"PYTESPYTE")
    with pytest.raises(pc.CanCodecError, match="not ASCII"):
        pc.encode_name("PYTÉS")
