"""Keysight DAQ970A data acquisition system: multiplexer modules (DAQM900A/901A: voltage,
thermocouple, 4-wire PT100) and a DAQM907A multifunction module (digital I/O, 301/302).

Programming guide: *Keysight DAQ970A/DAQ973A Programming Guide*, ch. 2 "SCPI Programming":
``MEAS:VOLT:DC? (@101)``, ``MEAS:TEMP? TC,K,(@102)``, ``MEAS:TEMP? FRTD,85,(@103)`` (4-wire
PT100, alpha 0.00385; the guide pairs channel n with n+10 on a DAQM900A/901A for 4-wire
measurements), ``MEAS:DIG:BYTE? (@301)``, ``SOUR:DIG:DATA:BYTE <v>,(@302)``, ``SYST:ERR?``;
the timed scan ``CONF:VOLT:DC 100,(@101)``, ``VOLT:DC:NPLC 0.02,(@101)``,
``CONF:DIG:BYTE (@301)``, ``ROUT:SCAN (@101,301)``, ``TRIG:SOUR TIM``, ``TRIG:TIM <s>``,
``TRIG:COUN <n>``, ``FORM:READ:TIME ON``, ``FORM:READ:TIME:TYPE REL``,
``FORM:READ:CHAN ON``, ``INIT``, ``DATA:POIN?``, ``FETC?``, ``ABOR``; a relay card
(DAQM903A actuator) for the fixture relays: ``ROUT:CLOS (@ch)``, ``ROUT:OPEN (@ch,...)``,
``ROUT:CLOS? (@ch,...)`` (one 0/1 per channel).

Order matters (guide, FORMat and ROUTe:SCAN): ``CONFigure`` redefines the scan list, sets
the trigger interval to 1 s and the count to 1, and turns the reading format's units,
time, channel and alarm off, so the scan list, the trigger and the format come after every
``CONF``. A timed scan reads each channel in channel order per sweep and stamps every
reading with its time since the start of the scan (``REL``, 1 ms steps).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from drivers.instruments.daq_capture import Reading
from drivers.instruments.daq_role import Daq
from drivers.instruments.errors import CaptureRefused, InstrumentResponseError
from drivers.instruments.scpi import ScpiInstrument, reading
from drivers.instruments.transport import Transport

#: Time one channel of a module takes in a scan, s: the DAQ970A data sheet's scanning
#: speeds (DAQM900A solid-state 450 ch/s, DAQM901A and DAQM908A armature 80 ch/s; DCV at
#: its shortest integration). The DAQM902A reed figure and the DAQM907A digital-input
#: read time (1 ms) are this project's assumptions; see docs/instruments.md.
CHANNEL_S: dict[str, float] = {
    "DAQM900A": 1 / 450, "DAQM901A": 1 / 80, "DAQM902A": 1 / 250, "DAQM908A": 1 / 80,
    "DAQM907A": 0.001,
}
#: 4-wire measurements pair channel n with n + this (guide: DAQM900A/901A n+10, DAQM902A n+8).
FOUR_WIRE_PAIR: dict[str, int] = {"DAQM900A": 10, "DAQM901A": 10, "DAQM902A": 8}
#: Switch modules for fixture relays, and their channel count: the DAQM903A actuator /
#: general-purpose switch (20 SPDT relays; ``ROUT:CLOS`` connects a channel's NO contact).
SWITCH_MODULES: dict[str, int] = {"DAQM903A": 20}
#: Modules assumed when the station file's ``options.modules`` does not say.
DEFAULT_MODULES: dict[int, str] = {1: "DAQM901A", 2: "DAQM901A", 3: "DAQM907A"}
#: DCV ranges (guide, CONFigure:VOLTage:DC: 100 mV, 1 V, 10 V, 100 V, 300 V; each reads to
#: 120 % of its value). A scan channel gets a fixed one (autorange would slow the scan).
DCV_RANGES_V = (0.1, 1.0, 10.0, 100.0, 300.0)
DCV_OVERRANGE = 1.2
SCAN_NPLC = 0.02           # the shortest integration: the data sheet's scan speed


def dcv_range(full_scale_v: float) -> float:
    """The smallest DCV range that reads ``full_scale_v`` (its over-range included)."""
    return next((r for r in DCV_RANGES_V if r * DCV_OVERRANGE >= full_scale_v), DCV_RANGES_V[-1])


class KeysightDAQ970A(Daq, ScpiInstrument):
    dialect = "keysight-daq970a"
    #: Line endings and error queue: LF both ways (SCPI over a raw socket), the SCPI
    #: error queue ``SYST:ERR?`` (SCPI-1999); see docs/instruments.md, "Dialects".
    write_termination, read_termination = "\n", "\n"
    has_error_queue = True
    #: Guide, DATA:POINts? / ROUTe:SCAN: "at least 100,000 readings" of memory; beyond,
    #: the newest overwrite the oldest.
    SCAN_MEMORY: ClassVar[int] = 100_000
    #: Guide, TRIGger:TIMer: the scan interval in 1 ms steps.
    SCAN_TIMER_STEP_S: ClassVar[float] = 0.001

    def __init__(self, transport: Transport, **kwargs: Any) -> None:
        super().__init__(transport, **kwargs)
        try:
            self.modules = _modules(self.options.get("modules"))
            self._check_fixture()
        except ValueError as exc:
            self.close()
            raise ValueError(f"{self.name}: {exc}") from None

    def _check_fixture(self) -> None:
        channels: Mapping[str, Any] = self.options.get("channels", {})
        rtd = channels.get("ambient_rtd")
        if rtd is not None:
            module = self._module(int(rtd))
            pair = FOUR_WIRE_PAIR.get(module)
            if pair is None or not 1 <= int(rtd) % 100 <= pair:
                raise ValueError(f"ambient_rtd {rtd}: a 4-wire channel is s01..s{pair or 0:02d} "
                                 f"of a multiplexer (its sense on n+{pair}); slot {int(rtd) // 100} "
                                 f"holds a {module}")
        for name, ch in self.relay_card.items():
            module = self._module(ch)
            if module not in SWITCH_MODULES or not 1 <= ch % 100 <= SWITCH_MODULES[module]:
                raise ValueError(f"relay {name} on channel {ch}: the relay card's channels are "
                                 f"s01..s20 of a DAQM903A; slot {ch // 100} holds a {module}")
        din = channels.get("digital_in")
        if din is not None and (self._module(int(din)) != "DAQM907A" or int(din) % 100 not in (1, 2)):
            raise ValueError(f"digital_in {din}: the digital ports are s01/s02 of a DAQM907A")

    def _module(self, channel: int) -> str:
        slot = channel // 100
        if slot not in self.modules:
            raise ValueError(f"channel {channel}: no module in slot {slot} (modules: {self.modules})")
        return self.modules[slot]

    def _float(self, command: str) -> float:
        answer = self.query(command)
        try:
            return reading(answer)
        except ValueError:
            raise InstrumentResponseError(self.name, command, f"cannot parse {answer!r}") from None

    def measure_dc(self, channel: int) -> float:
        return self._float(f"MEAS:VOLT:DC? (@{channel})")

    def measure_thermocouple(self, channel: int, tc_type: str) -> float:
        return self._float(f"MEAS:TEMP? TC,{tc_type},(@{channel})")

    def measure_rtd(self, channel: int) -> float:
        return self._float(f"MEAS:TEMP? FRTD,85,(@{channel})")

    def _read_byte(self, channel: int) -> int:
        command = f"MEAS:DIG:BYTE? (@{channel})"
        value = self._float(command)
        if not 0 <= value <= 255 or value != int(value):   # NaN fails both: no byte
            raise InstrumentResponseError(self.name, command, f"{value!r} is not a byte")
        return int(value)

    def _write_byte(self, channel: int, value: int) -> None:
        self.write(f"SOUR:DIG:DATA:BYTE {int(value)},(@{channel})")

    def _switch_channels(self, channels: Sequence[int], close: bool) -> None:
        listed = ",".join(str(c) for c in channels)
        self.write(f"ROUT:{'CLOS' if close else 'OPEN'} (@{listed})")

    def _channels_closed(self, channels: Sequence[int]) -> list[bool]:
        command = f"ROUT:CLOS? (@{','.join(str(c) for c in channels)})"
        answer = self.query(command)
        fields = [f.strip() for f in answer.split(",")]
        if len(fields) != len(channels) or any(f not in ("0", "1") for f in fields):
            raise InstrumentResponseError(self.name, command, f"{answer!r} is not one 0/1 "
                                          f"per channel of {len(channels)}")
        return [f == "1" for f in fields]

    # -- timed scan ----------------------------------------------------------------------
    def _scan_sweep_s(self, channels: Sequence[int]) -> float:
        try:
            return sum(CHANNEL_S[self._module(ch)] for ch in channels)
        except ValueError as exc:
            raise CaptureRefused(self.name, None, str(exc)) from None

    def _start_scan(self, dc: Mapping[int, float], digital: Sequence[int], interval_s: float,
                    sweeps: int) -> None:
        listed = ",".join(str(c) for c in sorted([*dc, *digital]))
        for ch, full_scale in dc.items():
            self.write(f"CONF:VOLT:DC {dcv_range(full_scale):g},(@{ch})")
            self.write(f"VOLT:DC:NPLC {SCAN_NPLC},(@{ch})")
        for ch in digital:
            self.write(f"CONF:DIG:BYTE (@{ch})")
        self.write(f"ROUT:SCAN (@{listed})")
        self.write("TRIG:SOUR TIM")
        self.write(f"TRIG:TIM {interval_s:.3f}")
        self.write(f"TRIG:COUN {sweeps}")
        self.write("FORM:READ:TIME ON")
        self.write("FORM:READ:TIME:TYPE REL")
        self.write("FORM:READ:CHAN ON")
        self.write("INIT")

    def _scan_points(self) -> int:
        value = self._float("DATA:POIN?")
        if not math.isfinite(value):
            raise InstrumentResponseError(self.name, "DATA:POIN?", f"{value!r} is not a count")
        return int(value)

    def _fetch_scan(self) -> list[Reading]:
        """``FETC?`` with time and channel on: ``value,time,channel`` per reading."""
        answer = self.query("FETC?")
        fields = [f.strip() for f in answer.split(",")] if answer.strip() else []
        if len(fields) % 3:
            raise InstrumentResponseError(self.name, "FETC?", f"{len(fields)} fields is not "
                                          "value,time,channel per reading")
        out: list[Reading] = []
        try:
            for i in range(0, len(fields), 3):
                out.append((reading(fields[i].split()[0]), float(fields[i + 1]), int(fields[i + 2])))
        except (ValueError, IndexError):
            raise InstrumentResponseError(self.name, "FETC?", f"cannot parse reading {i // 3}: "
                                          f"{fields[i:i + 3]!r}") from None
        return out

    def _abort_scan(self) -> None:
        self.write("ABOR")


def _modules(spec: Mapping[Any, Any] | None) -> dict[int, str]:
    """``options.modules`` (slot → model, TOML keys are strings) or the default fit."""
    if not spec:
        return dict(DEFAULT_MODULES)
    out: dict[int, str] = {}
    for slot, model in spec.items():
        known = [*CHANNEL_S, *SWITCH_MODULES]
        if str(model).upper() not in known or int(slot) not in (1, 2, 3):
            raise ValueError(f"options.modules: slot {slot!r} = {model!r}; slots 1..3 hold one of "
                             f"{', '.join(known)}")
        out[int(slot)] = str(model).upper()
    return out
