"""The station file: which instrument plays each role, at which address, with which serial
number and calibration date; the pack's ports; the fixture's wiring; the safe envelope.

TOML validated with pydantic (unknown keys are errors). Every error names the file and the
dotted key, so a technician can fix the file without reading code.
"""

from __future__ import annotations

import math
import tomllib
from datetime import date
from pathlib import Path
from typing import Any, Final, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictFloat,
    StrictInt,
    StrictStr,
    ValidationError,
    model_validator,
)

from drivers.instruments.envelope import Envelope
from drivers.instruments.registry import DIALECTS, get_dialect
from drivers.instruments.roles import LED_NAMES, ROLE_KEYS
from drivers.instruments.transport import SERIAL_ADDRESS, VISA_RESOURCE

SCHEMA_VERSION: Final = 1
#: In a simulated station file, the address that means "the in-process bench's instrument".
SIM_ADDRESS = "sim"
OUTPUT_NAMES = ("power", "sw", "breaker", "in1")
#: Relays a fixture may have besides: the reference pack's link cable to the DUT's Link
#: Port 0 or Port 1 (SPEC §1, manual 5.3.4), so EOL checks both link ports.
OPTIONAL_OUTPUTS = ("link_port0", "link_port1")
INPUT_NAMES = ("no2", "no3", "no4")   # required; a cert bench may add "smoke" (its smoke/gas detector)


class StationFileError(ValueError):
    """A station file that cannot be used; the message names the file and the key."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class BenchConfig(_Strict):
    simulated: bool = False
    model: str = "v5"                   # simulated only: the unit's model
    unit_file: str | None = None        # simulated only: a unit description file
    #: simulated only: changes (``sim.unit.with_changes`` keys) to the unit the bench builds
    #: from its model when no unit is given (the cert bench's as-built cells, docs/cert-plan.md)
    unit_changes: dict[str, Any] = Field(default_factory=dict)
    description: str = ""
    #: simulated only: the virtual clock follows the wall clock at this many station seconds
    #: per wall second (unset: as fast as the host runs). A paced bench lets a person (or a
    #: browser test) act while a run goes on: Stop lands mid-run.
    pace: float | None = Field(None, gt=0, le=1000)
    #: a simulated bench served by another process (``station sim serve``): opened as
    #: hardware (real addresses, wall clock) but its records and documents say SIMULATED
    served: bool = False

    @property
    def is_simulation(self) -> bool:
        """Whether what the station drives is a simulation (in-process or served): the one
        thing its records and documents must say; learnt from the file, never the wire."""
        return self.simulated or self.served


class CalibrationData(_Strict):
    """What the instrument's calibration certificate states, by measurement function
    (``dc_voltage``, ``temperature_rtd``, ``current`` ... as in ``docs/instruments.md``):
    ``offsets`` are corrections the driver applies to every reading of that function (SI),
    ``uncertainty`` the certificate's standard uncertainty (k = 1, SI), which enters the
    measurement's budget in place of nothing (the datasheet accuracy enters always)."""

    certificate: str = ""
    offsets: dict[str, float] = Field(default_factory=dict)
    uncertainty: dict[str, float] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _finite(self) -> CalibrationData:
        for group in ("offsets", "uncertainty"):
            for k, v in getattr(self, group).items():
                if not math.isfinite(v):
                    raise ValueError(f"{group}.{k}: {v!r} is not a finite number")
        if any(v < 0 for v in self.uncertainty.values()):
            raise ValueError("uncertainty: standard uncertainties are >= 0")
        return self


class InstrumentConfig(_Strict):
    dialect: str
    address: str = Field(min_length=1)
    serial: str = Field(min_length=1)
    calibration_due: date
    timeout_ms: int = Field(2000, ge=50, le=60_000)
    baud: int = Field(57600, gt=0)      # serial dialects only
    options: dict[str, Any] = Field(default_factory=dict)
    calibration: CalibrationData = Field(default_factory=CalibrationData)


class SerialPortConfig(_Strict):
    port: str = Field(min_length=1)
    baud: int = Field(gt=0)
    # how long an answer may take on the wire (default: the driver's, RS485 0.5 s, console
    # 2 s); longer for a slow USB adapter or a bench served on a busy host
    timeout_s: float | None = Field(None, gt=0, le=30)


