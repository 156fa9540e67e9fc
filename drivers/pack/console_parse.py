"""Typed parsers for the console's replies (formats in docs/protocols.md).

Each parser takes the body lines (between ``@`` and the completion line) and returns a
dataclass, or raises :class:`ConsoleError` naming the line it could not read.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime

from drivers.pack.errors import ConsoleError

TIME_FORMAT = "%Y-%m-%d %H:%M:%S"
OK_LINE = "Command completed successfully"


@dataclass(frozen=True)
class Reply:
    """One command's reply: the echo, the body lines, whether it completed, the prompt."""

    command: str
    echo: str
    body: tuple[str, ...]
    ok: bool
    prompt: str
    raw: bytes = field(repr=False, default=b"")


def split_reply(command: str, raw: bytes, prompt: bytes) -> Reply:
    text = raw[: len(raw) - len(prompt)].decode("ascii", "replace")
    lines = [ln.rstrip("\r") for ln in text.split("\n")]
    while lines and not lines[-1]:
        lines.pop()
    if not lines and not command.strip():  # empty command: echo and prompt only
        return Reply(command, "", (), True, prompt.decode("ascii", "replace"), raw)
    if not lines:
        raise ConsoleError(f"empty reply to {command!r}", raw)
    echo = lines[0]
    if len(lines) == 1:  # empty command: echo and prompt only
        return Reply(command, echo, (), True, prompt.decode("ascii", "replace"), raw)
    try:
        at = lines.index("@")
    except ValueError:
        raise ConsoleError(f"reply to {command!r} has no '@' line", raw) from None
    rest = lines[at + 1:]
    if not rest or rest[-1] != "$$":
        raise ConsoleError(f"reply to {command!r} does not end with '$$'", raw)
    rest = rest[:-1]
    ok = bool(rest) and rest[-1] == OK_LINE
    body = tuple(rest[:-1] if ok else rest)
    return Reply(command, echo, body, ok, prompt.decode("ascii", "replace"), raw)


