"""Keysight InfiniiVision 3000T / 4000 X-Series oscilloscope: the short-circuit fixture's
capture, channel ``options.channel`` (default 1) across the fixture's coaxial shunt
(``options.shunt_ohm``), one single acquisition triggered on the rising current.

Programming guide: *Keysight InfiniiVision 4000 X-Series Oscilloscopes Programmer's Guide*
(and the 3000T X-Series guide, the same command set). Checked in public copies of the guides
(docs/instruments.md, "Commands and their sources"):

- ``:TER?`` reads and clears the Trigger Event Register, 1 once a trigger occurred (4000 X
  guide, Root (:) Commands, ":TER (Trigger Event Register)", p. 296; 3000T guide p. 229).
- ``:WAVeform:DATA?`` returns the record as an IEEE 488.2 definite-length block
  (``#8`` + eight length digits), formatted by ``:WAVeform:FORMat`` / ``:SOURce`` /
  ``:POINts`` (4000 X guide, :WAVeform Commands, ":WAVeform:DATA", p. 1243); in ASCii the
  values are "converted internally and sent as floating point values separated by commas",
  and a sample's time is ``(index − xreference) × xincrement + xorigin`` (the InfiniiVision
  1000 X guide's "Introduction to :WAVeform Commands", p. 638, the same subsystem).
- ``:WAVeform:PREamble?`` (4000 X p. 1250), ``:WAVeform:POINts`` (p. 1246),
  ``:WAVeform:FORMat`` (p. 1245), ``:WAVeform:SOURce`` (p. 1255): named in ":WAVeform:DATA"'s
  "See Also"; the preamble's ten fields (format, type, points, count, xincrement, xorigin,
  xreference, yincrement, yorigin, yreference) and ASCii as format 4 are this project's
  reading, **not verified against a public manual page**.
- ``:SINGle``, ``:STOP`` (listed among the Root (:) Commands of the 3000 X guide's
  contents); ``:TIMebase:SCALe``, ``:TIMebase:POSition``, ``:CHANnel<n>:SCALe``,
  ``:CHANnel<n>:OFFSet``, ``:CHANnel<n>:PROBe``, ``:TRIGger:SWEep NORMal``,
  ``:TRIGger[:EDGE]:SOURce``, ``:TRIGger[:EDGE]:LEVel``, ``:TRIGger[:EDGE]:SLOPe``,
  ``:WAVeform:POINts:MODE RAW`` and ``:SYSTem:ERRor?``: **not verified against a public
  manual** (the names are the guide's subsystems as this project reads them).

ASCii, not WORD: the station's transports are text lines, and a WORD block can hold a
line feed byte; ASCii keeps the block and its length check. The record is read in volts and
divided by the shunt's resistance. A sample off the screen (clipped, sent as 9.9E+37 by the
simulator; the real instrument's clipped ASCii value is not verified) becomes NaN.
"""

from __future__ import annotations

import math
import re

from drivers.instruments.errors import InstrumentResponseError
from drivers.instruments.roles import Capture, ShortCircuitCapture
from drivers.instruments.scpi import OVER_RANGE, ScpiInstrument

_BLOCK = re.compile(r"^#([1-9])")


def parse_block(answer: str) -> str:
    """The body of an IEEE 488.2 definite-length block ``#<n><n digits><body>``."""
    m = _BLOCK.match(answer)
    if not m:
        raise ValueError(f"not a definite-length block: {answer[:20]!r}")
    n = int(m.group(1))
    length = int(answer[2:2 + n])
    body = answer[2 + n:]
    if len(body) != length:
        raise ValueError(f"block says {length} bytes, holds {len(body)}")
    return body


class KeysightInfiniiVision(ShortCircuitCapture, ScpiInstrument):
    dialect = "keysight-infiniivision"
    #: LF both ways on its LAN socket (port 5025), the SCPI error queue ``:SYSTem:ERRor?``.
    write_termination, read_termination = "\n", "\n"
    has_error_queue = True
    error_query = ":SYSTem:ERRor?"

    def _arm(self, window_s: float, pre_trigger_s: float, points: int, trigger_a: float,
             full_scale_a: float) -> None:
        ch, ohm = self.channel, self.shunt_ohm
        div_s = window_s / 10.0                       # ten horizontal divisions
        div_v = full_scale_a * ohm / 8.0              # eight vertical divisions
        centre_v = 0.4 * full_scale_a * ohm           # the screen from −10 % to 90 %
        for command in (
            ":STOP",
            f":CHANnel{ch}:PROBe 1",                  # the shunt's volts, divided here
            f":CHANnel{ch}:SCALe {div_v:.6E}",
            f":CHANnel{ch}:OFFSet {centre_v:.6E}",
            f":TIMebase:SCALe {div_s:.6E}",
            f":TIMebase:POSition {5.0 * div_s - pre_trigger_s:.6E}",   # the centre after the trigger
            ":TRIGger:SWEep NORMal",                  # wait for the edge, never auto-trigger
            f":TRIGger:EDGE:SOURce CHANnel{ch}",
            ":TRIGger:EDGE:SLOPe POSitive",
            f":TRIGger:EDGE:LEVel {trigger_a * ohm:.6E}",
            f":WAVeform:SOURce CHANnel{ch}",
            ":WAVeform:FORMat ASCii",
            ":WAVeform:POINts:MODE RAW",
            f":WAVeform:POINts {points}",
        ):
            self.write(command)
        self.query(":TER?")                           # read clears an old trigger event
        self.write(":SINGle")
        self._window_s = window_s

    def _triggered(self) -> bool:
        return self.query(":TER?").strip().lstrip("+") == "1"

    def _fetch(self) -> Capture:
        # the post-trigger part of the record fills after the trigger: at most the window
        self.clock.sleep(getattr(self, "_window_s", 0.0))
        pre = self.query(":WAVeform:PREamble?")
        try:
            fields = [float(x) for x in pre.split(",")]
            _fmt, _typ, points, _count, x_inc, x_origin, x_ref = fields[:7]
            body = parse_block(self.query(":WAVeform:DATA?"))
            volts = [float(x) for x in body.split(",")] if body else []
        except (ValueError, IndexError) as exc:
            raise InstrumentResponseError(self.name, ":WAVeform:DATA?", str(exc)) from None
        if len(volts) != int(points) or not (x_inc > 0 and math.isfinite(x_inc)):
            raise InstrumentResponseError(self.name, ":WAVeform:DATA?",
                                          f"{len(volts)} points for a preamble of {int(points)}, "
                                          f"interval {x_inc!r}")
        ohm = self.shunt_ohm
        amps = tuple(math.nan if abs(v) >= OVER_RANGE or not math.isfinite(v) else v / ohm for v in volts)
        return Capture(t0=x_origin - x_ref * x_inc, dt=x_inc, samples=amps)

    def _stop(self) -> None:
        self.write(":STOP")