#: python-can ``Bus`` arguments the station file sets by their own keys (not in ``options``).
CAN_KEYS = ("interface", "channel", "bitrate", "host", "port")


class CanConfig(_Strict):
    interface: str = Field(min_length=1)     # python-can interface: socketcan, pcan, virtual, socketcand
    channel: str = Field(min_length=1)
    bitrate: int = 500_000
    host: str | None = None                  # socketcand only
    port: int | None = None                  # socketcand only
    #: further keyword arguments for the interface, passed to ``can.Bus`` as they are
    #: (``fd``, ``data_bitrate``, ``receive_own_messages``, ``app_name``, ...): scalars only
    options: dict[str, StrictBool | StrictInt | StrictFloat | StrictStr] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _own_keys(self) -> CanConfig:
        clash = sorted(set(self.options) & set(CAN_KEYS))
        if clash:
            raise ValueError(f"options: {', '.join(clash)} have their own keys in [pack.can]")
        return self


class PackPortsConfig(_Strict):
    rs485: SerialPortConfig
    rs485_address: int = Field(0x02, ge=0, le=0xFF)
    console: SerialPortConfig
    can: CanConfig


class EnvelopeConfig(_Strict):
    max_voltage_v: float = Field(gt=0, le=1000)
    max_current_a: float = Field(gt=0, le=5000)
    max_power_w: float = Field(gt=0, le=1e6)
    chamber_min_c: float = Field(ge=-100, le=200)
    chamber_max_c: float = Field(ge=-100, le=200)
    short_steps: list[str] = Field(default_factory=list)
    #: lowest terminal voltage a load sees (16 LFP cells at 2.5 V): CP draws P / this
    load_min_voltage_v: float = Field(40.0, gt=0, le=1000)
    #: the safety tester's insulation test voltage and ground-bond current (SPEC §8: 500 V, 10 A)
    max_insulation_v: float = Field(500.0, gt=0, le=10_000)
    max_ground_bond_a: float = Field(10.0, gt=0, le=100)

    @model_validator(mode="after")
    def _range(self) -> EnvelopeConfig:
        if not self.chamber_min_c < self.chamber_max_c:
            raise ValueError("chamber_min_c must be below chamber_max_c")
        if self.load_min_voltage_v > self.max_voltage_v:
            raise ValueError("load_min_voltage_v must not be above max_voltage_v")
        return self


class FixtureChannels(_Strict):
    pack_voltage: int = Field(ge=101, le=399)
    ambient_tc: int = Field(ge=101, le=399)
    #: a 4-wire PT100 for the ambient reference (DAQM901A: sense on channel + 10); when
    #: set, it is the reference and the thermocouple is not used
    ambient_rtd: int | None = Field(None, ge=101, le=399)
    tc_type: Literal["J", "K", "T", "E", "R", "S", "B", "N"] = "K"
    #: a certification bench's thermocouples on a cell group and on the case (same tc_type)
    cell_tc: int | None = Field(None, ge=101, le=399)
    case_tc: int | None = Field(None, ge=101, le=399)
    digital_in: int = Field(ge=101, le=399)
    digital_out: int = Field(ge=101, le=399)


class ShuntConfig(_Strict):
    """A 4-terminal current shunt in the pack's negative lead, read by the DAQ: the current
    reference for the BMS's current channel (the sources' own read-backs, specified against
    their full range, are ten times too coarse for ±(1 % + 0.3 A)). ``ohm`` is the value its
    certificate states; the voltage is positive while the pack charges."""

    channel: int = Field(ge=101, le=399)
    ohm: float = Field(gt=0, le=0.1)


class DeadmanConfig(_Strict):
    """The fixture's watchdog relay (a retriggerable timer relay in series with the POWER
    relay coil and the load's enable): it holds them only while the station toggles
    ``output`` at least every ``timeout_s`` (the relay's set time), so a dead station
    leaves no energy flowing."""

    output: int = Field(ge=0, le=7)                    # DAQ digital-output bit of the heartbeat
    timeout_s: float = Field(2.0, ge=0.5, le=3600)   # a service bench soaks for a day


