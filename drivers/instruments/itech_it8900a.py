"""ITECH IT8900A high-power DC electronic load (e.g. an 18 kW / 150 V / 1200 A model).

Programming guide: *ITECH IT8900A/E Series High Power DC Electronic Load Programming Guide*
(commands ``FUNC CURR|VOLT|POW|RES``, ``CURR``, ``VOLT``, ``POW``, ``RES``, ``INP ON|OFF``,
``INP:SHOR ON|OFF``, ``MEAS:VOLT?``, ``MEAS:CURR?``, ``MEAS:POW?``, the questionable status
``STAT:QUES:COND?``, ``PROT:CLE``, the acquisition ``SENS:SWE:TINT``, ``SENS:SWE:POIN``,
``TRIG:ACQ``, ``FETC:ARR:CURR?`` and ``SYST:ERR?``).
"""

from __future__ import annotations

from drivers.instruments.scpi_load import ScpiLoad


class ItechIT8900A(ScpiLoad):
    dialect = "itech-it8900a"
    #: Line endings and error queue: LF both ways (SCPI over a raw socket), the SCPI
    #: error queue ``SYST:ERR?`` (SCPI-1999); see docs/instruments.md, "Dialects".
    write_termination, read_termination = "\n", "\n"
    has_error_queue = True
    #: Rating (ITECH IT8900A/E Series datasheet, model IT8918A-150-1200): 150 V, 1200 A, 18 kW.
    RATING_V, RATING_A, RATING_W = 150.0, 1200.0, 18_000.0

    MODES = {"cc": "FUNC CURR", "cv": "FUNC VOLT", "cp": "FUNC POW", "cr": "FUNC RES"}
    LEVELS = {"cc": "CURR", "cv": "VOLT", "cp": "POW", "cr": "RES"}
    INPUT = "INP"
    SHORT = "INP:SHOR"
    PROTECTION_QUERY = "STAT:QUES:COND?"
    #: ITECH's questionable register (IT8500+ Programming Guide, ch. 2 "SCPI Status
    #: Register"): VF 0 (an over-voltage or a reverse voltage, FLT pin), OC 1, OP 3, OT 4,
    #: OV 13 (set with VF, the input turned off); all held until ``PROT:CLE``
    PROTECTION_BITS = {0: "VF", 1: "OC", 3: "OP", 4: "OT", 13: "OV"}
    PROTECTION_CLEAR = "PROT:CLE"
    CAPTURE_INTERVAL = "SENS:SWE:TINT"
    CAPTURE_POINTS = "SENS:SWE:POIN"
    CAPTURE_TRIGGER = "TRIG:ACQ"
    #: Acquisition buffer: 4096 points from 10 µs (the SENSe:SWEep model the command set
    #: follows, as Keysight's N3300A loads document it; the IT8900A's own figures and its
    #: slowest interval, taken as 40 ms, are not verified, see docs/instruments.md): at
    #: 100 Hz at most 40.96 s, so 50 s at >= 100 Hz is refused on this dialect.
    CAPTURE_MIN_DT_S, CAPTURE_MAX_DT_S, CAPTURE_MAX_POINTS = 1e-5, 0.04, 4096
