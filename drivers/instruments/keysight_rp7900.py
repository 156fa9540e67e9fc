"""Keysight RP7900 regenerative (bidirectional) DC supply (e.g. RP7931A-style: 80 V,
±250 A, ±10 kW), with its output watchdog.

Programming guide: *Keysight RP7900 Series Regenerative Power System Programming Guide*
(``VOLT``, ``CURR:LIM``, ``CURR:LIM:NEG``, ``VOLT:PROT``, ``OUTP ON|OFF``, ``MEAS:VOLT?``,
``MEAS:CURR?``, ``STAT:QUES:COND?``, ``OUTP:PROT:CLE``, the watchdog
``OUTP:PROT:WDOG ON|OFF`` and ``OUTP:PROT:WDOG:DEL <s>``, and ``SYST:ERR?``).

The watchdog turns the output off when no SCPI I/O reaches the instrument for its delay,
so a station that dies leaves the supply off. :meth:`pet` is any harmless I/O.
"""

from __future__ import annotations

from drivers.instruments.scpi import control, on_off
from drivers.instruments.scpi_supply import ScpiSupply


class KeysightRP7900(ScpiSupply):
    dialect = "keysight-rp7900"
    #: Line endings and error queue: LF both ways (SCPI over a raw socket), the SCPI
    #: error queue ``SYST:ERR?`` (SCPI-1999); see docs/instruments.md, "Dialects".
    write_termination, read_termination = "\n", "\n"
    has_error_queue = True
    #: Rating (Keysight RP7900 Series data sheet, the 80 V / ±250 A / 10 kW model).
    RATING_V, RATING_A, RATING_W = 80.0, 250.0, 10_000.0
    has_watchdog = True
    #: Questionable1 condition bits that disable the output (Operating and Service Guide,
    #: "SCPI Programming Reference" > "Status Tutorial" > "Questionable Status Groups"):
    #: OV 0, OC 1, PF 2 (AC power fail), CP+ 3, OT 4, CP- 5 (negative over-power), INH 9
    #: (external inhibit), PROT 11 (the watchdog timer), EDP 12 (excessive dynamic
    #: protection). Bits 7, 8, 10 (LIM+, LIM-, UNR) are regulation states, not trips.
    PROTECTION_BITS = {0: "OV", 1: "OC", 2: "PF", 3: "OP", 4: "OT", 5: "OP-", 9: "INH",
                       11: "WDOG", 12: "EDP"}
    PROTECTION_CLEAR = "OUTP:PROT:CLE"

    _wdog = control("OUTP:PROT:WDOG?", "OUTP:PROT:WDOG {}", "watchdog enabled", cast=on_off)
    _wdog_delay = control("OUTP:PROT:WDOG:DEL?", "OUTP:PROT:WDOG:DEL {:g}", "watchdog delay, s")

    def arm_watchdog(self, delay_s: float) -> None:
        self._wdog_delay = delay_s
        self._wdog = "ON"
        self.watchdog_delay_s = float(delay_s)

    def disarm_watchdog(self) -> None:
        self._wdog = "OFF"
        self.watchdog_delay_s = 0.0

    def pet(self) -> None:
        self.check_errors("pet")
