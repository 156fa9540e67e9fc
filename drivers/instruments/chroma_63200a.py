"""Chroma 63200A high-power DC electronic load (e.g. a 12 kW / 150 V / 1200 A frame).

Programming guide: *Chroma Programmable DC Electronic Load 63200A Series Operation &
Programming Manual*, chapter "Remote Operation" (commands ``MODE CCH|CV|CPH|CRH``,
``CURR:STAT:L1``, ``VOLT:STAT:L1``, ``POW:STAT:L1``, ``RES:STAT:L1``, ``LOAD ON|OFF``,
``LOAD:SHOR ON|OFF``, ``LOAD:PROT?``, ``LOAD:PROT:CLE``, ``MEAS:VOLT?``, ``MEAS:CURR?``,
``MEAS:POW?``, the digitizer ``DIG:SAMP:TIME``, ``DIG:SAMP:POIN``, ``DIG:TRIG``,
``FETC:ARR:CURR?`` and ``SYST:ERR?``).
"""

from __future__ import annotations

from drivers.instruments.scpi_load import ScpiLoad


class Chroma63200A(ScpiLoad):
    dialect = "chroma-63200a"
    #: Line endings and error queue: LF both ways (SCPI over a raw socket), the SCPI
    #: error queue ``SYST:ERR?`` (SCPI-1999); see docs/instruments.md, "Dialects".
    write_termination, read_termination = "\n", "\n"
    has_error_queue = True
    #: Rating (Chroma 63200A Series datasheet, model 63212A-150-1200): 150 V, 1200 A, 12 kW.
    RATING_V, RATING_A, RATING_W = 150.0, 1200.0, 12_000.0

    MODES = {"cc": "MODE CCH", "cv": "MODE CV", "cp": "MODE CPH", "cr": "MODE CRH"}
    LEVELS = {"cc": "CURR:STAT:L1", "cv": "VOLT:STAT:L1", "cp": "POW:STAT:L1", "cr": "RES:STAT:L1"}
    INPUT = "LOAD"
    SHORT = "LOAD:SHOR"
    PROTECTION_QUERY = "LOAD:PROT?"
    #: 63200A manual, "Status Reporting", Table 8-1 (bits cleared by LOAD:PROT:CLE): OC 0,
    #: OV 1, OP 2, RV 3, OT 4; 5-8 and 12-14 are states (load on, short on, spec test,
    #: fan ...), not trips.
    PROTECTION_BITS = {0: "OC", 1: "OV", 2: "OP", 3: "RV", 4: "OT"}
    PROTECTION_CLEAR = "LOAD:PROT:CLE"
    CAPTURE_INTERVAL = "DIG:SAMP:TIME"
    CAPTURE_POINTS = "DIG:SAMP:POIN"
    CAPTURE_TRIGGER = "DIG:TRIG"
    #: Digitizer (63200A Series data sheet, "Digitizing function": sampling time 2 µs ~
    #: 40 ms, 1 ~ 15000 points; not verified against a copy of the manual, see
    #: docs/instruments.md): 5000 points at 100 Hz (50 s) fit, 150 s at 100 Hz at most.
    CAPTURE_MIN_DT_S, CAPTURE_MAX_DT_S, CAPTURE_MAX_POINTS = 2e-6, 0.04, 15_000
