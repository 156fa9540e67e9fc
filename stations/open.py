"""Open a station: roles → drivers → transports, identities, calibration, clock, safe state.

``open_station(path)`` reads the station file, starts the in-process simulated bench when
the file says so (the station clock is then its virtual clock; otherwise the wall clock),
refuses an instrument whose calibration has expired on the station clock's calendar date,
opens every role's dialect on its address, reads and keeps each ``*IDN?`` (and checks the
serial number the file names), puts the bench in its safe state and arms the output
watchdogs. ``Station.sleep`` keeps those watchdogs fed through long waits.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from common.clock import Clock, WallClock
from drivers.instruments.envelope import Envelope
from drivers.instruments.errors import InstrumentError
from drivers.instruments.registry import get_dialect
from drivers.instruments.roles import (
    DEFAULT_ROLE_KEYS,
    ROLE_KEYS,
    Chamber,
    Daq,
    DcSupply,
    ElectronicLoad,
    LedAnalyser,
    Role,
    SafetyTester,
    ShortCircuitCapture,
)
from drivers.instruments.transport import open_transport, visa_resource_manager
from stations.deadman import HEARTBEAT, Deadman, FedPort, arm_deadman, feed_ports
from stations.schema import (
    StationFile,
    StationFileError,
    default_station_file,
    load_station_file,
    station_envelope,
)
from stations.time_ledger import TimeLedger

if TYPE_CHECKING:
    from drivers.pack.bms import Bms

log = logging.getLogger(__name__)

#: Order of the safe state: stop the energy first (the short-circuit contactor's fire line,
#: the load, the supply), leave the pack's test mode while the pack is still powered, then
#: the air, then the fixture relays (which may power the pack off).
SAFE_ORDER: tuple[str, ...] = ("contactor", "load", "supply", "console", "chamber", "daq", "safety",
                               "leds", "short_circuit")
#: The DAQ output that fires the short-circuit fixture (drivers/cert_fixtures.py).
CONTACTOR = "short_circuit"


class StationRefused(RuntimeError):
    """The station cannot start a plan (calibration expired, wrong instrument, unreachable)."""


class CalibrationExpired(StationRefused):
    def __init__(self, role: str, serial: str, due: date, today: date) -> None:
        self.role, self.serial, self.due = role, serial, due
        super().__init__(
            f"calibration of the {role} (serial {serial}) expired on {due.isoformat()} "
            f"(station date {today.isoformat()}): the station refuses to start"
        )


@dataclass(frozen=True)
class InstrumentIdentity:
    role: str
    dialect: str
    resource: str
    idn: str
    serial: str
    calibration_due: date

    def as_record(self) -> dict[str, Any]:
        return {"role": self.role, "dialect": self.dialect, "resource": self.resource,
                "idn": self.idn, "serial": self.serial, "calibration_due": self.calibration_due}


@dataclass
class SafeStateReport:
    """Which roles reached their safe state; ``errors`` role → message for those that did not."""

    done: list[str] = field(default_factory=list)
    errors: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.errors


class StationClock:
    """The station's clock as plans and roles see it: the bench's clock (virtual or wall),
    except that ``sleep`` is :meth:`Station.sleep`, so every wait in a plan or a role keeps
    the instruments' output watchdogs fed. Anything else is the underlying clock's."""

    def __init__(self, base: Clock, station: Station) -> None:
        self._base = base
        self._station = station

    def now(self) -> float:
        return self._base.now()

    def utcnow(self) -> datetime:
        return self._base.utcnow()

    def sleep(self, seconds: float) -> None:
        self._station.sleep(seconds)

    @property
    def is_virtual(self) -> bool:
        return bool(getattr(self._base, "is_virtual", False))

    def __getattr__(self, name: str) -> Any:
        return getattr(self._base, name)


class Station:
    """An opened station. Plans use the role attributes, never dialects."""

    load: ElectronicLoad
    supply: DcSupply
    chamber: Chamber
    daq: Daq
    leds: LedAnalyser
    safety: SafetyTester
    short_circuit: ShortCircuitCapture

    def __init__(self, config: StationFile, path: Path, clock: Clock, envelope: Envelope,
                 pack_ports: dict[str, Any], sim: Any = None) -> None:
        self.config = config
        self.path = path
        self.base_clock = clock
        #: The station clock: the bench's clock, whose sleep feeds the watchdogs.
        self.clock = StationClock(clock, self)
        self._last_pet = clock.now()
        #: The fixture's dead-man heartbeat (armed at open when the fixture has one).
        self.deadman = Deadman(clock)
        #: Where the station clock's time goes (dwell, I/O, other), for the cycle time.
        self.ledger = TimeLedger(clock)
        self.envelope = envelope
        self.pack_ports = pack_ports
        self.sim = sim
        self.roles: dict[str, Role] = {}
        self.identities: dict[str, InstrumentIdentity] = {}
        self._pack_drivers: dict[str, Any] = {}
        self._bms: Bms | None = None
        self._closed = False

    def __getattr__(self, name: str) -> Any:
        roles = self.__dict__.get("roles", {})
        if name in ROLE_KEYS and name in roles:
            return roles[name]
        if name in ROLE_KEYS:
            raise AttributeError(f"the station has no {name} role (not in its station file)")
        raise AttributeError(f"station has no attribute {name!r}")

    # -- records -----------------------------------------------------------------------------
    def instrument_records(self) -> list[dict[str, Any]]:
        return [self.identities[r].as_record() for r in ROLE_KEYS if r in self.identities]

    # -- watchdogs and time ------------------------------------------------------------------
    def watchdog_roles(self) -> list[Role]:
        return [r for r in self.roles.values() if r.has_watchdog]

    def pet_watchdogs(self) -> None:
        for role in self.watchdog_roles():
            role.pet()
        self._last_pet = self.base_clock.now()

    def sleep(self, seconds: float) -> None:
        """Let ``seconds`` pass, feeding the output watchdogs every third of their delay so a
        long soak never trips them (a dead station does). ``station.clock.sleep`` is this."""
        if seconds < 0:
            raise ValueError(f"cannot sleep a negative time ({seconds!r} s)")
        base = self.base_clock
        end = base.now() + seconds
        interval = self.config.watchdog_s / 3.0
        while True:
            feeding = not self._closed and bool(self.watchdog_roles())
            now = base.now()
            if feeding and now - self._last_pet >= interval - 1e-9:
                self.pet_watchdogs()
            self.deadman.feed()
            left = end - now
            if left <= 1e-9:
                return
            step = min(left, self._last_pet + interval - now) if feeding else left
            base.sleep(max(min(step, self.deadman.due_in()), 1e-6))

    # -- safety ------------------------------------------------------------------------------
    def safe_state(self) -> SafeStateReport:
        """Load off, supply off, chamber to standby, fixture relays released, and the pack's
        console out of test mode if the station logged in. Every role is tried even if one
        fails; idempotent; bounded by the instruments' I/O timeouts."""
        report = SafeStateReport()
        for name in SAFE_ORDER:
            if name == "console":
                self._console_safe(report)
                continue
            if name == "contactor":
                self._contactor_safe(report)
                continue
            role = self.roles.get(name)
            if role is None:
                continue
            try:
                role.safe_state()
                report.done.append(name)
            except Exception as exc:  # every other role must still be made safe
                report.errors[name] = f"{type(exc).__name__}: {exc}"
                log.error("safe state of %s failed: %s", name, exc)
        # a link that failed (connection dropped, stale session after a timeout) gets one
        # fresh connection and a second try, so a pulled cable that came back does not
        # leave a supply or a load on
        for name in [r for r in report.errors if r in self.roles]:
            if not self._reconnect(name):
                continue
            try:
                self.roles[name].safe_state()
            except Exception as exc:
                report.errors[name] = f"{type(exc).__name__}: {exc} (after reconnecting)"
            else:
                del report.errors[name]
                report.done.append(name)
        return report

    def _reconnect(self, role: str) -> bool:
        """A fresh transport for ``role`` at the address it was opened on."""
        driver = self.roles[role]
        cfg = self.config.instruments[role]
        ident = self.identities.get(role)
        address = ident.resource if ident is not None else cfg.address
        try:
            fresh = open_transport(type(driver).transport_kind, address,
                                   timeout_ms=cfg.timeout_ms, baud=cfg.baud,
                                   visa_library=self.config.visa_library)
        except Exception:
            return False
        old, driver._t = driver._t, fresh  # type: ignore[attr-defined]
        with contextlib.suppress(Exception):
            old.close()
        return True

    def _contactor_safe(self, report: SafeStateReport) -> None:
        """The short-circuit contactor's fire line dropped before anything else (its
        fixture opens the contactor at once); the DAQ's own safe state releases it again."""
        daq = self.roles.get("daq")
        if daq is None or CONTACTOR not in getattr(daq, "output_bits", {}):
            return
        try:
            daq.set_relay(CONTACTOR, False)  # type: ignore[attr-defined]
            report.done.append("contactor")
        except Exception as exc:
            report.errors["contactor"] = f"{type(exc).__name__}: {exc}"
            log.error("safe state of the short-circuit contactor failed: %s", exc)

    def _console_safe(self, report: SafeStateReport) -> None:
        console = self._pack_drivers.get("console")
        if console is None or not getattr(console, "in_debug", False):
            return
        try:  # logout leaves test mode and restores every temporary change (SPEC §7)
            console.logout()
            report.done.append("console")
        except Exception as exc:
            report.errors["console"] = f"{type(exc).__name__}: {exc}"
            log.error("safe state of the console failed: %s", exc)

    # -- pack ports (drivers.pack) -----------------------------------------------------------
    def _pack_driver(self, key: str) -> Any:
        if key not in self._pack_drivers:
            from drivers.pack import CanMonitor, ConsoleClient, Rs485Client

            drv: Any   # one of the three (only the two serial ones have a port)
            p = self.pack_ports
            if key == "bms_can":
                drv = CanMonitor.open(p["can"], self.clock)
            elif key == "bms_rs485":
                drv = Rs485Client.open(p["rs485"], self.clock, baud=p["rs485_baud"],
                                       address=p["rs485_address"], **_timeout(p, "rs485"))
            else:
                drv = ConsoleClient.open(p["console"], self.clock, baud=p["console_baud"],
                                         **_timeout(p, "console"))
            if key != "bms_can":  # a blocking port read feeds the dead-man first
                drv.port = FedPort(drv.port, self.deadman, self.ledger)
            self._pack_drivers[key] = drv
        return self._pack_drivers[key]

    @property
    def bms(self) -> Bms:
        """The ``bms`` role over the three pack ports (each opened on first use)."""
        if self._bms is None:
            from drivers.pack.bms import Bms

            self._bms = Bms(self.bms_can, self.bms_rs485, self.console, self.clock)
        return self._bms

    @property
    def bms_can(self) -> Any:
        """The pack's CAN monitor (opened on first use)."""
        return self._pack_driver("bms_can")

    @property
    def bms_rs485(self) -> Any:
        return self._pack_driver("bms_rs485")

    @property
    def console(self) -> Any:
        return self._pack_driver("console")

    # -- lifecycle ---------------------------------------------------------------------------
    def close(self) -> None:
        """Safe state, then close every transport and the simulated bench; idempotent."""
        if self._closed:
            return
        self._closed = True
        try:
            if self.roles:
                self.safe_state()
        finally:
            self.deadman.disarm()   # fed through the safe state; the fixture drops after it
            self._heartbeat_low()
            for drv in self._pack_drivers.values():
                with contextlib.suppress(Exception):
                    drv.close()
            for role in self.roles.values():
                with contextlib.suppress(Exception):
                    role.close()
            if self.sim is not None:
                with contextlib.suppress(Exception):
                    self.sim.close()

    def _heartbeat_low(self) -> None:
        """Leave the heartbeat output low: a beat during the last roles' safe state may have
        left it high, and the fixture's outputs then read as not all released."""
        if "daq" not in self.roles or self.config.fixture.deadman is None:
            return
        with contextlib.suppress(Exception):
            if self.daq.relays().get(HEARTBEAT, False):
                self.daq.set_relay(HEARTBEAT, False)

    def __enter__(self) -> Station:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _timeout(ports: dict[str, Any], name: str) -> dict[str, float]:
    """The station file's answer timeout of a pack port, if it names one."""
    seconds = ports.get(f"{name}_timeout_s")
    return {} if seconds is None else {"timeout": float(seconds)}


