"""Pylon low-voltage CAN (SPEC §5) through the shipped DBC, for both the pack and the station.

The DBC file beside this module is the single description of the frames: the simulated
pack encodes with it and the station's CAN monitor decodes with it, so a layout mistake
shows up as a failing test instead of two matching mistakes.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import cantools
from cantools.database.can import Database, Message

DBC_PATH = Path(__file__).with_name("pylon_can.dbc")

LIMITS_ID = 0x351
SOC_SOH_ID = 0x355
MEASUREMENTS_ID = 0x356
ALARMS_ID = 0x359
REQUESTS_ID = 0x35C
NAME_ID = 0x35E
HEARTBEAT_ID = 0x305

#: The six frames the BMS sends about once a second, in the order it sends them.
BMS_FRAME_IDS: tuple[int, ...] = (
    LIMITS_ID, SOC_SOH_ID, MEASUREMENTS_ID, ALARMS_ID, REQUESTS_ID, NAME_ID,
)
#: The six frames by their SPEC name (the station's and the unit description's word for them).
FRAME_NAMES: dict[str, int] = {
    "limits": LIMITS_ID, "soc_soh": SOC_SOH_ID, "measurements": MEASUREMENTS_ID,
    "alarms": ALARMS_ID, "requests": REQUESTS_ID, "name": NAME_ID,
}
#: Nominal period of every BMS frame and of the inverter heartbeat, s.
PERIOD_S = 1.0
#: The name frame carries the manufacturer's ASCII bytes, at most this many; its DLC is
#: their number (SPEC §5: ``PYTES`` DLC 5, a Pylontech pack ``PYLON   `` DLC 8).
NAME_MAX_BYTES = 8
HEARTBEAT_DATA = bytes(8)


class CanCodecError(ValueError):
    """A frame that the DBC cannot encode or decode; names the frame and the bytes."""


@cache
def database() -> Database:
    """The Pylon DBC, loaded once per process."""
    db = cantools.database.load_file(str(DBC_PATH))
    assert isinstance(db, Database)
    return db


@cache
def message(frame_id: int) -> Message:
    try:
        return database().get_message_by_frame_id(frame_id)
    except KeyError:
        raise CanCodecError(f"CAN ID 0x{frame_id:03X} is not in {DBC_PATH.name}") from None


def frame_name(frame_id: int) -> str:
    return message(frame_id).name


def encode(frame_id: int, signals: dict[str, float]) -> bytes:
    """Data bytes of one frame from its physical signal values (range-checked by cantools)."""
    msg = message(frame_id)
    try:
        return bytes(msg.encode(signals, strict=True))
    except (cantools.database.EncodeError, KeyError, ValueError) as exc:
        raise CanCodecError(f"cannot encode {msg.name} (0x{frame_id:03X}): {exc}") from exc


def decode(frame_id: int, data: bytes) -> dict[str, float]:
    """Physical signal values of one frame; the DLC must be the DBC's (the name frame: any
    DLC up to 8, one ``CharN`` per byte present)."""
    msg = message(frame_id)
    if frame_id == NAME_ID and len(data) <= NAME_MAX_BYTES:
        return msg.decode(bytes(data), decode_choices=False,  # type: ignore[return-value]
                          allow_truncated=True)
    if len(data) != msg.length:
        raise CanCodecError(
            f"{msg.name} (0x{frame_id:03X}) has DLC {len(data)}, expected {msg.length}: "
            f"{bytes(data).hex(' ')}")
    return msg.decode(bytes(data), decode_choices=False)  # type: ignore[return-value]


def decode_fields(frame_id: int, data: bytes) -> tuple[dict[str, float], dict[str, str]]:
    """A frame of any DLC, read as far as its bytes go: (the signals its bytes hold, the
    DBC's other signals → why they cannot be read). Bytes beyond the DBC's length are
    ignored (a client that pads every frame to 8); a signal past the last byte is not
    guessed. For the station's leniency towards real packs (docs/protocols.md)."""
    msg = message(frame_id)
    data = bytes(data)
    readable: dict[str, float] = msg.decode(  # type: ignore[assignment]
        data[: msg.length], decode_choices=False, allow_truncated=True)
    unreadable = {
        sig.name: (f"{msg.name} (0x{frame_id:03X}) came with DLC {len(data)}; {sig.name} "
                   f"needs byte {(sig.start + sig.length - 1) // 8} of {msg.length}")
        for sig in msg.signals if sig.name not in readable
    }
    return readable, unreadable


def encode_name(name: str) -> bytes:
    """0x35E data: the manufacturer's ASCII bytes as they are, at most 8 (DLC = their
    number; a pack that pads, as Pylontech's ``PYLON   `` does, has the padding in its name)."""
    try:
        return name.encode("ascii")[:NAME_MAX_BYTES]
    except UnicodeEncodeError:
        raise CanCodecError(f"manufacturer name {name!r} is not ASCII") from None


def decode_name(signals: dict[str, float]) -> str:
    """The text of a decoded name frame, trailing spaces and NULs removed."""
    chars = (signals.get(f"Char{i}") for i in range(NAME_MAX_BYTES))
    return "".join(chr(int(c)) for c in chars if c is not None).rstrip(" \0")
