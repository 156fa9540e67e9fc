"""Simulated Keysight DAQ970A wired into the test fixture.

Channel 101 reads the pack terminals (with the meter's own gain error and seeded noise),
102 a type-K thermocouple in the chamber air, 301 the pack's dry contacts NO2/NO3/NO4 (a
byte), 302 drives the fixture relays: across POWER and SW, the α Plus breaker actuator,
and the 24 V drive of IN1. The bit maps are the fixture's wiring; the station file must
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

from common.clock import EventHandle, VirtualClock
from sim.instruments.load import SimLoad
from sim.instruments.scpi import ScpiDevice, ScpiError, number
from sim.pack.interface import SimPackApi

OUTPUT_BITS = {"power": 0, "sw": 1, "breaker": 2, "in1": 3}
INPUT_BITS = {"no2": 0, "no3": 1, "no4": 2}
CHANNELS = {"pack_voltage": 101, "ambient_tc": 102, "tc_type": "K", "digital_in": 301, "digital_out": 302}
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
    out_byte: int = 0
    received: list[str] = field(default_factory=list)
    network: object | None = None
    supply: object | None = None
    deadman_s: float = DEADMAN_S
    #: The watchdog relay's contacts: closed until its timer runs out.
    deadman_held: bool = True
    deadman_trips: int = 0
    _power_latched_open: bool = False      # the hold circuit after a drop
    _deadman_handle: EventHandle | None = None
    #: Relays the bench wires to further output bits (sim/bench.py: the link relays): bit → drive.
    extra_outputs: dict[int, Callable[[bool], None]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._rng = random.Random(self.seed)

    def terminal_volts(self) -> float:
        v = self.pack.terminal_voltage()
        if v == 0.0 and getattr(self.supply, "output_on", False):
            v = getattr(self.network, "volts", 0.0)
        return v

    def read_voltage(self) -> float:
        return self.terminal_volts() * (1 + self.gain_error) + self._rng.gauss(0.0, self.noise_v)

    def read_tc(self) -> float:
        return self.pack.ambient() + self.tc_offset_c

    def read_inputs(self) -> int:
        return sum(1 << bit for name, bit in INPUT_BITS.items() if self.pack.contact_closed(int(name[2])))

    def write_outputs(self, value: int) -> None:
        old, self.out_byte = self.out_byte, value & 0xFF
        changed = old ^ self.out_byte
        if changed >> HEARTBEAT_BIT & 1:
            self._heartbeat()
        for name, bit in OUTPUT_BITS.items():
            if not changed >> bit & 1:
                continue
            on = bool(self.out_byte >> bit & 1)
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
        for bit, drive in sorted(self.extra_outputs.items()):
            if changed >> bit & 1:
                drive(bool(self.out_byte >> bit & 1))

    def relay(self, name: str) -> bool:
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

    def _load_inhibit(self, on: bool) -> None:
        for device in getattr(self.network, "devices", ()):
            if isinstance(device, SimLoad):
                device.set_inhibit(on)

    def close(self) -> None:
        if self._deadman_handle is not None:
            self._deadman_handle.cancel()


def _channel(arg: str, allowed: tuple[int, ...]) -> int:
    m = _CH.search(arg)
    if not m:
        raise ScpiError(-104, "Data type error; channel list expected")
    ch = int(m.group(1))
    if ch not in allowed:
        raise ScpiError(-222, f"Data out of range; channel {ch}")
    return ch


def daq970a_device(daq: SimDaq) -> ScpiDevice:
    dev = ScpiDevice(f"Keysight Technologies,DAQ970A,{daq.serial},A.03.02-01.00-03.02-00.02")

    def volt(arg: str) -> str:
        _channel(arg, (CHANNELS["pack_voltage"],))
        return f"{daq.read_voltage():+.9E}"

    def temp(arg: str) -> str:
        parts = arg.replace(" ", "").split(",")
        if len(parts) < 3 or parts[0].upper() != "TC" or parts[1].upper() not in "JKTERSBN":
            raise ScpiError(-224, "Illegal parameter value")
        _channel(arg, (CHANNELS["ambient_tc"],))
        return f"{daq.read_tc():+.6E}"

    def din(arg: str) -> str:
        _channel(arg, (CHANNELS["digital_in"],))
        return str(daq.read_inputs())

    def dout(arg: str) -> None:
        value, _, rest = arg.partition(",")
        byte = int(number(value, 0, 255))
        _channel(rest, (CHANNELS["digital_out"],))
        daq.write_outputs(byte)

    def dout_q(arg: str) -> str:
        _channel(arg, (CHANNELS["digital_out"],))
        return str(daq.out_byte)

    dev.add("MEASure:VOLTage[:DC]?", volt)
    dev.add("MEASure:TEMPerature?", temp)
    dev.add("MEASure:DIGital:BYTE?", din)
    dev.add("SOURce:DIGital:DATA[:BYTE]", dout)
    dev.add("SOURce:DIGital:DATA[:BYTE]?", dout_q)
    return dev
