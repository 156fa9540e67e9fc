"""The read-only dumps of a returned pack (CERT-RMA R03): each command's raw reply, kept
byte for byte, and what the parsers read from it.

Only the read commands reach the wire (``ConsoleClient.read_only``); every page of ``log``
is read, so a log longer than one page is read whole. A reply a parser cannot read is kept
raw with the reason, never guessed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from drivers.pack import console_parse as cp
from drivers.pack.console import ConsoleClient
from drivers.pack.errors import ConsoleError

#: The most log pages read (the log holds 1000 events; 20 a page on a Pytes pack).
MAX_LOG_PAGES = 100


@dataclass(frozen=True)
class Dump:
    command: str
    raw: bytes
    parsed: Any = None
    problem: str = ""     # why ``parsed`` is None


@dataclass
class HistoryDump:
    """Every R03 dump of one pack, in the order read."""

    dumps: list[Dump] = field(default_factory=list)

    def parsed(self, command: str) -> Any:
        return next((d.parsed for d in self.dumps if d.command == command), None)

    @property
    def log(self) -> list[cp.LogEntry]:
        return [e for d in self.dumps if d.command.split()[0] == "log" and d.parsed
                for e in d.parsed.entries]

    @property
    def stat(self) -> cp.Stat | None:
        return self.parsed("stat")

    @property
    def pack_time(self) -> datetime | None:
        return self.parsed("time")


def _dump(console: ConsoleClient, line: str, parser: Any) -> Dump:
    try:
        reply = console.command(line)
    except ConsoleError as exc:
        return Dump(line, exc.raw or b"", None, str(exc))
    try:
        return Dump(line, reply.raw, parser(reply.body))
    except ConsoleError as exc:
        return Dump(line, reply.raw, None, str(exc))


def read_history(console: ConsoleClient, pack: int = 1) -> HistoryDump:
    """``info``, ``pwr``, ``pwr N``, ``bat N``, ``soh N``, ``stat``, every page of ``log``,
    ``data event``, ``time`` (CERT-RMA R03)."""
    out = HistoryDump()
    for line, parser in (("info", cp.parse_info), ("pwr", cp.parse_pwr),
                         (f"pwr {pack}", cp.parse_pwr_detail), (f"bat {pack}", cp.parse_bat),
                         (f"soh {pack}", cp.parse_soh_cells), ("stat", cp.parse_stat)):
        out.dumps.append(_dump(console, line, parser))
    page, pages = 1, 1
    while page <= min(pages, MAX_LOG_PAGES):
        d = _dump(console, "log" if page == 1 else f"log {page}", cp.parse_log_page)
        out.dumps.append(d)
        if d.parsed is None:
            break
        pages = d.parsed.pages
        page += 1
    out.dumps.append(_dump(console, "data event", cp.parse_data_event))
    out.dumps.append(_dump(console, "time", cp.parse_time))
    return out
