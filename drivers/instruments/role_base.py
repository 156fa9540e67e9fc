"""The base of every role: a name, the station clock, the envelope, a safe state.

Kept apart from ``roles.py`` so that a role in its own module (``daq_role.py``) and the
role table import it without a cycle.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar

from common.clock import Clock
from drivers.instruments.envelope import Envelope
from drivers.instruments.transport import Transport


class Role(ABC):
    """What every role object has: a name, the station clock, the envelope, a safe state.

    A dialect is ``class X(<Role>, <LineInstrument subclass>)``: the instrument side
    provides the transport, ``identify()`` (``*IDN?`` or the vendor's equivalent),
    ``write``/``query`` and ``close()``.
    """

    name: str

    role: ClassVar[str]
    #: ``visa`` or ``serial``: how the station opens this dialect's address.
    transport_kind: ClassVar[str] = "visa"
    #: True when the instrument has an output watchdog the station must keep fed.
    has_watchdog: ClassVar[bool] = False

    def __init__(
        self,
        transport: Transport,
        *,
        name: str,
        envelope: Envelope,
        clock: Clock,
        options: Mapping[str, Any] | None = None,
    ) -> None:
        self.envelope = envelope
        self.clock = clock
        self.options = dict(options or {})
        super().__init__(transport, name=name)  # type: ignore[call-arg]  # the LineInstrument

    if TYPE_CHECKING:   # the instrument side's, for the type checker only: at run time a
        # method here would come before the LineInstrument's in a dialect's bases
        @abstractmethod
        def identify(self) -> str: ...
        @abstractmethod
        def close(self) -> None: ...

    @abstractmethod
    def safe_state(self) -> None:
        """Put this instrument where it cannot hurt the pack or a person; idempotent."""

    def pet(self) -> None:
        """Keep an output watchdog fed (no-op for instruments without one)."""
        return None

    def arm_watchdog(self, delay_s: float) -> None:
        """Arm the output watchdog (no-op for instruments without one)."""
        del delay_s
