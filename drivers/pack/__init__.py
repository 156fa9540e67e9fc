"""Station drivers for the pack's three ports: CAN monitor, RS485 client, console client.

Each works on whatever transport the station file names: a pty or /dev/ttyUSB0, a TCP
serial gateway (``socket://host:port``), a real CAN interface or python-can's virtual bus.
"""

from drivers.pack.can_monitor import CanMonitor
from drivers.pack.console import ConsoleClient
from drivers.pack.errors import (
    CanPortError,
    ConsoleError,
    ConsoleRefused,
    ConsoleTimeout,
    PackPortError,
    Rs485Error,
    Rs485FrameError,
    Rs485RtnError,
    Rs485Timeout,
)
from drivers.pack.rs485 import Rs485Client

__all__ = [
    "CanMonitor", "CanPortError", "ConsoleClient", "ConsoleError", "ConsoleRefused",
    "ConsoleTimeout", "PackPortError", "Rs485Client", "Rs485Error", "Rs485FrameError",
    "Rs485RtnError", "Rs485Timeout",
]