class FixtureConfig(_Strict):
    """The fixture's wiring to the DAQ: relay outputs, contact inputs, channels."""

    #: cell_taps, reversal: the cert bench's prepared-sample taps and polarity reversal;
    #: short_circuit: its short-circuit contactor's fire line (a one-shot, docs/station-file.md)
    outputs: dict[Literal["power", "sw", "breaker", "in1", "link_port0", "link_port1", "cell_taps",
                          "reversal", "short_circuit"], int]
    #: smoke: the cert bench's smoke/gas detector; sc_interlock: the short-circuit fixture's
    #: guard (closed = shut: the contactor may fire)
    inputs: dict[Literal["no2", "no3", "no4", "smoke", "sc_interlock"], int]
    channels: FixtureChannels
    fibres: dict[Literal["RUN", "ALM", "SOC1", "SOC2", "SOC3", "SOC4"], int] = Field(
        default_factory=lambda: {n: i + 1 for i, n in enumerate(LED_NAMES)}
    )
    #: None: no watchdog relay fitted (a killed station then leaves the fixture as it was)
    deadman: DeadmanConfig | None = None
    #: None: no shunt; the BMS current is then judged against the sources' read-backs
    shunt: ShuntConfig | None = None
    #: What switches the fixture relays: ``digital`` (``outputs`` are bits of the DAQ's
    #: digital output ``channels.digital_out``) or ``card`` (``outputs`` are channels of a
    #: relay card in the DAQ, e.g. a DAQM903A actuator in slot 2: ``power = 201``)
    relays: Literal["digital", "card"] = "digital"

    @model_validator(mode="after")
    def _bits(self) -> FixtureConfig:
        for group, names in (("outputs", OUTPUT_NAMES), ("inputs", INPUT_NAMES)):
            bits: dict[str, int] = getattr(self, group)
            missing = [n for n in names if n not in bits]
            if missing:
                raise ValueError(f"{group}: missing {missing}")
            if group == "outputs" and self.relays == "card":
                if any(not 101 <= b <= 399 for b in bits.values()):
                    raise ValueError("outputs: with relays = 'card' each output is a relay-card "
                                     "channel (slot × 100 + channel, 101..399)")
            elif any(not 0 <= b <= 7 for b in bits.values()):
                raise ValueError(f"{group}: bits must be 0..7")
            if len(set(bits.values())) != len(bits):
                raise ValueError(f"{group}: two names share one bit")
        missing = [n for n in LED_NAMES if n not in self.fibres]
        if missing:
            raise ValueError(f"fibres: missing {missing}")
        if (self.deadman is not None and self.relays == "digital"
                and self.deadman.output in self.outputs.values()):
            raise ValueError(f"deadman.output: bit {self.deadman.output} is already a relay output")
        return self


class MesConfig(_Strict):
    """The line's MES: an MQTT broker that gets every run as IPC-CFX ``UnitsTested`` and the
    station's state events, through the durable outbox (``fixtures.mes``, docs/line.md)."""

    broker: str = Field("127.0.0.1:1883", pattern=r"^[^\s:]+:\d{1,5}$")   # host:port
    topic: str = Field("vstation", min_length=1, pattern=r"^[^#+\s]+$")   # topic prefix
    timeout_s: float = Field(2.0, gt=0, le=30)


class GoldenUnit(_Strict):
    """A known unit for the daily check: its unit description (simulated) and its serial."""

    serial: str = Field(min_length=16, max_length=16)
    unit_file: str | None = None        # simulated bench: the unit description (relative: here)


class GateConfig(_Strict):
    """Production runs wait for today's golden-unit check (``stations.gate``): ``plan`` on
    the known-good unit must PASS and on the known-bad one must FAIL."""

    plan: str = "eol"
    select: list[str] = Field(default_factory=list)     # pytest selection: a short plan
    good: GoldenUnit
    bad: GoldenUnit
    bad_must_fail: str | None = None    # the measurement the bad unit must fail, if fixed


