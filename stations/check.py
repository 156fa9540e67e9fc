"""``station check``: is this bench ready for its first run? One report, item by item.

Without a pack: the station file is read (a file the schema refuses is refused, exit 3;
an envelope above the instruments' ratings is reported, not refused, so the technician
sees every problem at once), each instrument is opened on its own and identified
(``*IDN?`` against the dialect's model and the file's serial), its calibration date is
shown (expired: a problem; due within :data:`CALIBRATION_WARN_DAYS`: a warning), each
fixture relay is set and read back through the DAQ, and the bench is left in its safe
state. With ``pack=True`` the pack is started through the fixture and its three ports must
answer through the ``bms`` role: the RS485 serial number, the console's ``info`` and the
CAN frames within :data:`CAN_WAIT_S`. A real bench is checked under the station's lock
(``fixtures.lock``): a bench a run holds is reported busy and not touched.

Unlike :func:`stations.open.open_station`, nothing here stops at the first problem: an
expired calibration or a wrong instrument is one row of the report.
"""

from __future__ import annotations

import contextlib
import re
import tomllib
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, Literal

from common.clock import Clock, WallClock
from drivers.instruments.registry import get_dialect
from drivers.instruments.roles import ROLE_KEYS
from stations.deadman import HEARTBEAT, arm_deadman
from stations.open import Station, StationRefused, _open_role, _pack_ports
from stations.schema import (
    RATED_KEYS,
    StationFile,
    StationFileError,
    _problems,
    _rating_problems,
    load_station_file,
    station_envelope,
)

#: A calibration due within this many days of the station date is a warning.
CALIBRATION_WARN_DAYS = 30
#: How long the pack's CAN frames may take to appear, s of station time.
CAN_WAIT_S = 3.0
#: Power-on through the fixture: SW held (SPEC: ≥ 1 s), then the pack's boot.
SW_PRESS_S = 1.2
BOOT_SETTLE_S = 2.0

#: The model part of each dialect's identification (``*IDN?``, or the vendor's equivalent).
#: A dialect may declare its own ``IDN_MODEL`` regular expression instead.
IDN_MODELS: dict[str, str] = {
    "chroma-63200a": r"\b632\d\dA",
    "itech-it8900a": r"\bIT89\d\dA?",
    "itech-it6000c": r"\bIT6\d{3}C",
    "keysight-rp7900": r"\bRP79\d\dA?",
    "espec-scp220": r"\bSCP-?220\b",
    "watlow-f4t": r"\bF4T\b",
    "keysight-daq970a": r"\bDAQ97[03]A\b",
    "feasa-led": r"\bFEASA\b",
    "chroma-19032": r"\b19032\b",
}

#: The query that reads back the fixture's relay byte, per DAQ dialect ({channel}).
RELAY_READBACK: dict[str, str] = {
    "keysight-daq970a": "SOUR:DIG:DATA:BYTE? (@{channel})",
}

Result = Literal["OK", "WARN", "PROBLEM", "SKIP"]


class CheckRefused(StationFileError):
    """The station file cannot be checked at all (the schema refuses it): exit 3."""


@dataclass(frozen=True)
class Item:
    item: str
    result: Result
    detail: str


@dataclass
class CheckReport:
    station: str
    items: list[Item] = field(default_factory=list)

    def add(self, item: str, result: Result, detail: str) -> None:
        self.items.append(Item(item, result, detail))

    @property
    def problems(self) -> list[Item]:
        return [i for i in self.items if i.result == "PROBLEM"]

    @property
    def warnings(self) -> list[Item]:
        return [i for i in self.items if i.result == "WARN"]

    @property
    def exit_code(self) -> int:
        return 1 if self.problems else 0

    def result_of(self, item: str) -> Result:
        return next(i.result for i in self.items if i.item == item)


# -- the station file ---------------------------------------------------------------------

