"""Simulated Feasa-type LED analyser: six fibres on RUN, ALM, SOC1-4.

It answers from the pack's LED state (colour, intensity) and, for sequences, from the
pack's LED edge timeline sampled on the analyser's own grid of exposure + pause (an edge
is seen at the first sample at or after it), answered by ``getsequence##`` as 0/1 digits.
The sequence starts at ``capturesequence`` on the bench clock and its result is ready
once the capture time has passed.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

from common.clock import VirtualClock
from sim.pack.interface import LEDS, SimPackApi


@dataclass
class SimLeds:
    pack: SimPackApi
    clock: VirtualClock
    serial: str
    sample_ms: int = 10
    exposure_ms: int = 5
    pause_ms: int = 5
    threshold: int = 1000
    points: int = 100
    seq_t0: float | None = None
    seq_initial: dict[str, bool] = field(default_factory=dict)
    captured: dict[str, tuple[int, int, int, int]] = field(default_factory=dict)
    received: list[str] = field(default_factory=list)

    def capture(self) -> None:
        for led in LEDS:
            if self.pack.led_on(led):
                r, g, b = self.pack.led_colour(led)
                self.captured[led] = (r, g, b, round(self.pack.led_intensity(led) * 60000))
            else:
                self.captured[led] = (0, 0, 0, 0)

    def start_sequence(self) -> None:
        self.seq_t0 = self.clock.now()
        self.seq_initial = {led: self.pack.led_on(led) for led in LEDS}

    def sequence(self, led: str) -> list[tuple[int, bool]] | None:
        """Edges (ms from the start, on) or None if the capture is not finished."""
        if self.seq_t0 is None:
            return None
        length = self.points * self.sample_ms / 1000.0
        t1 = self.seq_t0 + length
        if self.clock.now() < t1 - 1e-9:
            return None
        out = [(0, self.seq_initial[led])]
        state = self.seq_initial[led]
        for t, on in self.pack.led_edges(led, self.seq_t0, t1):
            if on == state:
                continue
            ms = math.ceil(round((t - self.seq_t0) * 1000, 6) / self.sample_ms) * self.sample_ms
            out.append((int(ms), on))
            state = on
        return out


#: ``put`` sequence settings of the manual: (command, digit counts, min, max).
_SEQUENCE_SETTINGS = (
    ("putsequencecapture", (2, 3), 1, 999),
    ("putsequencewait", (2, 3), 0, 999),
    ("putsequencenumber", (3, 4), 1, 9999),
    ("putsequencethreshold", (5,), 0, 99999),
)
_SEQUENCE_ATTRS = {"putsequencecapture": "exposure_ms", "putsequencewait": "pause_ms",
                   "putsequencenumber": "points", "putsequencethreshold": "threshold"}


def _binary(edges: list[tuple[int, bool]], sample_ms: int, points: int) -> str:
    """Edges (ms, on) on the sample grid → one 0/1 digit a sample."""
    out, j, state = [], 0, False
    for k in range(points):
        while j < len(edges) and edges[j][0] <= k * sample_ms:
            state = edges[j][1]
            j += 1
        out.append("1" if state else "0")
    return "".join(out)


def feasa_handler(leds: SimLeds) -> Callable[[str], str]:
    def handle(line: str) -> str:
        cmd = line.strip().lower()
        if cmd == "capture":
            leds.capture()
            return "OK"
        if cmd == "getserial":
            return leds.serial
        if cmd == "getversion":
            return "FEASA-SIM 1.0"
        if cmd.startswith("getrgbi") and cmd[7:].isdigit():
            fibre = int(cmd[7:])
            if not 1 <= fibre <= len(LEDS):
                return "Error: fibre out of range"
            if not leds.captured:
                return "Error: no capture"
            r, g, b, i = leds.captured[LEDS[fibre - 1]]
            return f"{r:03d} {g:03d} {b:03d} {i:05d}"
        for name, digits, lo, hi in _SEQUENCE_SETTINGS:
            if cmd.startswith(name) and cmd[len(name):].isdigit() and len(cmd) - len(name) in digits:
                value = int(cmd[len(name):])
                if not lo <= value <= hi:
                    return "Error: value out of range"
                setattr(leds, _SEQUENCE_ATTRS[name], value)
                leds.sample_ms = leds.exposure_ms + leds.pause_ms
                return "OK"
        if cmd == "capturesequence":
            leds.start_sequence()
            return "OK"
        if cmd.startswith("getsequence") and cmd[11:].isdigit() and len(cmd) == 13:
            fibre = int(cmd[11:])
            if not 1 <= fibre <= len(LEDS):
                return "Error: fibre out of range"
            edges = leds.sequence(LEDS[fibre - 1])
            if edges is None:
                return "Error: sequence not finished"
            return _binary(edges, leds.sample_ms, leds.points)
        return "Error: unknown command"

    return handle