def _pack_ports(config: StationFile) -> dict[str, Any]:
    assert config.pack is not None  # the schema requires it for a station that opens
    can_cfg = config.pack.can
    can = {k: v for k, v in can_cfg.model_dump(exclude={"options"}).items() if v is not None}
    can.update(can_cfg.options)   # the interface's own arguments, as python-can takes them
    return {
        "rs485": config.pack.rs485.port, "rs485_baud": config.pack.rs485.baud,
        "rs485_address": config.pack.rs485_address,
        "console": config.pack.console.port, "console_baud": config.pack.console.baud,
        "rs485_timeout_s": config.pack.rs485.timeout_s,
        "console_timeout_s": config.pack.console.timeout_s,
        "can": can,
    }


def check_visa_library(config: StationFile, file: Path) -> None:
    """Load the station file's VISA library once, before any bench or instrument is
    touched, so a wrong path is one message naming the key (not six failed roles)."""
    if not any(get_dialect(c.dialect).transport_kind == "visa" for c in config.instruments.values()):
        return
    try:
        visa_resource_manager(config.visa_library)
    except Exception as exc:  # pyvisa: OSError, ValueError, LibraryError by backend
        raise StationRefused(f"{file}: key visa_library: cannot load VISA library "
                             f"{config.visa_library!r}: {type(exc).__name__}: {exc}") from None


