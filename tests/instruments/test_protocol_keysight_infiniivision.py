"""Keysight InfiniiVision (the short-circuit fixture's capture): every command the dialect
sends, byte for byte (set-up, single acquisition, trigger event register, preamble and the
ASCii definite-length block), and the simulator on the same script through a real socket."""

from __future__ import annotations

import math
from typing import Any

import pytest

from drivers.instruments.errors import CaptureRefused, InstrumentResponseError
from drivers.instruments.keysight_infiniivision import KeysightInfiniiVision, parse_block
from tests.instruments.protocol import NUM, replay, run_script
from tests.instruments.scripts import q

IDN = "KEYSIGHT TECHNOLOGIES,DSOX4024A,SIM-SCOPE-0001,07.50.2021102830"
OPTIONS = {"channel": 1, "shunt_ohm": 5e-5}
ERR = ":SYSTem:ERRor?"
#: 100 µs at 1 MS/s, 10 µs before the trigger at 250 A, 4000 A full scale on 50 µΩ.
ARM = dict(window_s=1e-4, pre_trigger_s=1e-5, rate_hz=1e6, trigger_a=250.0, full_scale_a=4000.0)


def w(command: str) -> list:
    return [((command + "\n").encode(), b""), ((ERR + "\n").encode(), b'+0,"No error"\n')]


SETUP = [
    *w(":STOP"), *w(":CHANnel1:PROBe 1"), *w(":CHANnel1:SCALe 2.500000E-02"),
    *w(":CHANnel1:OFFSet 8.000000E-02"), *w(":TIMebase:SCALe 1.000000E-05"),
    *w(":TIMebase:POSition 4.000000E-05"), *w(":TRIGger:SWEep NORMal"),
    *w(":TRIGger:EDGE:SOURce CHANnel1"), *w(":TRIGger:EDGE:SLOPe POSitive"),
    *w(":TRIGger:EDGE:LEVel 1.250000E-02"), *w(":WAVeform:SOURce CHANnel1"),
    *w(":WAVeform:FORMat ASCii"), *w(":WAVeform:POINts:MODE RAW"), *w(":WAVeform:POINts 100"),
    *q(":TER?", "+0"), *w(":SINGle"),
]
VOLTS = [0.0] * 10 + [0.05] * 90            # 0 A, then 1000 A from the trigger
BODY = ",".join(f"{v:+.6E}" for v in VOLTS)
PREAMBLE = "+4,+0,+100,+1,+1.000000E-06,-1.000000E-05,+0,+3.051758E-06,+8.000000E-02,+32768"


def script(waits: tuple = ()) -> list:
    return [
        *q("*IDN?", IDN), *SETUP, *waits,
        *q(":TER?", "+1"),
        *q(":WAVeform:PREamble?", PREAMBLE),
        *q(":WAVeform:DATA?", f"#8{len(BODY):08d}{BODY}", rb"#8\d{8}" + NUM + rb"(," + NUM + rb"){99}"),
        *w(":STOP"),
    ]


def drive(scope: KeysightInfiniiVision) -> Any:
    assert scope.identify() == IDN
    assert scope.arm(**ARM) == (1e-6, 100)
    assert scope.wait_trigger(1.0)
    capture = scope.fetch()
    scope.safe_state()
    return capture


def test_wire_exchange_is_the_guides() -> None:
    capture = run_script(KeysightInfiniiVision, script(), drive, options=OPTIONS)
    assert capture.dt == 1e-6 and capture.t0 == pytest.approx(-1e-5) and len(capture.samples) == 100
    assert capture.samples[0] == 0.0 and capture.samples[-1] == pytest.approx(1000.0)


def test_a_capture_slower_than_1_ms_per_s_is_refused_before_anything_is_written() -> None:
    with pytest.raises(CaptureRefused, match="below the 1e\\+06 Hz"):
        run_script(KeysightInfiniiVision, [], lambda s: s.arm(**{**ARM, "rate_hz": 5e5}), options=OPTIONS)
    with pytest.raises(CaptureRefused, match="window_s must be a positive finite"):
        run_script(KeysightInfiniiVision, [], lambda s: s.arm(**{**ARM, "window_s": math.nan}),
                   options=OPTIONS)


def test_a_clipped_sample_is_nan_and_a_short_block_is_an_error() -> None:
    clipped = "+0.000000E+00," * 99 + "+9.900000E+37"
    tail = [*q(":TER?", "+1"), *q(":WAVeform:PREamble?", PREAMBLE),
            *q(":WAVeform:DATA?", f"#8{len(clipped):08d}{clipped}")]
    capture = run_script(KeysightInfiniiVision, [*SETUP, *tail],
                         lambda s: (s.arm(**ARM), s.wait_trigger(1.0), s.fetch())[2], options=OPTIONS)
    assert math.isnan(capture.samples[-1]) and not math.isnan(capture.samples[0])
    short = [*q(":TER?", "+1"), *q(":WAVeform:PREamble?", PREAMBLE), *q(":WAVeform:DATA?", "#800000099" + BODY)]
    with pytest.raises(InstrumentResponseError, match="block says 99 bytes"):
        run_script(KeysightInfiniiVision, [*SETUP, *short],
                   lambda s: (s.arm(**ARM), s.wait_trigger(1.0), s.fetch()), options=OPTIONS)
    assert parse_block("#15abcde") == "abcde"


class _Step:
    """A fixture stand-in for the simulator: 1000 A from ``at`` for 1 ms."""

    def __init__(self, at: float) -> None:
        self.at = at

    def windows(self, t0: float, t1: float) -> list[tuple[float, float]]:
        return [(max(t0, self.at), min(t1, self.at + 1e-3))] if self.at <= t1 else []

    def current(self, times: list[float]) -> list[float]:
        return [1000.0 if self.at <= t < self.at + 1e-3 else 0.0 for t in times]


def test_simulator_answers_the_same_script(rig_factory) -> None:
    rig = rig_factory({"short_circuit": "keysight-infiniivision"})
    scope = rig.bench.short_circuit
    server = rig.bench.servers["short_circuit"]

    def step_now() -> None:   # the short happens after the arming, then the record fills
        scope.source = _Step(rig.clock.now() + 2e-5)
        rig.clock.sleep(1e-3)

    preamble = rb"\+4,\+0,\+100,\+1,\+1\.000000E-06,-1\.000000E-05,\+0," + NUM + rb"," + NUM + rb",\+32768\n"
    steps = [s if i != 2 + len(SETUP) + 1 else (s[0], s[1], preamble)
             for i, s in enumerate(script((step_now,)))]
    replay(server.host, server.port, steps, read_term=b"\n")
    assert scope.trigger_at is not None and scope.state == "STOP"
