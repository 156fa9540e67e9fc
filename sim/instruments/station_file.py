"""Write a station file that points at a running simulated bench.

``station sim serve`` prints the bench's description and this file next to it, so that
``station run ... --station FILE`` in another process drives the bench over the real
transports in real time, exactly as it would drive hardware: the file says
``simulated = false`` (the station opens every address and uses the wall clock) and
``served = true`` (its records and documents say SIMULATED). The
simulator does not import station code; the file follows docs/station-file.md and the
tests validate it with ``stations.schema``.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import tomli_w

from sim.instruments.daq import (
    CHANNELS,
    DEADMAN_S,
    HEARTBEAT_BIT,
    INPUT_BITS,
    MODULES,
    OUTPUT_BITS,
    RTD_CALIBRATION,
    SHUNT,
)

#: Answer timeouts of the served pack ports: the twin runs in another process on the same
#: host, so a busy host (a parallel test suite, a line of slots) delays its answers by more
#: than a real pack's wire would; a lost answer still ends in an error, only later.
SERVED_RS485_TIMEOUT_S = 1.5
SERVED_CONSOLE_TIMEOUT_S = 5.0

#: Simulated instruments do not drift: their calibration is due far in the future.
SIM_CALIBRATION_DUE = "2099-12-31"
DEFAULT_ENVELOPE = {
    "max_voltage_v": 60.0,
    "max_current_a": 250.0,
    "max_power_w": 12_000.0,
    "chamber_min_c": -20.0,
    "chamber_max_c": 60.0,
    "short_steps": ["short_circuit"],
}


def _can(desc: Any) -> dict[str, Any]:
    can = dict(desc or {})
    out = {k: can[k] for k in ("interface", "channel", "host", "port") if can.get(k) is not None}
    out["bitrate"] = int(can.get("bitrate", 500_000))
    return out


def station_document(description: dict[str, Any]) -> dict[str, Any]:
    """The station file's content for a bench ``description`` (as ``SimBench.start()``)."""
    due = date.fromisoformat(SIM_CALIBRATION_DUE)
    instruments = {}
    for role, entry in (description.get("instruments") or {}).items():
        instruments[role] = {
            "dialect": entry["dialect"],
            "address": entry["resource"],
            "serial": entry.get("serial", f"SIM-{role.upper()}"),
            "calibration_due": due,
        }
        if role == "daq":   # its modules, and its PT100's certificate (sim.toml says the same)
            instruments[role]["options"] = {"modules": {str(k): v for k, v in MODULES.items()}}
            instruments[role]["calibration"] = RTD_CALIBRATION
    serial = description.get("serial", "")
    # one id per served bench (its RS485 gateway port tells two benches apart): the
    # station's lock is per id, and two benches are two stations
    port = str(description.get("rs485_tcp") or "").rsplit(":", 1)[-1]
    return {
        "schema_version": 1,
        "id": "-".join(p for p in ("SIMSERVE", serial, port) if p),
        "line": "sim",
        "watchdog_s": 30.0,
        "bench": {
            "simulated": False,
            "served": True,
            "model": description.get("model", "v5"),
            "description": "a simulated bench served by `station sim serve` (real time)",
        },
        "pack": {   # the twin answers from another process on this host: a busy host delays it
            "rs485": {"port": description.get("rs485_tcp") or description["rs485"],
                      "baud": int(description.get("rs485_baud", 9600)),
                      "timeout_s": SERVED_RS485_TIMEOUT_S},
            "rs485_address": int(description.get("rs485_address", 2)),
            "console": {"port": description.get("console_tcp") or description["console"],
                        "baud": 115200, "timeout_s": SERVED_CONSOLE_TIMEOUT_S},
            "can": _can(description.get("can")),
        },
        "envelope": dict(DEFAULT_ENVELOPE),
        "fixture": {"outputs": {**OUTPUT_BITS, **description.get("fixture_outputs", {})},
                    "inputs": INPUT_BITS, "channels": CHANNELS,
                    "deadman": {"output": HEARTBEAT_BIT, "timeout_s": DEADMAN_S},
                    "shunt": dict(SHUNT)},
        "instruments": instruments,
    }


def write_station_file(description: dict[str, Any], path: Path) -> None:
    """Write the station file for ``description`` to ``path`` (TOML)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_bytes(tomli_w.dumps(station_document(description)).encode("utf-8"))
    tmp.replace(path)  # readers never see half a file
