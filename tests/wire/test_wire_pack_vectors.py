"""What real packs send where clients differ, read as the station reads it: public
captures where they exist (sources in docs/protocols.md, "Leniency towards real packs"),
else frames built to the shape a public client accepts. Lenient in parsing, never in
judging: a field that cannot be read is an error naming it."""

from __future__ import annotations

import can
import pytest

from common import pylon_can as pc
from common import pylon_rs485 as pr
from common.clock import VirtualClock
from drivers.pack.can_monitor import CanMonitor
from drivers.pack.errors import CanPortError

# --- RS485 0x51: public captures (a Pylontech US2000C and a US2KBPL) ---------------------
US2000C_51 = b"~20024600C04055533230303043000000010750796C6F6E2D2D2D2D2D2D2D2D2D2D2D2D2D2D2DEFBD\r"
US2KBPL_51 = b"~20024600C0405553324B42504C000000020450796C6F6E2D2D2D2D2D2D2D2D2D2D2D2D2D2D2DEF97\r"


@pytest.mark.parametrize(("raw", "device", "version"), [
    (US2000C_51, "US2000C", (1, 7)), (US2KBPL_51, "US2KBPL", (2, 4))])
def test_0x51_pylontech_pads_its_name_with_dashes(raw: bytes, device: str, version: tuple) -> None:
    info = pr.decode_manufacturer_info(pr.decode_frame(raw).info)
    assert (info.device_name, info.software_version, info.manufacturer) == (device, version, "Pylon")


@pytest.mark.parametrize("maker", [b"PYTES", b"PYTES".ljust(20, b"\0"), b"PYTES ENERGY CO LTD XY"])
def test_0x51_manufacturer_field_of_any_length(maker: bytes) -> None:
    info = b"US5000".ljust(10, b"\0") + bytes([1, 2]) + maker
    assert pr.decode_manufacturer_info(info).manufacturer == maker.rstrip(b"\0").decode()


@pytest.mark.parametrize(("maker", "words"), [(b"", "manufacturer name is empty"),
                                              (b"---", "manufacturer name is empty"),
                                              (b"PY\xffES", "manufacturer name holds non-ASCII")])
def test_0x51_an_unreadable_name_is_an_error_naming_it(maker: bytes, words: str) -> None:
    with pytest.raises(pr.PylonFrameError, match=words):
        pr.decode_manufacturer_info(b"US5000".ljust(10, b"\0") + bytes([1, 2]) + maker)


# --- RS485 0x47: the discharge limit's sign -------------------------------------------
def _sysparams(charge_da: int, discharge_da: int) -> bytes:
    """python-pylontech's README prints a US2000's 0x47 (ChargeCurrentLimit 10.2,
    DischargeCurrentLimit -10.0, cell 3.7/3.05/2.9 V, module 54/46/44.5 V); its raw
    frame is not published, so the INFO is rebuilt from those values, signed on the wire."""
    words = [3700, 3050, 2900, 2731 + 500, 2731, charge_da, 54000, 46000, 44500,
             2731 + 500, 2731 - 100, discharge_da]
    return b"\x10" + b"".join((w & 0xFFFF).to_bytes(2, "big") for w in words)


def test_0x47_a_negative_discharge_limit_is_its_magnitude() -> None:
    p = pr.decode_system_parameters(_sysparams(102, -100))
    assert (p.charge_current_limit_da, p.discharge_current_limit_da) == (102, 100)
    assert (p.cell_ov_alarm_mv, p.pack_uv_prot_mv, p.dsg_ut_prot_dc) == (3700, 44500, -100)
    assert pr.decode_system_parameters(_sysparams(102, 100)) == p   # SPEC's positive form


def test_0x47_a_negative_charge_limit_is_an_error_naming_it() -> None:
    with pytest.raises(pr.PylonFrameError, match="charge current limit -1 A is negative"):
        pr.decode_system_parameters(_sysparams(-10, 100))


# --- RS485 0x42: the user-defined count (public captures, python-pylontech's tests) ----
US3000_4_42 = (b"~2002460061DC11040F0CFD0CFC0CFC0CFB0CFC0CFB0CFD0CFC0CFC0CFB0CFA0CFD0CFB0CFE0CFA050BE1"
               b"0BCD0BCD0BCD0BCD0000C2C1FFFF04FFFF002F00EFEC0121100F0CEB0CEB0CEB0CEA0CEA0CEC0CEB0CEB"
               b"0CE90CE80CE60CE90CE90CEA0CE8050BE10BCD0BCD0BCD0BCDFFBCC1B2FFFF04FFFF002800F2D0012110"
               b"0F0CE80CE90CEA0CEA0CEA0CE90CEA0CEA0CEB0CEC0CEB0CEB0CEB0CEA0CEA050BE10BC30BC30BC30BC3"
               b"FFB7C1B8FFFF04FFFF007100E7400121100F0CE90CEC0CEB0CEA0CEA0CEB0CE90CE80CEA0CEA0CEA0CEB"
               b"0CEC0CEA0CEA050BD70BC30BC30BC30BB9FFBBC1B9FFFF04FFFF006B00ED080121108D63\r")