def _kv(lines: tuple[str, ...], what: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for ln in lines:
        if ":" not in ln:
            raise ConsoleError(f"{what}: line {ln!r} is not 'key : value'")
        k, v = ln.split(":", 1)
        out[k.strip()] = v.strip()
    return out


def _int(text: str, what: str, unit: str = "") -> int:
    t = text.strip()
    if unit and t.endswith(unit):
        t = t[: -len(unit)].strip()
    try:
        return int(t)
    except ValueError:
        raise ConsoleError(f"{what}: {text!r} is not an integer{' ' + unit if unit else ''}") from None


def _time(text: str, what: str) -> datetime:
    try:
        return datetime.strptime(text.strip(), TIME_FORMAT).replace(tzinfo=UTC)
    except ValueError:
        raise ConsoleError(f"{what}: {text!r} is not YYYY-MM-DD hh:mm:ss") from None


def _need(d: dict[str, str], key: str, what: str) -> str:
    try:
        return d[key]
    except KeyError:
        raise ConsoleError(f"{what}: no '{key}' line") from None


# -- info --------------------------------------------------------------------------------
@dataclass(frozen=True)
class ConsoleInfo:
    address: int
    manufacturer: str
    device_name: str
    specification: str
    cell_number: int
    board_version: str
    boot_version: str
    main_version: str
    barcode: str
    dip: int
    protocol: str
    fields: dict[str, str]


def parse_info(body: tuple[str, ...]) -> ConsoleInfo:
    d = _kv(body, "info")
    dip_bits = _need(d, "DIP setting", "info").split()[0]
    if not re.fullmatch(r"[01]{4}", dip_bits):
        raise ConsoleError(f"info: DIP setting {d['DIP setting']!r} is not 4 bits")
    return ConsoleInfo(
        address=_int(_need(d, "Device address", "info"), "info address"),
        manufacturer=_need(d, "Manufacturer", "info"),
        device_name=_need(d, "Device name", "info"),
        specification=_need(d, "Specification", "info"),
        cell_number=_int(_need(d, "Cell number", "info"), "info cell number"),
        board_version=_need(d, "Board version", "info"),
        boot_version=_need(d, "Boot version", "info"),
        main_version=_need(d, "Main Soft version", "info"),
        barcode=_need(d, "Barcode", "info"),
        dip=sum(1 << i for i, c in enumerate(dip_bits) if c == "1"),
        protocol=_need(d, "Protocol", "info"),
        fields=d,
    )


# -- pwr ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class PwrRow:
    index: int
    voltage_mv: int
    current_ma: int
    temp_mc: int
    temp_low_mc: int
    temp_high_mc: int
    cell_low_mv: int
    cell_high_mv: int
    base_state: str
    volt_state: str
    curr_state: str
    temp_state: str
    soc_pct: int
    time: datetime
    barcode: str


def parse_pwr(body: tuple[str, ...]) -> list[PwrRow]:
    if not body or not body[0].startswith("Power"):
        raise ConsoleError(f"pwr: expected a 'Power' header, got {body[:1]!r}")
    rows = []
    for ln in body[1:]:
        w = ln.split()
        if len(w) >= 2 and w[1] == "Absent":
            continue
        if len(w) != 16:
            raise ConsoleError(f"pwr: row {ln!r} has {len(w)} fields, expected 16")
        n = [_int(x, f"pwr row {w[0]} field {i}") for i, x in enumerate(w[:8])]
        rows.append(PwrRow(
            n[0], n[1], n[2], n[3], n[4], n[5], n[6], n[7], w[8], w[9], w[10], w[11],
            _int(w[12], "pwr coulomb", "%"), _time(f"{w[13]} {w[14]}", "pwr time"), w[15]))
    return rows


@dataclass(frozen=True)
class PwrDetail:
    voltage_mv: int
    current_ma: int
    temp_mc: int
    soc_pct: int
    soh_pct: int
    base_state: str
    charge_fet: bool
    discharge_fet: bool
    heater_on: bool
    test_mode: bool
    alarms: frozenset[str]
    protections: frozenset[str]
    fields: dict[str, str]


def _onoff(text: str, what: str) -> bool:
    if text not in ("On", "Off"):
        raise ConsoleError(f"{what}: {text!r} is not On/Off")
    return text == "On"


def _names(text: str) -> frozenset[str]:
    return frozenset() if text == "None" else frozenset(text.split(","))


def parse_pwr_detail(body: tuple[str, ...]) -> PwrDetail:
    d = _kv(body, "pwr N")
    g = lambda k: _need(d, k, "pwr N")  # noqa: E731
    return PwrDetail(
        voltage_mv=_int(g("Voltage"), "pwr N voltage", "mV"),
        current_ma=_int(g("Current"), "pwr N current", "mA"),
        temp_mc=_int(g("Temperature"), "pwr N temperature", "mC"),
        soc_pct=_int(g("Coulomb"), "pwr N coulomb", "%"),
        soh_pct=_int(g("SOH"), "pwr N SOH", "%"),
        base_state=g("Base state"),
        charge_fet=_onoff(g("Charge MOSFET"), "pwr N charge MOSFET"),
        discharge_fet=_onoff(g("Discharge MOSFET"), "pwr N discharge MOSFET"),
        heater_on=_onoff(g("Heater"), "pwr N heater"),
        test_mode=_onoff(g("Test mode"), "pwr N test mode"),
        alarms=_names(g("Alarms")),
        protections=_names(g("Protections")),
        fields=d,
    )


# -- bat ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class BatRow:
    cell: int
    voltage_mv: int
    current_ma: int
    temp_mc: int
    base_state: str
    volt_state: str
    soc_pct: int
    balancing: bool
    capacity_mah: int


def parse_bat(body: tuple[str, ...]) -> list[BatRow]:
    if not body or not body[0].startswith("Battery"):
        raise ConsoleError(f"bat: expected a 'Battery' header, got {body[:1]!r}")
    rows = []
    for ln in body[1:]:
        w = ln.split()
        if len(w) != 9 or w[7] not in ("Y", "N"):
            raise ConsoleError(f"bat: row {ln!r} is not 9 fields with BAL Y/N")
        rows.append(BatRow(
            _int(w[0], "bat cell"), _int(w[1], "bat volt"), _int(w[2], "bat curr"),
            _int(w[3], "bat tempr"), w[4], w[5], _int(w[6], "bat coulomb", "%"), w[7] == "Y",
            _int(w[8], "bat capacity", "mAh")))
    return rows


# -- soh, stat, log, time, crc -----------------------------------------------------------
@dataclass(frozen=True)
class Soh:
    soh_pct: int
    full_mah: int
    design_mah: int


def parse_soh(body: tuple[str, ...]) -> Soh:
    d = _kv(body, "soh")
    return Soh(_int(_need(d, "SOH", "soh"), "soh", "%"),
               _int(_need(d, "Full capacity", "soh"), "soh full", "mAh"),
               _int(_need(d, "Design capacity", "soh"), "soh design", "mAh"))


@dataclass(frozen=True)
class Stat:
    cycles: int
    cumulative_ah: float
    event_counts: dict[str, int]


def parse_stat(body: tuple[str, ...]) -> Stat:
    d = _kv(body, "stat")
    cycles = _int(d.pop("Cycle count", ""), "stat cycle count")
    try:
        ah = float(d.pop("Cumulative Ah"))
    except (KeyError, ValueError):
        raise ConsoleError("stat: no numeric 'Cumulative Ah' line") from None
    counts = {k: _int(v, f"stat count of {k}") for k, v in d.items()}
    return Stat(cycles, ah, counts)


@dataclass(frozen=True)
class LogEntry:
    index: int
    time: datetime
    code: str
    pack_mv: int
    current_ma: int
    cell_high_mv: int
    cell_low_mv: int
    temp_mc: int


def parse_log(body: tuple[str, ...]) -> list[LogEntry]:
    if not body or not body[0].startswith("Index"):
        raise ConsoleError(f"log: expected an 'Index' header, got {body[:1]!r}")
    out = []
    for ln in body[1:]:
        w = ln.split()
        if len(w) != 9:
            raise ConsoleError(f"log: row {ln!r} has {len(w)} fields, expected 9")
        out.append(LogEntry(
            _int(w[0], "log index"), _time(f"{w[1]} {w[2]}", "log time"), w[3],
            *(_int(x, f"log {w[0]} field") for x in w[4:])))
    return out


def parse_time(body: tuple[str, ...]) -> datetime:
    if len(body) != 1:
        raise ConsoleError(f"time: expected one line, got {body!r}")
    return _time(body[0], "time")


_CRC = re.compile(r"^stored ([0-9A-Fa-f]{8}) active ([0-9A-Fa-f]{8})$")


def parse_crc(body: tuple[str, ...]) -> tuple[int, int]:
    m = _CRC.match(body[0].strip()) if len(body) == 1 else None
    if not m:
        raise ConsoleError(f"crc: expected 'stored XXXXXXXX active YYYYYYYY', got {body!r}")
    return int(m.group(1), 16), int(m.group(2), 16)
