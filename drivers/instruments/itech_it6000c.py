"""ITECH IT6000C bidirectional DC supply (e.g. IT6006C-80-150: 80 V, ±150 A, ±6 kW).

Programming guide: *ITECH IT6000C Series Programming Guide* (``VOLT``, ``CURR:LIM``,
``CURR:LIM:NEG`` in CV priority, ``VOLT:PROT``, ``OUTP ON|OFF``, ``MEAS:VOLT?``,
``MEAS:CURR?``, ``STAT:QUES:COND?``, ``PROT:CLE``, ``SYST:ERR?``). The IT6000C has no
output watchdog.
"""

from __future__ import annotations

from drivers.instruments.scpi_supply import ScpiSupply


class ItechIT6000C(ScpiSupply):
    dialect = "itech-it6000c"
    #: Line endings and error queue: LF both ways (SCPI over a raw socket), the SCPI
    #: error queue ``SYST:ERR?`` (SCPI-1999); see docs/instruments.md, "Dialects".
    write_termination, read_termination = "\n", "\n"
    has_error_queue = True
    #: Rating (ITECH IT6000C Series datasheet, model IT6006C-80-150): 80 V, ±150 A, ±6 kW.
    RATING_V, RATING_A, RATING_W = 80.0, 150.0, 6_000.0
    PROTECTION_BITS = {0: "OV", 1: "OC", 3: "OP", 4: "OT"}   # STAT:QUES:COND?
    PROTECTION_CLEAR = "PROT:CLE"
