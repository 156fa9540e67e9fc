"""Declarative instrument base, in the spirit of PyMeasure's ``control`` / ``measurement``.

A dialect lists its commands as class attributes (``control(get, set)``,
``measurement(query)``); :class:`ScpiInstrument` writes them through a :class:`Transport`
and follows every write with ``SYST:ERR?`` so an instrument error becomes an
:class:`InstrumentCommandError` naming the instrument, the command and the error text.
Transport failures become :class:`InstrumentConnectionError`. Both leave the plan with a
message a technician can act on.
"""

from __future__ import annotations

import contextlib
import logging
import math
import re
from collections.abc import Callable
from typing import Any, ClassVar

from drivers.instruments.errors import (
    InstrumentCommandError,
    InstrumentConnectionError,
    InstrumentResponseError,
)
from drivers.instruments.transport import Transport

_ERR = re.compile(r'^\s*([+-]?\d+)\s*,\s*"?(.*?)"?\s*$')


def parse_error(answer: str) -> tuple[int, str]:
    """``-113,"Undefined header"`` → (-113, "Undefined header")."""
    m = _ERR.match(answer)
    if not m:
        raise ValueError(f"not a SCPI error-queue answer: {answer!r}")
    return int(m.group(1)), m.group(2)


#: every instrument exchange at DEBUG (command, and the answer of a query)
wire_log = logging.getLogger("station.wire")

class LineInstrument:
    """An instrument reached by writing and reading text lines (SCPI or a vendor ASCII).

    The line endings and whether there is an error queue are data of the dialect (its
    manual says them), handed to the transport when the driver is built, so a station
    opens every address the same way and the dialect alone decides the bytes.
    """

    #: Role key or instrument name used in error messages (set by the station).
    name: str
    #: What ends a command on the wire, and what ends an answer.
    write_termination: ClassVar[str] = "\n"
    read_termination: ClassVar[str] = "\n"
    #: True when the instrument keeps a SCPI error queue (``SYST:ERR?``).
    has_error_queue: ClassVar[bool] = False

    def __init__(self, transport: Transport, *, name: str) -> None:
        self._t = transport
        self.name = name
        self.last_command: str | None = None
        set_terminations = getattr(transport, "set_terminations", None)
        if set_terminations is not None:   # test doubles of a transport may have none
            set_terminations(self.write_termination, self.read_termination)

    def _io(self, command: str, fn: Callable[[], Any]) -> Any:
        self.last_command = command
        try:
            answer = fn()
            if wire_log.isEnabledFor(logging.DEBUG):   # `station run --log-level debug`
                wire_log.debug("%s > %s%s", self.name, command,
                               "" if answer is None else f"  < {str(answer).strip()}")
            return answer
        except (InstrumentCommandError, InstrumentResponseError):
            raise
        except Exception as exc:  # pyvisa, socket and serial errors all mean the link failed
            raise InstrumentConnectionError(
                self.name, command, f"connection failed: {type(exc).__name__}: {exc}"
            ) from exc

    def write_raw(self, command: str) -> None:
        self._io(command, lambda: self._t.write(command))

    def query_raw(self, command: str) -> str:
        return self._io(command, lambda: self._t.query(command)).strip()

    def close(self) -> None:
        with contextlib.suppress(Exception):  # a dead link must not hide the original fault
            self._t.close()


class ScpiInstrument(LineInstrument):
    """SCPI: every write is followed by the error-queue check (when the dialect has one)."""

    has_error_queue: ClassVar[bool] = True
    error_query = "SYST:ERR?"

    def write(self, command: str) -> None:
        self.write_raw(command)
        self.check_errors(command)

    def query(self, command: str) -> str:
        try:
            return self.query_raw(command)
        except InstrumentConnectionError:
            # An unknown query gets no answer on a real instrument: say why if the queue knows.
            if self.has_error_queue:
                self._raise_queued(command, quiet=True)
            raise

    def check_errors(self, command: str | None = None) -> None:
        """Read the error queue until ``0,"No error"``; raise on the first error found."""
        if self.has_error_queue:
            self._raise_queued(command, quiet=False)

    def _raise_queued(self, command: str | None, *, quiet: bool) -> None:
        errors: list[tuple[int, str]] = []
        for _ in range(32):  # a real queue holds at most a few dozen entries
            try:
                answer = self.query_raw(self.error_query)
            except InstrumentConnectionError:
                if quiet:
                    return
                raise
            try:
                code, text = parse_error(answer)
            except ValueError as exc:
                raise InstrumentResponseError(self.name, self.error_query, str(exc)) from None
            if code == 0:
                break
            errors.append((code, text))
        if errors:
            code, text = errors[0]
            more = f" (+{len(errors) - 1} more)" if len(errors) > 1 else ""
            raise InstrumentCommandError(self.name, command, f'{code},"{text}"{more}', code)

    def identify(self) -> str:
        return self.query("*IDN?")


#: SCPI's over-range reading (9.9E37; 9.91E37 is its "not a number"): no measurement.
OVER_RANGE = 9.9e37


def reading(text: str) -> float:
    """The first number of an answer; an over-range or not-a-number reading (``9.9E37``,
    ``9.91E37``, ``NAN``, ``+INF``) is NaN, so it can never pass a limit."""
    value = float(text.strip().split(",")[0])
    return value if math.isfinite(value) and abs(value) < OVER_RANGE else math.nan


_num = reading


def control(get_cmd: str, set_cmd: str, doc: str, *, cast: Callable[[str], Any] = _num) -> property:
    """A setting: reading queries ``get_cmd``; assigning writes ``set_cmd.format(value)``."""

    def fget(self: ScpiInstrument) -> Any:
        answer = self.query(get_cmd)
        try:
            return cast(answer)
        except (ValueError, IndexError):
            raise InstrumentResponseError(self.name, get_cmd, f"cannot parse {answer!r}") from None

    def fset(self: ScpiInstrument, value: Any) -> None:
        self.write(set_cmd.format(value))

    return property(fget, fset, doc=doc)


def measurement(query: str, doc: str, *, cast: Callable[[str], Any] = _num) -> property:
    """A read-only value from ``query``."""

    def fget(self: ScpiInstrument) -> Any:
        answer = self.query(query)
        try:
            return cast(answer)
        except (ValueError, IndexError):
            raise InstrumentResponseError(self.name, query, f"cannot parse {answer!r}") from None

    return property(fget, doc=doc)


def on_off(text: str) -> bool:
    """SCPI boolean answer (``1``/``0``/``ON``/``OFF``)."""
    t = text.strip().upper()
    if t in ("1", "ON"):
        return True
    if t in ("0", "OFF"):
        return False
    raise ValueError(f"not a boolean: {text!r}")
