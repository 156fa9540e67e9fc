"""Simulated Keysight InfiniiVision 4000 X-Series oscilloscope (a DSOX4024A): the
short-circuit fixture's capture, channel 1 on the fixture's coaxial shunt.

The subset the driver uses (``drivers/instruments/keysight_infiniivision.py`` cites the
guide): ``:CHANnel1:PROBe/SCALe/OFFSet``, ``:TIMebase:SCALe/POSition`` (the display's
centre relative to the trigger; the record spans 10 divisions), ``:TRIGger:SWEep``,
``:TRIGger[:EDGE]:SOURce/LEVel/SLOPe``, ``:SINGle``, ``:STOP``, ``:TER?`` (read clears),
``:WAVeform:SOURce/FORMat/POINts:MODE/POINts``, ``:WAVeform:PREamble?`` and
``:WAVeform:DATA?`` in ASCii: an IEEE 488.2 definite-length block (``#8`` + eight digits)
of comma-separated volts. Clipped samples (off the 8 vertical divisions) are 9.9E+37.

A single acquisition triggers on the first sample (on the record's own grid) at or above
the level on a rising edge after ``:SINGle``; its record is complete once the post-trigger
part has passed on the bench clock (``:WAVeform:DATA?`` before that: ``-230``). The record
is sampled at ``10 × scale / points`` (RAW: the points asked are the record; [A] for the
decimation a real one would do), with 0.2 mV of seeded noise (about 4 A on the shunt).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

from common.clock import VirtualClock
from sim.instruments.scpi import ScpiDevice, ScpiError, number

CLIPPED = 9.9e37
MAX_POINTS = 1_000_000
MAX_RATE_HZ = 5e9


@dataclass
class SimScope:
    clock: VirtualClock
    serial: str
    seed: int = 0
    #: The fixture whose shunt channel 1 sees (``ShortCircuitRig``); None: nothing wired.
    source: Any = None
    shunt_ohm: float = 50e-6
    noise_v: float = 0.0002
    probe: float = 1.0
    v_scale: float = 0.1
    v_offset: float = 0.0
    t_scale: float = 1e-3
    t_position: float = 0.0
    sweep: str = "AUTO"
    trig_source: str = "CHAN1"
    trig_level: float = 0.0
    trig_slope: str = "POS"
    wav_format: str = "BYTE"
    wav_points_mode: str = "NORM"
    wav_points: int = 1000
    state: str = "STOP"                 # RUN (armed, single), STOP
    armed_at: float | None = None
    trigger_at: float | None = None
    ter: bool = False
    received: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._rng = random.Random(self.seed)

    # -- the record -----------------------------------------------------------------------
    @property
    def dt(self) -> float:
        return 10.0 * self.t_scale / self.wav_points

    @property
    def x_origin(self) -> float:
        """The record's first sample relative to the trigger."""
        return self.t_position - 5.0 * self.t_scale

    def volts(self, times: list[float]) -> list[float]:
        amps = self.source.current(times) if self.source is not None else [0.0] * len(times)
        return [a * self.shunt_ohm / self.probe + self._rng.gauss(0.0, self.noise_v) for a in amps]

    def single(self) -> None:
        self.state, self.armed_at, self.trigger_at, self.ter = "RUN", self.clock.now(), None, False

    def stop(self) -> None:
        self._look()
        self.state = "STOP"

    def _look(self) -> None:
        """Trigger on the first rising crossing since the arming, up to now."""
        if self.state != "RUN" or self.trigger_at is not None or self.armed_at is None:
            return
        if self.sweep != "NORM" or self.trig_slope != "POS" or self.trig_source != "CHAN1":
            return   # the simulator triggers only as the fixture's capture is set up
        now, dt = self.clock.now(), self.dt
        windows = self.source.windows(self.armed_at, now) if self.source is not None else []
        for t0, t1 in windows:
            k0 = max(0, int((t0 - self.armed_at) / dt))
            n = int((t1 - self.armed_at) / dt) + 1 - k0
            times = [self.armed_at + (k0 + j) * dt for j in range(max(0, n))]
            amps = self.source.current(times)
            below = True
            for t, a in zip(times, amps, strict=True):
                v = a * self.shunt_ohm / self.probe
                if below and v >= self.trig_level:
                    self.trigger_at, self.ter = t, True
                    return
                below = v < self.trig_level

    def complete(self) -> bool:
        self._look()
        return self.trigger_at is not None and \
            self.clock.now() >= self.trigger_at + self.x_origin + 10.0 * self.t_scale - 1e-12

    def record(self) -> list[float]:
        if not self.complete():
            raise ScpiError(-230, "Data corrupt or stale; no complete acquisition")
        assert self.trigger_at is not None
        t0, dt = self.trigger_at + self.x_origin, self.dt
        volts = self.volts([t0 + k * dt for k in range(self.wav_points)])
        lo, hi = self.v_offset - 4 * self.v_scale, self.v_offset + 4 * self.v_scale
        return [v if lo <= v <= hi else CLIPPED for v in volts]

    def take_ter(self) -> bool:
        self._look()
        ter, self.ter = self.ter, False
        return ter


