"""Station driver for the pack's RS232 console (SPEC §7): command, reply, prompt.

A command is written with CR; the reply is read until a known prompt ends it; the body
between ``@`` and the completion line is handed to a typed parser. A reply without
``Command completed successfully`` raises :class:`ConsoleRefused` with the pack's line.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from datetime import datetime
from typing import Protocol, TypeVar

import serial

from common.clock import Clock
from drivers.instruments.transport import close_serial_port
from drivers.pack import console_parse as cp
from drivers.pack.errors import ConsoleError, ConsoleRefused, ConsoleTimeout

__all__ = ["ConsoleClient", "ConsoleError"]

T = TypeVar("T")
#: The read commands of an RMA diagnosis (CERT-RMA R03): nothing else changes no history.
READ_ONLY_COMMANDS: tuple[re.Pattern[str], ...] = tuple(re.compile(p) for p in (
    r"info", r"pwr", r"pwr [1-9][0-9]?", r"bat [1-9][0-9]?", r"soh [1-9][0-9]?", r"stat",
    r"log", r"log [1-9][0-9]{0,2}", r"data event", r"time"))

wire_log = logging.getLogger("station.wire")


class ConsoleForbidden(ConsoleError):
    """A command the station refuses to send: the console is read-only (an RMA run)."""
PROMPTS: tuple[bytes, ...] = (b"PYTES_debug>", b"PYTES>")
MAX_REPLY = 1 << 20


class ConsolePort(Protocol):
    timeout: float | None

    @property
    def in_waiting(self) -> int: ...
    def write(self, data: bytes) -> int | None: ...
    def read(self, size: int = ...) -> bytes: ...
    def reset_input_buffer(self) -> None: ...
    def close(self) -> None: ...


class ConsoleClient:
    """The pack's console on any pyserial port (pty, /dev/ttyUSB0, ``socket://``)."""

    def __init__(self, port: ConsolePort, clock: Clock, *, timeout: float = 2.0,
                 prompts: tuple[bytes, ...] = PROMPTS) -> None:
        self.port, self.clock, self.timeout, self.prompts = port, clock, timeout, prompts
        self.port.timeout = timeout
        self.prompt = ""
        self.read_only = False   # only READ_ONLY_COMMANDS reach the wire (set for an RMA run)

    @classmethod
    def open(cls, url: str, clock: Clock, *, baud: int = 115200,
             **kwargs: object) -> ConsoleClient:
        try:
            port = serial.serial_for_url(url, baudrate=baud, timeout=2.0)
        except (serial.SerialException, ValueError) as exc:
            raise ConsoleError(f"cannot open console port {url!r}: {exc}") from exc
        return cls(port, clock, **kwargs)  # type: ignore[arg-type]

    def close(self) -> None:
        close_serial_port(self.port)  # without pyserial's socket:// close wait

    def __enter__(self) -> ConsoleClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- command / reply -------------------------------------------------------------------
    def _read_reply(self, command: str) -> tuple[bytes, bytes]:
        buf = bytearray()
        while len(buf) < MAX_REPLY:
            try:
                chunk = self.port.read(max(1, self.port.in_waiting))
            except (serial.SerialException, OSError) as exc:
                raise ConsoleError(f"console port failed during {command!r}: {exc}",
                                   bytes(buf)) from exc
            if not chunk:
                raise ConsoleTimeout(
                    f"no prompt after {command!r} within {self.timeout} s", bytes(buf))
            buf += chunk
            for p in self.prompts:
                if buf.endswith(p):
                    return bytes(buf), p
        raise ConsoleError(f"reply to {command!r} exceeds {MAX_REPLY} bytes", bytes(buf[:200]))

    def command(self, line: str, *, check: bool = True) -> cp.Reply:
        """Send one command line; return its reply. ``check``: raise on a refusal."""
        if any(c in line for c in "\r\n"):
            raise ValueError(f"a console command is one line, got {line!r}")
        if self.read_only and not any(p.fullmatch(line) for p in READ_ONLY_COMMANDS):
            raise ConsoleForbidden(f"{line!r} not sent: the console is read-only in this run "
                                   "(only the read commands of CERT-RMA R03)")
        try:
            self.port.reset_input_buffer()
            self.port.write(line.encode("latin-1", "replace") + b"\r")
        except (serial.SerialException, OSError) as exc:
            raise ConsoleError(f"console port failed writing {line!r}: {exc}") from exc
        raw, prompt = self._read_reply(line)
        wire_log.debug("console > %s  < %r", line, raw)   # `station run --log-level debug`
        reply = cp.split_reply(line, raw, prompt)
        self.prompt = reply.prompt
        if check and line.strip() and not reply.ok:
            raise ConsoleRefused(f"{line!r} refused: {' / '.join(reply.body)}", raw)
        return reply

    def _parsed(self, line: str, parser: Callable[[tuple[str, ...]], T]) -> T:
        """Run ``line`` and parse its body; a parse error carries the reply's raw bytes."""
        reply = self.command(line)
        try:
            return parser(reply.body)
        except ConsoleError as exc:
            raise ConsoleError(f"{line!r}: {exc}", reply.raw) from None

    @property
    def in_debug(self) -> bool:
        return self.prompt == "PYTES_debug>"

    # -- typed commands --------------------------------------------------------------------
    def info(self) -> cp.ConsoleInfo:
        return self._parsed("info", cp.parse_info)

    def pwr(self) -> list[cp.PwrRow]:
        return self._parsed("pwr", cp.parse_pwr)

    def pwr_detail(self, n: int = 1) -> cp.PwrDetail:
        return self._parsed(f"pwr {n}", cp.parse_pwr_detail)

    def bat(self, n: int = 1) -> list[cp.BatRow]:
        return self._parsed(f"bat {n}", cp.parse_bat)

    def soh(self) -> cp.Soh:
        return self._parsed("soh", cp.parse_soh)

    def stat(self) -> cp.Stat:
        return self._parsed("stat", cp.parse_stat)

    def log(self) -> list[cp.LogEntry]:
        return self._parsed("log", cp.parse_log)

    def log_page(self, page: int = 1) -> cp.LogPage:
        return self._parsed("log" if page == 1 else f"log {page}", cp.parse_log_page)

    def soh_cells(self, n: int = 1) -> list[cp.SohCell]:
        return self._parsed(f"soh {n}", cp.parse_soh_cells)

    def data_event(self) -> cp.DataEvent:
        return self._parsed("data event", cp.parse_data_event)

    def log_clear(self) -> None:
        self.command("log clear")

    def time(self) -> datetime:
        return self._parsed("time", cp.parse_time)

    def set_time(self, when: datetime) -> datetime:
        return self._parsed(f"time {when.strftime(cp.TIME_FORMAT)}", cp.parse_time)

    # -- test mode -------------------------------------------------------------------------
    def login_debug(self) -> None:
        self.command("login debug")
        if not self.in_debug:
            raise ConsoleError(f"'login debug' did not give the debug prompt ({self.prompt!r})")

    def logout(self) -> None:
        self.command("logout")

    def tmode(self, on: bool) -> None:
        self.command(f"tmode {'on' if on else 'off'}")

    def relay(self, n: int, on: bool) -> None:
        self.command(f"relay {n} {'on' if on else 'off'}")

    def led_test(self) -> None:
        self.command("led test")

    def heater(self, on: bool) -> None:
        self.command(f"heater {'on' if on else 'off'}")

    def setthr(self, name: str, value: int) -> None:
        if not name.isidentifier():
            raise ValueError(f"parameter name {name!r} is not a single word")
        self.command(f"setthr {name} {int(value)}")

    def clrthr(self) -> None:
        self.command("clrthr")

    def unlock(self) -> None:
        """Clears a system lock (test mode, SPEC 7)."""
        self.command("unlock")

    def crc(self) -> tuple[int, int]:
        return self._parsed("crc", cp.parse_crc)
