"""The simulated instruments of the bench: one TCP server per instrument on 127.0.0.1.

``start_instruments(pack, clock)`` builds the load, supply, chamber, DAQ, LED analyser and
safety tester, wires the load and the supply across the pack's terminals and starts a
server for each, speaking its vendor dialect. ``describe()`` says where each one is, in the
form ``station sim serve`` prints and ``write_station_file`` turns into a station file.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable, Mapping
from typing import Any

from common.clock import VirtualClock
from sim.instruments.chamber import SimChamber, espec_handler, watlow_device
from sim.instruments.daq import SimDaq, daq970a_device
from sim.instruments.daq import pack_free as daq_pack_free
from sim.instruments.leds import SimLeds, feasa_handler
from sim.instruments.load import CHROMA_63212A, ITECH_IT8918A, SimLoad, chroma_device, itech_device
from sim.instruments.network import BenchNetwork
from sim.instruments.safety import SimSafety, chroma19032_device
from sim.instruments.scope import SimScope, infiniivision_device
from sim.instruments.server import LineServer
from sim.instruments.supply import (
    ITECH_IT6006C,
    KEYSIGHT_RP7931A,
    SimSupply,
    it6000c_device,
    rp7900_device,
)
from sim.instruments.timing import command_time
from sim.pack.interface import SimPackApi

#: The bench's default instrument per role.
DEFAULT_DIALECTS: dict[str, str] = {
    "load": "chroma-63200a",
    "supply": "keysight-rp7900",
    "chamber": "espec-scp220",
    "daq": "keysight-daq970a",
    "leds": "feasa-led",
    "safety": "chroma-19032",
}
#: Dialects the simulator can speak, per role.
SIM_DIALECTS: dict[str, tuple[str, ...]] = {
    "load": ("chroma-63200a", "itech-it8900a"),
    "supply": ("keysight-rp7900", "itech-it6000c"),
    "chamber": ("espec-scp220", "watlow-f4t"),
    "daq": ("keysight-daq970a",),
    "leds": ("feasa-led",),
    "safety": ("chroma-19032",),
    "short_circuit": ("keysight-infiniivision",),
}
#: Roles a bench has only when its station file names them (the cert bench's fixtures).
OPTIONAL_ROLES: tuple[str, ...] = ("short_circuit",)
#: Serial numbers of the simulated instruments (what their identity strings say).
SIM_SERIALS: dict[str, str] = {
    "load": "SIM-LOAD-0001",
    "supply": "SIM-SUPPLY-0001",
    "chamber": "SIM-CHAMBER-0001",
    "daq": "SIM-DAQ-0001",
    "leds": "SIM-LEDS-0001",
    "safety": "SIM-SAFETY-0001",
    "short_circuit": "SIM-SCOPE-0001",
}


class InstrumentBench:
    """The running simulated instruments. Attributes ``load``, ``supply``, ``chamber``,
    ``daq``, ``leds``, ``safety`` (and ``short_circuit``, the fixture's oscilloscope, when
    the dialects name it) are the models (inspect their state in tests);
    ``servers[role]`` their TCP servers (``received``, ``drop_connections``, ``muted``)."""

    def __init__(
        self,
        pack: SimPackApi,
        clock: VirtualClock,
        *,
        dialects: Mapping[str, str] | None = None,
        seed: int = 0,
    ) -> None:
        chosen = {**DEFAULT_DIALECTS, **(dialects or {})}
        for role, dialect in chosen.items():
            if role not in SIM_DIALECTS:
                raise ValueError(f"unknown role {role!r}; roles: {', '.join(SIM_DIALECTS)}")
            if dialect not in SIM_DIALECTS[role]:
                raise ValueError(
                    f"no simulated {role} speaks {dialect!r}; choose one of {SIM_DIALECTS[role]}"
                )
        self.dialects = chosen
        self.pack = pack
        self.clock = clock
        lock = clock.lock
        s = SIM_SERIALS
        self.load = SimLoad(pack, clock, CHROMA_63212A if chosen["load"] == "chroma-63200a" else ITECH_IT8918A, s["load"])
        rp = chosen["supply"] == "keysight-rp7900"
        self.supply = SimSupply(pack, clock, KEYSIGHT_RP7931A if rp else ITECH_IT6006C, s["supply"])
        self.chamber = SimChamber(pack, clock, s["chamber"])
        self.network = BenchNetwork(self.supply, self.load)
        self.load.network = self.network
        self.supply.network = self.network
        self.daq = SimDaq(pack, clock, s["daq"], seed=seed, network=self.network, supply=self.supply)
        self.leds = SimLeds(pack, clock, s["leds"])
        self.safety = SimSafety(pack, clock, s["safety"])
        self.short_circuit: SimScope | None = (
            SimScope(clock, s["short_circuit"], seed=seed) if "short_circuit" in chosen else None)

        handlers: dict[str, Any] = {
            "load": (chroma_device if chosen["load"] == "chroma-63200a" else itech_device)(self.load).handle,
            "supply": (rp7900_device if rp else it6000c_device)(self.supply).handle,
            "chamber": espec_handler(self.chamber)
            if chosen["chamber"] == "espec-scp220"
            else watlow_device(self.chamber).handle,
            "daq": daq970a_device(self.daq).handle,
            "leds": feasa_handler(self.leds),
            "safety": chroma19032_device(self.safety).handle,
        }
        if self.short_circuit is not None:
            handlers["short_circuit"] = infiniivision_device(self.short_circuit).handle
        self.servers: dict[str, LineServer] = {}
        try:
            for role, handler in handlers.items():
                eol = ANSWER_EOL.get(chosen[role], "\n")
                free = daq_pack_free(self.daq) if role == "daq" else None
                self.servers[role] = LineServer(role, _synced(pack, handler, free), lock, answer_eol=eol,
                                                timing=command_time(chosen[role]), clock=clock)
                getattr(self, role).received = self.servers[role].received
        except Exception:
            self.close()
            raise
        pack.set_network(self.network)

    def resource(self, role: str) -> str:
        server = self.servers[role]
        return server.url if role == "leds" else server.visa_resource

    def describe(self) -> dict[str, dict[str, str]]:
        """Role → {"resource": ..., "dialect": ..., "serial": ...}."""
        return {
            role: {"resource": self.resource(role), "dialect": self.dialects[role], "serial": SIM_SERIALS[role]}
            for role in self.servers
        }

    def close(self) -> None:
        """Stop every server and the chamber/watchdog events; idempotent."""
        for server in self.servers.values():
            server.close()
        self.servers.clear()
        self.chamber.close()
        self.supply.close()
        self.daq.scan.abort()
        with contextlib.suppress(Exception):  # the pack may already be gone at shutdown
            self.pack.set_network(None)

    def __enter__(self) -> InstrumentBench:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


#: What ends each simulated instrument's answers, by dialect (its manual's; LF otherwise):
#: the drivers' ``read_termination`` says the same (tests/instruments/test_dialect_data.py).
ANSWER_EOL: dict[str, str] = {"espec-scp220": "\r\n", "feasa-led": "\r\n"}


#: Queries an instrument answers from its own state alone (its identity, its error queue,
#: its status bytes): nothing of the pack is read or changed, so the pack is not brought up
#: to now for them (a third of a run's exchanges: every checked write's ``SYST:ERR?``).
_INSTRUMENT_ONLY = re.compile(r"\s*(\*IDN\?|\*OPC\?|\*ESR\?|\*STB\?|SYST(EM)?:ERR(OR)?(:NEXT)?\?)\s*",
                              re.IGNORECASE)


def _synced(pack: Any, handler: Any, pack_free: Callable[[str], bool] | None = None) -> Any:
    """Bring the pack up to now before an instrument acts, so a setting changed by this
    command is not applied to the pack's past (the pack integrates lazily); not for a
    query the instrument answers from its own state (:data:`_INSTRUMENT_ONLY`), nor for a
    line the instrument says leaves the pack alone (``pack_free``)."""

    sync = getattr(pack, "sync", None)   # test doubles of the pack may have none
    if sync is None:
        return handler
    own = _INSTRUMENT_ONLY.fullmatch

    def handle(line: str) -> Any:
        if own(line) is None and not (pack_free is not None and pack_free(line)):
            sync()
        return handler(line)

    return handle


def start_instruments(
    pack: SimPackApi,
    clock: VirtualClock,
    *,
    dialects: Mapping[str, str] | None = None,
    seed: int = 0,
) -> InstrumentBench:
    """Start every simulated instrument, wired to ``pack``, on 127.0.0.1 (ephemeral ports)."""
    return InstrumentBench(pack, clock, dialects=dialects, seed=seed)


__all__ = ["DEFAULT_DIALECTS", "OPTIONAL_ROLES", "SIM_DIALECTS", "SIM_SERIALS", "InstrumentBench", "start_instruments"]