def load_for_check(path: Path) -> tuple[StationFile, list[tuple[str, str]]]:
    """The station file and its rating problems (reported by check, refused by a run);
    :class:`CheckRefused` when anything else is wrong with it."""
    try:
        return load_station_file(path), []
    except StationFileError as exc:
        refusal = CheckRefused(str(exc))
    try:
        sf = StationFile.model_validate(tomllib.loads(path.read_text(encoding="utf-8")))
        rating = _rating_problems(sf)
        only_ratings = bool(rating) and _problems(sf) == rating
    except Exception:
        raise refusal from None
    if not only_ratings:
        raise refusal
    return sf, rating


def _within_ratings(sf: StationFile) -> StationFile:
    """``sf`` with each rated envelope key lowered to the highest rating that would carry it
    (only to start the simulated bench, whose filled-in file is validated again)."""
    update: dict[str, float] = {}
    for key, (attr, roles) in RATED_KEYS.items():
        ratings = [getattr(get_dialect(sf.instruments[r].dialect), attr, None) for r in roles]
        known = [float(x) for x in ratings if x is not None]
        if known and float(getattr(sf.envelope, key)) > max(known):
            update[key] = max(known)
    if not update:
        return sf
    return sf.model_copy(update={"envelope": sf.envelope.model_copy(update=update)})


# -- the check ----------------------------------------------------------------------------

def run_check(path: str | Path, *, pack: bool = False) -> CheckReport:
    """Check the bench ``path`` describes; :class:`CheckRefused` if the file is unusable."""
    file = Path(path)
    config, rating = load_for_check(file)
    report = CheckReport(config.id)
    report.add("station file", "OK", f"{file}: station {config.id}, line {config.line}"
               + (" (simulated bench)" if config.bench.is_simulation else ""))
    _envelope_items(report, config, rating)

    if config.bench.simulated:   # an in-process bench: nobody else can be driving it
        return _check_bench(report, file, config, pack)
    from fixtures.lock import StationBusy, StationLock

    try:
        lock = StationLock(config.id).acquire("station check")
    except StationBusy as exc:   # a run is on this bench: touch nothing
        report.add("station lock", "PROBLEM", str(exc))
        return report
    try:
        return _check_bench(report, file, config, pack)
    finally:
        lock.release()


def _check_bench(report: CheckReport, file: Path, config: StationFile, pack: bool) -> CheckReport:
    sim = None
    clock: Clock = WallClock()
    if config.bench.simulated:
        from stations.simbench import start_sim_bench

        try:
            setup = start_sim_bench(_within_ratings(config), source=file)
        except StationFileError as exc:
            raise CheckRefused(str(exc)) from None
        except Exception as exc:
            report.add("simulated bench", "PROBLEM", f"cannot start: {type(exc).__name__}: {exc}")
            return report
        sim, clock = setup.bench, setup.clock
        config = setup.station.model_copy(update={"envelope": config.envelope})
    today = clock.utcnow().date()
    _calibration_items(report, config, today)

    station = Station(config, file, clock, station_envelope(config), _pack_ports(config), sim)
    try:
        for role in ROLE_KEYS:
            if role in config.instruments:   # a role the file does not name is not checked
                _identify(report, station, role)
        _deadman_item(report, station)
        _relay_items(report, station)
        if pack:
            _pack_items(report, station)
        _safe_state_item(report, station)
    finally:
        station.close()
    return report


def _envelope_items(report: CheckReport, sf: StationFile,
                    rating: list[tuple[str, str]]) -> None:
    for key, message in rating:
        report.add(key, "PROBLEM", message)
    if not rating:
        env = sf.envelope
        report.add("envelope vs ratings", "OK",
                   f"{env.max_voltage_v:g} V, {env.max_current_a:g} A, {env.max_power_w:g} W, "
                   f"insulation {env.max_insulation_v:g} V, ground bond "
                   f"{env.max_ground_bond_a:g} A: within the instruments' ratings")


def _calibration_items(report: CheckReport, sf: StationFile, today: date) -> None:
    for role in (r for r in ROLE_KEYS if r in sf.instruments):
        cfg = sf.instruments[role]
        days = (cfg.calibration_due - today).days
        due = cfg.calibration_due.isoformat()
        if days < 0:
            report.add(f"calibration {role}", "PROBLEM",
                       f"serial {cfg.serial}: expired on {due} (station date "
                       f"{today.isoformat()}): a run is refused until it is recalibrated")
        elif days <= CALIBRATION_WARN_DAYS:
            report.add(f"calibration {role}", "WARN",
                       f"serial {cfg.serial}: due {due}, in {days} days")
        else:
            report.add(f"calibration {role}", "OK", f"serial {cfg.serial}: due {due} ({days} days)")


