"""The ``bms`` role: the pack's BMS over CAN, RS485 and the console, in SI units and SPEC words.

A plan asks the BMS what SPEC says it knows — its identity, a reading (pack and cell
volts, amps, °C by sensor name, SOC), the limits it advertises, its CAN frames with their
periods and named flags — and drives its test mode inside ``with bms.test_mode() as tm:``
(login, test mode, and logout in ``finally``). Wire units, CAN IDs and Pylon command codes
stay here and in the port drivers, which remain reachable (``bms.can``, ``bms.rs485``,
``bms.console``) for diagnostics.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime

from common import pylon_can as pc
from common import pylon_rs485 as pr
from common.clock import Clock, wait_until
from drivers.pack.can_monitor import CanMonitor
from drivers.pack.console import ConsoleClient
from drivers.pack.dumps import HistoryDump, read_history
from drivers.pack.rs485 import Rs485Client

#: The temperature sensors of RS485 analog values, in the order the pack sends them [§6].
TEMPERATURE_SENSORS = ("bms_board", "cells_1_4", "cells_5_8", "cells_9_12", "cells_13_16", "mosfet")
#: The sensors on the cells (the derating of §2.5 follows these).
CELL_SENSORS = TEMPERATURE_SENSORS[1:5]
#: The console prompt outside the debug login (SPEC §7).
NORMAL_PROMPT = "PYTES>"
#: The CAN frames the BMS sends about once a second, by their SPEC name.
CAN_FRAMES: dict[str, int] = dict(pc.FRAME_NAMES)
_FRAME_NAMES = {fid: name for name, fid in CAN_FRAMES.items()}


def _snake(camel: str) -> str:
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", camel).lower()


@dataclass(frozen=True)
class BmsIdentity:
    """What the pack says it is (RS485 manufacturer info, serial number)."""

    address: int
    serial: str
    device_name: str
    manufacturer: str
    software_version: str   # "major.minor" as RS485 reports it


@dataclass(frozen=True)
class ConsoleIdentity:
    """The console's ``info``: barcode, the three firmware versions, the DIP setting."""

    barcode: str
    main_version: str
    boot_version: str
    board_version: str
    dip: int


@dataclass(frozen=True)
class BmsReading:
    """One reading of the pack (RS485 analog values), in V, A (+ = charge), °C, Ah."""

    pack_voltage_v: float
    cell_voltages_v: tuple[float, ...]
    current_a: float
    temperatures_c: dict[str, float]
    remaining_ah: float
    full_ah: float

    @property
    def soc_pct(self) -> float:
        """SOC from remaining and full capacity (finer than CAN's whole percent)."""
        return 100.0 * self.remaining_ah / max(self.full_ah, 1e-3)

    @property
    def cell_spread_v(self) -> float:
        return max(self.cell_voltages_v) - min(self.cell_voltages_v)

    @property
    def cell_sum_v(self) -> float:
        return sum(self.cell_voltages_v)

    @property
    def cell_temperatures_c(self) -> tuple[float, ...]:
        return tuple(self.temperatures_c[s] for s in CELL_SENSORS if s in self.temperatures_c)


@dataclass(frozen=True)
class StackModule:
    """One pack of the stack as the ``FF`` analog values give it (its position, not its
    serial: 0x42 carries none), in V, A (+ = charge), Ah."""

    index: int               # 0: the master; ADR = master's ADR + index
    cell_count: int
    temperature_count: int
    pack_voltage_v: float
    current_a: float
    remaining_ah: float
    full_ah: float

    @property
    def soc_pct(self) -> float:
        return 100.0 * self.remaining_ah / max(self.full_ah, 1e-3)


@dataclass(frozen=True)
class BmsStack:
    """The stack the pack is in (RS485 0x42 with INFO ``FF``): master first."""

    module_count: int
    modules: tuple[StackModule, ...]


@dataclass(frozen=True)
class Management:
    """What the pack allows now (RS485 management info): limits in A, both > 0 when allowed."""

    charge_current_limit_a: float
    discharge_current_limit_a: float
    charge_enabled: bool
    discharge_enabled: bool


@dataclass(frozen=True)
class CanFrameView:
    """One CAN frame as received since the monitor started listening. A frame whose DLC the
    DBC refuses is not counted (no period, no values) but shows in ``rejected`` and ``dlc``,
    so a plan can name what it saw: "sent with DLC 5" is another fault than "never sent"."""

    name: str
    count: int
    period_s: float | None   # mean period from the frames' own timestamps
    age_s: float | None      # since the last one, on the station clock (None: never seen)
    dlc: int | None = None   # DLC of the last frame with this ID, accepted or refused
    rejected: int = 0        # frames with this ID refused for their DLC


