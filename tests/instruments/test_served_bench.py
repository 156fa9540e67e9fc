"""A bench served in real time (as `station sim serve` does) driven through its generated
station file: wall clock, every address opened over loopback like hardware."""

from __future__ import annotations

from pathlib import Path

import pytest

from common.clock import WallClock
from sim.bench import SimBench
from stations.open import open_station
from stations.schema import load_station_file


def test_generated_station_file_drives_a_real_time_bench(tmp_path: Path) -> None:
    path = tmp_path / "served.toml"
    with SimBench(model="v5", realtime=True, can="socketcand", station_file=path, power_on=True) as bench:
        desc = bench.start()
        assert desc["station_file"] == str(path)
        assert set(desc["instruments"]) == {"load", "supply", "chamber", "daq", "leds", "safety"}
        cfg = load_station_file(path)
        assert cfg.pack is not None and cfg.pack.can.interface == "socketcand"
        with open_station(path) as st:
            assert isinstance(st.base_clock, WallClock) and not st.clock.is_virtual and st.sim is None
            assert st.identities["supply"].resource == desc["instruments"]["supply"]["resource"]
            st.load.set_cc(20.0)
            st.load.set_input(True)
            st.sleep(0.3)
            assert bench.instruments.load.input_on
            assert st.load.measure_current() == pytest.approx(20.0, abs=0.01)
            assert 45.0 < st.daq.pack_voltage() < 58.0
        # closing the station ran the safe state on the served instruments
        assert not bench.instruments.load.input_on
        assert not bench.instruments.supply.output_on
        assert bench.instruments.supply.watchdog_on
    assert not path.exists()  # the bench removes its station file on exit
