"""Roles a plan does not need are optional in the station file; a role it needs and the
file does not name is refused, by key, before anything is started or switched on."""

from __future__ import annotations

import threading
import tomllib
from pathlib import Path

import pytest
import tomli_w

from stations.open import MissingRoles, open_station
from stations.schema import default_station_file, load_station_file

#: What a plan that never tests insulation and never reads LEDs needs.
ROLES = ("load", "supply", "chamber", "daq")


def _without(tmp_path: Path, *roles: str) -> Path:
    doc = tomllib.loads(default_station_file().read_text())
    for role in roles:
        del doc["instruments"][role]
    path = tmp_path / "station.toml"
    path.write_text(tomli_w.dumps(doc))
    return path


def test_a_file_without_unneeded_roles_is_valid_and_opens(tmp_path: Path) -> None:
    path = _without(tmp_path, "safety", "leds")
    assert set(load_station_file(path).instruments) == set(ROLES)
    with open_station(path, roles=ROLES) as st:
        assert set(st.identities) == set(ROLES)
        assert [r["role"] for r in st.instrument_records()] == list(ROLES)
        with pytest.raises(AttributeError, match="no safety role"):
            st.safety  # noqa: B018
        assert st.safe_state().ok
        st.daq.set_relay("power", True)     # the fixture still works, the dead-man is fed
        st.sleep(5.0)
        assert st.sim.instruments.daq.power_closed()


def test_a_needed_role_missing_is_refused_by_name_before_the_bench_starts(tmp_path: Path) -> None:
    path = _without(tmp_path, "safety")
    before = threading.active_count()
    with pytest.raises(MissingRoles) as err:
        open_station(path, roles=(*ROLES, "safety"), plan="cert")
    text = str(err.value)
    assert "key instruments.safety" in text and "plan 'cert' needs" in text and str(path) in text
    assert err.value.missing == ["safety"]
    assert threading.active_count() <= before


def test_without_a_declaration_every_role_is_needed(tmp_path: Path) -> None:
    with pytest.raises(MissingRoles, match=r"instruments\.leds"):
        open_station(_without(tmp_path, "leds"))


def test_a_plan_runs_on_a_station_file_with_only_the_roles_it_declares(tmp_path: Path) -> None:
    """The EOL plan declares no chamber (bench ambient): a file without one runs it and
    PASSes; a file without the LED analyser it does need is refused, naming the key."""
    from fixtures.engine import RunRequest, execute
    from testplans.eol import PLAN

    assert PLAN.roles is not None and "chamber" not in PLAN.roles
    result = execute(RunRequest(plan="eol", serial="PV5S260100000013",
                                station_file=_without(tmp_path, "chamber"), out_dir=tmp_path / "a"))
    assert result.record is not None and result.record.verdict == "PASS", result.record
    assert "chamber" not in {i.role for i in result.record.instruments}
    (tmp_path / "b").mkdir()
    refused = execute(RunRequest(plan="eol", serial="PV5S260100000013",
                                 station_file=_without(tmp_path / "b", "leds"), out_dir=tmp_path / "b"))
    assert refused.exit_code == 3 and "instruments.leds" in (refused.refused or ""), refused