def expected_model(dialect: str) -> str | None:
    return getattr(get_dialect(dialect), "IDN_MODEL", None) or IDN_MODELS.get(dialect)


def _identify(report: CheckReport, station: Station, role: str) -> None:
    cfg = station.config.instruments[role]
    item = f"instrument {role}"
    try:
        _open_role(station, role)
    except StationRefused as exc:
        report.add(item, "PROBLEM", str(exc).removeprefix(f"{station.path}: "))
        return
    except Exception as exc:
        report.add(item, "PROBLEM", f"{cfg.dialect} at {cfg.address}: {type(exc).__name__}: {exc}")
        return
    idn = station.identities[role].idn
    model = expected_model(cfg.dialect)
    if model is not None and not re.search(model, idn, re.IGNORECASE):
        report.add(item, "PROBLEM",
                   f"the station file names a {cfg.dialect} but the instrument at {cfg.address} "
                   f"says {idn!r}: wrong instrument or wrong dialect in the station file")
        return
    report.add(item, "OK", f"{cfg.dialect} at {cfg.address}: {idn}")


def _read_relays(station: Station) -> int | None:
    daq: Any = station.roles["daq"]
    query = RELAY_READBACK.get(station.config.instruments["daq"].dialect)
    if query is None:
        return None
    answer = daq.query(query.format(channel=station.config.fixture.channels.digital_out))
    return int(float(answer))


def _deadman_item(report: CheckReport, station: Station) -> None:
    """Feed the fixture's dead-man as a run does, so the watchdog relay holds the fixture
    while the check works (and says whether one is fitted)."""
    cfg = station.config.fixture.deadman
    if cfg is None:
        report.add("dead-man", "WARN", "no [fixture.deadman]: a killed station leaves the fixture on")
        return
    if "daq" not in station.identities:
        report.add("dead-man", "SKIP", "the DAQ did not open")
        return
    try:
        arm_deadman(station)
    except Exception as exc:
        report.add("dead-man", "PROBLEM", f"heartbeat on output {cfg.output}: {type(exc).__name__}: {exc}")
        return
    report.add("dead-man", "OK", f"heartbeat fed on output {cfg.output} (relay drops after {cfg.timeout_s:g} s)")


def _relay_items(report: CheckReport, station: Station) -> None:
    if "daq" not in station.identities:
        report.add("fixture relays", "SKIP", "the DAQ did not open")
        return
    daq: Any = station.roles["daq"]
    try:
        daq.release_all()
        for name, bit in sorted(daq.output_bits.items(), key=lambda kv: kv[1]):
            if name == HEARTBEAT:   # fed by the station from now on, not a relay to toggle
                continue
            item = f"relay {name}"
            if name == "short_circuit":   # its one edge is a short circuit of the pack
                report.add(item, "SKIP", f"bit {bit}: the short-circuit contactor's fire line "
                           "is never toggled by a check")
                continue
            try:
                daq.set_relay(name, True)
                on = _read_relays(station)
                daq.set_relay(name, False)
                off = _read_relays(station)
            except Exception as exc:
                report.add(item, "PROBLEM", f"bit {bit}: {type(exc).__name__}: {exc}")
                continue
            if on is None or off is None:
                report.add(item, "WARN", f"bit {bit}: set and released; this DAQ dialect "
                           "cannot read its outputs back")
            elif on == 1 << bit and off == 0:
                report.add(item, "OK", f"bit {bit}: set and released, read back {on:#04x} / {off:#04x}")
            else:
                report.add(item, "PROBLEM", f"bit {bit}: read back {on:#04x} when set and "
                           f"{off:#04x} when released (expected {1 << bit:#04x} / 0x00)")
        _card_items(report, daq)
    finally:
        with contextlib.suppress(Exception):
            daq.release_all()


