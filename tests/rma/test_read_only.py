"""An RMA run's console sends only the read commands of CERT-RMA R03: any other line is
refused before a byte reaches the wire, whatever the sequence (hypothesis), and the pack's
history (log, counters, clock, test mode) is the same after as before."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from common.clock import VirtualClock
from drivers.pack.console import READ_ONLY_COMMANDS, ConsoleClient, ConsoleForbidden
from drivers.pack.errors import ConsoleError
from sim.pack.pack import SimPack
from sim.unit import unit_from_dict
from sim.wire import console_session
from sim.wire.serial_server import PtyServer, WireLink

HISTORY = {"cycles": 812, "counters": {"SC Times": 1},
           "events": [{"time": "2025-05-03T14:12:09Z", "code": "short_prot", "current_a": -800.0},
                      {"time": "2025-08-01T02:00:00Z", "code": "cell_uv_prot", "info": "cell08"}]}
#: Every command word the console knows, history-changing ones first (SPEC §7).
CHANGING = ["log clear", "time 2030-01-01 00:00:00", "login debug", "tmode on", "tmode off",
            "relay 2 on", "led test", "heater on", "setthr cell_ov_prot_mv 3600", "clrthr",
            "crc", "logout", "unlock"]
READS = ["info", "pwr", "pwr 1", "bat 1", "soh 1", "stat", "log", "log 1", "log 2", "data event",
         "time"]


class Spy:
    """The real port, with every written byte kept (observation, not a mock)."""

    def __init__(self, port: Any) -> None:
        self.port, self.sent = port, bytearray()

    def write(self, data: bytes) -> int | None:
        self.sent += data
        return self.port.write(data)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.port, name)


@pytest.fixture(scope="module")
def bench() -> Iterator[tuple[SimPack, ConsoleClient, Spy]]:
    clock = VirtualClock()
    unit = unit_from_dict({"model": "v5", "history": HISTORY})
    pack = SimPack(unit, clock)
    pack.set_power_button(True)
    pack.set_sw(True)
    clock.sleep(1.2)
    pack.set_sw(False)
    server = PtyServer(lambda: console_session(pack), WireLink(clock, 115200)).start()
    client = ConsoleClient.open(server.path, clock, timeout=2.0)
    spy = Spy(client.port)
    client.port = spy   # type: ignore[assignment]
    client.read_only = True
    yield pack, client, spy
    client.close()
    server.close()


def _history(pack: SimPack) -> tuple[Any, ...]:
    bms = pack.bms
    return (tuple(bms.events()), bms.stat_counters(), pack.firmware.calendar_offset,
            bms.debug, bms.snapshot().test_mode, bms.active_parameters())


line = st.one_of(st.sampled_from(CHANGING + READS),
                 st.sampled_from(CHANGING + READS).map(lambda s: s.upper()),
                 st.builds(lambda a, b: f"{a} {b}", st.sampled_from(CHANGING + READS),
                           st.text(alphabet="abc 019:-", max_size=8)),
                 st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=24))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(line, min_size=1, max_size=6))
def test_only_read_commands_reach_the_wire(bench: tuple[SimPack, ConsoleClient, Spy],
                                           lines: list[str]) -> None:
    pack, client, spy = bench
    before = _history(pack)
    spy.sent.clear()
    sent = []
    for text in lines:
        allowed = any(p.fullmatch(text) for p in READ_ONLY_COMMANDS)
        if not allowed:
            with pytest.raises(ConsoleForbidden):
                client.command(text)
            continue
        sent.append(text)
        try:
            client.command(text)
        except ConsoleForbidden:   # an allowed line must reach the pack
            raise
        except ConsoleError:
            pass   # the pack refused it (e.g. a log page that does not exist): still a read
    assert bytes(spy.sent) == b"".join(t.encode() + b"\r" for t in sent)
    assert not set(sent) & set(CHANGING)
    assert _history(pack) == before, "a read changed the pack's history"


def test_every_history_changing_command_is_refused_before_the_wire(
        bench: tuple[SimPack, ConsoleClient, Spy]) -> None:
    pack, client, spy = bench
    before = _history(pack)
    spy.sent.clear()
    for text in CHANGING:
        with pytest.raises(ConsoleForbidden, match="read-only"):
            client.command(text)
    assert spy.sent == b"" and _history(pack) == before
    for text in READS:   # and every read of R03 does reach the pack and answers
        client.command(text, check=text != "log 2")
    assert _history(pack) == before
