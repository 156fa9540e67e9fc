"""A small SCPI command interpreter for the simulated instruments.

Headers are matched the SCPI way (short or long form, optional ``[nodes]``, any case); a
device registers handlers per header. Unknown headers go to the error queue as
``-113,"Undefined header"``, bad numbers as ``-104,"Data type error"``, values outside the
instrument's range as ``-222,"Data out of range"``; none of them produce an answer, as on
a real instrument. ``SYST:ERR?``, ``*IDN?``, ``*CLS``, ``*RST`` and ``*OPC?`` are built in.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Callable

Answer = "str | None"
Command = Callable[[str], "str | None"]


class ScpiError(Exception):
    def __init__(self, code: int, text: str) -> None:
        super().__init__(f'{code},"{text}"')
        self.code = code
        self.text = text


def out_of_range(what: str = "") -> ScpiError:
    return ScpiError(-222, "Data out of range" + (f"; {what}" if what else ""))


_WORD = re.compile(r"^([A-Z0-9_]+)([a-z]*)(\d*)$")


def compile_header(pattern: str) -> re.Pattern[str]:
    """``[SOURce:]CURRent[:LEVel]?`` → a regex matching ``CURR``, ``SOUR:CURRENT:LEV`` ..."""
    out: list[str] = []
    i = 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "[":
            out.append("(?:")
        elif ch == "]":
            out.append(")?")
        elif ch in ":?*":
            out.append(re.escape(ch))
        else:
            j = i
            while j < len(pattern) and (pattern[j].isalnum() or pattern[j] == "_"):
                j += 1
            m = _WORD.match(pattern[i:j])
            if not m:
                raise ValueError(f"bad SCPI mnemonic {pattern[i:j]!r} in {pattern!r}")
            short, rest, suffix = m.groups()
            out.append(re.escape(short) + (f"(?:{re.escape(rest.upper())})?" if rest else ""))
            out.append(re.escape(suffix))
            i = j
            continue
        i += 1
    return re.compile("^" + "".join(out) + "$")


def number(arg: str, lo: float, hi: float, *, what: str = "") -> float:
    """Parse an SCPI number (``MIN``/``MAX`` allowed) and check it against the range."""
    a = arg.strip().upper()
    if a in ("MIN", "MINIMUM"):
        return lo
    if a in ("MAX", "MAXIMUM"):
        return hi
    try:
        value = float(a.rstrip("AVWS").rstrip("OHM") if a else "x")
    except ValueError:
        raise ScpiError(-104, "Data type error") from None
    if value != value or not lo <= value <= hi:
        raise out_of_range(what)
    return value


def boolean(arg: str) -> bool:
    a = arg.strip().upper()
    if a in ("1", "ON"):
        return True
    if a in ("0", "OFF"):
        return False
    raise ScpiError(-224, "Illegal parameter value")


class ScpiDevice:
    """Command table + error queue; ``handle(line)`` is a :class:`LineServer` handler."""

    QUEUE_SIZE = 20

    def __init__(self, idn: str) -> None:
        self.idn = idn
        self.errors: deque[tuple[int, str]] = deque()
        self._table: list[tuple[re.Pattern[str], Command]] = []
        self.on_activity: Callable[[], None] | None = None
        self.on_reset: Callable[[], None] | None = None
        self.add("*IDN?", lambda _: self.idn)
        self.add("*CLS", lambda _: self.errors.clear())
        self.add("*RST", lambda _: self.on_reset() if self.on_reset else None)
        self.add("*OPC?", lambda _: "1")
        self.add("SYSTem:ERRor[:NEXT]?", lambda _: self._next_error())

    def add(self, pattern: str, fn: Command) -> None:
        self._table.append((compile_header(pattern), fn))

    def push_error(self, code: int, text: str) -> None:
        if len(self.errors) >= self.QUEUE_SIZE:
            self.errors.pop()
            self.errors.append((-350, "Queue overflow"))
            return
        self.errors.append((code, text))

    def _next_error(self) -> str:
        if not self.errors:
            return '+0,"No error"'
        code, text = self.errors.popleft()
        return f'{code},"{text}"'

    def handle(self, line: str) -> str | None:
        if self.on_activity is not None:
            self.on_activity()
        answers = [a for a in (self._one(part.strip()) for part in line.split(";")) if a is not None]
        return ";".join(answers) if answers else None

    def _one(self, command: str) -> str | None:
        if not command:
            return None
        header, _, args = command.partition(" ")
        key = header.lstrip(":").upper()
        for rx, fn in self._table:
            if rx.match(key):
                try:
                    return fn(args.strip())
                except ScpiError as exc:
                    self.push_error(exc.code, exc.text)
                    return None
                except (ValueError, TypeError, IndexError, KeyError, ArithmeticError):
                    self.push_error(-100, "Command error")  # malformed argument: never a crash
                    return None
        self.push_error(-113, "Undefined header")
        return None