US2000_3_42 = (b"~20024600914211030F0CE70CE80CE60CE70CE80CE80CE80CE60CE50CE60CE80CE70CEA0CE50CE6050B91"
               b"0B870B870B870B87FFE6C18982DC02C350001F0F0CE20CE60CE60CE10CE50CE70CE60CE30CE20CE50CE3"
               b"0CE90CE70CE90CE9050B910B870B870B870B87FFE7C17082DC02C350001F0F0CE20CE50CE50CE20CE3"
               b"0CE30CE40CE50CE60CE60CE30CE40CE40CE60CE6050B910B7D0B7D0B7D0B7DFFE5C16082DC02C35000"
               b"1FB476\r")


def test_0x42_public_captures_count_2_and_4() -> None:
    big = pr.decode_analog_values(pr.decode_frame(US3000_4_42).info, all_packs=True)
    assert big.command == 4 and big.infoflag == 0x11
    assert [(m.remaining_mah, m.total_mah, m.cycles) for m in big.modules] == [
        (61420, 74000, 47), (62160, 74000, 40), (59200, 74000, 113), (60680, 74000, 107)]
    assert [m.current_da for m in big.modules] == [0, -68, -73, -69]
    small = pr.decode_analog_values(pr.decode_frame(US2000_3_42).info, all_packs=True)
    assert [(m.remaining_mah, m.total_mah, m.cycles, m.voltage_mv) for m in small.modules] == [
        (33500, 50000, 31, 49545), (33500, 50000, 31, 49520), (33500, 50000, 31, 49504)]


def test_0x42_a_count_above_2_carries_the_u24_capacities() -> None:
    info = bytearray(pr.decode_frame(US3000_4_42).info)
    block = bytes.fromhex("FFFF04FFFF002F")
    at = bytes(info).index(block)
    info[at + 2] = 3                                   # a pack that counts 3 items
    module = pr.decode_analog_values(bytes(info), all_packs=True).modules[0]
    assert (module.remaining_mah, module.total_mah) == (61420, 74000)
    info[at + 2] = 1
    with pytest.raises(pr.PylonFrameError, match="user-defined count 1"):
        pr.decode_analog_values(bytes(info), all_packs=True)


# --- CAN: a Pytes V5α's frames (public capture) and other DLCs ------------------------
#: AndreasBoehm/PytesCANProtocol README: a Pytes V5α on Victron Venus OS, cansniffer.
PYTES_V5A = {0x351: "38 02 E8 03 E8 03 C7 01", 0x355: "33 00 64 00", 0x356: "8E 14 F9 FF B4 00",
             0x35E: "50 59 54 45 53"}


def test_pytes_v5a_capture_decodes_through_the_dbc() -> None:
    frames = {fid: pc.decode(fid, bytes.fromhex(h)) for fid, h in PYTES_V5A.items()}
    lim = frames[0x351]
    assert (lim["ChargeVoltageLimit"], lim["ChargeCurrentLimit"], lim["DischargeCurrentLimit"],
            lim["DischargeVoltageLimit"]) == pytest.approx((56.8, 100.0, 100.0, 45.5))
    assert (frames[0x355]["SOC"], frames[0x355]["SOH"]) == (51, 100)
    m = frames[0x356]
    assert (m["PackVoltage"], m["PackCurrent"], m["Temperature"]) == pytest.approx((52.62, -0.7, 18.0))
    assert pc.decode_name(frames[0x35E]) == "PYTES"


def _monitor(*frames: tuple[int, str]) -> CanMonitor:
    clock = VirtualClock()
    with can.Bus(interface="virtual", channel="vectors", preserve_timestamps=True) as tx:
        mon = CanMonitor(can.Bus(interface="virtual", channel="vectors"), clock, own_bus=True,
                         same_timebase=True)
        for i, (fid, hexdata) in enumerate(frames):
            tx.send(can.Message(arbitration_id=fid, data=bytes.fromhex(hexdata),
                                is_extended_id=False, timestamp=float(i)))
        mon.poll()
    return mon


def test_a_padded_frame_is_read_and_its_dlc_still_judged() -> None:
    mon = _monitor((0x355, "33 00 64 00 00 00 00 00"))      # SOC/SOH padded to 8 bytes
    try:
        assert (mon.latest("SOC").value, mon.latest("SOH").value) == (51, 100)
        st = mon.frame(0x355)
        assert (st.dlc, st.rejected, st.count) == (8, 1, 0)   # the plan still sees DLC 8
    finally:
        mon.close()


def test_a_short_frame_gives_what_it_holds_and_names_what_it_lacks() -> None:
    mon = _monitor((0x356, "8E 14 F9 FF B4 00"), (0x356, "8E 14 F9 FF"))
    try:
        assert mon.latest("PackVoltage").value == pytest.approx(52.62)
        assert mon.latest("PackCurrent").value == pytest.approx(-0.7)
        with pytest.raises(CanPortError, match=r"Temperature.*DLC 4.*Temperature needs byte 5"):
            mon.latest("Temperature")                     # never the older frame's 18.0
    finally:
        mon.close()
