"""Simulated Keysight DAQ970A wired into the test fixture.

Slot 1 holds a DAQM900A solid-state multiplexer (:data:`MODULES`; fast enough for a
DCV + digital scan every few ms): channel 101 reads the pack terminals (with the meter's
own gain error and seeded noise), 102 a type-K thermocouple in the chamber air (+0.2 °C),
103 a 4-wire PT100 in the air (sense on 113; the probe reads :data:`RTD_ERROR_C` high, as
its certificate :data:`RTD_CALIBRATION` states, 0.001 °C resolution). Slot 3 holds the
DAQM907A: 301 reads the pack's dry contacts NO2/NO3/NO4 (a byte), 302 drives the fixture
relays: across POWER and SW, the α Plus breaker actuator, and the 24 V drive of IN1. The
timed scan (``sim.instruments.daq_scan``) samples the same quantities at its own instants;
302 stays writable while it runs. The bit maps are the fixture's wiring; the station file must
say the same (``write_station_file`` writes :data:`OUTPUT_BITS` / :data:`INPUT_BITS`).

Bit :data:`HEARTBEAT_BIT` drives the fixture's watchdog relay, a retriggerable timer relay
in series with the POWER relay coil and the load's enable: each edge restarts its
:data:`DEADMAN_S`; when it runs out the relay drops POWER (the pack loses its button
supply) and inhibits the load. A hold circuit keeps POWER open until the heartbeat is back
and the station re-asserts POWER (writes it off, then on); the load stays off until it is
switched on again. Until the first edge the relay is not armed (holds), so a bench without
a station, or a station file without ``[fixture.deadman]``, behaves as before.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from common.clock import EventHandle, VirtualClock
from sim.instruments.daq_scan import (
    RESOLUTION,
    ChannelConfig,
    ScanEngine,
    add_scan_commands,
    channel_list,
)
from sim.instruments.load import SimLoad
from sim.instruments.scpi import ScpiDevice, ScpiError, number
from sim.pack.interface import SimPackApi

OUTPUT_BITS = {"power": 0, "sw": 1, "breaker": 2, "in1": 3}
INPUT_BITS = {"no2": 0, "no3": 1, "no4": 2}
#: The certification bench's smoke/gas detector on the digital input (stations/sim-cert.toml).
SMOKE_BIT = 3
#: The certification bench's type-K thermocouples taped to a cell group and to the case
#: (stations/sim-cert.toml ``cell_tc``, ``case_tc``). The twin's cells and case are one
#: thermal node (sim/pack/thermal.py), so both read it, with the thermocouple's offset.
PACK_TCS = {"cell_tc": 105, "case_tc": 106}
CHANNELS: dict[str, Any] = {"pack_voltage": 101, "ambient_tc": 102, "tc_type": "K", "ambient_rtd": 103,
            "digital_in": 301, "digital_out": 302}
#: The fixture's 4-terminal shunt in the pack's negative lead (100 A / 50 mV), on DCV 104.
SHUNT: dict[str, Any] = {"channel": 104, "ohm": 0.0005}
SHUNT_NOISE_V = 1e-6
#: The modules in the simulated DAQ's slots (what the station file's options.modules says).
MODULES = {1: "DAQM900A", 3: "DAQM907A"}
#: The simulated PT100's own error, and the certificate that states (and corrects) it.
RTD_ERROR_C = 0.08
RTD_CALIBRATION = {"certificate": "SIM-PT100-0001: simulated 4-wire PT100 on DAQ 103/113, "
                                  "reads +0.080 °C against the reference (k = 2: 0.04 °C)",
                   "offsets": {"temperature_rtd": -RTD_ERROR_C},
                   "uncertainty": {"temperature_rtd": 0.02}}
#: 2-wire PT100 leads, Ω (what a 2-wire reading of the 4-wire probe adds), and alpha.
RTD_LEADS_OHM = 0.5
PT100_ALPHA = {"85": 0.00385, "91": 0.00391}
IN1_DRIVE_V = 24.0
#: The heartbeat output and the watchdog relay's set time (``[fixture.deadman]``).
HEARTBEAT_BIT = 4
DEADMAN_S = 2.0

_CH = re.compile(r"\(@(\d{3})\)")


@dataclass
class SimDaq:
    pack: SimPackApi
    clock: VirtualClock
    serial: str
    seed: int = 0
    gain_error: float = 2e-5       # DAQM901A 100 V range, within its 1-year accuracy
    noise_v: float = 0.0005
    tc_offset_c: float = 0.2
    rtd_error_c: float = RTD_ERROR_C
    modules: dict[int, str] = field(default_factory=lambda: dict(MODULES))
    out_byte: int = 0
    received: list[str] = field(default_factory=list)
    network: object | None = None
    supply: object | None = None
    deadman_s: float = DEADMAN_S
    #: The smoke/gas detector's contact (a test sets it to cause the hard abort).
    smoke: bool = False
    #: The watchdog relay's contacts: closed until its timer runs out.
    deadman_held: bool = True
    deadman_trips: int = 0
    _power_latched_open: bool = False      # the hold circuit after a drop
    _deadman_handle: EventHandle | None = None
    #: Relays the bench wires to further output bits (sim/bench.py: the link relays): bit → drive.
    extra_outputs: dict[int, Callable[[bool], None]] = field(default_factory=dict)
    #: Contacts the bench wires to further input bits (the short-circuit fixture's guard
    #: interlock, sim/instruments/short_circuit.py): bit → closed now.
    extra_inputs: dict[int, Callable[[], bool]] = field(default_factory=dict)
    #: A fixture wired to a relay card (a DAQM903A in :attr:`modules`) instead of the
    #: digital output: relay name → card channel. Empty: the relays are on :data:`OUTPUT_BITS`.
    relay_card: dict[str, int] = field(default_factory=dict)
    #: The relay card's closed channels.
    closed: set[int] = field(default_factory=set)
    #: Relays the bench wires to further card channels: channel → drive.
    extra_channels: dict[int, Callable[[bool], None]] = field(default_factory=dict)
    scan: ScanEngine = field(init=False)

    def __post_init__(self) -> None:
        self._rng = random.Random(self.seed)
        self.scan = ScanEngine(self)

    def terminal_volts(self) -> float:
        v = self.pack.terminal_voltage()
        if v == 0.0 and getattr(self.supply, "output_on", False):
            v = getattr(self.network, "volts", 0.0)
        return v

    def read_voltage(self) -> float:
        return self.terminal_volts() * (1 + self.gain_error) + self._rng.gauss(0.0, self.noise_v)

    def read_shunt(self) -> float:
        """The shunt's voltage: the pack's current × its resistance (+ charging), the meter's
        gain error and a microvolt of noise."""
        volts = self.pack.current_observed() * SHUNT["ohm"]
        return volts * (1 + self.gain_error) + self._rng.gauss(0.0, SHUNT_NOISE_V)

    def read_dc(self, ch: int) -> float:
        """DCV on ``ch``: the terminals, the shunt, or an open input's noise."""
        if ch == CHANNELS["pack_voltage"]:
            return self.read_voltage()
        if ch == SHUNT["channel"]:
            return self.read_shunt()
        return self._rng.gauss(0.0, self.noise_v)

    def read_tc(self, ch: int | None = None) -> float:
        if ch in PACK_TCS.values():
            return self.pack.cell_temperature() + self.tc_offset_c
        return self.pack.ambient() + self.tc_offset_c

    def read_rtd(self, four_wire: bool = True, alpha: str = "85") -> float:
        """The PT100 in the air: its own error, 2-wire leads if read 2-wire, and the
        conversion of the alpha asked (the probe is a 0.00385 one), 0.001 °C steps."""
        t = self.pack.ambient() + self.rtd_error_c
        ohm = 100.0 * (1 + PT100_ALPHA["85"] * t) + (0.0 if four_wire else RTD_LEADS_OHM)
        return round((ohm / 100.0 - 1) / PT100_ALPHA[alpha], 3)

    def check_channel(self, ch: int, function: str) -> None:
        """What the modules can do on ``ch`` (``-222`` otherwise)."""
        module = self.modules.get(ch // 100)
        n = ch % 100
        ok = module is not None and (
            (function == "DIG" and module == "DAQM907A" and n in (1, 2))
            or (function in ("VOLT", "TC") and module != "DAQM907A" and 1 <= n <= 20)
            or (function == "FRTD" and module in ("DAQM900A", "DAQM901A") and 1 <= n <= 10))
        if not ok:
            raise ScpiError(-222, f"Data out of range; channel {ch} ({module or 'empty slot'}) "
                                  f"cannot measure {function}")

    def scan_value(self, ch: int, cfg: ChannelConfig) -> float:
        """One reading of a scan, now: the quantity wired to ``ch`` at the configured
        range and integration (DCV resolution by its integration time)."""
        if cfg.function == "DIG":
            return float(self.read_inputs()) if ch == CHANNELS["digital_in"] else 0.0
        if cfg.function == "TC":
            return self.read_tc(ch)
        if cfg.function == "FRTD":
            return self.read_rtd()
        volts = self.read_dc(ch)
        step = cfg.range_v * next(r for limit, r in RESOLUTION if cfg.nplc < limit)
        return round(volts / step) * step

    def read_inputs(self) -> int:
        contacts = sum(1 << bit for name, bit in INPUT_BITS.items() if self.pack.contact_closed(int(name[2])))
        extra = sum(1 << bit for bit, closed in self.extra_inputs.items() if closed())
        return contacts | extra | ((1 << SMOKE_BIT) if self.smoke else 0)

    def output_write_touches_pack(self, value: int) -> bool:
        """Whether writing ``value`` to the output byte changes anything the pack or the
        terminal network sees: a relay or fixture output, or a heartbeat edge that brings
        the dropped watchdog relay back (the load's enable). A heartbeat beat alone only
        restarts the relay's timer."""
        changed = self.out_byte ^ (value & 0xFF)
        if changed >> HEARTBEAT_BIT & 1 and not self.deadman_held:
            return True
        return not self.relay_card and bool(changed & ~(1 << HEARTBEAT_BIT))

    def write_outputs(self, value: int) -> None:
        old, self.out_byte = self.out_byte, value & 0xFF
        changed = old ^ self.out_byte
        if changed >> HEARTBEAT_BIT & 1:
            self._heartbeat()
        if self.relay_card:   # the relays are on the card; the byte drives the heartbeat only
            return
        for name, bit in OUTPUT_BITS.items():
            if changed >> bit & 1:
                self._drive(name, bool(self.out_byte >> bit & 1))
        for bit, drive in sorted(self.extra_outputs.items()):
            if changed >> bit & 1:
                drive(bool(self.out_byte >> bit & 1))

    def switch_channels(self, channels: list[int], close: bool) -> None:
        """``ROUT:CLOS``/``ROUT:OPEN`` on the relay card: each channel's relay, and the
        fixture function wired to it."""
        by_channel = {ch: name for name, ch in self.relay_card.items()}
        for ch in channels:
            if (ch in self.closed) == close:
                continue
            (self.closed.add if close else self.closed.discard)(ch)
            if ch in by_channel:
                self._drive(by_channel[ch], close)
            elif ch in self.extra_channels:
                self.extra_channels[ch](close)

    def _drive(self, name: str, on: bool) -> None:
        if name == "power":
            if on and self.deadman_held:   # re-asserted with the heartbeat live
                self._power_latched_open = False
            self.pack.set_power_button(self.power_closed())
        elif name == "sw":
            self.pack.set_sw(on)
        elif name == "breaker":
            self.pack.set_breaker(on)
        elif name == "in1":
            self.pack.set_in1(IN1_DRIVE_V if on else 0.0)

    def relay(self, name: str) -> bool:
        if self.relay_card:
            return self.relay_card[name] in self.closed
        return bool(self.out_byte >> OUTPUT_BITS[name] & 1)

    def power_closed(self) -> bool:
        """The POWER relay's contacts: its DAQ bit, through the watchdog relay and the hold."""
        return self.relay("power") and self.deadman_held and not self._power_latched_open

    # -- the watchdog relay --------------------------------------------------------------
    def _heartbeat(self) -> None:
        """An edge of the heartbeat: restart the timer (a deadline event, no polling)."""
        if self._deadman_handle is not None:
            self._deadman_handle.cancel()
        self._deadman_handle = self.clock.call_later(self.deadman_s, self._deadman_expired)
        if not self.deadman_held:
            self.deadman_held = True
            self._load_inhibit(False)

    def _deadman_expired(self, t: float) -> None:
        del t
        self._deadman_handle = None
        self.deadman_held = False
        self.deadman_trips += 1
        self._power_latched_open = True
        self.pack.set_power_button(False)
        self._load_inhibit(True)
        inhibit = getattr(self.supply, "inhibit", None)   # the supply's INH input, wired in too
        if inhibit is not None:
            inhibit()

    def smoke_detected(self, t: float | None = None) -> None:
        """The cert bench's smoke/gas detector trips: its contact reads on the digital input
        (``SMOKE_BIT``) and, wired in series with the watchdog relay, drops POWER, inhibits
        the load and the supply at once, as the dead-man does (the station's watch then
        ends the plan)."""
        del t
        self.smoke = True
        self._deadman_expired(self.clock.now())

    def _load_inhibit(self, on: bool) -> None:
        for device in getattr(self.network, "devices", ()):
            if isinstance(device, SimLoad):
                device.set_inhibit(on)

    def close(self) -> None:
        if self._deadman_handle is not None:
            self._deadman_handle.cancel()
        self.scan.abort()


def _channel(arg: str, allowed: tuple[int, ...]) -> int:
    m = _CH.search(arg)
    if not m:
        raise ScpiError(-104, "Data type error; channel list expected")
    ch = int(m.group(1))
    if ch not in allowed:
        raise ScpiError(-222, f"Data out of range; channel {ch}")
    return ch


_OUTPUT_WRITE = re.compile(r"\s*:?SOUR(?:CE)?:DIG(?:ITAL)?:DATA(?::BYTE)?\s+(\d+)\s*,[^;]*", re.IGNORECASE)


def pack_free(daq: SimDaq) -> Callable[[str], bool]:
    """Whether a command line leaves the pack alone: an output-byte write that is a
    heartbeat beat and nothing else (:meth:`SimDaq.output_write_touches_pack`), so the
    dead-man's beats, a third of a run's DAQ traffic, do not bring the pack up to now."""

    def free(line: str) -> bool:
        m = _OUTPUT_WRITE.fullmatch(line)
        if m is None:
            return False
        value = int(m.group(1))
        return value <= 255 and not daq.output_write_touches_pack(value)
    return free


def daq970a_device(daq: SimDaq) -> ScpiDevice:
    dev = ScpiDevice(f"Keysight Technologies,DAQ970A,{daq.serial},A.03.02-01.00-03.02-00.02")
    scan = daq.scan

    def volt(arg: str) -> str:
        ch = _channel(arg, (CHANNELS["pack_voltage"], SHUNT["channel"]))
        scan.measured()
        return f"{daq.read_dc(ch):+.9E}"

    def temp(arg: str) -> str:
        parts = arg.replace(" ", "").split(",")
        kind = parts[0].upper() if parts else ""
        if len(parts) < 3 or kind not in ("TC", "TCOUPLE", "FRTD", "RTD"):
            raise ScpiError(-224, "Illegal parameter value")
        if kind.startswith("TC"):
            if parts[1].upper() not in "JKTERSBN":
                raise ScpiError(-224, "Illegal parameter value")
            ch = _channel(arg, (CHANNELS["ambient_tc"], *PACK_TCS.values()))
            scan.measured()
            return f"{daq.read_tc(ch):+.6E}"
        if parts[1] not in PT100_ALPHA:
            raise ScpiError(-224, "Illegal parameter value; RTD type 85 or 91")
        ch = channel_list(arg)[0]
        daq.check_channel(ch, "FRTD")
        _channel(arg, (CHANNELS["ambient_rtd"],))
        scan.measured()
        return f"{daq.read_rtd(kind == 'FRTD', parts[1]):+.9E}"

    def din(arg: str) -> str:
        _channel(arg, (CHANNELS["digital_in"],))
        scan.measured()
        return str(daq.read_inputs())

    def dout(arg: str) -> None:
        value, _, rest = arg.partition(",")
        byte = int(number(value, 0, 255))
        ch = _channel(rest, (CHANNELS["digital_out"],))
        scan.guard([ch])          # an output port not in the scan list is written while it runs
        daq.write_outputs(byte)

    def dout_q(arg: str) -> str:
        _channel(arg, (CHANNELS["digital_out"],))
        return str(daq.out_byte)

    def card_channels(arg: str) -> list[int]:
        chans = channel_list(arg)
        for ch in chans:
            if daq.modules.get(ch // 100) != "DAQM903A" or not 1 <= ch % 100 <= 20:
                raise ScpiError(-222, f"Data out of range; channel {ch} "
                                      f"({daq.modules.get(ch // 100) or 'empty slot'}) is no switch")
        return chans

    dev.add("ROUTe:CLOSe", lambda a: daq.switch_channels(card_channels(a), True))
    dev.add("ROUTe:OPEN", lambda a: daq.switch_channels(card_channels(a), False))
    dev.add("ROUTe:CLOSe?", lambda a: ",".join("1" if c in daq.closed else "0"
                                                for c in card_channels(a)))
    dev.add("MEASure:VOLTage[:DC]?", volt)
    dev.add("MEASure:TEMPerature?", temp)
    dev.add("MEASure:DIGital:BYTE?", din)
    dev.add("SOURce:DIGital:DATA[:BYTE]", dout)
    dev.add("SOURce:DIGital:DATA[:BYTE]?", dout_q)
    add_scan_commands(dev, scan)

    def reset() -> None:   # *RST opens every switch channel (the guide's factory reset)
        scan.reset()
        daq.switch_channels(sorted(daq.closed), False)

    dev.on_reset = reset
    return dev
