"""A TCP listener on loopback that serves each client in a thread of its own.

The serial-over-TCP gateway, the socketcand server and the simulated instruments differ
only in what they say to a client, so listening, accepting, tracking clients, dropping
them (a pulled cable) and shutting down are written once here.
"""

from __future__ import annotations

import contextlib
import select
import socket
import threading
from typing import Self


class LoopbackTcpServer:
    """Subclasses implement :meth:`_serve` (one client; return to hang up)."""

    def __init__(self, port: int = 0, name: str = "tcp", host: str = "127.0.0.1") -> None:
        if host not in ("127.0.0.1", "::1", "localhost"):
            raise ValueError(f"{name}: the simulated bench binds loopback only, not {host!r}")
        self.name = name
        family = socket.AF_INET6 if host == "::1" else socket.AF_INET
        self._sock = socket.socket(family, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind((host, port))
        self._sock.listen(8)
        self.host, self.port = self._sock.getsockname()[:2]
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._clients: set[socket.socket] = set()
        self._threads: list[threading.Thread] = []
        self._accept = threading.Thread(target=self._accept_loop, name=f"{name}-accept",
                                        daemon=True)

    def start(self) -> Self:
        self._accept.start()
        return self

    def _serve(self, conn: socket.socket) -> None:
        raise NotImplementedError

    def _serve_client(self, conn: socket.socket) -> None:
        try:
            self._serve(conn)
        finally:
            with self._lock:
                self._clients.discard(conn)
            with contextlib.suppress(OSError):
                conn.close()

    def _accept_loop(self) -> None:
        while not self._stop.is_set():
            try:
                ready, _, _ = select.select([self._sock], [], [], 0.2)
            except (OSError, ValueError):   # the socket was closed under us: shutting down
                return
            if not ready:
                continue
            try:
                conn, _ = self._sock.accept()
            except OSError:
                return
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            t = threading.Thread(target=self._serve_client, args=(conn,),
                                 name=f"{self.name}-client", daemon=True)
            with self._lock:
                if self._stop.is_set():
                    conn.close()
                    return
                self._clients.add(conn)
                self._threads = [x for x in self._threads if x.is_alive()] + [t]
            t.start()

    def drop_connections(self) -> None:
        """Hang up every client (a cable pulled, an instrument rebooted); keep listening."""
        with self._lock:
            clients = list(self._clients)
        for c in clients:
            with contextlib.suppress(OSError):
                c.shutdown(socket.SHUT_RDWR)

    def close(self) -> None:
        """Stop accepting, hang up every client, join the threads; idempotent."""
        if self._stop.is_set():
            return
        self._stop.set()
        with contextlib.suppress(OSError):
            self._sock.shutdown(socket.SHUT_RDWR)  # wakes the accept loop's select() at once
        with contextlib.suppress(OSError):
            self._sock.close()
        with self._lock:
            clients, threads = list(self._clients), list(self._threads)
        for c in clients:
            with contextlib.suppress(OSError):
                c.shutdown(socket.SHUT_RDWR)
        for t in [self._accept, *threads]:
            if t.is_alive():
                t.join(timeout=5)
