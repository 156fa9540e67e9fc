"""The Link Port 0/1 cascade (SPEC §1, §4-§6; manual 5.3.4): which packs form a stack.

"Connect Port 1 of the previous battery to Port 0 of the next one. The Port 0 of the master
battery is vacant"; at most 16 packs. :class:`Cabling` holds the cables and answers, for
any pack at the present instant, its :class:`Stack`: the members (master first), the pack's
index k and the addresses (ADR = master's ADR from its DIP + k). The ports read it: the
RS485 responder answers for every address of the stack and ``FF``, CAN 0x359 byte 4 is the
module count, the console prints the pack's address in its stack.

A cable carries the stack only while it is *linked*: both of its ports are working
(``comms.link_port0`` / ``link_port1`` not ``"dead"``), both BMSs run ("on" or "latched")
and the slower end's ``comms.link_negotiation_s`` has passed since the later of the cable's
connection and either pack's start [A]. Unplugging, or a pack stopping, ends the link at
once. Choices where SPEC is silent [A] (docs/sim-pack.md): packs on a ring (no vacant
Port 0) find no master and each stands alone; the 17th pack of a chain (index 16) is
refused by the 16th and is the master of the packs behind it.

Lazy like the pack: nothing is scheduled; a query judges the cables at ``clock.now()``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from common.clock import VirtualClock

#: At most 16 packs in one stack: a master and 15 slaves [M 5.3.3].
MAX_STACK = 16
_EPS = 1e-9


class LinkedPack(Protocol):
    """What the cabling needs of a pack (``sim.pack.SimPack``)."""

    unit: Any
    identity: Any

    @property
    def running_since(self) -> float | None:
        """When the BMS last started while it runs; None while it is off or asleep."""


@dataclass(frozen=True)
class Stack:
    """The stack one pack is in, as that pack sees it now."""

    members: tuple[Any, ...]   # the packs, master first
    index: int                 # the asking pack's position (0: it is the master)
    base_address: int          # the master's RS485 address (from its DIP)

    @property
    def count(self) -> int:
        return len(self.members)

    @property
    def own_address(self) -> int:
        return self.base_address + self.index

    @property
    def addresses(self) -> range:
        return range(self.base_address, self.base_address + len(self.members))

    def member(self, address: int) -> Any | None:
        """The pack answering for ``address`` in this stack, or None."""
        k = address - self.base_address
        return self.members[k] if 0 <= k < len(self.members) else None


def lone_stack(pack: Any) -> Stack:
    """A pack with no working link: a stack of one at its DIP address."""
    return Stack((pack,), 0, pack.identity.address)


@dataclass
class Cable:
    upstream: Any      # its Port 1 ...
    downstream: Any    # ... to this pack's Port 0
    since: float       # virtual time the cable was plugged in


class Cabling:
    """The link cables between packs of one bench (all on one clock)."""

    def __init__(self, clock: VirtualClock) -> None:
        self.clock = clock
        self._by_up: dict[int, Cable] = {}     # id(pack) -> the cable in its Port 1
        self._by_down: dict[int, Cable] = {}   # id(pack) -> the cable in its Port 0

    def connect(self, upstream: LinkedPack, downstream: LinkedPack) -> None:
        """Plug a cable from ``upstream``'s Port 1 into ``downstream``'s Port 0."""
        if upstream is downstream:
            raise ValueError("a cable from a pack's Port 1 to its own Port 0 links nothing")
        with self.clock.lock:
            if id(upstream) in self._by_up:
                raise ValueError(f"Port 1 of {upstream.identity.serial} already has a cable")
            if id(downstream) in self._by_down:
                raise ValueError(f"Port 0 of {downstream.identity.serial} already has a cable")
            cable = Cable(upstream, downstream, self.clock.now())
            self._by_up[id(upstream)] = self._by_down[id(downstream)] = cable

    def disconnect(self, upstream: LinkedPack, downstream: LinkedPack) -> None:
        """Unplug the cable between them (no cable: nothing to do)."""
        with self.clock.lock:
            cable = self._by_up.get(id(upstream))
            if cable is not None and cable.downstream is downstream:
                del self._by_up[id(upstream)], self._by_down[id(downstream)]

    def connected(self, upstream: LinkedPack, downstream: LinkedPack) -> bool:
        cable = self._by_up.get(id(upstream))
        return cable is not None and cable.downstream is downstream

    def linked(self, cable: Cable) -> bool:
        """The cable carries the stack now (ports working, both BMSs up, negotiated)."""
        up, down = cable.upstream, cable.downstream
        if up.unit.comms.link_port1 == "dead" or down.unit.comms.link_port0 == "dead":
            return False
        s_up, s_down = up.running_since, down.running_since
        if s_up is None or s_down is None:
            return False
        negotiation = max(up.unit.comms.link_negotiation_s, down.unit.comms.link_negotiation_s)
        return self.clock.now() + _EPS >= max(cable.since, s_up, s_down) + negotiation

    def _upstream(self, pack: Any) -> Any | None:
        cable = self._by_down.get(id(pack))
        return cable.upstream if cable is not None and self.linked(cable) else None

    def _downstream(self, pack: Any) -> Any | None:
        cable = self._by_up.get(id(pack))
        return cable.downstream if cable is not None and self.linked(cable) else None

    def stack(self, pack: LinkedPack) -> Stack:
        """``pack``'s stack now."""
        with self.clock.lock:
            if id(pack) not in self._by_up and id(pack) not in self._by_down:
                return lone_stack(pack)
            chain = [pack]                     # pack, its upstream, ... the master
            seen = {id(pack)}
            while (up := self._upstream(chain[-1])) is not None:
                if id(up) in seen:             # a ring: no vacant Port 0, no master
                    return lone_stack(pack)
                seen.add(id(up))
                chain.append(up)
            k = len(chain) - 1
            members = [chain[-1]]
            start = (k // MAX_STACK) * MAX_STACK     # the 17th pack heads the packs behind it
            while len(members) <= start + MAX_STACK - 1:
                down = self._downstream(members[-1])
                if down is None:
                    break
                members.append(down)
            mine = members[start:start + MAX_STACK]
            return Stack(tuple(mine), k - start, mine[0].identity.address)


class LinkRelays:
    """The fixture's two link relays between the DUT and a reference pack (SPEC §1, EOL).

    ``link_port1`` connects the DUT's Port 1 to the reference's Port 0 (DUT master,
    reference slave); ``link_port0`` the reference's Port 1 to the DUT's Port 0 (reference
    master, DUT slave). Both closed would be a ring. The fixture interlocks them [A]: each
    relay's coil is fed through the other's normally-closed contact, so a relay commanded
    while the other is closed stays open, and closes when the other opens if it is still
    commanded (the first one commanded wins; one DAQ write of both bits serves
    ``link_port0`` first).
    """

    NAMES = ("link_port0", "link_port1")

    def __init__(self, cabling: Cabling, dut: LinkedPack, reference: LinkedPack) -> None:
        self.cabling, self.dut, self.reference = cabling, dut, reference
        self.commanded = dict.fromkeys(self.NAMES, False)
        self.closed = dict.fromkeys(self.NAMES, False)

    def _ends(self, name: str) -> tuple[LinkedPack, LinkedPack]:
        """(upstream, downstream) of the cable the relay switches."""
        return (self.dut, self.reference) if name == "link_port1" else (self.reference, self.dut)

    def set(self, name: str, on: bool) -> None:
        """The DAQ's output bit for relay ``name`` changed."""
        if name not in self.NAMES:
            raise ValueError(f"unknown link relay {name!r}; relays: {', '.join(self.NAMES)}")
        with self.cabling.clock.lock:
            self.commanded[name] = bool(on)
            for n in self.NAMES:                       # releases first ...
                if self.closed[n] and not self.commanded[n]:
                    self._switch(n, False)
            wanting = [n for n in self.NAMES if self.commanded[n] and not self.closed[n]]
            if wanting and not any(self.closed.values()):
                self._switch(wanting[0], True)         # ... then a close the interlock allows

    def _switch(self, name: str, close: bool) -> None:
        self.closed[name] = close
        up, down = self._ends(name)
        if close:
            self.cabling.connect(up, down)
        else:
            self.cabling.disconnect(up, down)
