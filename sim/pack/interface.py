"""The public face of the simulated pack: what the wire side and the instruments may use.

Three consumers use a :class:`SimPack` (``sim.pack.pack``):
- the pack's own wire side (``sim.wire``): RS485, CAN and console read
  ``pack.bms.snapshot()`` (``BmsFirmwareApi``) and the identity, and call the test-mode methods;
- the simulated instruments (``sim.instruments``): they wire themselves to the
  terminals through a :data:`TerminalNetwork`, press buttons, drive IN1, read contacts,
  LED edges and the terminal voltage;
- tests and benchmarks.

Everything here is plain data so that the contract can be read in one sitting.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from common.clock import VirtualClock

#: LED names, in the order of the console's ``led test`` (SPEC §7).
LEDS: tuple[str, ...] = ("RUN", "ALM", "SOC1", "SOC2", "SOC3", "SOC4")

#: Names of alarm and protection conditions (the keys of the snapshot's sets).
#: Alarms may be any of the first eleven; protections any but "imbalance".
CONDITIONS: tuple[str, ...] = (
    "cell_ov", "cell_uv", "pack_ov", "pack_uv",
    "chg_ot", "chg_ut", "dsg_ot", "dsg_ut", "board_ot",
    "imbalance",
    "chg_oc", "dsg_oc",      # any over-current tier of that direction (alarm: > tier-1 current)
    "short",                 # short circuit (> 500 A)
    "in1",                   # IN1 emergency stop
    "oc_latched",            # third over-current trip within 10 min: off until next power-on
)

#: Pack states of the firmware.
STATES: tuple[str, ...] = ("off", "on", "sleep", "latched")


@dataclass(frozen=True)
class TerminalView:
    """What the pack presents to whatever is wired across its terminals.

    ``emf_v`` is the internal source voltage (sum of cell OCVs plus polarisation),
    ``r_ohm`` the series resistance (cells, MOSFETs, busbars). Charge current (+) can
    flow only if ``charge_path``, discharge current (−) only if ``discharge_path``.
    """

    emf_v: float
    r_ohm: float
    charge_path: bool
    discharge_path: bool


#: The bench's wiring: given the pack's terminal view, return the pack current in A
#: (+ = into the pack). The pack calls it at each integration step and on
#: :meth:`SimPack.inputs_changed`; the network must respect the paths it is given.
#: [pack engineer] It runs under ``clock.lock`` and may be called more than once per
#: instant, also with a hypothetical view (charger detection while the charge MOSFET is
#: open: charge path closed, emf + 0.3 V), so it should have no side effects that matter.
TerminalNetwork = Callable[[TerminalView], float]


@dataclass(frozen=True)
class BmsSnapshot:
    """The BMS firmware's view at one instant: measured values (with sensor gain, offset
    and noise) and its decisions. This is what every port reports, so the ports agree."""

    t: float                              # virtual time of the snapshot
    state: str                            # one of STATES
    cell_mv: tuple[int, ...]              # 16 measured cell voltages, mV
    temps_dc: tuple[int, ...]             # 6 sensors, 0.1 °C: board, 4 cell groups, MOSFET
    pack_mv: int                          # measured pack voltage, mV
    current_ma: int                       # measured current, mA (+ = charge)
    soc_pct: float                        # 0..100
    soh_pct: float                        # 0..100
    remaining_mah: int
    full_mah: int                         # present full capacity
    design_mah: int                       # 100 000
    cycles: int
    cumulative_ah: float                  # discharged Ah over the pack's life
    charge_fet: bool
    discharge_fet: bool
    mode: str                             # "charging" | "discharging" | "standby"
    alarms: frozenset[str]                # subset of CONDITIONS
    protections: frozenset[str]           # subset of CONDITIONS
    cell_states: tuple[str, ...]          # per cell: "normal" | "below" | "above"
    temp_states: tuple[str, ...]          # per sensor: "normal" | "below" | "above"
    charge_limit_da: int                  # advertised charge current limit, 0.1 A (>= 0)
    discharge_limit_da: int               # advertised discharge current limit, 0.1 A (>= 0)
    cvl_mv: int                           # advertised charge voltage
    dvl_mv: int                           # advertised discharge voltage
    force_charge_1: bool
    force_charge_2: bool
    full_charge_request: bool
    fully_charged: bool
    balancing: tuple[bool, ...]           # 16
    heater_on: bool
    test_mode: bool
    contacts: dict[int, bool] = field(default_factory=dict)  # firmware's relay commands 2,3,4


@dataclass(frozen=True)
class Identity:
    """What the pack says about itself (from the unit description)."""

    serial: str
    model_id: str
    device_name: str          # V5 / V5A / V5AP
    manufacturer: str         # PYTES
    fw_main: str              # "major.minor.patch"
    fw_boot: str
    fw_bms_board: str
    dip: int                  # 4 bits, bit 1 = LSB
    address: int              # RS485 ADR from the DIP (0x02 + 0x10·m)
    rs485_baud: int           # 9600 or 115200 from DIP bit 4
    can_bitrate: int
    console_baud: int


@dataclass(frozen=True)
class LogEvent:
    """One entry of the pack's event log (SPEC §4)."""

    t: float                  # virtual time
    code: str                 # e.g. "dsg_oc_prot", "cell_ov_alarm", "power_on", "log_cleared"
    pack_mv: int
    current_ma: int
    cell_max_mv: int
    cell_min_mv: int
    temp_dc: int              # highest cell temperature
    info: str = "-"           # the log's Info column (a cell, a duration; "-" when none)
    cells_mv: tuple[int, ...] = ()   # every cell at the event (console `data event`)


