"""Serial numbers of V-series packs (SPEC §1): ``PV5`` + variant + YYMM + 7 digits + check.

The check character is ISO 7064 MOD 37,36 over the first 15 characters, so a scanner
typo is refused before a plan starts.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from common.models import ModelInfo, model_for_variant

ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_PATTERN = re.compile(r"^PV5([A-Z])(\d{2})(\d{2})(\d{7})([0-9A-Z])$")


class InvalidSerialError(ValueError):
    """A serial number that is malformed, has a wrong check character or variant."""


def check_character(body: str) -> str:
    """ISO 7064 MOD 37,36 (hybrid system) check character of ``body``."""
    m = len(ALPHABET)
    p = m
    for ch in body:
        try:
            value = ALPHABET.index(ch)
        except ValueError:
            raise InvalidSerialError(f"character {ch!r} is not 0-9 or A-Z") from None
        s = (p + value) % m or m
        p = (s * 2) % (m + 1)
    return ALPHABET[(m + 1 - p) % m]


@dataclass(frozen=True)
class SerialNumber:
    text: str
    model: ModelInfo
    year: int
    month: int
    sequence: int

    def __str__(self) -> str:
        return self.text


def parse_serial(text: str) -> SerialNumber:
    """Validate ``text`` and return its parts, or raise :class:`InvalidSerialError`."""
    raw = text.strip().upper()
    if len(raw) != 16:
        raise InvalidSerialError(f"serial {text!r}: expected 16 characters, got {len(raw)}")
    match = _PATTERN.match(raw)
    if not match:
        raise InvalidSerialError(
            f"serial {text!r}: expected PV5 + variant letter + YYMM + 7 digits + check character"
        )
    variant, yy, mm, seq, check = match.groups()
    try:
        model = model_for_variant(variant)
    except ValueError as exc:
        raise InvalidSerialError(f"serial {text!r}: {exc}") from None
    if not 1 <= int(mm) <= 12:
        raise InvalidSerialError(f"serial {text!r}: month {mm} is not 01-12")
    expected = check_character(raw[:15])
    if check != expected:
        raise InvalidSerialError(
            f"serial {text!r}: check character is {check!r}, expected {expected!r} (typo?)"
        )
    return SerialNumber(raw, model, 2000 + int(yy), int(mm), int(seq))


def make_serial(variant: str, year: int, month: int, sequence: int) -> str:
    """Build a valid serial (for the simulator's units and tests)."""
    body = f"PV5{variant}{year % 100:02d}{month:02d}{sequence:07d}"
    return body + check_character(body)