@dataclass(frozen=True)
class CanAdvertised:
    """The limits and SOC the pack advertises to an inverter over CAN."""

    charge_voltage_v: float
    discharge_voltage_v: float
    charge_current_limit_a: float
    discharge_current_limit_a: float
    soc_pct: float


def _set_flags(frame_id: int, data: bytes, signal_prefix: str, bits: range) -> tuple[str, ...]:
    """Names of the set flags in ``bits`` of a frame: DBC names in snake case, and
    ``bit_<n>`` for a set bit the DBC does not name (so no set bit goes unseen)."""
    names = {s.start: _snake(s.name.removeprefix(signal_prefix)) for s in pc.message(frame_id).signals
             if s.length == 1 and s.name.startswith(signal_prefix)}
    word = int.from_bytes(data, "little")
    return tuple(names.get(b, f"bit_{b}") for b in bits if word >> b & 1)


class TestMode:
    """The console's test mode, open for the life of a ``with bms.test_mode()`` block."""

    __test__ = False   # not a pytest class

    def __init__(self, console: ConsoleClient) -> None:
        self._console = console

    def restart(self) -> None:
        """Leave and re-enter test mode: releases every forced contact."""
        self._console.tmode(False)
        self._console.tmode(True)

    def led_test(self) -> None:
        """Light each LED alone, in the firmware's order (SPEC §7)."""
        self._console.led_test()

    def force_contact(self, n: int, closed: bool) -> None:
        """Force dry contact NO``n`` closed or open."""
        self._console.relay(n, closed)

    def heater(self, on: bool) -> None:
        self._console.heater(on)

    def set_thresholds(self, group: str, *, release_v: float, alarm_v: float,
                       protection_v: float | None = None) -> None:
        """Move one protection's thresholds (``cell_ov``, ``cell_uv``, ``pack_ov``,
        ``pack_uv``) temporarily, in the order the firmware's rule allows: release, alarm,
        then protection."""
        for suffix, volts in (("rel", release_v), ("alarm", alarm_v), ("prot", protection_v)):
            if volts is not None:
                self._console.setthr(f"{group}_{suffix}_mv", round(volts * 1000))

    def set_soc_low(self, *, off_pct: float, on_pct: float) -> None:
        """Move the low-SOC contact's thresholds temporarily."""
        self._console.setthr("soc_low_off_pct", round(off_pct))
        self._console.setthr("soc_low_on_pct", round(on_pct))

    def clear_thresholds(self) -> None:
        """Every temporary threshold back to the stored parameter set."""
        self._console.clrthr()

    def unlock(self) -> None:
        """Clear a system lock (SPEC 2.2: only this clears it)."""
        self._console.unlock()

    def parameter_crc(self) -> tuple[str, str]:
        """Stored and active parameter-set CRC, as 8 hex digits."""
        stored, active = self._console.crc()
        return f"{stored:08X}", f"{active:08X}"


