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

log = logging.getLogger(__name__)

_QUICKACK: int | None = getattr(socket, "TCP_QUICKACK", None)

Handler = Callable[[str], "str | None"]


class LineServer:
    def __init__(
        self,
        name: str,
        handler: Handler,
        lock: threading.RLock,
        *,
        answer_eol: str = "\n",
        host: str = "127.0.0.1",
    ) -> None:
        if host not in ("127.0.0.1", "::1", "localhost"):
            raise ValueError(f"{name}: simulated instruments bind loopback only, not {host!r}")
        self.name = name
        self._handler = handler
        self._lock = lock
        self._eol = answer_eol.encode("ascii")
        self.received: list[str] = []
        self.muted = False
        #: Fault injection: ``rewrite(line, answer) -> answer`` sees every command and the
        #: instrument's answer and returns the answer to send (None: no answer).
        self.rewrite: Callable[[str, str | None], str | None] | None = None
        self._clients: list[socket.socket] = []
        self._threads: list[threading.Thread] = []
        self._closing = threading.Event()
        family = socket.AF_INET6 if host == "::1" else socket.AF_INET
        self._sock = socket.socket(family, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind((host, 0))
        self._sock.listen(8)
        self._sock.settimeout(0.5)  # accept() also polls the closing flag
        self.host = host
        self.port: int = self._sock.getsockname()[1]
        self._acceptor = threading.Thread(target=self._accept, name=f"sim-{name}-accept", daemon=True)
        self._acceptor.start()

    @property
    def visa_resource(self) -> str:
        return f"TCPIP0::{self.host}::{self.port}::SOCKET"

    @property
    def url(self) -> str:
        return f"socket://{self.host}:{self.port}"

    # -- serving ---------------------------------------------------------------------------
    def _accept(self) -> None:
        while not self._closing.is_set():
            try:
                conn, _ = self._sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            conn.settimeout(None)
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            with self._lock:
                self._clients.append(conn)
            t = threading.Thread(target=self._serve, args=(conn,), name=f"sim-{self.name}", daemon=True)
            self._threads.append(t)
            t.start()

    def _serve(self, conn: socket.socket) -> None:
        buf = b""
        try:
            while not self._closing.is_set():
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
        finally:
            with contextlib.suppress(OSError):
                conn.close()
            with self._lock, contextlib.suppress(ValueError):
                self._clients.remove(conn)

    def _line(self, raw: bytes) -> str | None:
        line = raw.decode("ascii", errors="replace").strip("\r\x00 ")
        if not line:
            return None
        with self._lock:
            self.received.append(line)
            try:
                answer = self._handler(line)
            except Exception:  # a bad line must never take the server down
                log.exception("%s: handler failed on %r", self.name, line)
                answer = None
            if self.rewrite is not None:
                answer = self.rewrite(line, answer)
            return answer

    # -- faults and shutdown ---------------------------------------------------------------
    def drop_connections(self) -> None:
        """Close every client connection (a cable pulled, an instrument rebooted)."""
        with self._lock:
            clients = list(self._clients)
        for c in clients:
            with contextlib.suppress(OSError):
                c.shutdown(socket.SHUT_RDWR)
            with contextlib.suppress(OSError):
                c.close()

    def close(self) -> None:
        self._closing.set()
        with contextlib.suppress(OSError):
            self._sock.shutdown(socket.SHUT_RDWR)  # wakes the blocked accept() on Linux
        with contextlib.suppress(OSError):
            self._sock.close()
        self.drop_connections()
        self._acceptor.join(timeout=2)
        for t in self._threads:
            t.join(timeout=2)
