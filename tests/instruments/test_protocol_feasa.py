"""Feasa LED analyser: every command the dialect sends, byte for byte (CR LF both ways,
the manual's sequence-capture commands), and the simulator on the same script."""

from __future__ import annotations

from drivers.instruments.feasa import FeasaLedAnalyser
from drivers.instruments.roles import LedReading
from tests.instruments.protocol import replay, run_script
from tests.instruments.scripts import q

T = "\r\n"
RGBI = rb"\d{3} \d{3} \d{3} \d{5}"
SEQ = rb"[01]{5}"
ONE_FIBRE = {"fibres": {"RUN": 1}}


def script(rig_clock_sleep: object = None) -> list:
    steps = [
        *q("getserial", "SIM-LEDS-0001", term=T), *q("getversion", "FEASA-SIM 1.0", term=T),
        *q("capture", "OK", term=T), *q("getrgbi01", "000 255 000 30000", RGBI, term=T),
        *q("putsequencecapture005", "OK", term=T), *q("putsequencewait005", "OK", term=T),
        *q("putsequencenumber0005", "OK", term=T), *q("putsequencethreshold01000", "OK", term=T),
        *q("capturesequence", "OK", term=T),
    ]
    if rig_clock_sleep is not None:
        steps.append(rig_clock_sleep)   # bench time passes while the analyser captures
    steps += q("getsequence01", "00111", SEQ, term=T)
    return steps


def drive(leds: FeasaLedAnalyser) -> object:
    assert leds.identify() == "FEASA,LED Analyser,SIM-LEDS-0001,FEASA-SIM 1.0"
    assert leds.read() == {"RUN": LedReading(0, 255, 0, 30000)}
    return leds.capture_sequence(0.05, sample_ms=10)


def test_wire_exchange_is_the_manuals() -> None:
    edges = run_script(FeasaLedAnalyser, script(), drive, options=ONE_FIBRE)
    assert edges == {"RUN": [(0.0, False), (0.02, True)]}


def test_samples_one_digit_a_line_as_the_manuals_example() -> None:
    steps = [*script()[:-1], (b"getsequence01\r\n", b"0\r\n0\r\n1\r\n1\r\n1\r\n")]
    edges = run_script(FeasaLedAnalyser, steps, drive, options=ONE_FIBRE)
    assert edges == {"RUN": [(0.0, False), (0.02, True)]}


def test_simulator_answers_the_same_script(rig_factory) -> None:
    rig = rig_factory()
    server = rig.bench.servers["leds"]
    replay(server.host, server.port, script(lambda: rig.clock.sleep(0.05)), read_term=b"\r\n")
