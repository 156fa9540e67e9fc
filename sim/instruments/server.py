"""A line-oriented TCP server on 127.0.0.1 for one simulated instrument.

Each connection gets a thread that splits the stream into lines, hands each line to the
instrument's handler under the bench clock's lock (so the instrument, the pack and virtual
time stay consistent) and writes the answer back. A handler that raises is logged and the
connection stays up: a corrupt command never kills a server. ``received`` keeps every line,
so tests can check what reached the wire; ``drop_connections``, ``muted`` and ``rewrite``
inject faults.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import threading
from collections.abc import Callable
from typing import Any

from sim.instruments.timing import CommandTime
from sim.wire.tcp import LoopbackTcpServer

log = logging.getLogger(__name__)

_QUICKACK: int | None = getattr(socket, "TCP_QUICKACK", None)

Handler = Callable[[str], "str | None"]


class LineServer(LoopbackTcpServer):
    def __init__(
        self,
        name: str,
        handler: Handler,
        lock: threading.RLock,
        *,
        answer_eol: str = "\n",
        host: str = "127.0.0.1",
        timing: CommandTime | None = None,
        clock: Any = None,
    ) -> None:
        super().__init__(0, f"sim-{name}", host)
        self.name = name
        self._handler = handler
        self._bench_lock = lock   # the bench clock's lock: handlers run under it
        self._eol = answer_eol.encode("ascii")
        self.received: list[str] = []
        #: What each command costs on the real instrument (None: nothing), paid on ``clock``.
        self._timing: CommandTime | None = timing if clock is not None else None
        self._clock: Any = clock
        self._owed = 0.0          # writes' costs, paid before the next query is answered
        self.muted = False
        #: Fault injection: ``rewrite(line, answer) -> answer`` sees every command and the
        #: instrument's answer and returns the answer to send (None: no answer).
        self.rewrite: Callable[[str, str | None], str | None] | None = None
        self.start()

    @property
    def visa_resource(self) -> str:
        return f"TCPIP0::{self.host}::{self.port}::SOCKET"

    @property
    def url(self) -> str:
        return f"socket://{self.host}:{self.port}"

    # -- serving ---------------------------------------------------------------------------
    def _serve(self, conn: socket.socket) -> None:
        buf = b""
        try:
            while not self._stop.is_set():
                try:
                    chunk = conn.recv(65536)
                except OSError:
                    return
                if not chunk:
                    return
                if _QUICKACK is not None:  # answer-less commands: ACK now, as an instrument does
                    with contextlib.suppress(OSError):
                        conn.setsockopt(socket.IPPROTO_TCP, _QUICKACK, 1)
                buf += chunk
                while b"\n" in buf:
                    raw, buf = buf.split(b"\n", 1)
                    answer = self._line(raw)
                    if answer is not None and not self.muted:
                        conn.sendall(answer.encode("ascii", errors="replace") + self._eol)
        except OSError:
            return

    def _line(self, raw: bytes) -> str | None:
        line = raw.decode("ascii", errors="replace").strip("\r\x00 ")
        if not line:
            return None
        if self._timing is not None and not getattr(self._clock, "realtime", False):
            # on a virtual clock the instrument's time is simulated here; a bench served in
            # real time (``station sim serve``) has real links, and its test programs (the
            # safety tester's times, captures) still run on the bench clock
            self._owed += self._timing.of_command(line)
            if self._timing.awaited(line):   # the station waits: the instrument's time passes
                owed, self._owed = self._owed, 0.0
                self._clock.sleep(owed)   # outside the bench lock: a paced clock needs it
        answer = self._handle(line)
        if answer is not None and self._timing is not None and not getattr(self._clock, "realtime", False):
            self._clock.sleep(self._timing.of_answer(answer, self._eol.decode("ascii")))
        return answer

    def _handle(self, line: str) -> str | None:
        with self._bench_lock:
            self.received.append(line)
            try:
                answer = self._handler(line)
            except Exception:  # a bad line must never take the server down
                log.exception("%s: handler failed on %r", self.name, line)
                answer = None
            if self.rewrite is not None:
                answer = self.rewrite(line, answer)
            return answer