class SlotConfig(_Strict):
    """One test slot: its own fixture and instruments (a role not named here is the
    station's: shared when listed in ``shared``), its own pack ports."""

    id: str = Field(min_length=1, max_length=16, pattern=r"^[A-Za-z0-9_-]+$")
    fixture: FixtureConfig | None = None
    instruments: dict[str, InstrumentConfig] = Field(default_factory=dict)
    pack: PackPortsConfig | None = None


class StationFile(_Strict):
    schema_version: Literal[1] = SCHEMA_VERSION
    id: str = Field(min_length=1)
    line: str = Field(min_length=1)
    bench: BenchConfig = Field(default_factory=BenchConfig)
    watchdog_s: float = Field(30.0, ge=1, le=3600)     # instruments' output watchdog delay
    #: the VISA library every VISA resource is opened with: ``@py`` (pyvisa-py), or a
    #: vendor VISA (``/usr/lib/x86_64-linux-gnu/libvisa.so``, ``@ivi``), as
    #: ``pyvisa.ResourceManager`` takes it
    visa_library: str = Field("@py", min_length=1)
    #: the station's Ed25519 key file, if not the key folder's <id>.ed25519 (relative: to this file)
    signing_key: str | None = Field(None, min_length=1)
    pack: PackPortsConfig | None = None                # required unless simulated
    envelope: EnvelopeConfig
    fixture: FixtureConfig
    instruments: dict[str, InstrumentConfig]
    mes: MesConfig | None = None                       # the line's MES (docs/line.md)
    gate: GateConfig | None = None                     # the daily golden-unit check
    slots: list[SlotConfig] = Field(default_factory=list)   # test slots (stations.slots)
    #: roles whose instrument all slots share (the chamber): one slot drives it at a time
    shared: list[str] = Field(default_factory=list)
    #: set in a slot's own station file (stations.slots): which slot of which station
    slot_of: str | None = None


def _problems(sf: StationFile) -> list[tuple[str, str]]:
    """Checks across keys: roles, dialects, addresses. (dotted key, message) pairs."""
    out: list[tuple[str, str]] = []
    # a role may be missing: a plan that needs it is refused at open (stations.open)
    for role, cfg in sf.instruments.items():
        key = f"instruments.{role}"
        if role not in ROLE_KEYS:
            out.append((key, f"unknown role {role!r}; roles: {', '.join(ROLE_KEYS)}"))
            continue
        if cfg.dialect not in DIALECTS:
            out.append((f"{key}.dialect", f"unknown dialect {cfg.dialect!r}; known: {', '.join(sorted(DIALECTS))}"))
            continue
        if DIALECTS[cfg.dialect][0] != role:
            out.append((f"{key}.dialect", f"dialect {cfg.dialect!r} is a {DIALECTS[cfg.dialect][0]}, not a {role}"))
            continue
        if cfg.address == SIM_ADDRESS:
            if not sf.bench.simulated:
                out.append((f"{key}.address", "'sim' is only valid with [bench] simulated = true"))
            continue
        kind = get_dialect(cfg.dialect).transport_kind
        pattern = VISA_RESOURCE if kind == "visa" else SERIAL_ADDRESS
        if not pattern.match(cfg.address):
            what = "a VISA resource (e.g. TCPIP0::10.0.0.5::5025::SOCKET)" if kind == "visa" else \
                "a serial port (/dev/ttyUSB0, COM3, socket://host:port)"
            out.append((f"{key}.address", f"{cfg.address!r} is not {what}"))
    if sf.pack is None and not sf.bench.simulated:
        out.append(("pack", "a station that is not simulated needs [pack] rs485, console and can"))
    if sf.pack is not None and not sf.bench.simulated:
        for key, value in (("pack.rs485.port", sf.pack.rs485.port),
                           ("pack.console.port", sf.pack.console.port),
                           ("pack.can.channel", sf.pack.can.channel)):
            if value == SIM_ADDRESS:
                out.append((key, "'sim' is only valid with [bench] simulated = true"))
    out.extend(_line_problems(sf))
    return out or _rating_problems(sf)


