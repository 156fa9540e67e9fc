"""Dialect id → driver class, like python-can's interface registry.

Entries are ``"module:Class"`` strings imported on first use, so opening a station loads
only the dialects it names. A station file names a dialect by its id; adding an instrument
is one class plus one line here (or :func:`register` from a plug-in).
"""

from __future__ import annotations

import importlib

from drivers.instruments.errors import UnknownDialectError
from drivers.instruments.roles import Role

#: dialect id → (role key, "module:Class")
DIALECTS: dict[str, tuple[str, str]] = {
    "chroma-63200a": ("load", "drivers.instruments.chroma_63200a:Chroma63200A"),
    "itech-it8900a": ("load", "drivers.instruments.itech_it8900a:ItechIT8900A"),
    "itech-it6000c": ("supply", "drivers.instruments.itech_it6000c:ItechIT6000C"),
    "keysight-rp7900": ("supply", "drivers.instruments.keysight_rp7900:KeysightRP7900"),
    "espec-scp220": ("chamber", "drivers.instruments.espec_scp220:EspecSCP220"),
    "watlow-f4t": ("chamber", "drivers.instruments.watlow_f4t:WatlowF4T"),
    "keysight-daq970a": ("daq", "drivers.instruments.keysight_daq970a:KeysightDAQ970A"),
    "feasa-led": ("leds", "drivers.instruments.feasa:FeasaLedAnalyser"),
    "chroma-19032": ("safety", "drivers.instruments.chroma_19032:Chroma19032"),
    "keysight-infiniivision": ("short_circuit", "drivers.instruments.keysight_infiniivision:KeysightInfiniiVision"),
}


def register(dialect: str, role: str, target: str) -> None:
    """Add a dialect at run time (``target`` = ``"package.module:Class"``)."""
    DIALECTS[dialect] = (role, target)


def dialects_for(role: str) -> list[str]:
    return sorted(d for d, (r, _) in DIALECTS.items() if r == role)


def role_of(dialect: str) -> str:
    try:
        return DIALECTS[dialect][0]
    except KeyError:
        raise UnknownDialectError(
            f"unknown dialect {dialect!r}; known dialects: {', '.join(sorted(DIALECTS))}"
        ) from None


def get_dialect(dialect: str) -> type[Role]:
    """The driver class of ``dialect``."""
    role_of(dialect)
    module_name, _, class_name = DIALECTS[dialect][1].partition(":")
    cls = getattr(importlib.import_module(module_name), class_name)
    if not (isinstance(cls, type) and issubclass(cls, Role)):
        raise TypeError(f"dialect {dialect!r} target {cls!r} is not a role class")
    return cls
