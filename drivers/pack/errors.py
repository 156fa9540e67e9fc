"""One named error type per pack port, each carrying the raw bytes that caused it."""

from __future__ import annotations

from common.pylon_rs485 import RTN_NAMES


class PackPortError(Exception):
    """Base of the pack ports' errors."""

    def __init__(self, message: str, raw: bytes = b"") -> None:
        super().__init__(f"{message} (raw {bytes(raw)!r})" if raw else message)
        self.raw = bytes(raw)


class Rs485Error(PackPortError):
    """RS485: no answer, a corrupt answer, or an RTN other than 00."""


class Rs485Timeout(Rs485Error):
    """No complete frame within the timeout, after every retry."""


class Rs485FrameError(Rs485Error):
    """A response that is not a valid frame (checksum, length, layout)."""


class Rs485RtnError(Rs485Error):
    """The pack answered with an RTN other than 00; subclasses name each RTN."""

    rtn: int = -1

    def __init__(self, message: str, raw: bytes = b"", rtn: int | None = None) -> None:
        if rtn is not None:
            self.rtn = rtn
        super().__init__(f"RTN {self.rtn:02X} {RTN_NAMES.get(self.rtn, 'unknown')}: {message}", raw)


class VersionRejected(Rs485RtnError):
    rtn = 0x01


class ChecksumRejected(Rs485RtnError):
    rtn = 0x02


class LengthChecksumRejected(Rs485RtnError):
    rtn = 0x03


class CommandRejected(Rs485RtnError):
    rtn = 0x04


class FormatRejected(Rs485RtnError):
    rtn = 0x05


class DataRejected(Rs485RtnError):
    rtn = 0x06


class AddressRejected(Rs485RtnError):
    rtn = 0x90


class InternalCommError(Rs485RtnError):
    rtn = 0x91


class UnknownRtn(Rs485RtnError):
    """An RTN the protocol does not define."""


RTN_ERRORS: dict[int, type[Rs485RtnError]] = {
    cls.rtn: cls
    for cls in (VersionRejected, ChecksumRejected, LengthChecksumRejected, CommandRejected,
                FormatRejected, DataRejected, AddressRejected, InternalCommError)
}


def rtn_error(rtn: int, message: str, raw: bytes) -> Rs485RtnError:
    cls = RTN_ERRORS.get(rtn)
    if cls is None:
        return UnknownRtn(message, raw, rtn)
    return cls(message, raw)


class ConsoleError(PackPortError):
    """Console: no prompt, an unparsable reply, or a command the pack refused."""


class ConsoleTimeout(ConsoleError):
    """The prompt did not come back within the timeout."""


class ConsoleRefused(ConsoleError):
    """The pack printed an error instead of ``Command completed successfully``."""


class CanPortError(PackPortError):
    """CAN: the bus failed, or a frame could not be decoded."""
