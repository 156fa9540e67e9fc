"""Pylon RS485 codec (common/pylon_rs485.py): SPEC §6 vectors, round trips, bad input."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from common import pylon_rs485 as pr

ANALOG_8 = (b"~20024600D05E1002080D020D020D020D030D000D010D010D03050B7D0B690B690B690B73"
            b"FFFA680EFFFF04FFFF00000174E401B198E906\r")
MGMT = b"~20024600B014026EF05AA0022BFDD5C0F915\r"


def test_length_field_and_checksum_match_the_spec_examples() -> None:
    assert pr.length_field(2) == 0xE002
    assert pr.length_field(20) == 0xB014
    assert pr.length_field(0) == 0x0000
    assert pr.length_ok(0xE002) and not pr.length_ok(0xF002)


def test_request_vectors_are_encoded_byte_for_byte() -> None:
    assert pr.encode_request(2, 0x42, 2) == b"~20024642E00202FD33\r"
    body = b"2002464FC0048520"
    assert b"%04X" % pr.checksum(body) == b"FCB2"


def test_management_vector_round_trips() -> None:
    frame = pr.decode_frame(MGMT)
    m = pr.decode_management_info(frame.info)
    assert (m.command, m.charge_voltage_mv, m.discharge_voltage_mv) == (2, 28400, 23200)
    assert (m.charge_current_da, m.discharge_current_da) == (555, -555)
    assert m.charge_enable and m.discharge_enable and not m.force_charge_1
    assert pr.encode_response(2, 0, pr.encode_management_info(m)) == MGMT


def test_analog_vector_round_trips_with_u24_capacities() -> None:
    a = pr.decode_analog_values(pr.decode_frame(ANALOG_8).info)
    mod = a.modules[0]
    assert a.command == 2 and a.infoflag == 0x10
    assert mod.cell_mv == (3330, 3330, 3330, 3331, 3328, 3329, 3329, 3331)
    assert mod.temps_dc == (210, 190, 190, 190, 200)
    assert (mod.current_da, mod.voltage_mv, mod.cycles) == (-6, 26638, 0)
    assert (mod.remaining_mah, mod.total_mah) == (95460, 111000)
    assert pr.encode_response(2, 0, pr.encode_analog_values(a)) == ANALOG_8


def test_small_capacity_uses_the_u16_form() -> None:
    m = pr.ModuleAnalog((3300,) * 16, (250,) * 6, 10, 52800, 40000, 50000, 7)
    info = pr.encode_analog_values(pr.AnalogValues(2, (m,)))
    assert info[-5] == 0x02 and len(info) == 2 + 1 + 32 + 1 + 12 + 2 + 2 + 2 + 1 + 2 + 2
    assert pr.decode_analog_values(info).modules[0] == m


def test_stack_form_carries_module_count_and_blocks() -> None:
    m = pr.ModuleAnalog((3300,) * 16, (250,) * 6, 10, 52800, 99000, 100000, 7)
    a = pr.AnalogValues(2, (m, m))
    assert pr.decode_analog_values(pr.encode_analog_values(a), all_packs=True) == a


def test_every_cid2_round_trips() -> None:
    mi = pr.ManufacturerInfo("V5", (1, 4), "PYTES")
    assert pr.decode_manufacturer_info(pr.encode_manufacturer_info(mi)) == mi
    sp = pr.SystemParameters(3550, 3000, 2800, 450, 0, 1000, 57000, 48000, 47500, 500, -100, 1000)
    enc = pr.encode_system_parameters(sp)
    assert enc[9:11] == (2731 + 0).to_bytes(2, "big")  # charge UT protection 0 °C in 0.1 K
    assert pr.decode_system_parameters(enc) == sp
    sn = pr.SerialNumberInfo(2, "PV5S260100000013")
    assert pr.decode_serial_number(pr.encode_serial_number(sn)) == sn
    al = pr.ModuleAlarms(("normal",) * 15 + ("above",), ("normal",) * 6, "normal", "below",
                         "above", (0x10, 0x06, 0x40, 0x00, 0x80))
    got = pr.decode_alarm_info(pr.encode_alarm_info(pr.AlarmInfo(2, (al,))))
    assert got.modules[0] == al
    assert got.modules[0].discharge_oc and got.modules[0].faulty_cells == (16,)


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (MGMT.replace(b"F915", b"F916"), "CHKSUM"),
        (MGMT[:-1], "no CR"),
        (MGMT[1:], "no '~'"),
        (b"~2002\r", "too short"),
    ],
)
def test_decode_frame_names_the_fault_and_keeps_raw_bytes(raw: bytes, reason: str) -> None:
    with pytest.raises(pr.PylonFrameError, match=reason) as err:
        pr.decode_frame(raw)
    assert err.value.raw == raw


def _accept_2(adr: int, cid2: int) -> bool:
    return adr == 2 or (adr == 0 and cid2 in pr.ADR0_COMMANDS)


def _body(frame: bytes) -> bytes:
    return frame[1:-1]


def _reframe(body_wo_chk: bytes) -> bytes:
    return body_wo_chk + b"%04X" % pr.checksum(body_wo_chk)


@pytest.mark.parametrize(
    ("body", "rtn"),
    [
        (b"20024642E00202FD34", pr.RTN_CHKSUM),
        (_reframe(b"20024642F00202"), pr.RTN_LCHKSUM),
        (_reframe(b"21024642E00202"), pr.RTN_VER),
        (_reframe(b"20024699E00202"), pr.RTN_CID2),
        (_reframe(b"20024742E00202"), pr.RTN_CID2),
        (_reframe(b"20024642E0020Z"), pr.RTN_FORMAT),
        (_reframe(b"20024642C00402"), pr.RTN_FORMAT),   # LENID says 4, INFO has 2
        (_reframe(b"20024647E002FF"), pr.RTN_DATA),     # FF only for 0x42/0x44
        (_reframe(b"20024642E00203"), pr.RTN_DATA),     # INFO names another pack
        # order: a bad CHKSUM wins over every later fault
        (b"21024699F00202FFFF", pr.RTN_CHKSUM),
        (_reframe(b"21024699F00202"), pr.RTN_LCHKSUM),
        (_reframe(b"21024699E00202"), pr.RTN_VER),
    ],
)
def test_request_checks_follow_the_spec_order(body: bytes, rtn: int) -> None:
    with pytest.raises(pr.RequestRejected) as err:
        pr.parse_request(body, _accept_2)
    assert err.value.rtn == rtn and err.value.adr == 2


def test_leniencies_and_silence() -> None:
    two = _reframe(b"20024642C0040201")            # two address bytes
    assert pr.parse_request(two, _accept_2).target == 2
    none = _reframe(b"200246420000")                # no INFO
    assert pr.parse_request(none, _accept_2).target is None
    lower = _reframe(b"20024642e00202")             # lower-case hex
    assert pr.parse_request(lower, _accept_2).cid2 == 0x42
    assert pr.parse_request(_reframe(b"20034642E00203"), _accept_2) is None   # foreign
    assert pr.parse_request(_reframe(b"20004642E00202"), _accept_2) is None   # ADR 0, 0x42
    assert pr.parse_request(_reframe(b"20004F4F0000")[0:2] + b"0G"
                            + _reframe(b"20004F4F0000")[4:], _accept_2) is None  # ADR not hex
    adr0 = pr.parse_request(_body(pr.encode_request(0, 0x51)), _accept_2)
    assert adr0 is not None and adr0.adr == 0


@given(st.binary(max_size=300))
def test_random_bytes_never_crash_any_decoder(data: bytes) -> None:
    for fn in (pr.decode_frame, pr.decode_manufacturer_info, pr.decode_system_parameters,
               pr.decode_management_info, pr.decode_serial_number, pr.decode_analog_values,
               pr.decode_alarm_info):
        with contextlib.suppress(pr.PylonFrameError):
            fn(data)
    with contextlib.suppress(pr.RequestRejected):
        pr.parse_request(data, _accept_2)


@given(st.integers(0, len(ANALOG_8) - 1), st.integers(0, 255))
def test_mutated_response_is_rejected_or_still_consistent(pos: int, byte: int) -> None:
    raw = bytearray(ANALOG_8)
    raw[pos] = byte
    try:
        frame = pr.decode_frame(bytes(raw))
    except pr.PylonFrameError as exc:
        assert exc.raw == bytes(raw)
        return
    # the only mutations that survive the checksum are no-ops or case changes of hex
    assert frame == pr.decode_frame(ANALOG_8)


@given(st.lists(st.integers(0, 0xFFFF), min_size=1, max_size=24),
       st.lists(st.integers(-2731, 0x7FFF - 2731), min_size=1, max_size=8),
       st.integers(-0x8000, 0x7FFF), st.integers(0, 0xFFFF), st.integers(0, 0xFFFFFF),
       st.integers(0, 0xFFFFFF), st.integers(0, 0xFFFF))
def test_analog_round_trip_property(cells, temps, cur, volt, rem, tot, cyc) -> None:
    m = pr.ModuleAnalog(tuple(cells), tuple(temps), cur, volt, rem, tot, cyc)
    info = pr.encode_analog_values(pr.AnalogValues(2, (m,)))
    frame = pr.decode_frame(pr.encode_response(2, 0, info))
    assert pr.decode_analog_values(frame.info).modules[0] == m


def test_the_spec_request_vectors_are_answered_by_the_pack() -> None:
    from sim.wire.rs485 import Rs485Responder
    from tests.wire.fake_pack import FakePack

    r = Rs485Responder(FakePack())  # type: ignore[arg-type]
    ((_, ver),) = r.feed(b"~2002464FC0048520FCB2\r")   # INFO ignored for 0x4F
    frame = pr.decode_frame(ver)
    assert (frame.ver, frame.adr, frame.rtn, frame.info) == (0x20, 2, 0, b"")
    assert ver.endswith(b"\r") and not ver.endswith(b"\n")
    ((_, analog),) = r.feed(b"~20024642E00202FD33\r")
    a = pr.decode_analog_values(pr.decode_frame(analog).info)
    assert a.command == 2 and len(a.modules[0].cell_mv) == 16
    assert r.feed(b"~20034642E00203FD31\r") == []          # another pack's ADR: silence
