"""The unit description: model defaults equal SPEC, files, validation errors, the schema doc,
and the population generator."""

from __future__ import annotations

from pathlib import Path

import pytest

from common.models import CELLS_IN_SERIES
from common.params import PARAMETER_NAMES, default_parameters, parameter_crc
from common.serial_number import parse_serial
from sim.population import generate
from sim.unit import (
    UnitFileError,
    default_unit,
    dump_unit,
    load_unit,
    schema_markdown,
    unit_from_dict,
    with_change,
    write_unit,
)

DOC = Path(__file__).resolve().parents[2] / "docs" / "unit-description.md"


@pytest.mark.parametrize(("model", "fast", "name", "breaker"), [
    ("v5", 180, "V5", False), ("v5-alpha", 200, "V5A", False), ("v5-alpha-plus", 200, "V5AP", True),
])
def test_model_defaults_equal_spec(model: str, fast: int, name: str, breaker: bool) -> None:
    unit = default_unit(model)
    assert unit.stored_parameters == default_parameters(model)
    assert list(unit.stored_parameters) == list(PARAMETER_NAMES)
    assert unit.parameters.oc_fast_a == fast
    assert unit.identity.device_name == name and unit.identity.manufacturer == "PYTES"
    assert unit.breaker.fitted is breaker
    assert parse_serial(unit.identity.serial).model.id == model
    assert unit.cells.capacity_ah == 100.0 and unit.heater.power_w == 300.0
    assert (unit.timing.blink1_on_s, unit.timing.blink1_off_s) == (0.3, 3.7)
    assert unit.firmware.short_circuit_a == 500.0 and unit.firmware.short_circuit_us == 200.0
    assert unit.comms.can_bitrate == 500_000 and unit.comms.console_baud == 115_200


def test_file_round_trip_with_only_differences(tmp_path: Path) -> None:
    unit = with_change(default_unit("v5-alpha"), "cells.overrides.5.capacity_ah", 96.0)
    path = tmp_path / "u.toml"
    write_unit(unit, path)
    text = path.read_text()
    assert 'model = "v5-alpha"' in text and "capacity_ah = 96.0" in text
    assert "cell_ov_prot_mv" not in text  # defaults are not repeated
    assert load_unit(path) == unit


def test_unit_file_gives_only_what_differs(tmp_path: Path) -> None:
    path = tmp_path / "off.toml"
    path.write_text('model = "v5"\n[timing]\noc_tier2_scale = 1.08\n')
    unit = load_unit(path)
    assert unit.timing.oc_tier2_scale == 1.08
    assert unit.model_dump(exclude={"timing"}) == default_unit("v5").model_dump(exclude={"timing"})


@pytest.mark.parametrize(("text", "expected"), [
    ('model = "v5"\n[cells]\nfoo = 1\n', r"x\.toml: unknown key 'cells\.foo'; allowed here: capacity_ah"),
    ('model = "v5"\n[timing]\noc_tier2_scale = 9\n', r"x\.toml: timing\.oc_tier2_scale: .*allowed: \[0\.2, 5\]"),
    ('model = "v5"\n[contacts]\nno3 = "stuck"\n', r"contacts\.no3: .*allowed: one of 'normal', 'stuck_open', 'stuck_closed'"),
    ('model = "v5"\n[parameters]\ncell_ov_prot_mv = 3500\n', r"parameters: .*cell_ov_prot_mv=3500.*order"),
    ('model = "v5"\n[parameters]\ncell_ov_prot_mv = 3650.5\n', r"parameters\.cell_ov_prot_mv: .*integer"),
    ('model = "v5"\n[cells.overrides.17]\ncapacity_ah = 99\n', r"cells\.overrides: .*cell index 17 is not 1\.\.16"),
    ('model = "v6"\n', r"x\.toml: model: unknown model 'v6'; allowed: v5, v5-alpha, v5-alpha-plus"),
    ('model = "v5"\ndip = 16\n', r"x\.toml: dip: .*allowed: \[0, 15\]"),
    ('model = "v5"\n[identity]\nserial = "PV5A26010000001R"\n', r"v5-alpha serial, but model is 'v5'"),
    ('model = "v5"\n[breaker]\nfitted = true\n', r"breaker\.fitted: model v5 has no breaker"),
    ('model = "v5"\n[timing\n', r"x\.toml: not valid TOML"),
])
def test_errors_name_file_key_and_what_is_allowed(tmp_path: Path, text: str, expected: str) -> None:
    path = tmp_path / "x.toml"
    path.write_text(text)
    with pytest.raises(UnitFileError, match=expected):
        load_unit(path)


def test_missing_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(UnitFileError, match="no such unit file"):
        load_unit(tmp_path / "nope.toml")


def test_with_change_rejects_unknown_keys() -> None:
    with pytest.raises(UnitFileError, match=r"unknown key 'timing\.nonsense'"):
        with_change(default_unit("v5"), "timing.nonsense", 1)


