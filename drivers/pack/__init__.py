"""Station drivers for the pack's three ports: CAN monitor, RS485 client, console client.

Each works on whatever transport the station file names: a pty or /dev/ttyUSB0, a TCP
serial gateway (``socket://host:port``), a real CAN interface or python-can's virtual bus.
"""

from drivers.pack.can_monitor import CanMonitor, CanPortError
from drivers.pack.console import ConsoleClient, ConsoleError
from drivers.pack.rs485 import Rs485Client, Rs485Error

__all__ = [
    "CanMonitor", "CanPortError", "ConsoleClient", "ConsoleError", "Rs485Client", "Rs485Error",
]