class InvalidValue(ValueError):
    """The firmware refuses a test-mode value (console prints ``Invalid value``)."""


class NotInTestMode(RuntimeError):
    """A test-mode command outside ``login debug`` + ``tmode on``."""


class BmsFirmwareApi(Protocol):
    """The firmware side of a simulated pack (``SimPack.bms``)."""

    def snapshot(self) -> BmsSnapshot:
        """The firmware's view now (the pack is first brought up to ``clock.now()``)."""

    # parameter set (SPEC §7)
    def stored_parameters(self) -> dict[str, int]: ...
    def active_parameters(self) -> dict[str, int]: ...
    def crc(self) -> tuple[int, int]:
        """(stored, active) CRC-32 of the parameter table, as ``crc`` prints them."""

    # console test mode (SPEC §7); every console command calls console_activity() first
    def console_activity(self) -> None:
        """Input seen on the console: restarts the 10-minute test-mode timeout."""
    def login_debug(self) -> None: ...
    def logout(self) -> None:
        """Leaves debug and test mode; restores every temporary change."""
    @property
    def debug(self) -> bool: ...
    def set_test_mode(self, on: bool) -> None:
        """``tmode on|off``; raises NotInTestMode unless logged in."""
    def force_relay(self, n: int, on: bool) -> None:
        """``relay N on|off`` (N = 2, 3, 4); raises NotInTestMode / InvalidValue."""
    def led_test(self) -> None:
        """``led test``: each LED alone for 0.5 s in LEDS order, starting now."""
    def force_heater(self, on: bool) -> None: ...
    def set_threshold(self, name: str, value: int) -> None:
        """``setthr``: temporary change; raises InvalidValue (order rule, unknown name)."""
    def clear_thresholds(self) -> None:
        """``clrthr``: active set = stored set."""

    def unlock(self) -> None:
        """``unlock`` (test mode): clears a system lock (SPEC 2.2)."""

    # event log, statistics, the pack's calendar clock
    def events(self) -> list[LogEvent]: ...
    def clear_events(self) -> None: ...
    def pack_time(self) -> datetime: ...
    def set_pack_time(self, when: datetime) -> None: ...
    def event_counts(self) -> dict[str, int]:
        """Counts by event code since the log was last cleared (console ``stat``)."""
    def stat_counters(self) -> dict[str, int]:
        """The lifetime counters of ``stat`` by SPEC §7 label (``sim.pack.history``)."""
    def soh_counts(self) -> tuple[int, ...]:
        """SOHCount of each cell (console ``soh N``)."""
    def inverter_heartbeat(self, t: float) -> None:
        """CAN 0x305 received from the inverter/station at virtual time ``t``."""


class SimPackApi(Protocol):
    """The physical pack: terminals, buttons, contacts, LEDs, environment."""

    clock: VirtualClock
    identity: Identity

    @property
    def bms(self) -> BmsFirmwareApi:
        """The firmware (read-only: a pack's own implementation of it)."""

    # terminals
    def set_network(self, network: TerminalNetwork | None) -> None:
        """Wire something across the terminals (None: open terminals)."""
    def inputs_changed(self) -> None:
        """An instrument changed its setting: bring the pack to now, re-solve the current."""
    def sync(self) -> None:
        """Bring the pack to now with the network *as it is*. The pack integrates lazily and
        calls the network for past steps, so an instrument must call this BEFORE changing a
        setting its network reads (then ``inputs_changed()`` after), or use
        ``with pack.changing(): ...`` which does both. [added by the pack engineer]"""
    def terminal_voltage(self) -> float:
        """What a voltmeter on the terminals reads now: emf + I·r while a path is closed;
        0.0 while both MOSFETs are open (pack off) and nothing drives the terminals."""
    def current(self) -> float:
        """True current now, A (+ = charge)."""
    def current_observed(self) -> float:
        """The terminal current as a meter's reading sees it, without making now a step
        boundary (a scan's readings leave the pack's steps as they would be unwatched)."""
    def current_history(self, t0: float, t1: float) -> list[tuple[float, float]]:
        """(t, amps) change points of the true current in [t0, t1]; the first is the value
        at t0. Lets a load capture the exact trip instant at any sample rate."""

    # environment and thermal
    def set_ambient(self, temp_c: float) -> None: ...
    def ambient(self) -> float: ...
    def cell_temperature(self) -> float:
        """True mean cell temperature, °C."""

    # fixture relays across the buttons, the breaker actuator, IN1
    def set_power_button(self, on: bool) -> None: ...
    def set_sw(self, pressed: bool) -> None: ...
    def set_breaker(self, closed: bool) -> None: ...
    def set_in1(self, volts: float) -> None: ...

    # outputs a fixture can observe
    def contact_closed(self, n: int) -> bool:
        """Physical state of NO2/NO3/NO4 (n = 2, 3, 4), wiring faults included."""
    def led_on(self, led: str) -> bool: ...
    def led_edges(self, led: str, t0: float, t1: float) -> list[tuple[float, bool]]:
        """Transitions (t, on) of one LED in [t0, t1], from the pack's LED timeline."""
    def led_colour(self, led: str) -> tuple[int, int, int]:
        """RGB of the LED when lit (from the unit description)."""
    def led_intensity(self, led: str) -> float:
        """Relative intensity 0..1 when lit (0 for a dead LED)."""

    # what the safety tester sees
    def ground_bond_ohm(self) -> float: ...
    def insulation_ohm(self) -> float: ...
