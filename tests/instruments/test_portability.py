"""Portability keys of the station file: the VISA library every VISA resource is opened
with, and python-can options passed through to the CAN interface."""

from __future__ import annotations

import threading
import tomllib
from pathlib import Path
from typing import Any

import pytest
import tomli_w

from stations.open import StationRefused, open_station
from stations.schema import StationFileError, default_station_file, load_station_file


def _variant(tmp_path: Path, **top: Any) -> Path:
    doc = tomllib.loads(default_station_file().read_text())
    can = top.pop("can", None)
    if can is not None:
        doc["pack"]["can"].update(can)
    doc.update(top)
    path = tmp_path / "station.toml"
    path.write_text(tomli_w.dumps(doc))
    return path


def test_visa_library_reaches_every_visa_session(tmp_path: Path) -> None:
    with open_station(_variant(tmp_path, visa_library="@py")) as st:
        backends = {role: drv._t.backend for role, drv in st.roles.items()
                    if hasattr(drv._t, "backend")}
        assert backends and set(backends.values()) == {"@py"}
        assert "leds" not in backends           # a serial dialect opens no VISA session


def test_a_vendor_visa_that_does_not_load_is_refused_by_key_before_the_bench(tmp_path: Path) -> None:
    path = _variant(tmp_path, visa_library=str(tmp_path / "libvisa.so"))
    before = threading.active_count()
    with pytest.raises(StationRefused, match=r"key visa_library: cannot load VISA library") as err:
        open_station(path)
    assert "libvisa.so" in str(err.value)
    assert threading.active_count() <= before   # no bench was started, nothing opened


def test_can_options_pass_through_to_python_can(tmp_path: Path) -> None:
    path = _variant(tmp_path, can={"options": {"receive_own_messages": True}})
    with open_station(path) as st:
        assert st.pack_ports["can"]["receive_own_messages"] is True
        assert st.bms_can.bus.receive_own_messages is True   # the python-can bus got it


@pytest.mark.parametrize("options, words", [
    ({"bitrate": 250000}, "bitrate have their own keys"),
    ({"fd": {"on": True}}, "pack.can.options.fd"),
])
def test_bad_can_options_name_the_key(tmp_path: Path, options: dict, words: str) -> None:
    doc = tomllib.loads(Path("stations/example-line1.toml").read_text())
    doc["pack"]["can"]["options"] = options
    path = tmp_path / "line.toml"
    path.write_text(tomli_w.dumps(doc))
    with pytest.raises(StationFileError, match=words):
        load_station_file(path)