class MissingRoles(StationRefused):
    """The plan needs a role the station file does not name."""

    def __init__(self, file: Path, missing: list[str], plan: str | None) -> None:
        self.missing = missing
        who = f"plan {plan!r}" if plan else "the run"
        super().__init__(f"{file}: key instruments.{missing[0]}: {who} needs the role(s) "
                         f"{', '.join(missing)}, which the station file does not name "
                         "([instruments.<role>]); nothing was switched on")


def check_roles(config: StationFile, file: Path, roles: Iterable[str] | None,
                plan: str | None = None) -> None:
    """Refuse a station file without a role the plan needs (all roles when it does not say)."""
    needed = DEFAULT_ROLE_KEYS if roles is None else tuple(roles)
    unknown = [r for r in needed if r not in ROLE_KEYS]
    if unknown:
        raise ValueError(f"unknown role(s) {unknown}; roles: {', '.join(ROLE_KEYS)}")
    missing = [r for r in needed if r not in config.instruments]
    if missing:
        raise MissingRoles(file, missing, plan)


def check_calibration(config: StationFile, today: date) -> None:
    for role in ROLE_KEYS:
        if role not in config.instruments:
            continue
        cfg = config.instruments[role]
        if cfg.calibration_due < today:
            raise CalibrationExpired(role, cfg.serial, cfg.calibration_due, today)


