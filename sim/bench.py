"""The simulated bench assembled: the pack, its three ports, the instruments, a station file,
and the fixture's golden reference pack on the link relays.

``SimBench.start()`` brings every endpoint up and returns the description that
``station sim serve`` prints: where RS485, the console, CAN and each instrument are, and
the station file that names them. In-process (``realtime=False``) the station shares
``bench.clock``; with ``realtime=True`` the clock follows the wall clock for other processes.

The reference pack (``bench.reference``) is an ordinary simulated pack (golden unit, its own
serial, DIP group 0), switched on with the bench; only the DUT's RS485, CAN and console are
wired to the station. The DAQ's outputs :data:`LINK_RELAY_BITS` drive the two link relays
(``sim.wire.link.LinkRelays``): ``link_port1`` makes the DUT master of a stack of two,
``link_port0`` its slave.
"""

from __future__ import annotations

import contextlib
import logging
import shutil
import tempfile
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import can
from can import BusABC

from common.clock import VirtualClock, epoch_from_env
from sim.pack import SimPack
from sim.unit import UnitDescription, default_serial, default_unit
from sim.wire import console_session, rs485_session
from sim.wire.can_broadcaster import CanBroadcaster
from sim.wire.link import Cabling, LinkRelays, Stack
from sim.wire.serial_server import PtyServer, TcpSerialServer, WireLink
from sim.wire.socketcand import SocketcandServer

log = logging.getLogger(__name__)

SCHEMA_VERSION = 1
#: Time the pack takes between the end of a request and the start of its answer, s.
RS485_TURNAROUND_S = 0.005
#: How long the bench holds SW to start the pack (SPEC §2.6: 1 s), s.
SW_HOLD_S = 1.1
#: The fixture's link relays on the DAQ's digital output (stations/sim.toml says the same).
LINK_RELAY_BITS = {"link_port0": 5, "link_port1": 6}
#: The reference pack's serial (a V5°, sequence 9 999 001 of January 2026).
REFERENCE_SERIAL = default_serial("v5", 9_999_001)


def bench_epoch() -> datetime:
    """The calendar time at the bench's virtual time 0: the one wall-clock reading of the
    simulator (the present, to the second, so records and certificates carry today's date),
    unless ``VSTATION_EPOCH`` pins it for reproducible runs (``common.clock.EPOCH_ENV``)."""
    pinned = epoch_from_env()
    if pinned is not None:
        return pinned
    return datetime.now(UTC).replace(microsecond=0)   # wall clock: once, at bench start


