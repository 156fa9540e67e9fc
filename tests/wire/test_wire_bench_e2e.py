"""End to end on the simulated bench: the real SimPack, real transports, the station drivers."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from common import pylon_can as pc
from drivers.pack.can_monitor import CanMonitor
from drivers.pack.console import ConsoleClient
from drivers.pack.errors import ConsoleRefused, ConsoleTimeout, Rs485Timeout
from drivers.pack.rs485 import Rs485Client
from sim.bench import SimBench


@pytest.fixture
def bench() -> Iterator[SimBench]:
    b = SimBench(power_on=True, instruments=False)
    b.start()
    yield b
    b.close()


def _clients(b: SimBench, tcp: bool) -> tuple[Rs485Client, ConsoleClient, CanMonitor]:
    d = b.description
    assert d is not None
    r = Rs485Client.open(d["rs485_tcp" if tcp else "rs485"], b.clock, timeout=2.0)
    c = ConsoleClient.open(d["console_tcp" if tcp else "console"], b.clock, timeout=2.0)
    m = CanMonitor.open(d["can"], b.clock)
    return r, c, m


@pytest.mark.parametrize("tcp", [False, True], ids=["pty", "tcp"])
def test_every_port_agrees_with_the_model(bench: SimBench, tcp: bool) -> None:
    r, c, m = _clients(bench, tcp)
    try:
        ident = bench.pack.identity
        assert r.serial_number() == ident.serial
        mi = r.manufacturer_info()
        assert (mi.device_name, mi.manufacturer) == (ident.device_name, "PYTES")
        assert mi.software_version == tuple(int(x) for x in ident.fw_main.split(".")[:2])
        snap = bench.pack.bms.snapshot()
        mod = r.analog_values().modules[0]
        assert len(mod.cell_mv) == 16 and len(mod.temps_dc) == 6
        assert mod.total_mah == snap.full_mah and mod.remaining_mah == pytest.approx(
            snap.remaining_mah, abs=200)
        assert sum(mod.cell_mv) == pytest.approx(mod.voltage_mv, abs=50)
        sp = r.system_parameters()
        act = bench.pack.bms.active_parameters()
        assert (sp.cell_ov_alarm_mv, sp.pack_uv_prot_mv, sp.dsg_ut_prot_dc) == (
            act["cell_ov_alarm_mv"], act["pack_uv_prot_mv"], act["dsg_ut_prot_dc"])
        mg = r.management_info()
        assert (mg.charge_voltage_mv, mg.discharge_voltage_mv) == (snap.cvl_mv, snap.dvl_mv)
        assert mg.charge_enable and mg.discharge_enable
        al = r.alarm_info().modules[0]
        assert al.status[0] == 0 and al.charge_fet and al.discharge_fet
        info = c.info()
        assert (info.barcode, info.main_version, info.address) == (
            ident.serial, ident.fw_main, ident.address)
        (row,) = c.pwr()
        assert row.voltage_mv == pytest.approx(mod.voltage_mv, abs=50) and row.soc_pct == round(
            snap.soc_pct)
        assert len(c.bat(1)) == 16
        bench.clock.sleep(3.0)
        assert m.missing() == []
        assert m.latest("SOC").value == round(bench.pack.bms.snapshot().soc_pct)
        assert m.latest("PackVoltage").value == pytest.approx(mod.voltage_mv / 1000, abs=0.1)
        assert m.latest("ChargeEnable").value == 1 and m.name() == "PYTES"
        assert m.frame(pc.REQUESTS_ID).last_data == bytes([0xC0, 0x00])
    finally:
        r.close()
        c.close()
        m.close()


def test_a_fast_trip_shows_on_every_port_and_clears(bench: SimBench) -> None:
    r, c, m = _clients(bench, tcp=False)
    pack = bench.pack
    try:
        pack.set_network(lambda view: -200.0 if view.discharge_path else 0.0)  # > 180 A peak
        pack.inputs_changed()
        bench.clock.sleep(1.0)
        snap = pack.bms.snapshot()
        assert "dsg_oc" in snap.protections and not snap.discharge_fet
        al = r.alarm_info().modules[0]
        assert al.discharge_oc and not al.discharge_fet
        assert not al.charge_fet                                    # a fast trip opens both
        mg = r.management_info()
        assert not mg.discharge_enable and not mg.charge_enable
        d = c.pwr_detail(1)
        assert "dsg_oc" in d.protections and not d.discharge_fet
        assert any(e.code.startswith("dsg_oc") for e in c.log())
        bench.clock.sleep(1.0)
        assert m.latest("ProtDischargeOverCurrent").value == 1
        assert m.latest("DischargeEnable").value == 0
        assert m.latest("DischargeCurrentLimit").value == 0
        pack.set_network(None)
        bench.clock.sleep(35.0)                                     # reclose after 30 s
        assert r.management_info().discharge_enable
        assert m.latest("ProtDischargeOverCurrent").value == 0
    finally:
        r.close()
        c.close()
        m.close()


def test_a_pack_that_is_off_is_silent_on_every_port() -> None:
    with SimBench(instruments=False) as b:
        d = b.description
        assert d is not None
        with Rs485Client.open(d["rs485"], b.clock, timeout=0.2, retries=0) as r, \
                ConsoleClient.open(d["console"], b.clock, timeout=0.3) as c, \
                CanMonitor.open(d["can"], b.clock) as m:
            with pytest.raises(Rs485Timeout):
                r.serial_number()
            with pytest.raises(ConsoleTimeout):
                c.info()
            b.clock.sleep(3.0)
            assert m.missing() == list(pc.BMS_FRAME_IDS)
            b.press_start()
        with Rs485Client.open(d["rs485"], b.clock, timeout=2.0) as r, \
                ConsoleClient.open(d["console"], b.clock, timeout=2.0) as c:
            assert r.serial_number() == b.pack.identity.serial
            assert c.info().barcode == b.pack.identity.serial


def test_socketcand_in_process_and_clean_close() -> None:
    before = {t.ident for t in threading.enumerate()}
    b = SimBench(power_on=True, instruments=False, can="socketcand")
    d = b.start()
    assert d["can"]["interface"] == "socketcand" and d["can"]["host"] == "127.0.0.1"
    m = CanMonitor.open(d["can"], b.clock)
    try:
        b.clock.sleep(2.0)
        got = 0
        for _ in range(100):
            got += m.poll()
            if got >= 12:
                break
            threading.Event().wait(0.02)
        assert m.frame(pc.SOC_SOH_ID).count >= 2
        assert m.latest("SOC").value == round(b.pack.bms.snapshot().soc_pct)
    finally:
        m.close()
        b.close()
        b.close()                                               # idempotent
    leftover = [t for t in threading.enumerate() if t.ident not in before and t.is_alive()]
    assert leftover == []


def test_dip_sets_address_and_baud_and_other_addresses_are_silent() -> None:
    from sim.unit import unit_from_dict

    unit = unit_from_dict({"model": "v5-alpha-plus", "dip": 0b1001,
                           "identity": {"serial": "PV5P260100000017"}})
    with SimBench(unit, power_on=True, instruments=False) as b:
        d = b.description
        assert d is not None and (d["rs485_address"], d["rs485_baud"]) == (0x12, 115200)
        with Rs485Client.open(d["rs485"], b.clock, address=0x12, timeout=2.0, baud=115200) as r:
            t0 = b.clock.now()
            assert r.serial_number() == "PV5P260100000017"
            request, answer = 20, 1 + 12 + 2 * 17 + 4 + 1
            assert b.clock.now() - t0 == pytest.approx((request + answer) * 10 / 115200 + 0.005)
            assert r.protocol_version(adr=0) == 0x20       # ADR 0 still answered
        with Rs485Client.open(d["rs485"], b.clock, address=0x02, timeout=0.2, baud=115200,
                              retries=0) as r, pytest.raises(Rs485Timeout):
            r.serial_number()
        with ConsoleClient.open(d["console"], b.clock) as c:
            info = c.info()
            assert (info.address, info.dip, info.device_name) == (0x12, 0b1001, "V5AP")


def test_console_test_mode_drives_the_real_firmware(bench: SimBench) -> None:
    from common.params import golden_crc

    _, c, m = _clients(bench, tcp=True)
    pack = bench.pack
    try:
        with pytest.raises(ConsoleRefused, match="Not in test mode"):
            c.relay(2, True)
        c.login_debug()
        c.tmode(True)
        c.relay(2, True)
        assert pack.contact_closed(2)
        c.setthr("cell_ov_prot_mv", 3700)
        stored, active = c.crc()
        assert stored == golden_crc("v5") and active != stored
        assert c.pwr_detail(1).test_mode
        c.logout()
        assert not c.in_debug and not pack.contact_closed(2)
        assert c.crc() == (stored, stored)
        m.heartbeat()
        bench.clock.sleep(1.0)
        assert bench.broadcaster is not None and bench.broadcaster.rx.heartbeats == 1
    finally:
        c.close()
        m.close()


def _assert_can_matches(m: CanMonitor, snap) -> None:
    v = {name: sv.value for name, sv in m.values().items()}
    assert all(sv.t == snap.t for sv in m.values().values())
    assert v["ChargeVoltageLimit"] == pytest.approx(snap.cvl_mv / 1000)
    assert v["DischargeVoltageLimit"] == pytest.approx(snap.dvl_mv / 1000)
    assert v["ChargeCurrentLimit"] == pytest.approx(snap.charge_limit_da / 10)
    assert v["DischargeCurrentLimit"] == pytest.approx(snap.discharge_limit_da / 10)
    assert (v["SOC"], v["SOH"]) == (round(snap.soc_pct), round(snap.soh_pct))
    assert v["PackVoltage"] == pytest.approx(snap.pack_mv / 1000, abs=0.005)
    assert v["PackCurrent"] == pytest.approx(snap.current_ma / 1000, abs=0.05)
    assert v["Temperature"] == pytest.approx(max(snap.temps_dc[1:5]) / 10)
    assert v["ProtDischargeOverCurrent"] == int(bool({"dsg_oc", "short"} & snap.protections))
    assert v["ProtChargeOverCurrent"] == int("chg_oc" in snap.protections)
    assert v["ProtOverVoltage"] == int(bool({"cell_ov", "pack_ov"} & snap.protections))
    assert v["WarnDischargeHighCurrent"] == int("dsg_oc" in snap.alarms)
    assert (v["ChargeEnable"], v["DischargeEnable"]) == (snap.charge_fet, snap.discharge_fet)
    assert (v["ForceCharge1"], v["ForceCharge2"], v["FullChargeRequest"]) == (
        snap.force_charge_1, snap.force_charge_2, snap.full_charge_request)
    assert v["ModuleCount"] == 1 and m.name() == "PYTES"


def test_every_can_signal_is_the_model_value_at_the_frame_time(bench: SimBench) -> None:
    m = CanMonitor.open(bench.description["can"], bench.clock)  # type: ignore[index]
    try:
        bench.clock.advance_to(5.0)                 # frames at whole seconds; last one at 5.0
        _assert_can_matches(m, bench.pack.bms.snapshot())
        bench.pack.set_network(lambda view: -150.0 if view.discharge_path else 0.0)
        bench.pack.inputs_changed()
        bench.clock.advance_to(8.0)                 # 150 A: the 15 s tier, alarm only
        snap = bench.pack.bms.snapshot()
        assert snap.current_ma < -140_000
        _assert_can_matches(m, snap)
        bench.clock.advance_to(30.0)                # tripped by now
        snap = bench.pack.bms.snapshot()
        assert "dsg_oc" in snap.protections
        _assert_can_matches(m, snap)
    finally:
        bench.pack.set_network(None)
        m.close()


def test_default_bench_describes_instruments_and_owns_its_station_file() -> None:
    from pathlib import Path

    with SimBench() as b:
        d = b.description
        assert d is not None
        assert set(d["instruments"]) == {"load", "supply", "chamber", "daq", "leds", "safety"}
        station = Path(d["station_file"])
        assert station.is_absolute() and station.exists()
        assert d["rs485"] in station.read_text() or d["rs485_tcp"] in station.read_text()
    assert not station.exists() and not station.parent.exists()
