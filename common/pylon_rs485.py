"""Pylon RS485 protocol v3.3 (SPEC §6): framing, LENGTH/CHKSUM and the INFO of every CID2.

Both the simulated pack (encodes responses, decodes requests) and the station's driver
(encodes requests, decodes responses) use this module, so a layout is written once. It
imports neither side. Every decoder raises :class:`PylonFrameError` naming the fault and
carrying the raw bytes; nothing here ever raises anything else on bad input.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

VER = 0x20
CID1 = 0x46
SOI = ord("~")
EOI = ord("\r")
KELVIN_OFFSET_DK = 2731  # 0.1 K at 0 °C

# CID2 of requests
CID2_PROTOCOL_VERSION = 0x4F
CID2_MANUFACTURER_INFO = 0x51
CID2_ANALOG_VALUES = 0x42
CID2_ALARM_INFO = 0x44
CID2_SYSTEM_PARAMETERS = 0x47
CID2_MANAGEMENT_INFO = 0x92
CID2_SERIAL_NUMBER = 0x93
COMMANDS: dict[int, str] = {
    CID2_PROTOCOL_VERSION: "protocol version",
    CID2_MANUFACTURER_INFO: "manufacturer info",
    CID2_ANALOG_VALUES: "analog values",
    CID2_ALARM_INFO: "alarm info",
    CID2_SYSTEM_PARAMETERS: "system parameters",
    CID2_MANAGEMENT_INFO: "management info",
    CID2_SERIAL_NUMBER: "serial number",
}
#: Commands that address a pack by INFO (ADR or FF) rather than ignore INFO.
ADDRESSED_COMMANDS = frozenset(
    {CID2_ANALOG_VALUES, CID2_ALARM_INFO, CID2_SYSTEM_PARAMETERS, CID2_MANAGEMENT_INFO,
     CID2_SERIAL_NUMBER}
)
#: Commands that accept FF (all packs of the stack) as INFO.
STACK_COMMANDS = frozenset({CID2_ANALOG_VALUES, CID2_ALARM_INFO})
#: Commands answered at ADR 0, with the pack's own ADR in the response.
ADR0_COMMANDS = frozenset({CID2_PROTOCOL_VERSION, CID2_MANUFACTURER_INFO})
ALL_PACKS = 0xFF

# RTN codes of a response
RTN_OK = 0x00
RTN_VER = 0x01
RTN_CHKSUM = 0x02
RTN_LCHKSUM = 0x03
RTN_CID2 = 0x04
RTN_FORMAT = 0x05
RTN_DATA = 0x06
RTN_ADR = 0x90
RTN_INTERNAL = 0x91
RTN_NAMES: dict[int, str] = {
    RTN_OK: "OK",
    RTN_VER: "VER error",
    RTN_CHKSUM: "CHKSUM error",
    RTN_LCHKSUM: "LCHKSUM error",
    RTN_CID2: "CID2 invalid",
    RTN_FORMAT: "format error",
    RTN_DATA: "invalid data",
    RTN_ADR: "ADR error",
    RTN_INTERNAL: "internal communication error",
}

STATE_CODES = {"normal": 0x00, "below": 0x01, "above": 0x02, "other": 0xF0}
STATE_NAMES = {v: k for k, v in STATE_CODES.items()}

HEADER_CHARS = 12  # VER ADR CID1 CID2 LENGTH
MIN_BODY_CHARS = HEADER_CHARS + 4  # + CHKSUM


class PylonFrameError(ValueError):
    """A frame or INFO that cannot be what the protocol says; carries the raw bytes."""

    def __init__(self, message: str, raw: bytes | str = b"") -> None:
        raw_b = raw.encode("latin-1", "replace") if isinstance(raw, str) else bytes(raw)
        super().__init__(f"{message} (raw {raw_b!r})")
        self.raw = raw_b
        self.reason = message


# --- checksums -----------------------------------------------------------------------------
def length_field(n: int) -> int:
    """LENGTH word for an INFO of ``n`` ASCII characters: check nibble + 12-bit LENID."""
    if not 0 <= n <= 0xFFF:
        raise ValueError(f"INFO length {n} does not fit the 12-bit LENID")
    s = (n & 0xF) + (n >> 4 & 0xF) + (n >> 8 & 0xF)
    return (((-s) & 0xF) << 12) | n


def length_ok(word: int) -> bool:
    """True when the check nibble of a LENGTH word matches its LENID."""
    return length_field(word & 0xFFF) == word


def checksum(body: bytes) -> int:
    """CHKSUM of the bytes between ``~`` and CHKSUM, as sent or received."""
    return (-sum(body)) & 0xFFFF


# --- frames --------------------------------------------------------------------------------
@dataclass(frozen=True)
class Frame:
    """One frame, decoded from hex. ``cid2`` is the RTN in a response."""

    ver: int
    adr: int
    cid1: int
    cid2: int
    info: bytes = b""

    @property
    def rtn(self) -> int:
        return self.cid2


def encode_frame(adr: int, cid2: int, info: bytes = b"", *, ver: int = VER,
                 cid1: int = CID1, info_ascii: bytes | None = None) -> bytes:
    """A complete frame ``~ ... CHKSUM \\r``; INFO is hex-coded unless ``info_ascii`` is given
    (requests carry the address as ASCII hex, which is the same thing)."""
    for name, v in (("VER", ver), ("ADR", adr), ("CID1", cid1), ("CID2", cid2)):
        if not 0 <= v <= 0xFF:
            raise ValueError(f"{name} {v!r} is not a byte")
    info_hex = info.hex().upper().encode("ascii") if info_ascii is None else info_ascii
    body = b"%02X%02X%02X%02X%04X" % (ver, adr, cid1, cid2, length_field(len(info_hex)))
    body += info_hex
    return b"~" + body + b"%04X" % checksum(body) + b"\r"


def encode_request(adr: int, cid2: int, info_adr: int | None = None) -> bytes:
    """A request; ``info_adr`` is the INFO address byte (the ADR, or FF), None for no INFO."""
    info = b"" if info_adr is None else bytes([info_adr])
    return encode_frame(adr, cid2, info)


def encode_response(adr: int, rtn: int, info: bytes = b"") -> bytes:
    return encode_frame(adr, rtn, info)


_HEX = frozenset(b"0123456789ABCDEFabcdef")


def _is_hex(text: bytes) -> bool:
    return all(c in _HEX for c in text)


def split_body(raw: bytes) -> bytes:
    """The bytes between ``~`` and CR of one frame (leading noise before ``~`` is skipped)."""
    start = raw.find(b"~")
    if start < 0:
        raise PylonFrameError("no '~' start of frame", raw)
    end = raw.find(b"\r", start)
    if end < 0:
        raise PylonFrameError("no CR end of frame", raw)
    return raw[start + 1:end]


def decode_frame(raw: bytes) -> Frame:
    """Decode and fully check one frame (the driver's view of a response): CHKSUM, LENGTH
    check nibble, LENID against the INFO actually present, hex everywhere."""
    body = split_body(raw)
    if len(body) < MIN_BODY_CHARS:
        raise PylonFrameError(f"frame too short ({len(body)} characters)", raw)
    head, info_hex, chk = body[:HEADER_CHARS], body[HEADER_CHARS:-4], body[-4:]
    if not _is_hex(chk):
        raise PylonFrameError("CHKSUM is not hex", raw)
    if int(chk, 16) != checksum(body[:-4]):
        raise PylonFrameError(
            f"CHKSUM {chk.decode()} wrong, expected {checksum(body[:-4]):04X}", raw)
    if not _is_hex(head):
        raise PylonFrameError("header is not hex", raw)
    ver, adr, cid1, cid2 = (int(head[i:i + 2], 16) for i in range(0, 8, 2))
    length = int(head[8:12], 16)
    if not length_ok(length):
        raise PylonFrameError(f"LENGTH {length:04X} has a wrong check nibble (LCHKSUM)", raw)
    if (length & 0xFFF) != len(info_hex):
        raise PylonFrameError(
            f"LENID {length & 0xFFF} but {len(info_hex)} INFO characters", raw)
    if len(info_hex) % 2 or not _is_hex(info_hex):
        raise PylonFrameError("INFO is not an even number of hex characters", raw)
    return Frame(ver, adr, cid1, cid2, bytes.fromhex(info_hex.decode("ascii")))


# --- INFO reader ---------------------------------------------------------------------------
class _Reader:
    """Sequential big-endian reads from INFO with errors that name the field."""

    def __init__(self, data: bytes, what: str) -> None:
        self.data, self.pos, self.what = data, 0, what

    def take(self, n: int, field_name: str) -> bytes:
        if self.pos + n > len(self.data):
            raise PylonFrameError(
                f"{self.what}: INFO ends inside {field_name} (byte {self.pos}, need {n})",
                self.data)
        out = self.data[self.pos:self.pos + n]
        self.pos += n
        return out

    def u8(self, f: str) -> int:
        return self.take(1, f)[0]

    def u16(self, f: str) -> int:
        return int.from_bytes(self.take(2, f), "big")

    def s16(self, f: str) -> int:
        return int.from_bytes(self.take(2, f), "big", signed=True)

    def u24(self, f: str) -> int:
        return int.from_bytes(self.take(3, f), "big")

    def done(self) -> None:
        if self.pos != len(self.data):
            raise PylonFrameError(
                f"{self.what}: {len(self.data) - self.pos} unexpected bytes after the INFO",
                self.data)


def _u16(v: int, what: str) -> bytes:
    if not 0 <= v <= 0xFFFF:
        raise ValueError(f"{what} {v} does not fit u16")
    return v.to_bytes(2, "big")


def _s16(v: int, what: str) -> bytes:
    if not -0x8000 <= v <= 0x7FFF:
        raise ValueError(f"{what} {v} does not fit s16")
    return v.to_bytes(2, "big", signed=True)


# --- 0x51 manufacturer info ----------------------------------------------------------------
@dataclass(frozen=True)
class ManufacturerInfo:
    device_name: str
    software_version: tuple[int, int]
    manufacturer: str


def encode_manufacturer_info(m: ManufacturerInfo) -> bytes:
    name = m.device_name.encode("ascii")
    maker = m.manufacturer.encode("ascii")
    if len(name) > 10 or len(maker) > 20:
        raise ValueError("device name is at most 10 and manufacturer 20 ASCII characters")
    return name.ljust(10, b"\0") + bytes(m.software_version) + maker.ljust(20, b"\0")


def decode_manufacturer_info(info: bytes) -> ManufacturerInfo:
    """Lenient where packs differ (docs/protocols.md): the manufacturer name is the rest of
    INFO, whatever its length (20 bytes in SPEC, fewer or more from some packs), and its
    padding may be NUL, spaces or ``-`` (Pylontech pads ``Pylon`` with ``-``)."""
    r = _Reader(info, "0x51 manufacturer info")
    name = r.take(10, "device name")
    ver = r.take(2, "software version")
    maker = r.take(len(info) - r.pos, "manufacturer name")
    if not maker.rstrip(_PADDING):
        raise PylonFrameError("0x51 manufacturer info: the manufacturer name is empty", info)
    return ManufacturerInfo(_ascii(name, info, "device name"), (ver[0], ver[1]),
                            _ascii(maker, info, "manufacturer name"))


#: What packs pad a 0x51 text field with.
_PADDING = b"\0 -"


def _ascii(b: bytes, raw: bytes, field: str = "text field") -> str:
    try:
        return b.rstrip(_PADDING).decode("ascii")
    except UnicodeDecodeError:
        raise PylonFrameError(f"{field} holds non-ASCII bytes: {b.hex(' ')}", raw) from None


# --- 0x42 analog values --------------------------------------------------------------------
@dataclass(frozen=True)
class ModuleAnalog:
    """One module's block of 0x42. Temperatures in 0.1 °C, current 0.1 A (+ charge)."""

    cell_mv: tuple[int, ...]
    temps_dc: tuple[int, ...]
    current_da: int
    voltage_mv: int
    remaining_mah: int
    total_mah: int
    cycles: int


@dataclass(frozen=True)
class AnalogValues:
    """0x42 response: ``command`` is the ADR (single pack) or the module count (FF)."""

    command: int
    modules: tuple[ModuleAnalog, ...]
    infoflag: int = 0x10


def _encode_module_analog(m: ModuleAnalog) -> bytes:
    if not 0 < len(m.cell_mv) <= 255 or not 0 < len(m.temps_dc) <= 255:
        raise ValueError("cell and temperature counts must be 1..255")
    out = bytearray([len(m.cell_mv)])
    for v in m.cell_mv:
        out += _u16(v, "cell voltage")
    out.append(len(m.temps_dc))
    for t in m.temps_dc:
        out += _s16(t + KELVIN_OFFSET_DK, "temperature")
    out += _s16(m.current_da, "current") + _u16(m.voltage_mv, "voltage")
    big = m.remaining_mah > 0xFFFF or m.total_mah > 0xFFFF
    if big:
        if m.remaining_mah > 0xFFFFFF or m.total_mah > 0xFFFFFF:
            raise ValueError("capacity does not fit u24")
        out += b"\xff\xff\x04\xff\xff" + _u16(m.cycles, "cycles")
        out += m.remaining_mah.to_bytes(3, "big") + m.total_mah.to_bytes(3, "big")
    else:
        out += _u16(m.remaining_mah, "remaining") + b"\x02" + _u16(m.total_mah, "total")
        out += _u16(m.cycles, "cycles")
    return bytes(out)


def encode_analog_values(a: AnalogValues) -> bytes:
    out = bytearray([a.infoflag, a.command])
    for m in a.modules:
        out += _encode_module_analog(m)
    return bytes(out)


def _decode_module_analog(r: _Reader) -> ModuleAnalog:
    m = r.u8("cell count")
    cells = tuple(r.u16(f"cell {i + 1} voltage") for i in range(m))
    n = r.u8("temperature count")
    temps = tuple(r.s16(f"temperature {i + 1}") - KELVIN_OFFSET_DK for i in range(n))
    current = r.s16("current")
    voltage = r.u16("voltage")
    remaining = r.u16("remaining capacity")
    count = r.u8("user-defined count")
    total = r.u16("total capacity")
    cycles = r.u16("cycles")
    if count > 2:   # 4 in SPEC; as python-pylontech reads packs, any count above 2
        remaining = r.u24("remaining capacity (u24)")
        total = r.u24("total capacity (u24)")
    elif count != 2:
        raise PylonFrameError(f"0x42: user-defined count {count}: the total capacity and "
                              "cycles it counts are not announced (2 or more expected)", r.data)
    return ModuleAnalog(cells, temps, current, voltage, remaining, total, cycles)


def decode_analog_values(info: bytes, *, all_packs: bool = False) -> AnalogValues:
    """``all_packs``: the request was FF, so the command value is the module count."""
    r = _Reader(info, "0x42 analog values")
    flag = r.u8("INFOFLAG")
    command = r.u8("command value")
    count = command if all_packs else 1
    modules = tuple(_decode_module_analog(r) for _ in range(count))
    r.done()
    return AnalogValues(command, modules, flag)


# --- 0x44 alarm info -----------------------------------------------------------------------
@dataclass(frozen=True)
class ModuleAlarms:
    """One module's block of 0x44; states are names from STATE_CODES."""

    cell_states: tuple[str, ...]
    temp_states: tuple[str, ...]
    charge_current_state: str
    voltage_state: str
    discharge_current_state: str
    status: tuple[int, int, int, int, int]

    # Status1 bits
    @property
    def module_uv(self) -> bool:
        return bool(self.status[0] & 0x80)

    @property
    def charge_ot(self) -> bool:
        return bool(self.status[0] & 0x40)

    @property
    def discharge_ot(self) -> bool:
        return bool(self.status[0] & 0x20)

    @property
    def discharge_oc(self) -> bool:
        return bool(self.status[0] & 0x10)

    @property
    def charge_oc(self) -> bool:
        return bool(self.status[0] & 0x04)

    @property
    def cell_uv(self) -> bool:
        return bool(self.status[0] & 0x02)

    @property
    def module_ov(self) -> bool:
        return bool(self.status[0] & 0x01)

    # Status2 / Status3
    @property
    def discharge_fet(self) -> bool:
        return bool(self.status[1] & 0x04)

    @property
    def charge_fet(self) -> bool:
        return bool(self.status[1] & 0x02)

    @property
    def charging(self) -> bool:
        return bool(self.status[2] & 0x80)

    @property
    def discharging(self) -> bool:
        return bool(self.status[2] & 0x40)

    @property
    def fully_charged(self) -> bool:
        return bool(self.status[2] & 0x08)

    @property
    def faulty_cells(self) -> tuple[int, ...]:
        """1-based cell numbers flagged in Status4/5."""
        bits = self.status[3] | self.status[4] << 8
        return tuple(i + 1 for i in range(16) if bits >> i & 1)


@dataclass(frozen=True)
class AlarmInfo:
    command: int
    modules: tuple[ModuleAlarms, ...]
    infoflag: int = 0x10


def _state_code(name: str) -> int:
    try:
        return STATE_CODES[name]
    except KeyError:
        raise ValueError(f"unknown state {name!r}; known: {', '.join(STATE_CODES)}") from None


def _state_name(code: int, raw: bytes) -> str:
    try:
        return STATE_NAMES[code]
    except KeyError:
        raise PylonFrameError(f"0x44: state code {code:02X} is not 00/01/02/F0", raw) from None


def encode_alarm_info(a: AlarmInfo) -> bytes:
    out = bytearray([a.infoflag, a.command])
    for m in a.modules:
        out.append(len(m.cell_states))
        out += bytes(_state_code(s) for s in m.cell_states)
        out.append(len(m.temp_states))
        out += bytes(_state_code(s) for s in m.temp_states)
        out += bytes(_state_code(s) for s in
                     (m.charge_current_state, m.voltage_state, m.discharge_current_state))
        out += bytes(m.status)
    return bytes(out)


def decode_alarm_info(info: bytes, *, all_packs: bool = False) -> AlarmInfo:
    r = _Reader(info, "0x44 alarm info")
    flag = r.u8("INFOFLAG")
    command = r.u8("command value")
    modules = []
    for _ in range(command if all_packs else 1):
        m = r.u8("cell count")
        cells = tuple(_state_name(c, info) for c in r.take(m, "cell states"))
        n = r.u8("temperature count")
        temps = tuple(_state_name(c, info) for c in r.take(n, "temperature states"))
        cc, mv, dc = (_state_name(c, info) for c in r.take(3, "current/voltage states"))
        status = tuple(r.take(5, "Status1-5"))
        modules.append(ModuleAlarms(cells, temps, cc, mv, dc, status))  # type: ignore[arg-type]
    r.done()
    return AlarmInfo(command, tuple(modules), flag)


# --- 0x47 system parameters ----------------------------------------------------------------
@dataclass(frozen=True)
class SystemParameters:
    """0x47: voltages in mV, temperatures in 0.1 °C, currents in 0.1 A (both positive)."""

    cell_ov_alarm_mv: int
    cell_uv_alarm_mv: int
    cell_uv_prot_mv: int
    chg_ot_prot_dc: int
    chg_ut_prot_dc: int
    charge_current_limit_da: int
    pack_ov_alarm_mv: int
    pack_uv_alarm_mv: int
    pack_uv_prot_mv: int
    dsg_ot_prot_dc: int
    dsg_ut_prot_dc: int
    discharge_current_limit_da: int
    infoflag: int = 0x10


_SYSPARAM_TEMPS = frozenset({3, 4, 9, 10})


def encode_system_parameters(p: SystemParameters) -> bytes:
    values = [
        p.cell_ov_alarm_mv, p.cell_uv_alarm_mv, p.cell_uv_prot_mv, p.chg_ot_prot_dc,
        p.chg_ut_prot_dc, p.charge_current_limit_da, p.pack_ov_alarm_mv, p.pack_uv_alarm_mv,
        p.pack_uv_prot_mv, p.dsg_ot_prot_dc, p.dsg_ut_prot_dc, p.discharge_current_limit_da,
    ]
    out = bytearray([p.infoflag])
    for i, v in enumerate(values):
        out += _u16(v + KELVIN_OFFSET_DK if i in _SYSPARAM_TEMPS else v, f"0x47 field {i}")
    return bytes(out)


#: 0x47 fields that are currents (charge, discharge limit): signed on some packs' wire.
_SYSPARAM_CURRENTS = {5: "charge current limit", 11: "discharge current limit"}


def decode_system_parameters(info: bytes) -> SystemParameters:
    """Lenient where packs differ (docs/protocols.md): the discharge current limit comes
    positive (SPEC) or negative (a Pylontech US2000: -10.0 A); its magnitude is the limit.
    A negative charge limit has no reading and is an error naming it."""
    r = _Reader(info, "0x47 system parameters")
    flag = r.u8("INFOFLAG")
    vals = [r.s16(f"field {i + 1}") if i in _SYSPARAM_CURRENTS else r.u16(f"field {i + 1}")
            for i in range(12)]
    r.done()
    for i in _SYSPARAM_TEMPS:
        vals[i] -= KELVIN_OFFSET_DK
    if vals[5] < 0:
        raise PylonFrameError(f"0x47: {_SYSPARAM_CURRENTS[5]} {vals[5] / 10:g} A is negative",
                              info)
    vals[11] = abs(vals[11])
    return SystemParameters(*vals, infoflag=flag)  # type: ignore[misc]  # 12 values, 12 fields


# --- 0x92 charge/discharge management ------------------------------------------------------
@dataclass(frozen=True)
class ManagementInfo:
    command: int
    charge_voltage_mv: int
    discharge_voltage_mv: int
    charge_current_da: int
    discharge_current_da: int      # negative on the wire and here
    charge_enable: bool
    discharge_enable: bool
    force_charge_1: bool
    force_charge_2: bool
    full_charge_request: bool

    @property
    def status(self) -> int:
        return (self.charge_enable << 7 | self.discharge_enable << 6 | self.force_charge_1 << 5
                | self.force_charge_2 << 4 | self.full_charge_request << 3)


def encode_management_info(m: ManagementInfo) -> bytes:
    return (bytes([m.command]) + _u16(m.charge_voltage_mv, "charge voltage")
            + _u16(m.discharge_voltage_mv, "discharge voltage")
            + _s16(m.charge_current_da, "charge current")
            + _s16(m.discharge_current_da, "discharge current") + bytes([m.status]))


def decode_management_info(info: bytes) -> ManagementInfo:
    r = _Reader(info, "0x92 management info")
    cmd = r.u8("command value")
    cv, dv = r.u16("charge voltage"), r.u16("discharge voltage")
    ci, di = r.s16("charge current"), r.s16("discharge current")
    st = r.u8("status")
    r.done()
    return ManagementInfo(cmd, cv, dv, ci, di, bool(st & 0x80), bool(st & 0x40),
                          bool(st & 0x20), bool(st & 0x10), bool(st & 0x08))


# --- 0x93 serial number --------------------------------------------------------------------
@dataclass(frozen=True)
class SerialNumberInfo:
    command: int
    serial: str


def encode_serial_number(s: SerialNumberInfo) -> bytes:
    text = s.serial.encode("ascii")
    if len(text) > 16:
        raise ValueError(f"serial {s.serial!r} is longer than 16 characters")
    return bytes([s.command]) + text.ljust(16, b"\0")


def decode_serial_number(info: bytes) -> SerialNumberInfo:
    r = _Reader(info, "0x93 serial number")
    cmd = r.u8("command value")
    text = r.take(16, "serial number")
    r.done()
    return SerialNumberInfo(cmd, _ascii(text, info))


# --- requests as the pack sees them --------------------------------------------------------
@dataclass(frozen=True)
class Request:
    """A request that passed every check: ``target`` is the INFO address (None: absent)."""

    adr: int
    cid2: int
    target: int | None
    raw: bytes = field(repr=False, default=b"")


class RequestRejected(Exception):
    """A request the pack answers with an RTN other than 00 (from ``adr``)."""

    def __init__(self, adr: int, rtn: int, reason: str) -> None:
        super().__init__(f"RTN {rtn:02X} ({RTN_NAMES.get(rtn, '?')}): {reason}")
        self.adr, self.rtn, self.reason = adr, rtn, reason


def parse_request(body: bytes, accepts: Callable[[int, int], bool]) -> Request | None:
    """Check one request body (between ``~`` and CR) in SPEC §6's order.

    ``accepts(adr, cid2) -> bool`` says whether this pack answers that header address
    (own ADR; ADR 0 for 0x4F/0x51). Returns None for a frame to ignore (too short, ADR not
    hex, not ours); raises :class:`RequestRejected` for one to answer with an RTN.
    """
    if len(body) < MIN_BODY_CHARS:
        return None
    adr_txt, cid2_txt = body[2:4], body[6:8]
    if not _is_hex(adr_txt):
        return None
    adr = int(adr_txt, 16)
    cid2_guess = int(cid2_txt, 16) if _is_hex(cid2_txt) else -1
    if not accepts(adr, cid2_guess):
        return None
    chk = body[-4:]
    if not _is_hex(chk) or int(chk, 16) != checksum(body[:-4]):
        raise RequestRejected(adr, RTN_CHKSUM, "CHKSUM does not match")
    length_txt = body[8:12]
    if not _is_hex(length_txt) or not length_ok(int(length_txt, 16)):
        raise RequestRejected(adr, RTN_LCHKSUM, "LENGTH check nibble does not match")
    if not _is_hex(body[0:2]) or int(body[0:2], 16) != VER:
        raise RequestRejected(adr, RTN_VER, f"VER {body[0:2]!r} is not 20")
    cid1_txt = body[4:6]
    if not _is_hex(cid1_txt) or int(cid1_txt, 16) != CID1 or cid2_guess not in COMMANDS:
        raise RequestRejected(adr, RTN_CID2, f"CID1/CID2 {cid1_txt!r}/{cid2_txt!r} unknown")
    info = body[HEADER_CHARS:-4]
    if int(length_txt, 16) & 0xFFF != len(info) or len(info) % 2 or not _is_hex(info):
        raise RequestRejected(adr, RTN_FORMAT, f"INFO {info!r} does not match LENGTH or is not hex")
    target: int | None = None
    if cid2_guess in ADDRESSED_COMMANDS and info:
        target = int(info[0:2], 16)  # leniency: bytes after the first are ignored
        if target == ALL_PACKS and cid2_guess not in STACK_COMMANDS:
            raise RequestRejected(adr, RTN_DATA, "FF is only valid for 0x42 and 0x44")
        if target not in (ALL_PACKS, adr):
            raise RequestRejected(adr, RTN_DATA, f"INFO address {target:02X} is not ADR {adr:02X}")
    return Request(adr, cid2_guess, target, body)