def _options(config: StationFile, role: str) -> dict[str, Any]:
    opts = dict(config.instruments[role].options)
    fx = config.fixture
    if role == "daq":
        heartbeat: dict[str, int] = {HEARTBEAT: fx.deadman.output} if fx.deadman is not None else {}
        card = fx.relays == "card"   # the relays on a relay card, the heartbeat on a DO bit
        outputs: dict[str, int] = {} if card else {str(k): v for k, v in fx.outputs.items()}
        opts.update(outputs={**outputs, **heartbeat},
                    relay_card=dict(fx.outputs) if card else {}, inputs=dict(fx.inputs),
                    channels=fx.channels.model_dump(),
                    shunt=fx.shunt.model_dump() if fx.shunt is not None else None,
                    calibration_offsets=dict(config.instruments[role].calibration.offsets))
    elif role == "leds":
        opts.update(fibres=dict(fx.fibres))
    return opts


def open_station(
    path: str | Path | None = None,
    *,
    unit: Any = None,
    model: str | None = None,
    seed: int = 0,
    serial: str | None = None,
    rs485_baud: int | None = None,
    roles: Iterable[str] | None = None,
    plan: str | None = None,
) -> Station:
    """Open the station a file describes (default: ``stations/sim.toml``). ``rs485_baud``
    is the work order's (the DIP setting chooses it, SPEC §4); else the station file's.
    ``roles`` are the roles the plan needs (default: all): one the file does not name is
    refused (:class:`MissingRoles`) before anything starts; the file's other roles open."""
    file = Path(path) if path is not None else default_station_file()
    config = load_station_file(file)
    check_roles(config, file, roles, plan)
    if unit is not None and not config.bench.simulated:
        raise StationFileError(f"{file}: a unit description needs [bench] simulated = true")
    envelope = station_envelope(config)   # every [envelope] key; ratings checked at load
    check_visa_library(config, file)
    sim = None
    clock: Clock = WallClock()
    if config.bench.simulated:   # the one road to the simulated bench: a filled-in file
        from stations.simbench import start_sim_bench

        setup = start_sim_bench(config, source=file, unit=unit, model=model,
                                serial=serial, seed=seed)
        sim, clock, config = setup.bench, setup.clock, setup.station
    ports = _pack_ports(config)
    if rs485_baud is not None:
        ports["rs485_baud"] = rs485_baud
    station = Station(config, file, clock, envelope, ports, sim)
    try:
        check_calibration(config, clock.utcnow().date())
        for role in ROLE_KEYS:
            if role in config.instruments:
                _open_role(station, role)
        from stations.shared import share_roles

        share_roles(station)   # a slot's shared instruments (the chamber): one slot at a time
        _leave_stale_test_mode(station)
        station.safe_state()
        for instrument in station.watchdog_roles():
            instrument.arm_watchdog(config.watchdog_s)
        feed_ports(station)
        arm_deadman(station)
        # after the first heartbeat: a dead station's relay that dropped while this one
        # opened (its 2 s ran out during the open) has latched the supply's INH by now
        clear_dead_station_trips(station)
    except BaseException:
        station.close()
        raise
    return station