class SimBench:
    """Pack, ports and instruments on one clock. A context manager; ``close()`` is idempotent."""

    def __init__(self, unit: UnitDescription | None = None, *, model: str = "v5",
                 realtime: bool = False, seed: int = 0,
                 can: Literal["virtual", "socketcand"] = "virtual",
                 station_file: Path | None = None, power_on: bool = False,
                 rs485_port: int = 0, console_port: int = 0, can_port: int = 0,
                 instruments: bool = True, epoch: datetime | None = None,
                 reference: UnitDescription | None = None, pace: float = 1.0) -> None:
        if can not in ("virtual", "socketcand"):
            raise ValueError(f"can must be 'virtual' or 'socketcand', got {can!r}")
        self.unit = unit if unit is not None else default_unit(model)
        self.clock = VirtualClock(epoch=epoch if epoch is not None else bench_epoch())
        self.pack = SimPack(self.unit, self.clock, seed=seed)
        ref_unit = reference if reference is not None else default_unit("v5", REFERENCE_SERIAL)
        self.reference = SimPack(ref_unit, self.clock, seed=seed + 1)
        self.cabling = Cabling(self.clock)
        self.link_relays = LinkRelays(self.cabling, self.pack, self.reference)
        self.realtime, self.can_mode, self.power_on = realtime, can, power_on
        self.pace = pace   # realtime: virtual seconds per wall second
        self._ports_wanted = {"rs485": rs485_port, "console": console_port, "can": can_port}
        self._want_instruments = instruments
        self._station_file = Path(station_file).absolute() if station_file else None
        self._tmpdir: Path | None = None
        self.ports: dict[str, Any] = {}
        self.instruments: Any = None
        self.cert_fixture: Any = None   # the certification fixture's relays, when wired
        self.short_circuit: Any = None  # the short-circuit fixture (sim/instruments/short_circuit.py)
        self.can_channel = f"simbench-{uuid.uuid4().hex[:12]}"
        self._pack_bus: BusABC | None = None   # (``can`` is a parameter here)
        self.broadcaster: CanBroadcaster | None = None
        self.description: dict[str, Any] | None = None
        self._closed = False

    # -- lifecycle -------------------------------------------------------------------------
    def start(self) -> dict[str, Any]:
        if self.description is not None:
            return self.description
        try:
            return self._start()
        except BaseException:
            self.close()
            raise

    def _start(self) -> dict[str, Any]:
        ident = self.pack.identity
        if self.realtime:
            self.clock.start_realtime(speed=self.pace)
        rs485_link = WireLink(self.clock, ident.rs485_baud, RS485_TURNAROUND_S)
        console_link = WireLink(self.clock, ident.console_baud)
        self._power_reference()
        rs485 = lambda: rs485_session(self.pack, self.stack)  # noqa: E731
        console = lambda: console_session(self.pack, self.stack)  # noqa: E731
        self.ports["rs485"] = PtyServer(rs485, rs485_link, "rs485").start()
        self.ports["rs485_tcp"] = TcpSerialServer(
            rs485, rs485_link, self._ports_wanted["rs485"], "rs485").start()
        self.ports["console"] = PtyServer(console, console_link, "console").start()
        self.ports["console_tcp"] = TcpSerialServer(
            console, console_link, self._ports_wanted["console"], "console").start()

        self._pack_bus = can.Bus(interface="virtual", channel=self.can_channel,
                                 preserve_timestamps=True)
        self.broadcaster = CanBroadcaster(self.pack, self._pack_bus, self.clock,
                                          module_count=lambda: self.stack().count).start()
        can_desc: dict[str, Any] = {"interface": "virtual", "channel": self.can_channel}
        if self.can_mode == "socketcand":
            server = SocketcandServer(self._bridge_bus, self.clock.now,
                                      port=self._ports_wanted["can"]).start()
            self.ports["can"] = server
            can_desc = server.describe()

        if self.power_on:
            self.press_start()

        desc: dict[str, Any] = {
            "schema_version": SCHEMA_VERSION,
            "rs485": self.ports["rs485"].path,
            "rs485_tcp": self.ports["rs485_tcp"].url,
            "console": self.ports["console"].path,
            "console_tcp": self.ports["console_tcp"].url,
            "can": can_desc,
            "model": self.unit.model,
            "serial": ident.serial,
            "rs485_address": ident.address,
            "rs485_baud": ident.rs485_baud,
            "reference_serial": self.reference.identity.serial,
            "fixture_outputs": dict(LINK_RELAY_BITS),
            "instruments": self._start_instruments(),
        }
        desc["station_file"] = self._write_station_file(desc)
        self.description = desc
        return desc

    def _bridge_bus(self) -> can.BusABC:
        return can.Bus(interface="virtual", channel=self.can_channel, preserve_timestamps=True)

    def _start_instruments(self) -> dict[str, Any]:
        if not self._want_instruments:
            return {}
        try:
            from sim.instruments import start_instruments
        except ImportError as exc:  # the instruments are another engineer's work
            log.warning("simulated instruments unavailable: %s", exc)
            return {}
        self.attach_instruments(start_instruments(self.pack, self.clock))
        return dict(self.instruments.describe())

    def attach_instruments(self, instruments: Any) -> None:
        """Take ``instruments`` (``sim.instruments.InstrumentBench``) as the bench's, and
        wire the DAQ's link-relay outputs to the fixture's link relays."""
        self.instruments = instruments
        daq = getattr(instruments, "daq", None)
        if daq is None:
            return
        for name, bit in LINK_RELAY_BITS.items():
            daq.extra_outputs[bit] = lambda on, name=name: self.link_relays.set(name, on)

    def stack(self) -> Stack:
        """The DUT's stack now (alone, or with the reference pack over a link relay)."""
        return self.cabling.stack(self.pack)

    def _power_reference(self) -> None:
        """The reference pack is switched on with the bench: POWER, SW held for 1.1 s (on
        the clock's events, so starting the bench takes no simulated time)."""
        ref = self.reference
        ref.set_breaker(True)
        ref.set_power_button(True)
        ref.set_sw(True)
        self.clock.call_later(SW_HOLD_S, lambda t: ref.set_sw(False))

    def _write_station_file(self, desc: dict[str, Any]) -> str | None:
        try:
            from sim.instruments.station_file import write_station_file
        except ImportError as exc:
            log.warning("station file writer unavailable: %s", exc)
            return None
        path = self._station_file
        if path is None:
            self._tmpdir = Path(tempfile.mkdtemp(prefix="simbench-"))
            path = self._tmpdir / "station.toml"
        write_station_file({**desc, "station_file": str(path)}, path)
        return str(path)

    def press_start(self) -> None:
        """Breaker closed (α Plus), POWER on, SW held for a second: the operator's power-on
        sequence (SPEC §4)."""
        self.pack.set_breaker(True)
        self.pack.set_power_button(True)
        self.pack.set_sw(True)
        self.clock.sleep(SW_HOLD_S)
        self.pack.set_sw(False)

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        if self.broadcaster is not None:
            self.broadcaster.stop()
        for server in self.ports.values():
            with contextlib.suppress(Exception):
                server.close()
        if self.instruments is not None:
            with contextlib.suppress(Exception):
                self.instruments.close()
        if self._pack_bus is not None:
            self._pack_bus.shutdown()
        if self.clock.realtime:
            self.clock.stop_realtime()
        if self.description and self.description.get("station_file"):
            with contextlib.suppress(OSError):
                Path(self.description["station_file"]).unlink()
        if self._tmpdir is not None:
            shutil.rmtree(self._tmpdir, ignore_errors=True)

    def __enter__(self) -> SimBench:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
