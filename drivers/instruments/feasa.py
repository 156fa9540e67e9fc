"""Feasa LED analyser: fibres on the pack's LEDs, serial ASCII (57600 8N1, CR LF).

Programming guide: *Feasa LED Analyser User Manual, Functional Version* (rev. 8.7),
"Capture Commands" (``capture``), "Get Data" (``getrgbi##`` → ``RRR GGG BBB IIIII``),
``getserial``, ``getversion`` and "Sequence Capture Mode": ``putsequencecapture###``
(exposure of one sample, ms), ``putsequencewait###`` (pause between samples, ms),
``putsequencenumber####`` (samples), ``putsequencethreshold#####`` (intensity above which
a sample is 1), ``capturesequence`` and ``getsequence##`` (the fibre's samples as binary
digits). ``put…`` settings go to RAM (``set…`` would wear the flash). The station's grid
``sample_ms`` is split into exposure + pause. Commands end with CR LF; so do answers.
Errors are answered ``Error: <text>`` / ``Syntax Error``; there is no error queue.
"""

from __future__ import annotations

from drivers.instruments.errors import InstrumentCommandError, InstrumentResponseError
from drivers.instruments.roles import LedAnalyser, LedReading
from drivers.instruments.scpi import LineInstrument

#: How long after the station's end of a capture the analyser may still be finishing it.
SEQUENCE_GRACE_S = 1.0
#: Default intensity threshold of a lit LED (an off LED reads 00000).
SEQUENCE_THRESHOLD = 1000


def _refused(answer: str) -> bool:
    a = answer.lower()
    return a.startswith("error") or a.startswith("syntax error")


class FeasaLedAnalyser(LedAnalyser, LineInstrument):
    dialect = "feasa-led"
    transport_kind = "serial"
    write_termination = "\r\n"
    read_termination = "\r\n"
    has_error_queue = False
    _seq_sample_ms: int = 10
    _seq_points: int = 0

    def _ask(self, command: str) -> str:
        answer = self.query_raw(command)
        if _refused(answer):
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
        exposure = max(1, int(sample_ms) // 2)
        pause = int(sample_ms) - exposure
        if not (1 <= exposure <= 999 and 0 <= pause <= 999):
            raise ValueError(f"{self.name}: sample grid {sample_ms} ms outside 1-1998 ms")
        if not 1 <= points <= 9999:
            raise ValueError(f"{self.name}: {points} samples outside the analyser's 1-9999")
        threshold = int(self.options.get("sequence_threshold", SEQUENCE_THRESHOLD))
        self._ask(f"putsequencecapture{exposure:03d}")
        self._ask(f"putsequencewait{pause:03d}")
        self._ask(f"putsequencenumber{points:04d}")
        self._ask(f"putsequencethreshold{threshold:05d}")
        self._ask("capturesequence")
        self._seq_sample_ms, self._seq_points = int(sample_ms), int(points)

    def _samples(self, command: str) -> str:
        """The fibre's 0/1 samples: one line of digits, or (as the manual's example
        prints them) one digit a line."""
        deadline = self.clock.now() + SEQUENCE_GRACE_S
        while True:   # the analyser's own clock may end the capture a little after ours
            answer = self.query_raw(command)
            if "not finished" not in answer.lower() or self.clock.now() >= deadline:
                break
            self.clock.sleep(0.02)
        if _refused(answer):
            raise InstrumentCommandError(self.name, command, answer)
        digits = answer.strip()
        if len(digits) == 1 and self._seq_points > 1:
            more = [self._io(command, self._t.read).strip() for _ in range(self._seq_points - 1)]
            digits += "".join(more)
        if len(digits) != self._seq_points or set(digits) - {"0", "1"}:
            raise InstrumentResponseError(
                self.name, command, f"expected {self._seq_points} binary samples, got {digits[:40]!r}"
            )
        return digits

    def _sequence_edges(self, fibre: int) -> list[tuple[float, bool]]:
        digits = self._samples(f"getsequence{fibre:02d}")
        dt = self._seq_sample_ms / 1000.0
        edges = [(0.0, digits[0] == "1")]
        for k in range(1, len(digits)):
            if digits[k] != digits[k - 1]:
                edges.append((round(k * dt, 6), digits[k] == "1"))
        return edges
