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
    """``stat`` by label (SPEC §7): a firmware with other labels still parses; each value is
    kept as printed, and the counts that are whole numbers as integers (no unit invented)."""

    fields: dict[str, str]

    @property
    def counters(self) -> dict[str, int]:
        """Every ``... Times`` label whose value is a whole number."""
        return {k: int(v) for k, v in self.fields.items()
                if k.endswith(" Times") and re.fullmatch(r"-?\d+", v)}

    @property
    def cycles(self) -> int:
        return int(self.fields["CYCLE Times"])   # parse_stat checked it is a whole number

    @property
    def cumulative_ah(self) -> float | None:
        """``Dsg Cap`` in Ah when it is printed with that unit, else None."""
        m = re.fullmatch(r"(-?\d+(?:\.\d+)?)\s*Ah", self.fields.get("Dsg Cap", ""))
        return float(m.group(1)) if m else None

    @property
    def event_counts(self) -> dict[str, int]:
        """The counters without the cycle count."""
        return {k: v for k, v in self.counters.items() if k != "CYCLE Times"}


def parse_stat(body: tuple[str, ...]) -> Stat:
    d = _kv(body, "stat")
    if "CYCLE Times" not in d:
        raise ConsoleError("stat: no 'CYCLE Times' line")
    _int(d["CYCLE Times"], "stat CYCLE Times")
    return Stat(d)


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
    info: str = "-"
    extra: dict[str, str] = field(default_factory=dict)   # columns this parser does not know

    @property
    def pack_v(self) -> float:
        """The pack voltage the BMS logged, V (for plans, which speak SI)."""
        return self.pack_mv / 1000.0

    @property
    def cell_low_v(self) -> float:
        """The lowest cell the BMS logged, V."""
        return self.cell_low_mv / 1000.0


@dataclass(frozen=True)
class LogPage:
    entries: list[LogEntry]
    page: int
    pages: int


#: The log's columns by label → LogEntry field (a Time column takes two words).
_LOG_COLUMNS = {"Index": "index", "Time": "time", "Code": "code", "Info": "info",
                "Volt": "pack_mv", "Curr": "current_ma", "Vhigh": "cell_high_mv",
                "Vlow": "cell_low_mv", "Tempr": "temp_mc"}
_PAGE = re.compile(r"^Page (\d+)/(\d+)$")


def parse_log_page(body: tuple[str, ...]) -> LogPage:
    """One page of ``log``, mapped by column label: unknown columns are kept as text."""
    if not body or not body[0].startswith("Index"):
        raise ConsoleError(f"log: expected an 'Index' header, got {body[:1]!r}")
    labels = body[0].split()
    for need in ("Index", "Time", "Code"):
        if need not in labels:
            raise ConsoleError(f"log: no '{need}' column in {body[0]!r}")
    rows, page, pages = body[1:], 1, 1
    if rows and _PAGE.match(rows[-1].strip()):
        m = _PAGE.match(rows[-1].strip())
        assert m is not None
        page, pages = int(m.group(1)), int(m.group(2))
        rows = rows[:-1]
    out = []
    for ln in rows:
        w = ln.split()
        if len(w) != len(labels) + 1:   # Time is a date and a time
            raise ConsoleError(f"log: row {ln!r} has {len(w)} fields, expected {len(labels) + 1}")
        values: dict[str, str] = {}
        i = 0
        for label in labels:
            if label == "Time":
                values[label] = f"{w[i]} {w[i + 1]}"
                i += 2
            else:
                values[label] = w[i]
                i += 1
        known: dict[str, object] = {}
        for label, name in _LOG_COLUMNS.items():
            if label not in values:
                continue
            v = values[label]
            known[name] = (_time(v, "log time") if name == "time" else v if name in ("code", "info")
                           else _int(v, f"log {label}"))
        for name in ("pack_mv", "current_ma", "cell_high_mv", "cell_low_mv", "temp_mc"):
            known.setdefault(name, 0)
        extra = {k: v for k, v in values.items() if k not in _LOG_COLUMNS}
        out.append(LogEntry(extra=extra, **known))  # type: ignore[arg-type]
    return LogPage(out, page, pages)


def parse_log(body: tuple[str, ...]) -> list[LogEntry]:
    return parse_log_page(body).entries


@dataclass(frozen=True)
class SohCell:
    cell: int
    voltage_mv: int
    count: int
    status: str


def parse_soh_cells(body: tuple[str, ...]) -> list[SohCell]:
    """``soh N``: per cell voltage, SOHCount, SOHStatus, by column label."""
    if not body or not body[0].startswith("Battery"):
        raise ConsoleError(f"soh N: expected a 'Battery' header, got {body[:1]!r}")
    labels = body[0].split()
    for need in ("Voltage", "SOHCount", "SOHStatus"):
        if need not in labels:
            raise ConsoleError(f"soh N: no '{need}' column in {body[0]!r}")
    out = []
    for ln in body[1:]:
        w = ln.split()
        if len(w) != len(labels):
            raise ConsoleError(f"soh N: row {ln!r} has {len(w)} fields, expected {len(labels)}")
        v = dict(zip(labels, w, strict=True))
        out.append(SohCell(_int(v["Battery"], "soh N cell"), _int(v["Voltage"], "soh N voltage"),
                           _int(v["SOHCount"], "soh N count"), v["SOHStatus"]))
    return out


@dataclass(frozen=True)
class DataEvent:
    fields: dict[str, str]
    cells_mv: tuple[int, ...]

    @property
    def code(self) -> str | None:
        return self.fields.get("Code")


def parse_data_event(body: tuple[str, ...]) -> DataEvent:
    """``data event``: ``key : value`` lines, then a ``Cell Volt`` table (by label)."""
    if body == ("No event",):
        return DataEvent({}, ())
    head = next((i for i, ln in enumerate(body) if ln.split()[:1] == ["Cell"]), len(body))
    d = _kv(body[:head], "data event")
    cells = []
    for ln in body[head + 1:]:
        w = ln.split()
        if len(w) != 2:
            raise ConsoleError(f"data event: cell row {ln!r} is not 'cell volt'")
        cells.append(_int(w[1], "data event cell"))
    return DataEvent(d, tuple(cells))


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
