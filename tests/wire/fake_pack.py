"""A small test double of ``SimPackApi`` for the wire-side unit tests.

Only what the ports read: a snapshot the test can edit, the identity, the parameter set
and the test-mode calls (recorded). End-to-end tests use the real ``sim.pack.SimPack``.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta

from common.clock import VirtualClock
from common.params import default_parameters, order_violation, parameter_crc
from sim.pack.interface import (
    BmsSnapshot,
    Identity,
    InvalidValue,
    LogEvent,
    NotInTestMode,
)

SERIAL = "PV5S260100000013"


def healthy_snapshot(t: float = 0.0) -> BmsSnapshot:
    cells = tuple(3300 + (i % 3) for i in range(16))
    return BmsSnapshot(
        t=t, state="on", cell_mv=cells, temps_dc=(251, 240, 241, 243, 242, 260),
        pack_mv=sum(cells), current_ma=-1500, soc_pct=52.4, soh_pct=99.0,
        remaining_mah=52400, full_mah=99000, design_mah=100000, cycles=3, cumulative_ah=250.5,
        charge_fet=True, discharge_fet=True, mode="discharging", alarms=frozenset(),
        protections=frozenset(), cell_states=("normal",) * 16, temp_states=("normal",) * 6,
        charge_limit_da=1000, discharge_limit_da=1000, cvl_mv=56000, dvl_mv=48500,
        force_charge_1=False, force_charge_2=False, full_charge_request=False,
        fully_charged=False, balancing=(False,) * 16, heater_on=False, test_mode=False,
    )


class FakeBms:
    def __init__(self, clock: VirtualClock) -> None:
        self.clock = clock
        self.snap = healthy_snapshot()
        self.stored = default_parameters("v5")
        self.active = dict(self.stored)
        self.calls: list[tuple[str, object]] = []
        self._debug = False
        self._tmode = False
        self._time_offset = timedelta()
        self.log = [LogEvent(0.0, "power_on", 52800, 0, 3302, 3300, 240)]
        self.heartbeats: list[float] = []
        self.activity = 0

    def snapshot(self) -> BmsSnapshot:
        return dataclasses.replace(self.snap, t=self.clock.now(), test_mode=self._tmode)

    def stored_parameters(self) -> dict[str, int]:
        return dict(self.stored)

    def active_parameters(self) -> dict[str, int]:
        return dict(self.active)

    def crc(self) -> tuple[int, int]:
        return parameter_crc(self.stored), parameter_crc(self.active)

    def console_activity(self) -> None:
        self.activity += 1

    def login_debug(self) -> None:
        self._debug = True

    def logout(self) -> None:
        self._debug = self._tmode = False
        self.active = dict(self.stored)

    @property
    def debug(self) -> bool:
        return self._debug

    def _need_tmode(self) -> None:
        if not (self._debug and self._tmode):
            raise NotInTestMode("login debug and tmode on first")

    def set_test_mode(self, on: bool) -> None:
        if not self._debug:
            raise NotInTestMode("login debug first")
        self._tmode = on

    def force_relay(self, n: int, on: bool) -> None:
        self._need_tmode()
        if n not in (2, 3, 4):
            raise InvalidValue(f"relay {n}")
        self.calls.append(("relay", (n, on)))

    def led_test(self) -> None:
        self._need_tmode()
        self.calls.append(("led_test", None))

    def force_heater(self, on: bool) -> None:
        self._need_tmode()
        self.calls.append(("heater", on))

    def set_threshold(self, name: str, value: int) -> None:
        self._need_tmode()
        if name not in self.active:
            raise InvalidValue(f"unknown parameter {name}")
        trial = dict(self.active, **{name: value})
        if order_violation(trial):
            raise InvalidValue(order_violation(trial))
        self.active = trial

    def clear_thresholds(self) -> None:
        self._need_tmode()
        self.active = dict(self.stored)

    def events(self) -> list[LogEvent]:
        return list(self.log)

    def clear_events(self) -> None:
        self.log = [LogEvent(self.clock.now(), "log_cleared", 0, 0, 0, 0, 0)]

    def pack_time(self) -> datetime:
        return self.clock.utcnow() + self._time_offset

    def set_pack_time(self, when: datetime) -> None:
        self._time_offset = when - self.clock.utcnow()

    def event_counts(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for e in self.log:
            counts[e.code] = counts.get(e.code, 0) + 1
        return counts

    def stat_counters(self) -> dict[str, int]:
        from sim.pack.history import stat_counters

        return stat_counters(self.event_counts(), {})

    def soh_counts(self) -> tuple[int, ...]:
        return (0,) * 16

    def inverter_heartbeat(self, t: float) -> None:
        self.heartbeats.append(t)


class FakePack:
    def __init__(self, clock: VirtualClock | None = None, address: int = 0x02) -> None:
        self.clock = clock or VirtualClock()
        self.identity = Identity(
            serial=SERIAL, model_id="v5", device_name="V5", manufacturer="PYTES",
            fw_main="1.4.2", fw_boot="1.0.0", fw_bms_board="2.1.0", dip=0, address=address,
            rs485_baud=9600, can_bitrate=500000, console_baud=115200)
        self.bms = FakeBms(self.clock)
