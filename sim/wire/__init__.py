"""The simulated pack's wire side: RS485 responder, console, CAN broadcaster, transports.

Sessions are transport-free (bytes in, bytes out); :mod:`sim.wire.serial_server` carries
them over a pty or TCP with wire-time accounting, :mod:`sim.wire.socketcand` carries CAN
to other processes.
"""

from __future__ import annotations

from collections.abc import Callable

from sim.pack.interface import SimPackApi
from sim.wire.console import Console
from sim.wire.link import Stack
from sim.wire.rs485 import Rs485Responder
from sim.wire.serial_server import Session


def rs485_session(pack: SimPackApi, stack: Callable[[], Stack] | None = None) -> Session:
    """A fresh RS485 session (own receive buffer) on ``pack``, answering for its stack."""
    responder = Rs485Responder(pack, stack)
    return lambda data: [resp for _, resp in responder.feed(data)]


def console_session(pack: SimPackApi, stack: Callable[[], Stack] | None = None) -> Session:
    console = Console(pack, stack)
    return lambda data: [console.feed(data)]