#: What a dead station leaves latched on the supply: its own watchdog, the fixture's
#: dead-man on the inhibit input. Anything else latched is a fault the plan must see.
DEAD_STATION_TRIPS = frozenset({"WDOG", "INH"})


def clear_dead_station_trips(station: Station) -> None:
    """After the safe state (output off), clear a supply latched off only by a station that
    died (watchdog, dead-man inhibit), and say so; other protections stay latched."""
    supply = station.roles.get("supply")
    if supply is None:
        return
    try:
        tripped = supply.protection_status()  # type: ignore[attr-defined]
        if tripped and tripped <= DEAD_STATION_TRIPS:
            supply.clear_protection()  # type: ignore[attr-defined]
            log.warning("the supply was latched off by %s (a station died): cleared",
                        ", ".join(sorted(tripped)))
    except Exception as exc:  # the plan's own checks will meet a supply that does not answer
        log.info("protection check of the supply at open: %s", exc)


def _leave_stale_test_mode(station: Station) -> None:
    """A station killed inside test mode leaves the pack there (moved thresholds, a forced
    heater) until the console's 10-min timeout: if the pack is powered and its console
    answers in the debug prompt, log out (restores every temporary change, SPEC §7) while
    it is still powered, before the safe state releases the fixture."""
    try:
        if abs(station.daq.pack_voltage()) < 1.0:   # dead terminals: the pack is off
            return
        console = station.console
        console.command("", check=False)            # an empty line: the prompt says the mode
        if console.in_debug:
            console.logout()
            log.warning("the pack's console was in test mode (a station died in it): "
                        "logged out, every temporary threshold restored")
    except Exception as exc:  # a silent console is not in test mode; the plan will say more
        log.info("test-mode check of the pack's console at open: %s", exc)


def _open_role(station: Station, role: str) -> None:
    cfg = station.config.instruments[role]
    address = cfg.address
    cls = get_dialect(cfg.dialect)
    try:
        transport = open_transport(cls.transport_kind, address, timeout_ms=cfg.timeout_ms,
                                   baud=cfg.baud, visa_library=station.config.visa_library)
    except Exception as exc:
        raise StationRefused(
            f"{station.path}: cannot open the {role} ({cfg.dialect}) at {address}: {exc}"
        ) from exc
    driver = cls(transport, name=role, envelope=station.envelope, clock=station.clock,
                 options=_options(station.config, role))
    station.roles[role] = driver
    try:
        idn = driver.identify()
    except InstrumentError as exc:
        raise StationRefused(f"{station.path}: the {role} at {address} does not answer: {exc}") from exc
    if cfg.serial.lower() not in idn.lower():
        raise StationRefused(
            f"{station.path}: key instruments.{role}.serial is {cfg.serial!r} but the instrument "
            f"at {address} says {idn!r}: wrong instrument or wrong station file"
        )
    station.identities[role] = InstrumentIdentity(role, cfg.dialect, address, idn, cfg.serial,
                                                  cfg.calibration_due)
