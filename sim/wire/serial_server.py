"""Serial transports of the simulated pack: a pseudo-terminal and a TCP "serial gateway".

Both carry a byte stream to a session (the RS485 responder or the console) and charge the
wire time of every byte at the port's baud on the bench clock (bytes × 10 / baud): the
request's bytes as they arrive, then the answer's bytes before they are delivered. On a
virtual clock this moves simulated time (the station is blocked reading meanwhile); in
real-time mode the clock's sleep waits for the pacer, so the wire is paced like a real one.
"""

from __future__ import annotations

import contextlib
import logging
import os
import select
import socket
import termios
import threading
import tty
from collections.abc import Callable

from common.clock import VirtualClock
from sim.wire.tcp import LoopbackTcpServer

log = logging.getLogger(__name__)

#: A session consumes received bytes and returns the chunks to send back, in order.
Session = Callable[[bytes], list[bytes]]
SessionFactory = Callable[[], Session]


class WireLink:
    """Runs one session over one byte stream with wire-time accounting."""

    def __init__(self, clock: VirtualClock, baud: int, turnaround_s: float = 0.0) -> None:
        if baud <= 0:
            raise ValueError(f"baud must be positive, got {baud!r}")
        self.clock, self.baud, self.turnaround_s = clock, baud, turnaround_s
        self.bytes_in = 0
        self.bytes_out = 0
        #: Fault injection: when set, every reply passes through it before the wire
        #: (e.g. a flipped byte, a truncated frame); None leaves replies untouched.
        self.tamper: Callable[[bytes], bytes] | None = None

    def wire_time(self, nbytes: int) -> float:
        return nbytes * 10 / self.baud

    def process(self, session: Session, data: bytes, send: Callable[[bytes], None]) -> None:
        self.bytes_in += len(data)
        self.clock.sleep(self.wire_time(len(data)))
        with self.clock.lock:
            replies = session(data)
        for reply in replies:
            if self.tamper is not None:
                reply = self.tamper(reply)
            if not reply:
                continue
            self.clock.sleep(self.turnaround_s + self.wire_time(len(reply)))
            self.bytes_out += len(reply)
            send(reply)


class PtyServer:
    """A pseudo-terminal: pyserial opens ``path`` like a USB-serial adapter.

    Like a UART, it hears only a peer at its own baud: bytes written while the terminal is
    set to another speed reach the pack as noise, which it ignores (no answer), so a
    station that opens the port at the wrong baud is not heard by accident."""

    def __init__(self, factory: SessionFactory, link: WireLink, name: str = "pty") -> None:
        self._factory, self._link, self.name = factory, link, name
        self._master, self._slave = os.openpty()
        tty.setraw(self._slave)
        self.path = os.ttyname(self._slave)
        self._wake_r, self._wake_w = os.pipe()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"{name}-pty", daemon=True)

    def start(self) -> PtyServer:
        self._thread.start()
        return self

    def _send(self, data: bytes) -> None:
        view = memoryview(data)
        while view and not self._stop.is_set():
            try:
                n = os.write(self._master, view)
            except BlockingIOError:
                select.select([], [self._master], [], 0.1)
                continue
            except OSError:
                return
            view = view[n:]

    def _run(self) -> None:
        session = self._factory()
        while not self._stop.is_set():
            ready, _, _ = select.select([self._master, self._wake_r], [], [], 0.5)
            if self._master not in ready:
                continue
            try:
                data = os.read(self._master, 4096)
            except OSError:  # no slave open (cannot happen while we hold it) or closing
                if self._stop.is_set():
                    return
                continue
            if data and not self._same_baud():
                log.debug("%s: %d bytes at another baud than %d: noise", self.name, len(data),
                          self._link.baud)
                continue
            if data:
                try:
                    self._link.process(session, data, self._send)
                except Exception:  # a session fault must never kill the port
                    log.exception("%s: error while serving %r", self.name, data)

    def _same_baud(self) -> bool:
        """The terminal's speed (as the peer set it) is the link's baud."""
        speed = getattr(termios, f"B{self._link.baud}", None)
        if speed is None:   # a baud termios cannot name: nothing to compare
            return True
        try:
            attrs = termios.tcgetattr(self._slave)
        except termios.error:
            return True
        return attrs[5] == speed   # ospeed

    def close(self) -> None:
        if self._stop.is_set():
            return
        self._stop.set()
        os.write(self._wake_w, b"x")
        if self._thread.is_alive():
            self._thread.join(timeout=5)
        for fd in (self._master, self._slave, self._wake_r, self._wake_w):
            with contextlib.suppress(OSError):
                os.close(fd)


class TcpSerialServer(LoopbackTcpServer):
    """A raw TCP port on 127.0.0.1 (``socket://127.0.0.1:PORT``), one session per client."""

    def __init__(self, factory: SessionFactory, link: WireLink, port: int = 0,
                 name: str = "tcp") -> None:
        super().__init__(port, name)
        self._factory, self._link = factory, link
        self.url = f"socket://127.0.0.1:{self.port}"

    def _serve(self, conn: socket.socket) -> None:
        session = self._factory()

        def send(data: bytes) -> None:
            with contextlib.suppress(OSError):
                conn.sendall(data)

        while not self._stop.is_set():
            ready, _, _ = select.select([conn], [], [], 0.2)
            if not ready:
                continue
            try:
                data = conn.recv(4096)
            except OSError:
                return
            if not data:
                return
            try:
                self._link.process(session, data, send)
            except Exception:
                log.exception("%s: error while serving %r", self.name, data)
