"""Named instrument errors, so a plan's record says which instrument, command and text failed."""

from __future__ import annotations


class InstrumentError(Exception):
    """Base of every instrument failure; carries the role/instrument, the command and the text."""

    def __init__(self, instrument: str, command: str | None, text: str) -> None:
        self.instrument = instrument
        self.command = command
        self.text = text
        where = f" on {command!r}" if command else ""
        super().__init__(f"{instrument}{where}: {text}")


class InstrumentCommandError(InstrumentError):
    """The instrument reported an error (SCPI error queue, ``NA:`` answer, refusal)."""

    def __init__(self, instrument: str, command: str | None, text: str, code: int | None = None):
        self.code = code
        super().__init__(instrument, command, text)


class InstrumentConnectionError(InstrumentError):
    """The transport failed: connection lost or refused, or no answer within the timeout."""


class InstrumentResponseError(InstrumentError):
    """An answer that does not parse as the dialect says it should."""


class EnvelopeViolation(InstrumentError):
    """A command outside the station's safe envelope, refused before it reached the wire."""


class CaptureRefused(InstrumentError, ValueError):
    """A capture the instrument cannot make (too fast, too long for its memory), refused
    before anything is written, so the plan learns it before it switches anything on."""


class RampRefused(InstrumentError, ValueError):
    """A chamber ramp the role will not send (a rate not a positive finite number or above
    the chamber's rated rate), refused before anything is written."""


class UnknownDialectError(KeyError):
    """A dialect id that the registry does not know."""

    def __str__(self) -> str:  # KeyError quotes its argument; keep the message readable
        return str(self.args[0]) if self.args else "unknown dialect"