def _choice(arg: str, options: dict[str, str]) -> str:
    a = arg.strip().upper()
    for long, short in options.items():
        if a in (long, short) or (a.startswith(short) and long.startswith(a)):
            return short
    raise ScpiError(-224, "Illegal parameter value")


def infiniivision_device(s: SimScope) -> ScpiDevice:
    dev = ScpiDevice(f"KEYSIGHT TECHNOLOGIES,DSOX4024A,{s.serial},07.50.2021102830")
    chan = {"CHANNEL1": "CHAN1"}

    def setter(attr: str, lo: float, hi: float) -> Any:
        return lambda a: setattr(s, attr, number(a, lo, hi))

    def points(a: str) -> None:
        n = int(number(a, 100, MAX_POINTS))
        if 10.0 * s.t_scale / n < 1.0 / MAX_RATE_HZ:
            raise ScpiError(-222, "Data out of range; beyond the maximum sample rate")
        s.wav_points = n

    dev.add("CHANnel1:PROBe", setter("probe", 0.001, 10000.0))
    dev.add("CHANnel1:SCALe", setter("v_scale", 0.001, 5.0))
    dev.add("CHANnel1:SCALe?", lambda _: f"{s.v_scale:+.5E}")
    dev.add("CHANnel1:OFFSet", setter("v_offset", -20.0, 20.0))
    dev.add("TIMebase:SCALe", setter("t_scale", 1e-9, 50.0))
    dev.add("TIMebase:SCALe?", lambda _: f"{s.t_scale:+.5E}")
    dev.add("TIMebase:POSition", setter("t_position", -500.0, 500.0))
    dev.add("TRIGger:SWEep", lambda a: setattr(s, "sweep", _choice(a, {"AUTO": "AUTO", "NORMAL": "NORM"})))
    dev.add("TRIGger[:EDGE]:SOURce", lambda a: setattr(s, "trig_source", _choice(a, chan)))
    dev.add("TRIGger[:EDGE]:LEVel", setter("trig_level", -20.0, 20.0))
    dev.add("TRIGger[:EDGE]:LEVel?", lambda _: f"{s.trig_level:+.5E}")
    dev.add("TRIGger[:EDGE]:SLOPe", lambda a: setattr(
        s, "trig_slope", _choice(a, {"POSITIVE": "POS", "NEGATIVE": "NEG"})))
    dev.add("SINGle", lambda _: s.single())
    dev.add("STOP", lambda _: s.stop())
    dev.add("TER?", lambda _: "+1" if s.take_ter() else "+0")
    dev.add("WAVeform:SOURce", lambda a: _choice(a, chan) and None)
    dev.add("WAVeform:FORMat", lambda a: setattr(
        s, "wav_format", _choice(a, {"ASCII": "ASC", "WORD": "WORD", "BYTE": "BYTE"})))
    dev.add("WAVeform:POINts:MODE", lambda a: setattr(
        s, "wav_points_mode", _choice(a, {"RAW": "RAW", "NORMAL": "NORM", "MAXIMUM": "MAX"})))
    dev.add("WAVeform:POINts", points)
    dev.add("WAVeform:POINts?", lambda _: str(s.wav_points))

    def preamble(_: str) -> str:
        fmt = {"BYTE": 0, "WORD": 1, "ASC": 4}[s.wav_format]
        y_inc = 8 * s.v_scale / 65536
        return (f"+{fmt},+0,+{s.wav_points},+1,{s.dt:+.6E},{s.x_origin:+.6E},+0,"
                f"{y_inc:+.6E},{s.v_offset:+.6E},+32768")

    def data(_: str) -> str:
        if s.wav_format != "ASC" or s.wav_points_mode != "RAW":
            raise ScpiError(-221, "Settings conflict; the simulator sends RAW ASCii only")
        body = ",".join(f"{v:+.6E}" for v in s.record())
        return f"#8{len(body):08d}{body}"

    dev.add("WAVeform:PREamble?", preamble)
    dev.add("WAVeform:DATA?", data)
    return dev