def test_parameter_change_is_layer_one_and_moves_the_crc() -> None:
    base = default_unit("v5")
    changed = with_change(base, "parameters.cell_ov_prot_mv", 3640)
    assert parameter_crc(changed.stored_parameters) != parameter_crc(base.stored_parameters)
    layer2 = with_change(base, "timing.oc_tier2_scale", 1.2)
    assert parameter_crc(layer2.stored_parameters) == parameter_crc(base.stored_parameters)


def test_schema_doc_is_up_to_date() -> None:
    text = DOC.read_text(encoding="utf-8")
    table = text.split("<!-- schema:begin -->\n")[1].split("<!-- schema:end -->")[0]
    assert table == schema_markdown(), "regenerate the table: python -m sim.unit"
    for name in PARAMETER_NAMES:
        assert f"| parameters.{name} | 1 (CRC) |" in table


def test_population_spread_and_serials(tmp_path: Path) -> None:
    units = generate(40, seed=3, model_id="v5-alpha", out_dir=tmp_path)
    serials = [u.identity.serial for u in units]
    assert len(set(serials)) == 40
    assert all(parse_serial(s).model.id == "v5-alpha" for s in serials)
    caps = [u.cells.cell(i, "capacity_ah") for u in units for i in range(1, CELLS_IN_SERIES + 1)]
    assert 98.5 <= min(caps) < 99.7 and 100.3 < max(caps) <= 101.5
    for u in units:
        res = sorted(u.cells.cell(i, "r_ohmic_mohm") for i in range(1, CELLS_IN_SERIES + 1))
        assert res[-1] <= 1.45 * res[7] + 1e-6 and res[0] >= 0.9 * 0.95 - 1e-6
        offsets = [u.sensors.cell_voltage.overrides[i].offset for i in range(1, CELLS_IN_SERIES + 1)]
        assert max(abs(o) for o in offsets) <= 9.0 and abs(sum(offsets)) <= 135.0 + 1e-6
        assert abs(u.sensors.current.offset) <= 0.27 and abs(u.sensors.current.gain - 1) <= 0.009
        assert abs(u.sensors.pack_voltage.offset) + abs(u.sensors.pack_voltage.gain - 1) * 52_000 <= 225.0
        temps = u.sensors.temperature.model_dump()
        assert all(abs(t["offset"]) <= 1.8 for t in temps.values())
        total = u.timing.clock_gain * u.timing.oc_tier2_scale
        assert abs(total - 1) <= 0.9 * 0.045 + 1e-6
    # the draws reach toward 90 % of each tolerance, not only the middle of it
    assert max(abs(u.sensors.temperature.bms_board.offset) for u in units) > 1.5
    files = sorted(tmp_path.glob("*.toml"))
    assert len(files) == 40
    assert load_unit(tmp_path / f"{serials[0]}.toml") == units[0]
    assert generate(3, seed=3, model_id="v5-alpha") == units[:3]  # reproducible
    assert generate(3, seed=4, model_id="v5-alpha") != units[:3]


def test_corner_population_sits_at_the_fraction() -> None:
    for u in generate(5, seed=8, model_id="v5", corners=True):
        assert {abs(t["offset"]) for t in u.sensors.temperature.model_dump().values()} == {1.8}
        assert abs(abs(u.timing.clock_gain * u.timing.release_scale - 1) - 0.03) < 1e-5


def test_population_units_are_in_spec_on_the_eol_checks() -> None:
    from common.clock import VirtualClock
    from sim.pack import SimPack
    from tests.sim.conftest import start

    for unit in generate(5, seed=11, model_id="v5"):
        pack = SimPack(unit, VirtualClock(), seed=1)
        start(pack)
        pack.clock.sleep(30)
        s = pack.bms.snapshot()
        v = pack.terminal_voltage()
        assert 51.5 <= v <= 53.6
        assert max(s.cell_mv) - min(s.cell_mv) <= 30
        assert abs(s.pack_mv / 1000 - v) <= 0.25
        assert abs(sum(s.cell_mv) / 1000 - v) <= 0.15
        assert abs(s.current_ma) / 1000 <= 0.3
        assert all(abs(t / 10 - 25.0) <= 2.0 for t in s.temps_dc)
        assert 40.0 <= s.soc_pct <= 60.0
        assert not s.alarms and not s.protections


def test_unit_from_dict_names_its_source() -> None:
    with pytest.raises(UnitFileError, match=r"^<mine>: dip"):
        unit_from_dict({"model": "v5", "dip": -1}, "<mine>")


def test_dump_contains_model_and_serial_only_for_a_default_unit() -> None:
    text = dump_unit(default_unit("v5"))
    assert text.strip().splitlines() == ['model = "v5"', "", "[identity]",
                                         f'serial = "{default_unit("v5").identity.serial}"']
