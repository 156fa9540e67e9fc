"""A socketcand-protocol server on 127.0.0.1 that bridges clients to a python-can bus.

Implements the subset python-can's ``socketcand`` interface uses (see docs/protocols.md):
``< hi >`` on connect, ``< open CHANNEL >`` → ``< ok >``, ``< rawmode >`` → ``< ok >``, then
``< frame ID SECONDS.USEC HEXDATA >`` to the client and ``< send ID DLC B0 B1 ... >`` from
it. Each client gets its own python-can bus on the bench's channel, so it sees every frame
the pack sends and the pack sees its heartbeats. Garbage from a client is counted and
skipped, never fatal.
"""

from __future__ import annotations

import logging
import re
import select
import socket
from collections.abc import Callable

import can

from sim.wire.tcp import LoopbackTcpServer

log = logging.getLogger(__name__)

_SEND = re.compile(r"^< send ([0-9A-Fa-f]{1,8}) ([0-9A-Fa-f])\s+((?:[0-9A-Fa-f]{1,2}\s+)*)>$")
MAX_PENDING = 4096  # characters of an unterminated command before it is dropped


def format_frame(msg: can.Message) -> str:
    """``< frame ID SECONDS.USEC HEXDATA >`` as socketcand sends it."""
    fid = f"{msg.arbitration_id:08X}" if msg.is_extended_id else f"{msg.arbitration_id:03X}"
    return f"< frame {fid} {msg.timestamp:.6f} {bytes(msg.data).hex().upper()} >"


def parse_send(text: str) -> can.Message | None:
    """The frame of one ``< send ... >`` command, or None when it is malformed."""
    m = _SEND.match(text.strip())
    if not m:
        return None
    ident_txt, dlc_txt, data_txt = m.groups()
    data = bytes(int(b, 16) for b in data_txt.split())
    if int(dlc_txt, 16) != len(data) or len(data) > 8:
        return None
    ident = int(ident_txt, 16)
    extended = len(ident_txt) > 3
    if ident > (0x1FFFFFFF if extended else 0x7FF):
        return None
    return can.Message(arbitration_id=ident, data=data, is_extended_id=extended)


class SocketcandServer(LoopbackTcpServer):
    """Listens on 127.0.0.1; ``bus_factory()`` opens one python-can bus per client."""

    def __init__(self, bus_factory: Callable[[], can.BusABC], now: Callable[[], float],
                 *, port: int = 0, channel: str = "can0") -> None:
        super().__init__(port, "socketcand")
        self._bus_factory, self._now, self.channel = bus_factory, now, channel
        self.bad_commands = 0

    def describe(self) -> dict[str, object]:
        return {"interface": "socketcand", "host": self.host, "port": self.port,
                "channel": self.channel}

    def _recv_command(self, conn: socket.socket, pending: list[str]) -> str | None:
        """The next complete ``< ... >`` command (handshake phase), None on close/stop."""
        while not self._stop.is_set():
            text = pending[0]
            start, end = text.find("<"), text.find(">")
            if start >= 0 and end > start:
                pending[0] = text[end + 1:]
                return text[start:end + 1]
            ready, _, _ = select.select([conn], [], [], 0.2)
            if not ready:
                continue
            data = conn.recv(4096)
            if not data:
                return None
            pending[0] = (text + data.decode("ascii", "replace"))[-MAX_PENDING:]
        return None

    def _serve(self, conn: socket.socket) -> None:
        bus: can.BusABC | None = None
        try:
            conn.sendall(b"< hi >")
            pending = [""]
            while True:  # handshake: open, then rawmode
                cmd = self._recv_command(conn, pending)
                if cmd is None:
                    return
                words = cmd.strip("<> ").split()
                if words[:1] == ["open"] and len(words) == 2:
                    if words[1] != self.channel:
                        conn.sendall(f"< error unknown bus '{words[1]}' >".encode())
                        continue
                    bus = self._bus_factory()
                    conn.sendall(b"< ok >")
                elif words == ["rawmode"] and bus is not None:
                    conn.sendall(b"< ok >")
                    # let the client read this "< ok >" alone before frames follow
                    self._stop.wait(0.05)  # wall: pacing of a real-time server
                    break
                else:
                    self.bad_commands += 1
                    conn.sendall(b"< error unexpected command >")
            self._raw_loop(conn, bus, pending[0])
        except OSError:
            return
        finally:
            if bus is not None:
                bus.shutdown()

    def _raw_loop(self, conn: socket.socket, bus: can.BusABC, text: str) -> None:
        text = self._consume(text, bus)
        while not self._stop.is_set():
            out = []
            while True:
                msg = bus.recv(timeout=0)
                if msg is None:
                    break
                out.append(format_frame(msg))
            if out:
                conn.sendall("".join(out).encode("ascii"))
            ready, _, _ = select.select([conn], [], [], 0.01)
            if not ready:
                continue
            data = conn.recv(4096)
            if not data:
                return
            text = self._consume(text + data.decode("ascii", "replace"), bus)

    def _consume(self, text: str, bus: can.BusABC) -> str:
        """Handle every complete ``< ... >`` command in ``text``; return the rest."""
        while True:
            start, end = text.find("<"), text.find(">")
            if start < 0:
                return ""
            if end < 0:
                if len(text) > MAX_PENDING:
                    self.bad_commands += 1
                    return ""
                return text[start:]
            if end < start:
                text = text[start:]
                continue
            cmd, text = text[start:end + 1], text[end + 1:]
            msg = parse_send(cmd)
            if msg is None:
                self.bad_commands += 1
                log.debug("socketcand: ignored %r", cmd)
                continue
            msg.timestamp = self._now()
            try:
                bus.send(msg)
            except can.CanError as exc:
                log.debug("socketcand: send failed: %s", exc)

