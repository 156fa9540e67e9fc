"""Feasa-type LED analyser: fibres on the pack's LEDs, serial ASCII (57600 8N1, CR LF).

Programming guide: *Feasa LED Analyser User Manual*, "Commands" (``capture``,
``getrgbi01`` → ``RRR GGG BBB IIIII``, ``putsequence``, ``capturesequence``,
``getsequencetimes01``, ``getserial``). The sequence commands here are the station's
subset: ``putsequence <sample_ms> <points>`` sets the capture, ``capturesequence`` starts
it, and ``getsequencetimes01`` returns the on/off edges of fibre 01 as
``<ms>:<0|1>`` items separated by spaces (``none`` when the fibre never changed).
Errors are answered ``Error: <text>``.
"""

from __future__ import annotations

from drivers.instruments.errors import InstrumentCommandError, InstrumentResponseError
from drivers.instruments.roles import LedAnalyser, LedReading
from drivers.instruments.scpi import LineInstrument

#: How long after the station's end of a capture the analyser may still be finishing it.
SEQUENCE_GRACE_S = 1.0


class FeasaLedAnalyser(LedAnalyser, LineInstrument):
    dialect = "feasa-led"
    transport_kind = "serial"

    def _ask(self, command: str) -> str:
        answer = self.query_raw(command)
        if answer.lower().startswith("error"):
            raise InstrumentCommandError(self.name, command, answer)
        return answer

    def identify(self) -> str:
        return "FEASA,LED Analyser," + self._ask("getserial") + "," + self._ask("getversion")

    def _capture(self) -> None:
        self._ask("capture")

    def _reading(self, fibre: int) -> LedReading:
        command = f"getrgbi{fibre:02d}"
        answer = self._ask(command)
        try:
            r, g, b, i = (int(x) for x in answer.split())
        except ValueError:
            raise InstrumentResponseError(self.name, command, f"cannot parse {answer!r}") from None
        return LedReading(r, g, b, i)

    def _start_sequence(self, sample_ms: int, points: int) -> None:
        self._ask(f"putsequence {int(sample_ms)} {int(points)}")
        self._ask("capturesequence")

    def _sequence_edges(self, fibre: int) -> list[tuple[float, bool]]:
        command = f"getsequencetimes{fibre:02d}"
        deadline = self.clock.now() + SEQUENCE_GRACE_S
        while True:   # the analyser's own clock may end the capture a little after ours
            answer = self.query_raw(command)
            if "not finished" not in answer.lower() or self.clock.now() >= deadline:
                break
            self.clock.sleep(0.02)
        if answer.lower().startswith("error"):
            raise InstrumentCommandError(self.name, command, answer)
        if answer.strip() == "none":
            return []
        edges: list[tuple[float, bool]] = []
        for item in answer.split():
            try:
                ms, state = item.split(":")
                edges.append((int(ms) / 1000.0, state == "1"))
            except ValueError:
                raise InstrumentResponseError(self.name, command, f"bad item {item!r}") from None
        return edges
