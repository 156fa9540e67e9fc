"""The one place station code imports the simulator: the road to the simulated bench.

For a station file with ``[bench] simulated = true`` the station starts a
``sim.bench.SimBench`` (virtual clock, python-can ``virtual`` bus) in this process and the
simulated instruments with the dialects the file names, then hands back the same station
file with every ``"sim"`` address replaced by the real one (instrument resources, the
pack's serial ports, the CAN channel), validated like any other. The station opens that
file exactly as it opens a real one, and learns nothing else from the simulator but its
clock: it talks RS485 at the baud its station file says, not at the unit's own.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from stations.schema import SIM_ADDRESS, StationFile, parse_station


@dataclass
class SimSetup:
    bench: Any                      # sim.bench.SimBench
    clock: Any                      # its VirtualClock: the station clock
    station: StationFile            # the station file with the bench's real addresses


def start_sim_bench(
    config: StationFile,
    *,
    source: Path,
    unit: Any = None,
    model: str | None = None,
    serial: str | None = None,
    seed: int = 0,
) -> SimSetup:
    """Start the simulated bench a simulated station file describes."""
    from sim.bench import SimBench
    from sim.instruments import start_instruments
    from sim.unit import default_unit, load_unit

    if unit is None:
        if config.bench.unit_file:
            unit_path = Path(config.bench.unit_file)
            unit = load_unit(unit_path if unit_path.is_absolute() else source.parent / unit_path)
        else:
            unit = default_unit(model or config.bench.model, serial)
            if config.bench.unit_changes:
                from sim.unit import with_changes

                unit = with_changes(unit, config.bench.unit_changes)
    pace = config.bench.pace   # a paced bench follows the wall clock (Stop lands mid-run)
    bench = SimBench(unit, realtime=pace is not None, pace=pace or 1.0, seed=seed,
                     can="virtual", instruments=False)
    try:
        description = dict(bench.start())
        dialects = {role: cfg.dialect for role, cfg in config.instruments.items()}
        instruments = start_instruments(bench.pack, bench.clock, dialects=dialects, seed=seed)
        if config.fixture.deadman is not None:   # the simulated fixture's relay has the file's set time
            instruments.daq.deadman_s = config.fixture.deadman.timeout_s
        bench.attach_instruments(instruments)
        if config.fixture.relays == "card":
            _wire_relay_card(config, bench, instruments.daq)
        from sim.instruments.cert_fixture import attach_cert_fixture

        bench.cert_fixture = attach_cert_fixture(instruments, bench.pack,
                                                   {str(k): v for k, v in config.fixture.outputs.items()})
        from sim.instruments.short_circuit import attach_short_circuit

        bench.short_circuit = attach_short_circuit(instruments, bench.pack,
                                                   {str(k): v for k, v in config.fixture.outputs.items()},
                                                   {str(k): v for k, v in config.fixture.inputs.items()})
        description["instruments"] = bench.instruments.describe()
        station = with_bench_addresses(config, description, source)
    except BaseException:
        bench.close()
        raise
    return SimSetup(bench, bench.clock, station)


def _wire_relay_card(config: StationFile, bench: Any, daq: Any) -> None:
    """The simulated fixture as the file wires it: its relays on the card's channels (the
    modules in the DAQ's slots as the file says), the link relays too."""
    modules = config.instruments["daq"].options.get("modules") if "daq" in config.instruments else None
    if modules:
        daq.modules = {int(k): str(v).upper() for k, v in modules.items()}
    outputs = dict(config.fixture.outputs)
    daq.relay_card = {k: v for k, v in outputs.items() if not k.startswith("link_")}
    for name in ("link_port0", "link_port1"):
        if name in outputs:
            daq.extra_channels[outputs[name]] = lambda on, name=name: bench.link_relays.set(name, on)


def with_bench_addresses(config: StationFile, description: dict[str, Any],
                         source: Path) -> StationFile:
    """``config`` with each ``"sim"`` address filled from the bench's description."""
    data = config.model_dump(mode="python", exclude_none=True)
    for role, cfg in data["instruments"].items():
        if cfg["address"] == SIM_ADDRESS:
            cfg["address"] = description["instruments"][role]["resource"]
    pack = data.setdefault("pack", {
        "rs485": {"port": SIM_ADDRESS, "baud": 9600},
        "console": {"port": SIM_ADDRESS, "baud": 115200},
        "can": {"interface": "virtual", "channel": SIM_ADDRESS},
    })
    for port in ("rs485", "console"):
        if pack[port]["port"] == SIM_ADDRESS:
            pack[port]["port"] = description[port]
    if pack["can"].get("channel") == SIM_ADDRESS:
        pack["can"] = {**pack["can"], **description["can"]}
    return parse_station(data, f"{source} (on the simulated bench)")
