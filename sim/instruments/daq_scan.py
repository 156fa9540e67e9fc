"""The simulated DAQ970A's scan: channel configuration, scan list, timer trigger, reading
memory with the instrument's own timestamps.

``INIT`` starts the scan at the bench clock's now; every reading is an event on that clock
at its own instant (sweep k starts at ``k × interval``, the channels of a sweep follow one
another by their module's channel time), sampling the coupled pack *then*. So in-process
(virtual time) the scan advances as the station's clock does, and in ``station sim serve``
(the clock paced by the wall clock) the timestamps are the instrument's, whatever the
host's latency between commands. As the guide says of ``TRIGger:TIMer``: an interval
shorter than a sweep makes the DAQ scan as fast as it can, without an error.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from common.clock import EventHandle
from sim.instruments.scpi import ScpiDevice, ScpiError, boolean, number

if TYPE_CHECKING:
    from sim.instruments.daq import SimDaq

#: Module → time one channel takes in a scan, s (data sheet scanning speeds; DCV at 0.02
#: PLC). The same figures as the driver's (the simulator imports no station code).
CHANNEL_S = {"DAQM900A": 1 / 450, "DAQM901A": 1 / 80, "DAQM902A": 1 / 250, "DAQM908A": 1 / 80,
             "DAQM907A": 0.001}
LINE_HZ = 50.0
NPLC_VALUES = (0.02, 0.2, 1.0, 2.0, 10.0, 20.0, 100.0, 200.0)
#: DCV resolution × range by integration time (4½ digits at 0.02 PLC ... 6½ at ≥ 10 PLC).
RESOLUTION = ((0.2, 1e-4), (1.0, 1e-5), (10.0, 3e-6), (float("inf"), 1e-6))
DCV_RANGES = (0.1, 1.0, 10.0, 100.0, 300.0)
MEMORY = 100_000            # readings; the newest overwrite the oldest beyond
MAX_COUNT = 1_000_000
_LIST = re.compile(r"\(@([0-9,:\s]*)\)")


def channel_list(arg: str) -> list[int]:
    """``(@101,103:105)`` → [101, 103, 104, 105]."""
    m = _LIST.search(arg)
    if not m:
        raise ScpiError(-104, "Data type error; channel list expected")
    out: list[int] = []
    for part in filter(None, (p.strip() for p in m.group(1).split(","))):
        lo, _, hi = part.partition(":")
        out.extend(range(int(lo), int(hi or lo) + 1))
    return out


@dataclass
class ChannelConfig:
    function: str                 # "VOLT", "DIG", "TC", "FRTD"
    range_v: float = 100.0
    nplc: float = 1.0


@dataclass
class ScanEngine:
    daq: SimDaq
    config: dict[int, ChannelConfig] = field(default_factory=dict)
    scan_list: list[int] = field(default_factory=list)
    source: str = "IMM"
    timer_s: float = 0.0
    count: int = 1
    fmt: dict[str, Any] = field(default_factory=lambda: dict(TIME=False, TYPE="REL", CHAN=False,
                                                                UNIT=False, ALAR=False))
    memory: deque[tuple[float, float, int]] = field(default_factory=lambda: deque(maxlen=MEMORY))
    running: bool = False
    t0: float = 0.0
    interval_s: float = 0.0
    _handles: list[EventHandle] = field(default_factory=list)
    _left: dict[int, int] = field(default_factory=dict)

    # -- state ---------------------------------------------------------------------------
    def guard(self, channels: list[int] | None = None) -> None:
        """Refuse what would reconfigure or end a running scan (``-221``)."""
        if self.running and (channels is None or set(channels) & set(self.scan_list)):
            raise ScpiError(-221, "Settings conflict; scan in progress")

    def measured(self) -> None:
        """A ``MEASure?`` is a scan of its own: the reading memory is cleared."""
        self.guard()
        self.memory.clear()

    def configure(self, channels: list[int], cfg: ChannelConfig) -> None:
        self.guard()
        for ch in channels:
            self.daq.check_channel(ch, cfg.function)
            self.config[ch] = ChannelConfig(cfg.function, cfg.range_v, cfg.nplc)
        self.scan_list = sorted(channels)          # CONFigure redefines the scan list,
        self.timer_s, self.count = 1.0, 1          # the trigger interval and count,
        self.fmt.update(TIME=False, CHAN=False, UNIT=False, ALAR=False)   # and the format
        self.memory.clear()

    def channel_s(self, ch: int) -> float:
        cfg = self.config[ch]
        base = CHANNEL_S[self.daq.modules[ch // 100]]
        if cfg.function == "DIG":
            return base
        return base + max(0.0, cfg.nplc - 0.02) / LINE_HZ   # longer integration adds its time

    def sweep_s(self) -> float:
        return sum(self.channel_s(ch) for ch in self.scan_list)

    # -- the scan ------------------------------------------------------------------------
    def init(self) -> None:
        if self.running:
            raise ScpiError(-213, "Init ignored; scan in progress")
        if not self.scan_list:
            raise ScpiError(-221, "Settings conflict; empty scan list")
        clock = self.daq.clock
        self.memory.clear()
        self.t0 = clock.now()
        sweep = self.sweep_s()
        self.interval_s = max(self.timer_s, sweep) if self.source == "TIM" else sweep
        self.running = True
        offset = 0.0
        for ch in self.scan_list:
            self._left[ch] = self.count
            self._handles.append(clock.call_every(self.interval_s, self._reader(ch),
                                                  first=self.t0 + offset))
            offset += self.channel_s(ch)

    def _reader(self, ch: int) -> Callable[[float], None]:
        def read(t: float) -> None:
            self.memory.append((self.daq.scan_value(ch, self.config[ch]), t - self.t0, ch))
            self._left[ch] -= 1
            if self._left[ch] <= 0:
                self._handles[self.scan_list.index(ch)].cancel()
                if all(n <= 0 for n in self._left.values()):
                    self._stop()
        return read

    def _stop(self) -> None:
        for h in self._handles:
            h.cancel()
        self._handles.clear()
        self.running = False

    def abort(self) -> None:
        self._stop()

    def reset(self) -> None:
        self._stop()
        self.config.clear()
        self.scan_list.clear()
        self.source, self.timer_s, self.count = "IMM", 0.0, 1
        self.fmt.update(TIME=False, TYPE="REL", CHAN=False, UNIT=False, ALAR=False)
        self.memory.clear()

    def fetch(self) -> str:
        if self.running:   # the instrument would hold the answer until the end of the scan
            raise ScpiError(-230, "Data stale; scan in progress")
        return ",".join(self._format(r) for r in self.memory)

    def _format(self, r: tuple[float, float, int]) -> str:
        value, t, ch = r
        unit = {"VOLT": " VDC", "TC": " C", "FRTD": " C"}.get(self.config[ch].function, "")
        parts = [f"{value:+.8E}" + (unit if self.fmt["UNIT"] else "")]
        if self.fmt["TIME"]:
            if self.fmt["TYPE"] == "REL":
                parts.append(f"{t:013.3f}")
            else:
                clock = self.daq.clock
                when = clock.utcnow() - timedelta(seconds=clock.now() - (self.t0 + t))
                parts.append(when.strftime("%Y,%m,%d,%H,%M,") + f"{when.second + when.microsecond / 1e6:06.3f}")
        if self.fmt["CHAN"]:
            parts.append(str(ch))
        if self.fmt["ALAR"]:
            parts.append("0")
        return ",".join(parts)


def add_scan_commands(dev: ScpiDevice, scan: ScanEngine) -> None:
    """The scan's SCPI commands on the DAQ970A's command table."""

    def conf_volt(arg: str) -> None:
        first = arg.split(",")[0].strip().upper()
        rng = 100.0 if first in ("", "AUTO", "DEF") or first.startswith("(") else \
            min((r for r in DCV_RANGES if r >= number(first, 0.0, 300.0)), default=300.0)
        scan.configure(channel_list(arg), ChannelConfig("VOLT", rng, 1.0))

    def nplc(arg: str) -> None:
        value = number(arg.split(",")[0], 0.02, 200.0)
        if value not in NPLC_VALUES:
            raise ScpiError(-224, "Illegal parameter value; NPLC")
        scan.guard()
        for ch in channel_list(arg):
            if ch not in scan.config or scan.config[ch].function != "VOLT":
                raise ScpiError(-221, f"Settings conflict; channel {ch} is not DCV")
            scan.config[ch].nplc = value

    def route(arg: str) -> None:
        scan.guard()
        chans = channel_list(arg)
        missing = [c for c in chans if c not in scan.config]
        if missing:
            raise ScpiError(-221, f"Settings conflict; channel {missing[0]} not configured")
        scan.scan_list = sorted(chans)
        scan.memory.clear()

    def source(arg: str) -> None:
        a = arg.strip().upper()[:3]
        if a not in ("IMM", "TIM"):
            raise ScpiError(-224, "Illegal parameter value; trigger source not simulated")
        scan.guard()
        scan.source = a

    def timer(arg: str) -> None:
        scan.guard()
        scan.timer_s = round(number(arg, 0.0, 359_999.0), 3)   # 1 ms steps

    def count(arg: str) -> None:
        scan.guard()
        scan.count = int(number(arg, 1, MAX_COUNT))

    def fmt(key: str) -> Callable[[str], None]:
        def set_(arg: str) -> None:
            scan.fmt[key] = boolean(arg)
        return set_

    def time_type(arg: str) -> None:
        a = arg.strip().upper()[:3]
        if a not in ("ABS", "REL"):
            raise ScpiError(-224, "Illegal parameter value")
        scan.fmt["TYPE"] = a

    dev.add("CONFigure:VOLTage[:DC]", conf_volt)
    dev.add("[SENSe:]VOLTage[:DC]:NPLC", nplc)
    dev.add("CONFigure:DIGital:BYTE", lambda a: scan.configure(channel_list(a), ChannelConfig("DIG")))
    dev.add("ROUTe:SCAN", route)
    dev.add("ROUTe:SCAN:SIZE?", lambda _: f"+{len(scan.scan_list)}")
    dev.add("TRIGger:SOURce", source)
    dev.add("TRIGger:SOURce?", lambda _: scan.source)
    dev.add("TRIGger:TIMer", timer)
    dev.add("TRIGger:TIMer?", lambda _: f"{scan.timer_s:+.8E}")
    dev.add("TRIGger:COUNt", count)
    dev.add("TRIGger:COUNt?", lambda _: f"{scan.count:+.8E}")
    dev.add("FORMat:READing:TIME", fmt("TIME"))
    dev.add("FORMat:READing:TIME:TYPE", time_type)
    dev.add("FORMat:READing:CHANnel", fmt("CHAN"))
    dev.add("FORMat:READing:UNIT", fmt("UNIT"))
    dev.add("FORMat:READing:ALARm", fmt("ALAR"))
    dev.add("INITiate[:IMMediate]", lambda _: scan.init())
    dev.add("ABORt", lambda _: scan.abort())
    dev.add("FETCh?", lambda _: scan.fetch())
    dev.add("DATA:POINts?", lambda _: f"+{len(scan.memory)}")
