"""The ``daq`` role: reference voltmeter, ambient reference, fixture I/O, timed scans."""

from __future__ import annotations

import math
from abc import abstractmethod
from collections.abc import Callable, Mapping, Sequence
from typing import Any, ClassVar

from drivers.instruments.daq_capture import (
    CAPTURE_CHANNELS,
    DaqCapture,
    PendingScan,
    Reading,
    decode,
)
from drivers.instruments.errors import (
    CaptureRefused,
    InstrumentCommandError,
    InstrumentResponseError,
)
from drivers.instruments.role_base import Role
from drivers.instruments.transport import Transport

#: Measurement functions of the Daq role, as calibration offsets name them (SI units).
DAQ_FUNCTIONS: tuple[str, ...] = ("dc_voltage", "temperature_tc", "temperature_rtd")


#: The terminals' largest voltage on any bench: the certification's over-charge supply
#: at 16 × U_ulc × 1.10 = 65.1 V (CERT-RMA C05), with margin.
TERMINALS_FULL_SCALE_V = 70.0


class Daq(Role):
    """Reference voltmeter, ambient temperature reference and the fixture's digital I/O.

    ``options`` (from the station file): ``outputs`` name → bit (power, sw, breaker, in1),
    ``inputs`` name → bit (no2, no3, no4), ``channels`` (pack_voltage, ambient_tc, tc_type,
    ambient_rtd, digital_in, digital_out), ``calibration_offsets`` function → correction
    added to every reading of that function (:data:`DAQ_FUNCTIONS`, the calibration
    certificate's, ``[instruments.daq.calibration]``). The dialect's ``measure_*``
    primitives are raw readings; the role's methods apply the corrections.

    A timed scan (:meth:`start_capture`, :meth:`fetch_capture`) owns the DAQ's meter
    until it is fetched: a measurement in between would end it (and clear its readings),
    so it is refused; the digital outputs stay writable (relays, the dead-man heartbeat).
    """

    role = "daq"
    _out: int = 0
    _card: frozenset[str] = frozenset()
    _scan: PendingScan | None = None
    #: Readings the DAQ's memory holds; a longer scan would overwrite its own start.
    SCAN_MEMORY: ClassVar[int] = 0
    #: Step of the DAQ's scan timer, s.
    SCAN_TIMER_STEP_S: ClassVar[float] = 0.001

    def __init__(self, transport: Transport, **kwargs: Any) -> None:
        super().__init__(transport, **kwargs)
        unknown = set(self.calibration_offsets) - set(DAQ_FUNCTIONS)
        if unknown:
            self.close()
            raise ValueError(f"{self.name}: calibration offsets for {sorted(unknown)}: this role "
                             f"measures {', '.join(DAQ_FUNCTIONS)}")

    @property
    def output_bits(self) -> dict[str, int]:
        return dict(self.options.get("outputs", {}))

    @property
    def input_bits(self) -> dict[str, int]:
        return dict(self.options.get("inputs", {}))

    @property
    def calibration_offsets(self) -> dict[str, float]:
        return {k: float(v) for k, v in self.options.get("calibration_offsets", {}).items()}

    def _offset(self, function: str) -> float:
        return self.calibration_offsets.get(function, 0.0)

    def _channel(self, key: str) -> Any:
        try:
            return self.options["channels"][key]
        except KeyError:
            raise KeyError(f"{self.name}: fixture channel {key!r} not in the station file") from None

    def _optional_channel(self, key: str) -> int | None:
        value = self.options.get("channels", {}).get(key)
        return None if value is None else int(value)

    def _meter_free(self, what: str) -> None:
        if self._scan is not None:
            raise InstrumentCommandError(self.name, None, f"{what}: a timed scan owns the meter "
                                         "until fetch_capture() (a measurement would end it)")

    def pack_voltage(self) -> float:
        """Reference measurement of the pack terminals, V."""
        self._meter_free("pack_voltage()")
        return self.measure_dc(int(self._channel("pack_voltage"))) + self._offset("dc_voltage")

    def pack_current(self) -> float:
        """The pack's current from the fixture's shunt, A (+ = charge): the shunt's voltage
        on the DAQ ÷ its certified resistance. Not with the ``dc_voltage`` correction: that
        is the terminals' range's offset, and the shunt's millivolts are read on another."""
        self._meter_free("pack_current()")
        channel, ohm = self._shunt(lambda why: InstrumentCommandError(self.name, None, why))
        return self.measure_dc(channel) / ohm

    def _shunt(self, refusal: Callable[[str], Exception]) -> tuple[int, float]:
        """The fixture's current shunt: its DAQ channel and its certified resistance, Ω;
        ``refusal(why)`` raised when the station file names none."""
        shunt = self.options.get("shunt")
        if not shunt:
            raise refusal("the fixture has no current shunt ([fixture.shunt] in the station file)")
        return int(shunt["channel"]), float(shunt["ohm"])

    def ambient_temperature(self) -> float:
        """The ambient reference, °C: the 4-wire PT100 when the fixture has one
        (``ambient_rtd``), else the thermocouple; calibration corrections applied."""
        self._meter_free("ambient_temperature()")
        rtd = self._optional_channel("ambient_rtd")
        if rtd is not None:
            return self.measure_rtd(rtd) + self._offset("temperature_rtd")
        tc = self.measure_thermocouple(int(self._channel("ambient_tc")), str(self._channel("tc_type")))
        return tc + self._offset("temperature_tc")

    def pack_thermocouple(self, name: str) -> float:
        """A thermocouple on the pack (``cell_tc``, ``case_tc`` of the fixture), °C, with the
        thermocouple correction of the calibration data."""
        self._meter_free(f"pack_thermocouple({name!r})")
        ch = self._optional_channel(name)
        if ch is None:
            raise InstrumentCommandError(self.name, None, f"the fixture has no {name} "
                                         "([fixture.channels] in the station file)")
        return self.measure_thermocouple(ch, str(self._channel("tc_type"))) + self._offset("temperature_tc")

    def inputs(self) -> dict[str, bool]:
        """Contacts as the fixture sees them: name → closed."""
        self._meter_free("inputs()")
        byte = self._read_byte(int(self._channel("digital_in")))
        return {name: bool(byte >> bit & 1) for name, bit in self.input_bits.items()}

    # -- the timed scan ----------------------------------------------------------------
    def start_capture(self, channels: Sequence[str], interval_s: float, seconds: float) -> None:
        """Start a timed scan of ``channels`` (``"pack_voltage"``, ``"pack_current"``,
        ``"inputs"``) every ``interval_s`` for ``seconds`` in the instrument, and return at
        once. Refused (:class:`CaptureRefused`, nothing written) when the DAQ cannot scan
        that fast or hold that many readings. Each DC channel gets the range its quantity
        needs at the envelope's limit (the terminals at its voltage, the shunt at its
        current), so a shunt's millivolts are not read on the terminals' range."""
        keys = tuple(dict.fromkeys(channels))
        bad = [k for k in keys if k not in CAPTURE_CHANNELS]
        if bad or not keys:
            raise ValueError(f"{self.name}: capture channels {list(channels)!r}; "
                             f"choose from {CAPTURE_CHANNELS}")
        if self._scan is not None:
            raise CaptureRefused(self.name, None, "a capture is running; fetch_capture() it first")
        chans = {k: self._capture_channel(k) for k in keys}
        step = self.SCAN_TIMER_STEP_S
        if not (math.isfinite(interval_s) and interval_s > 0 and math.isfinite(seconds) and seconds > 0):
            raise CaptureRefused(self.name, None, f"interval {interval_s!r} s, length {seconds!r} s")
        if abs(interval_s / step - round(interval_s / step)) > 1e-6:
            raise CaptureRefused(self.name, None, f"interval {interval_s:g} s: the scan timer "
                                 f"has steps of {step * 1000:g} ms")
        sweep = self._scan_sweep_s(sorted(chans.values()))
        fastest = math.ceil(sweep / step - 1e-9) * step
        if interval_s < fastest - 1e-9:
            raise CaptureRefused(self.name, None, f"a sweep of {'+'.join(keys)} takes "
                                 f"{sweep * 1000:.2f} ms: {fastest * 1000:g} ms at the fastest, "
                                 f"{interval_s * 1000:g} ms asked")
        sweeps = math.floor(seconds / interval_s + 1e-9) + 1
        if sweeps * len(chans) > self.SCAN_MEMORY:
            raise CaptureRefused(self.name, None, f"{sweeps} sweeps of {len(chans)} channels: the "
                                 f"memory holds {self.SCAN_MEMORY} readings")
        dc = {c: self._full_scale_v(k) for k, c in chans.items() if k != "inputs"}
        self._start_scan(dc, [c for k, c in chans.items() if k == "inputs"], interval_s, sweeps)
        now = self.clock.now()
        self._scan = PendingScan(keys, chans, interval_s, sweeps, now,
                                 now + (sweeps - 1) * interval_s + sweep)

    def _capture_channel(self, key: str) -> int:
        if key == "pack_current":
            return self._shunt(lambda why: CaptureRefused(
                self.name, None, f"a pack_current capture: {why}"))[0]
        return int(self._channel({"pack_voltage": "pack_voltage", "inputs": "digital_in"}[key]))

    def _full_scale_v(self, key: str) -> float:
        """The largest DC voltage ``key``'s channel can see inside the envelope."""
        if key == "pack_current":
            return self.envelope.max_current_a * self._shunt(ValueError)[1]
        return TERMINALS_FULL_SCALE_V

    def fetch_capture(self) -> DaqCapture:
        """Wait (station clock) until the scan is complete and return its readings with the
        DAQ's own timestamps."""
        scan = self._scan
        if scan is None:
            raise RuntimeError(f"{self.name}: fetch_capture() without start_capture()")
        left = scan.ends_at - self.clock.now()
        if left > 0:
            self.clock.sleep(left)
        deadline = self.clock.now() + 1.0 + 0.05 * (scan.ends_at - scan.started_at)
        while (got := self._scan_points()) < scan.readings:
            if self.clock.now() >= deadline:
                self._end_scan()
                raise InstrumentResponseError(self.name, "DATA:POIN?", f"the scan has {got} of "
                                              f"{scan.readings} readings, {deadline - scan.ends_at:.1f} s late")
            self.clock.sleep(max(1e-3, min(0.05, deadline - self.clock.now())))
        readings = self._fetch_scan()
        self._scan = None
        capture = decode(self.name, scan, readings, input_bits=self.input_bits,
                         volt_offset=self._offset("dc_voltage"),
                         shunt_ohm=self._shunt(ValueError)[1] if "pack_current" in scan.channels
                         else None)
        if scan.sweeps > 1:   # a DAQ slower than it was said to be scans as fast as it can
            mean = capture.times_s[-1] / (scan.sweeps - 1)
            if mean > scan.interval_s * 1.01 + 2 * self.SCAN_TIMER_STEP_S / (scan.sweeps - 1):
                raise InstrumentResponseError(self.name, "FETC?", f"the DAQ scanned every "
                                              f"{mean * 1000:.2f} ms, not every {scan.interval_s * 1000:g} ms: "
                                              "its modules are slower than the station file says")
        return capture

    def _end_scan(self) -> None:
        if self._scan is not None:
            self._scan = None
            self._abort_scan()

    # -- outputs -------------------------------------------------------------------------
    @property
    def relay_card(self) -> dict[str, int]:
        """Fixture relays on a relay card (``[fixture] relays = "card"``): name → channel."""
        return {k: int(v) for k, v in (self.options.get("relay_card") or {}).items()}

    def set_relay(self, name: str, on: bool) -> None:
        card = self.relay_card
        if name in card:
            self._switch_channels([card[name]], on)
            self._card = frozenset({*self._card, name}) if on else self._card - {name}
            return
        bits = self.output_bits
        if name not in bits:
            raise KeyError(f"{self.name}: no fixture output {name!r}; known: "
                           f"{sorted([*bits, *card])}")
        new = (self._out | 1 << bits[name]) if on else (self._out & ~(1 << bits[name]))
        self._write_byte(int(self._channel("digital_out")), new)
        self._out = new

    def relays(self) -> dict[str, bool]:
        out = {name: bool(self._out >> bit & 1) for name, bit in self.output_bits.items()}
        out.update({name: name in self._card for name in self.relay_card})
        return out

    def read_relays(self) -> dict[str, bool]:
        """The relay card's channels as the DAQ reports them (name → closed): what the
        instrument holds, not what this session last wrote."""
        card = self.relay_card
        if not card:
            return {}
        states = self._channels_closed(list(card.values()))
        return dict(zip(card, states, strict=True))

    def press(self, name: str, seconds: float) -> None:
        """Hold a relay closed for ``seconds`` of station time (e.g. SW for 1 s)."""
        self.set_relay(name, True)
        try:
            self.clock.sleep(seconds)
        finally:
            self.set_relay(name, False)

    def release_all(self) -> None:
        """Every relay released: the digital outputs to 0 and every relay-card channel
        opened (each tried even if the other fails)."""
        try:
            self._write_byte(int(self._channel("digital_out")), 0)
            self._out = 0
        finally:
            card = self.relay_card
            if card:
                self._switch_channels(sorted(card.values()), False)
                self._card = frozenset()

    def safe_state(self) -> None:
        """Stop this session's scan (if one runs), release every relay."""
        try:
            self._end_scan()
        finally:
            self.release_all()

    @abstractmethod
    def measure_dc(self, channel: int) -> float: ...
    @abstractmethod
    def measure_thermocouple(self, channel: int, tc_type: str) -> float: ...
    def measure_rtd(self, channel: int) -> float:
        """A 4-wire PT100 on ``channel`` (sense on its pair), °C, uncorrected."""
        raise InstrumentCommandError(self.name, None, "this DAQ dialect reads no RTD")
    @abstractmethod
    def _read_byte(self, channel: int) -> int: ...
    @abstractmethod
    def _write_byte(self, channel: int, value: int) -> None: ...
    def _switch_channels(self, channels: Sequence[int], close: bool) -> None:
        """Close or open relay-card channels (a DAQ dialect with a switch module)."""
        raise InstrumentCommandError(self.name, None, "this DAQ dialect drives no relay card")
    def _channels_closed(self, channels: Sequence[int]) -> list[bool]:
        raise InstrumentCommandError(self.name, None, "this DAQ dialect drives no relay card")

    # timed scan primitives; a dialect without a timed scan refuses every capture
    def _scan_sweep_s(self, channels: Sequence[int]) -> float:
        """Time one sweep of ``channels`` takes in the instrument, s."""
        raise CaptureRefused(self.name, None, "this DAQ dialect has no timed scan")
    def _start_scan(self, dc: Mapping[int, float], digital: Sequence[int], interval_s: float,
                    sweeps: int) -> None: ...   # dc: channel -> the largest volts it must read
    def _scan_points(self) -> int:
        return 0
    def _fetch_scan(self) -> list[Reading]:
        return []
    def _abort_scan(self) -> None: ...