class Bms:
    """The pack's BMS as a plan sees it, over the station's three pack-port drivers."""

    def __init__(self, can: CanMonitor, rs485: Rs485Client, console: ConsoleClient,
                 clock: Clock) -> None:
        self.can, self.rs485, self.console, self.clock = can, rs485, console, clock
        self._listening_since: float | None = None

    # -- CAN ------------------------------------------------------------------------------
    def listen(self) -> None:
        """Take in what the bus holds: every frame since this call counts for periods."""
        self.can.poll()
        self._listening_since = self.clock.now()

    def stop_listening(self) -> None:
        """Leave the CAN bus for the rest of the run: a plan that judges nothing on CAN for
        days (the certification pre-check reads the advertised limits on RS485) would
        otherwise hold every frame of a multi-day soak."""
        self.can.close()

    def can_heard(self, max_age_s: float) -> bool:
        """Whether a BMS frame came within ``max_age_s``: a pack that broadcasts is on. It
        reads what the bus already holds, so asking costs no station time once the station
        has listened that long (else it listens until it has)."""
        def heard() -> bool:
            return any(age is not None and age <= max_age_s
                       for age in (self.can.age(fid) for fid in CAN_FRAMES.values()))

        if self._listening_since is None:
            self.listen()
        assert self._listening_since is not None
        left = max_age_s - (self.clock.now() - self._listening_since)
        if left <= 0:
            self.can.poll()
            return heard()
        return wait_until(self.clock, lambda: self.can.poll() >= 0 and heard(), timeout=left,
                          poll=0.1)

    def listen_afresh(self) -> None:
        """Count CAN frames from now on only (a pack switched off and on again: the frames
        before would put the gap into every period)."""
        self.can.reset_statistics()

    def can_frames(self) -> tuple[CanFrameView, ...]:
        """Every BMS frame with its count, mean period and age."""
        out = []
        for name, fid in CAN_FRAMES.items():
            st = self.can.frame(fid)
            out.append(CanFrameView(name, st.count, st.mean_period, self.can.age(fid),
                                    st.dlc, st.rejected))
        return tuple(out)

    def wait_for_can_frames(self, count: int, timeout_s: float) -> bool:
        """Wait until every BMS frame has been received ``count`` times."""
        return wait_until(self.clock, lambda: all(f.count >= count for f in self.can_frames()),
                          timeout=timeout_s, poll=0.1)

    def can_protections(self) -> tuple[str, ...]:
        """Set flags of the two protection bytes of the alarms frame (empty: all clear)."""
        data = self.can.frame(pc.ALARMS_ID).last_data
        return _set_flags(pc.ALARMS_ID, data[:2], "Prot", range(16)) if data else ("not received",)

    def can_requests(self) -> tuple[str, ...]:
        """Set request flags of the requests frame (charge enable, force charge, ...)."""
        data = self.can.frame(pc.REQUESTS_ID).last_data
        return _set_flags(pc.REQUESTS_ID, data[:1], "", range(8)) if data else ("not received",)

    def can_discharge_over_current(self, max_age_s: float) -> bool | None:
        """The alarms frame's discharge over-current protection, or None when the latest
        alarms frame is older than ``max_age_s`` (a silent bus says nothing of now)."""
        age = self.can.age(pc.ALARMS_ID)
        if age is None or age > max_age_s:
            return None
        return self.can.latest("ProtDischargeOverCurrent").value == 1

    def can_module_count(self, max_age_s: float) -> int | None:
        """Modules in the pack's stack as the alarms frame says (0x359 byte 4), or None when
        the latest alarms frame is older than ``max_age_s``."""
        age = self.can.age(pc.ALARMS_ID)
        if age is None or age > max_age_s:
            return None
        return int(self.can.latest("ModuleCount").value)

    def can_age_s(self, frame: str) -> float | None:
        return self.can.age(CAN_FRAMES[frame])

    def can_silent(self, max_age_s: float) -> tuple[str, ...]:
        """The frames not received within ``max_age_s``, by name."""
        return tuple(_FRAME_NAMES[fid] for fid in self.can.missing(max_age_s))

    def can_advertised(self) -> CanAdvertised:
        latest = self.can.latest
        return CanAdvertised(
            charge_voltage_v=latest("ChargeVoltageLimit").value,
            discharge_voltage_v=latest("DischargeVoltageLimit").value,
            charge_current_limit_a=latest("ChargeCurrentLimit").value,
            discharge_current_limit_a=latest("DischargeCurrentLimit").value,
            soc_pct=latest("SOC").value,
        )

    def can_manufacturer(self) -> str:
        return self.can.name()

    # -- RS485 ----------------------------------------------------------------------------
    def find_address(self) -> int:
        """Ask with the broadcast address (any single pack answers) and talk to the
        address it answers with from now on."""
        address = self.rs485.transact(pr.CID2_PROTOCOL_VERSION, adr=0).adr
        self.rs485.address = address
        return address

    def identity(self) -> BmsIdentity:
        maker = self.rs485.manufacturer_info()
        major, minor = maker.software_version
        return BmsIdentity(address=self.rs485.address, serial=self.rs485.serial_number(),
                           device_name=maker.device_name, manufacturer=maker.manufacturer,
                           software_version=f"{major}.{minor}")

    def serial_number(self) -> str:
        return self.rs485.serial_number()

    def reading(self) -> BmsReading:
        pack = self.rs485.analog_values().modules[0]
        return BmsReading(
            pack_voltage_v=pack.voltage_mv / 1000,
            cell_voltages_v=tuple(mv / 1000 for mv in pack.cell_mv),
            current_a=pack.current_da / 10,
            temperatures_c={n: dc / 10 for n, dc in zip(TEMPERATURE_SENSORS, pack.temps_dc,
                                                        strict=False)},
            remaining_ah=pack.remaining_mah / 1000,
            full_ah=pack.total_mah / 1000,
        )

    def stack(self) -> BmsStack:
        """Every pack of the stack, master first (0x42 ``FF`` at the address in use: any
        address of the stack answers for all of it)."""
        values = self.rs485.analog_values(all_packs=True)
        return BmsStack(values.command, tuple(
            StackModule(index=k, cell_count=len(m.cell_mv), temperature_count=len(m.temps_dc),
                        pack_voltage_v=m.voltage_mv / 1000, current_a=m.current_da / 10,
                        remaining_ah=m.remaining_mah / 1000, full_ah=m.total_mah / 1000)
            for k, m in enumerate(values.modules)))

    def management(self) -> Management:
        m = self.rs485.management_info()
        return Management(charge_current_limit_a=m.charge_current_da / 10,
                          discharge_current_limit_a=-m.discharge_current_da / 10,
                          charge_enabled=m.charge_enable, discharge_enabled=m.discharge_enable)

    # -- console --------------------------------------------------------------------------
    def console_identity(self) -> ConsoleIdentity:
        info = self.console.info()
        return ConsoleIdentity(barcode=info.barcode, main_version=info.main_version,
                               boot_version=info.boot_version, board_version=info.board_version,
                               dip=info.dip)

    def parameter_crc(self) -> tuple[str, str]:
        """Stored and active parameter-set CRC (a debug login, then logout)."""
        self.console.login_debug()
        try:
            return TestMode(self.console).parameter_crc()
        finally:
            self.console.logout()

    def console_current_a(self) -> float:
        """The pack's current as the BMS measures it, from the console's ``pwr`` (mA: finer
        than the 0.1 A of RS485 analog values), A, + = charge."""
        return self.console.pwr()[0].current_ma / 1000

    def protection_status(self) -> tuple[frozenset[str], frozenset[str], bool]:
        """(protections, alarms, heater on) as the console's ``pwr N`` names them
        (``cell_ov``, ``chg_ot``, ...): the certification plan judges which one stopped it."""
        d = self.console.pwr_detail(1)
        return d.protections, d.alarms, d.heater_on

    def console_answers(self) -> bool:
        """The console answers ``pwr`` with at least one pack, at the normal prompt."""
        return len(self.console.pwr()) >= 1 and self.console_in_normal_mode()

    def console_in_normal_mode(self) -> bool:
        """Logged out and out of test mode (the prompt of the last reply)."""
        return self.console.prompt == NORMAL_PROMPT

    def set_clock(self, when: datetime) -> None:
        self.console.set_time(when)

    def clock_time(self) -> datetime:
        return self.console.time()

    def clear_event_log(self) -> None:
        self.console.log_clear()

    def event_log_entries(self) -> int:
        return len(self.console.log())

    # -- a returned pack (RMA): read, never disturb -------------------------------------------
    def console_read_only(self) -> None:
        """From now on the console sends only the read commands of CERT-RMA R03; any other
        is refused before it reaches the wire (an RMA run never changes history)."""
        self.console.read_only = True

    def release_can(self) -> None:
        """Stop receiving CAN: a plan that reads no frame (the RMA diagnosis speaks console
        and RS485) does not keep a day of frames it never reads."""
        self.can.close()

    def history(self) -> HistoryDump:
        """Every R03 dump, raw and parsed (``drivers.pack.dumps``)."""
        return read_history(self.console)

    def system_parameters(self) -> dict[str, float]:
        """The stored parameters RS485 reports (SPEC §6 0x47), in V, °C and A."""
        p = self.rs485.system_parameters()
        return {
            "cell_ov_alarm_v": p.cell_ov_alarm_mv / 1000, "cell_uv_alarm_v": p.cell_uv_alarm_mv / 1000,
            "cell_uv_prot_v": p.cell_uv_prot_mv / 1000, "chg_ot_prot_c": p.chg_ot_prot_dc / 10,
            "chg_ut_prot_c": p.chg_ut_prot_dc / 10,
            "charge_current_limit_a": p.charge_current_limit_da / 10,
            "pack_ov_alarm_v": p.pack_ov_alarm_mv / 1000, "pack_uv_alarm_v": p.pack_uv_alarm_mv / 1000,
            "pack_uv_prot_v": p.pack_uv_prot_mv / 1000, "dsg_ot_prot_c": p.dsg_ot_prot_dc / 10,
            "dsg_ut_prot_c": p.dsg_ut_prot_dc / 10,
            "discharge_current_limit_a": p.discharge_current_limit_da / 10,
        }

    def balancing(self) -> tuple[bool, ...]:
        """Each cell's bleed as the BMS reports it (console ``bat``, BAL)."""
        return tuple(row.balancing for row in self.console.bat(1))

    def console_soc_pct(self) -> float:
        """The BMS's SOC (console ``pwr``, whole percent)."""
        return float(self.console.pwr()[0].soc_pct)

    @contextmanager
    def test_mode(self) -> Iterator[TestMode]:
        """Debug login and test mode for the block; test mode off and logout however it
        ends (logout also restores every temporary threshold, SPEC §7)."""
        self.console.login_debug()
        try:
            self.console.tmode(True)
            yield TestMode(self.console)
        finally:
            try:
                self.console.tmode(False)
            finally:
                self.console.logout()
