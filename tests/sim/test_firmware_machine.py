"""The firmware is a decision machine: readings and inputs in, outputs out, no pack.

These tests drive :class:`sim.pack.firmware.Firmware` alone, the way the pack does: at a
boundary ``evaluate``, between boundaries ``elapse``, deadlines from ``next_deadline``.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from sim.pack.firmware import Firmware, Inputs, Outputs, Readings
from sim.unit import default_unit

ROOT = Path(__file__).resolve().parents[2]
FIRMWARE = ROOT / "sim" / "pack" / "firmware"
#: What the firmware may build on: its own parts and the pack's pure helpers, never the
#: physics (cells, thermal, sensors), the pack or the BMS face.
ALLOWED_SIM = {"sim.unit", "sim.pack.interface", "sim.pack.debounce", "sim.pack.eventlog",
               "sim.pack.leds", "sim.pack.derating"}


def _imports(path: Path) -> set[str]:
    out = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            out.add(node.module)
        elif isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
    return out


@pytest.mark.parametrize("path", sorted(FIRMWARE.glob("*.py")), ids=lambda p: p.name)
def test_firmware_modules_import_no_pack(path: Path) -> None:
    for mod in _imports(path):
        if mod.startswith("sim."):
            assert mod.startswith("sim.pack.firmware") or mod in ALLOWED_SIM, (path.name, mod)


def test_firmware_imports_alone() -> None:
    code = ("import sys, sim.pack.firmware; "
            "bad = [m for m in ('sim.pack.pack', 'sim.pack.bms_api', 'sim.pack.cells', "
            "'sim.pack.thermal', 'sim.pack.sensors') if m in sys.modules]; "
            "assert not bad, bad")
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True)


@pytest.mark.parametrize("path", [ROOT / "sim" / "pack" / "bms_api.py",
                                  *sorted((ROOT / "sim" / "wire").glob("*.py"))],
                         ids=lambda p: p.name)
def test_bms_face_and_wire_use_no_private_state(path: Path) -> None:
    """Private attributes only on ``self``: no ``pack._sync()`` and friends."""
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Attribute) and node.attr.startswith("_") and not node.attr.startswith("__"):
            owner = node.value
            assert isinstance(owner, ast.Name) and owner.id in ("self", "cls"), (
                f"{path.name}:{node.lineno} reaches into .{node.attr}")


def _readings(cell_v: float = 3.30, current: float = 0.0, temp: float = 25.0) -> Readings:
    cells = np.full(16, cell_v)
    temps = (temp,) * 6
    return Readings(cells, cell_v, cell_v, cell_v * 16, current, temps, temp, temp, temp)


def _inputs(**kw: float) -> Inputs:
    return Inputs(_readings(**kw), powered=True, charger_probe_a=None, in1_v=0.0)


def _run(fw: Firmware, t: float, until: float, **kw: float) -> tuple[float, Outputs]:
    """Evaluate at ``t`` and at every deadline up to ``until``, as the pack would."""
    out = fw.evaluate(t, _inputs(**kw))
    while True:
        d = fw.next_deadline(t)
        end = until if d is None or d > until else max(d, t)
        fw.elapse(end - t, kw.get("current", 0.0))
        t = end
        out = fw.evaluate(t, _inputs(**kw))
        if t >= until:
            return t, out


def _started() -> Firmware:
    fw = Firmware(default_unit("v5"), full_capacity_as=100 * 3600.0, initial_soc=0.55)
    fw.evaluate(0.0, _inputs())
    assert fw.state == "off" and not fw.outputs.charge_fet
    out = fw.sw_released(1.0, held=1.0)
    assert fw.state == "on" and out.relays == {2: False, 3: False, 4: False}
    _run(fw, 1.0, 3.0)
    return fw


def test_start_closes_both_mosfets() -> None:
    out = _started().outputs
    assert out.charge_fet and out.discharge_fet and not out.heater_on


def test_cell_over_voltage_opens_charge_after_its_delay() -> None:
    fw = _started()
    t, out = _run(fw, 3.0, 3.999, cell_v=3.66)
    assert out.charge_fet  # the 1 s delay has not run out
    t, out = _run(fw, t, 4.0, cell_v=3.66)
    assert not out.charge_fet and out.discharge_fet and out.relays[3]
    assert "cell_ov" in fw.protections
    assert "cell_ov_prot" in [e.code for e in fw.log.events()]


def test_power_lost_opens_everything() -> None:
    fw = _started()
    assert not any(fw.power_lost(5.0).relays.values())  # relays drop at once
    out = fw.evaluate(5.0, _inputs())                   # MOSFETs at the next judgement
    assert fw.state == "off" and not (out.charge_fet or out.discharge_fet or out.heater_on)
    assert [e.code for e in fw.log.events()][-1] == "power_off"