def _line_problems(sf: StationFile) -> list[tuple[str, str]]:
    """Slots, shared roles and pacing (docs/line.md)."""
    out: list[tuple[str, str]] = []
    if sf.bench.pace is not None and not sf.bench.simulated:
        out.append(("bench.pace", "pacing is for a simulated bench; hardware runs in real time"))
    if sf.bench.served and sf.bench.simulated:
        out.append(("bench.served", "a served bench runs in another process: "
                                    "give served = true or simulated = true, not both"))
    for role in sf.shared:
        if role not in ROLE_KEYS:
            out.append(("shared", f"unknown role {role!r}; roles: {', '.join(ROLE_KEYS)}"))
    ids = [s.id for s in sf.slots]
    if len(set(ids)) != len(ids):
        out.append(("slots", f"two slots share an id: {ids}"))
    for i, slot in enumerate(sf.slots):
        for role in slot.instruments:
            if role in sf.shared:
                out.append((f"slots.{i}.instruments.{role}",
                            f"{role!r} is shared: it is the station's, not a slot's"))
    return out


#: envelope key → (the dialect's rating attribute, roles whose instrument would carry it)
RATED_KEYS: dict[str, tuple[str, tuple[str, ...]]] = {
    "max_voltage_v": ("RATING_V", ("load", "supply")),
    "max_current_a": ("RATING_A", ("load", "supply")),
    "max_power_w": ("RATING_W", ("load", "supply")),
    "max_insulation_v": ("RATING_INSULATION_V", ("safety",)),
    "max_ground_bond_a": ("RATING_GROUND_BOND_A", ("safety",)),
}
_UNITS = {"v": "V", "a": "A", "w": "W"}


def _rating_problems(sf: StationFile) -> list[tuple[str, str]]:
    """An envelope limit above the rating of every instrument that would carry it (none
    could: a typo such as 5000 A, or the wrong station file) is refused."""
    out: list[tuple[str, str]] = []
    for key, (attr, roles) in RATED_KEYS.items():
        value, unit = float(getattr(sf.envelope, key)), _UNITS[key.rsplit("_", 1)[1]]
        ratings: list[tuple[float, str]] = []
        present = [r for r in roles if r in sf.instruments]
        if not present:   # no instrument of this file carries it
            continue
        for role in present:
            dialect = sf.instruments[role].dialect
            rating = getattr(get_dialect(dialect), attr, None)
            if rating is None:
                out.append((f"instruments.{role}.dialect",
                            f"{dialect!r} declares no rating {attr} to check envelope.{key} against"))
                break
            ratings.append((float(rating), f"the {role} ({dialect}) is rated {float(rating):g} {unit}"))
        else:
            if value > max(r for r, _ in ratings):
                out.append((f"envelope.{key}", f"{value:g} {unit} is above the rating of the "
                            "instruments that would carry it: " + "; ".join(t for _, t in ratings)))
    return out


def station_envelope(sf: StationFile) -> Envelope:
    """The :class:`Envelope` of a validated station file (its ratings checked at parse)."""
    env = sf.envelope
    return Envelope(env.max_voltage_v, env.max_current_a, env.max_power_w, env.chamber_min_c,
                    env.chamber_max_c, tuple(env.short_steps), env.load_min_voltage_v,
                    env.max_insulation_v, env.max_ground_bond_a)


def parse_station(data: dict[str, Any], source: str = "<station>") -> StationFile:
    """Validate a station file's content; errors name ``source`` and the key."""
    try:
        sf = StationFile.model_validate(data)
    except ValidationError as exc:
        lines = []
        for err in exc.errors():
            key = ".".join(str(p) for p in err["loc"]) or "(top level)"
            msg = err["msg"]
            if err["type"] == "extra_forbidden":
                msg = "unknown key"
            lines.append(f"{source}: key {key}: {msg}")
        raise StationFileError("\n".join(lines)) from None
    problems = _problems(sf)
    if problems:
        raise StationFileError("\n".join(f"{source}: key {k}: {m}" for k, m in problems))
    return sf


def load_station_file(path: str | Path) -> StationFile:
    """Read and validate a station file (TOML)."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise StationFileError(f"{p}: cannot read station file: {exc.strerror or exc}") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise StationFileError(f"{p}: not valid TOML: {exc}") from None
    return parse_station(data, str(p))


def default_station_file() -> Path:
    """``stations/sim.toml``: the simulated bench, the default station."""
    return Path(__file__).with_name("sim.toml")