def _card_items(report: CheckReport, daq: Any) -> None:
    """Relays on a relay card (``[fixture] relays = "card"``): each closed and opened, the
    card read back (``ROUT:CLOS?``) with only that channel closed, then none."""
    for name, ch in sorted(daq.relay_card.items(), key=lambda kv: kv[1]):
        item = f"relay {name}"
        try:
            daq.set_relay(name, True)
            on = daq.read_relays()
            daq.set_relay(name, False)
            off = daq.read_relays()
        except Exception as exc:
            report.add(item, "PROBLEM", f"channel {ch}: {type(exc).__name__}: {exc}")
            continue
        closed_on = sorted(n for n, c in on.items() if c)
        closed_off = sorted(n for n, c in off.items() if c)
        if closed_on == [name] and not closed_off:
            report.add(item, "OK", f"channel {ch}: closed and opened, read back on the card")
        else:
            report.add(item, "PROBLEM", f"channel {ch}: the card reads {closed_on or 'none'} "
                       f"closed when set and {closed_off or 'none'} when released")


def _pack_items(report: CheckReport, station: Station) -> None:
    from drivers.pack.bms import Bms

    if "daq" in station.identities:   # start the pack through the fixture, as a plan does
        daq: Any = station.roles["daq"]
        try:
            daq.set_relay("breaker", True)
            daq.set_relay("power", True)
            daq.press("sw", SW_PRESS_S)
            station.sleep(BOOT_SETTLE_S)
        except Exception as exc:
            report.add("pack power-on", "PROBLEM", f"{type(exc).__name__}: {exc}")
    ports: dict[str, Any] = {}
    for key, item in (("bms_rs485", "pack RS485"), ("console", "pack console"),
                      ("bms_can", "pack CAN")):
        try:
            ports[key] = getattr(station, key)
        except Exception as exc:
            report.add(item, "PROBLEM", f"cannot open the port: {type(exc).__name__}: {exc}")
    bms = Bms(ports.get("bms_can"), ports.get("bms_rs485"), ports.get("console"),  # type: ignore[arg-type]
              station.clock)
    if "bms_rs485" in ports:
        try:
            report.add("pack RS485", "OK", f"serial number {bms.serial_number()} "
                       f"(address {station.pack_ports['rs485_address']:#04x}, "
                       f"{station.pack_ports['rs485_baud']} bit/s)")
        except Exception as exc:
            report.add("pack RS485", "PROBLEM", f"no answer: {type(exc).__name__}: {exc}")
    if "console" in ports:
        try:
            info = bms.console_identity()
            report.add("pack console", "OK", f"info: barcode {info.barcode}, main "
                       f"{info.main_version}, boot {info.boot_version}, DIP {info.dip}")
        except Exception as exc:
            report.add("pack console", "PROBLEM", f"no answer to info: {type(exc).__name__}: {exc}")
    if "bms_can" in ports:
        try:
            bms.listen()
            complete = bms.wait_for_can_frames(1, CAN_WAIT_S)
            frames = bms.can_frames()
        except Exception as exc:
            report.add("pack CAN", "PROBLEM", f"{type(exc).__name__}: {exc}")
        else:
            heard = [f.name for f in frames if f.count]
            missing = [f.name for f in frames if not f.count]
            if complete:
                report.add("pack CAN", "OK", f"{len(heard)} frames within {CAN_WAIT_S:g} s")
            elif heard:
                report.add("pack CAN", "PROBLEM", f"not heard within {CAN_WAIT_S:g} s: "
                           + ", ".join(missing))
            else:
                report.add("pack CAN", "PROBLEM", f"no frame within {CAN_WAIT_S:g} s "
                           "(bus, bitrate, termination?)")


def _safe_state_item(report: CheckReport, station: Station) -> None:
    if not station.roles:
        report.add("safe state", "SKIP", "no instrument opened")
        return
    done = station.safe_state()
    if done.ok:
        report.add("safe state", "OK", "left safe: " + ", ".join(done.done))
    else:
        report.add("safe state", "PROBLEM", "; ".join(f"{r}: {m}" for r, m in done.errors.items()))
