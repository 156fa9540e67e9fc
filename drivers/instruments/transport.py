"""Transports under the dialects: a pyvisa session for SCPI/ASCII instruments, pyserial for
serial ones. Dialects see only :class:`Transport` (write a line, read a line), so the same
class drives a LAN instrument, a simulated one on 127.0.0.1 or one behind a serial gateway.
"""

from __future__ import annotations

import contextlib
import re
import socket
from typing import TYPE_CHECKING, Any, Protocol, cast

if TYPE_CHECKING:
    from pyvisa.resources import MessageBasedResource

#: VISA resource strings the station accepts (LAN socket/INSTR, GPIB, USB, serial).
VISA_RESOURCE = re.compile(
    r"^(TCPIP\d*::[A-Za-z0-9.\-:\[\]]+::(\d+::SOCKET|[A-Za-z0-9,]*::?INSTR|INSTR)"
    r"|GPIB\d*::\d+(::\d+)?::INSTR"
    r"|USB\d*::[^:]+::[^:]+::[^:]+(::\d+)?::INSTR"
    r"|ASRL[^:]+::INSTR)$",
    re.IGNORECASE,
)
#: Serial addresses: a device path, a COM port or a pyserial URL (serial gateway).
SERIAL_ADDRESS = re.compile(r"^(/dev/[A-Za-z0-9_./\-]+|COM\d+|socket://[A-Za-z0-9.\-\[\]:]+:\d+)$")


class Transport(Protocol):
    """A line-oriented connection to one instrument."""

    def write(self, line: str) -> None: ...
    def read(self) -> str: ...
    def query(self, line: str) -> str: ...
    def close(self) -> None: ...
    def set_terminations(self, write: str, read: str) -> None:
        """Line endings of the dialect on top (set once, before the first I/O)."""


def visa_resource_manager(library: str = "@py") -> Any:
    """``pyvisa.ResourceManager(library)``: ``@py`` is pyvisa-py; a path or ``@ivi`` a
    vendor VISA (NI-VISA, Keysight IO Libraries). Raises what pyvisa raises."""
    import pyvisa

    return pyvisa.ResourceManager(library)


class VisaTransport:
    """A pyvisa session (pure-Python backend by default, or the station file's
    ``visa_library``); ``\\n`` terminations until the dialect sets its own."""

    def __init__(self, resource: str, *, timeout_ms: int = 2000, backend: str = "@py") -> None:
        self.resource_name = resource
        self.backend = backend
        # pyvisa shares one library session per backend between resource managers: closing
        # the manager would close every other instrument's session, so only the resource
        # is ever closed here
        self._rm = visa_resource_manager(backend)
        # every resource VISA_RESOURCE accepts (SOCKET, INSTR, ASRL) is message-based
        self._res = cast("MessageBasedResource", self._rm.open_resource(resource))
        self._res.read_termination = "\n"
        self._res.write_termination = "\n"
        self._res.timeout = timeout_ms
        if resource.upper().endswith("::SOCKET"):
            # a write followed by SYST:ERR? is two small segments: without NODELAY, Nagle
            # and the peer's delayed ACK add ~40 ms to every checked write
            self._set_nodelay()

    def _set_nodelay(self) -> None:
        from pyvisa import constants

        try:
            self._res.set_visa_attribute(constants.ResourceAttribute.tcpip_nodelay, constants.VI_TRUE)
            return
        except Exception:  # pyvisa-py 0.7/0.8 wires this attribute's setter to the wrong method
            pass
        with contextlib.suppress(Exception):
            visalib: Any = self._res.visalib   # pyvisa-py's own library: its sessions table
            session = visalib.sessions[self._res.session]
            session._set_tcpip_nodelay(constants.ResourceAttribute.tcpip_nodelay, True)

    def set_terminations(self, write: str, read: str) -> None:
        self._res.write_termination = write
        self._res.read_termination = read

    def write(self, line: str) -> None:
        self._res.write(line)

    def read(self) -> str:
        return self._res.read()

    def query(self, line: str) -> str:
        return self._res.query(line)

    def close(self) -> None:
        self._res.close()


class ChunkedPort:
    """A pyserial port whose ``read_until`` reads what has arrived in one call, not a byte
    at a time (pyserial's own asks the port once per byte: a select and a read each, most
    of what an RS485 answer of a few hundred bytes cost the station). Bytes that arrive
    after the terminator wait for the next ``read_until``; ``reset_input_buffer`` drops them
    with the port's. The timeout is pyserial's, as its ``read_until`` has it: the port's
    ``timeout`` for the whole answer, checked as each byte arrives. Anything else is the
    port's."""

    def __init__(self, port: Any) -> None:
        object.__setattr__(self, "raw", port)
        object.__setattr__(self, "_pending", bytearray())

    def read_until(self, expected: bytes = b"\n", size: int | None = None) -> bytes:
        import serial.serialutil

        buf: bytearray = self._pending
        deadline = serial.serialutil.Timeout(self.raw.timeout)
        while (end := buf.find(expected)) < 0 and (size is None or len(buf) < size):
            chunk = self.raw.read(1)   # waits for the next byte, at most the port's timeout
            if not chunk:
                break
            buf += chunk
            buf += self._arrived()
            if deadline.expired():
                break
        cut = len(buf) if end < 0 else end + len(expected)
        if size is not None:
            cut = min(cut, size)
        answer = bytes(buf[:cut])
        del buf[:cut]
        return answer

    def _arrived(self) -> bytes:
        """What the port holds now, without waiting."""
        sock = _url_socket(self.raw)
        if sock is not None:   # pyserial's socket:// says only whether a byte waits (0 or 1)
            try:
                return sock.recv(4096, socket.MSG_DONTWAIT)
            except (BlockingIOError, InterruptedError):
                return b""
        waiting = self.raw.in_waiting
        return self.raw.read(waiting) if waiting else b""

    def reset_input_buffer(self) -> None:
        self._pending.clear()
        self.raw.reset_input_buffer()

    def close(self) -> None:
        close_serial_port(self.raw)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.raw, name)

    def __setattr__(self, name: str, value: Any) -> None:
        setattr(self.raw, name, value)


class SerialTransport:
    """pyserial on a port or a ``socket://`` gateway URL; commands end in CR LF and answers
    in LF until the dialect sets its own line endings."""

    def __init__(self, url: str, *, baud: int = 57600, timeout_ms: int = 2000) -> None:
        import serial

        self.resource_name = url
        self._port = ChunkedPort(serial.serial_for_url(url, baudrate=baud,
                                                       timeout=timeout_ms / 1000))
        self._write_term = b"\r\n"
        self._read_term = b"\n"

    def set_terminations(self, write: str, read: str) -> None:
        self._write_term = write.encode("ascii")
        self._read_term = read.encode("ascii")

    def write(self, line: str) -> None:
        self._port.write(line.encode("ascii") + self._write_term)
        self._port.flush()

    def read(self) -> str:
        raw = self._port.read_until(self._read_term)
        if not raw.endswith(self._read_term):
            raise TimeoutError(f"no complete answer from {self.resource_name} (got {raw!r})")
        return raw[: -len(self._read_term)].decode("ascii", errors="replace").strip()

    def query(self, line: str) -> str:
        self._port.reset_input_buffer()
        self.write(line)
        return self.read()

    def close(self) -> None:
        self._port.close()


def _url_socket(port: Any) -> socket.socket | None:
    """The open socket under a pyserial ``socket://`` port (None for any other port)."""
    if type(port).__module__ != "serial.urlhandler.protocol_socket":
        return None
    return getattr(port, "_socket", None)


def close_serial_port(port: Any) -> None:
    """Close a pyserial port without the fixed wait of its ``socket://`` handler.

    pyserial's socket close sleeps 0.3 s "in case of quick reconnects". A station never
    reconnects by closing first (a fresh link is opened before the old one is closed), so
    the wait buys nothing; the socket is shut down and closed here as pyserial would."""
    sock = _url_socket(port)
    if sock is None:
        port.close()
        return
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
    with contextlib.suppress(OSError):
        sock.close()
    port._socket = None
    port.is_open = False


def open_transport(kind: str, address: str, *, timeout_ms: int = 2000, baud: int = 57600,
                   visa_library: str = "@py") -> Transport:
    """Open ``address`` as a ``visa`` or ``serial`` transport (the dialect says which);
    a VISA resource through ``visa_library``."""
    if kind == "visa":
        return VisaTransport(address, timeout_ms=timeout_ms, backend=visa_library)
    if kind == "serial":
        return SerialTransport(address, baud=baud, timeout_ms=timeout_ms)
    raise ValueError(f"unknown transport kind {kind!r} (visa or serial)")
