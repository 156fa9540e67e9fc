"""The one place station code imports the simulator: an in-process simulated bench.

For a station file with ``[bench] simulated = true`` the station starts a
``sim.bench.SimBench`` (virtual clock, python-can ``virtual`` bus) in this process, starts
the simulated instruments with the dialects the station file names, and returns the
bench's virtual clock as the station clock, so ``station.sleep(180)`` takes no wall time.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from stations.schema import StationFile


@dataclass
class SimSetup:
    bench: Any                      # sim.bench.SimBench
    clock: Any                      # its VirtualClock
    description: dict[str, Any]     # what SimBench.start() returned, instruments included


def start_sim_bench(
    config: StationFile,
    *,
    base_dir: Path,
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
            unit = load_unit(unit_path if unit_path.is_absolute() else base_dir / unit_path)
        else:
            unit = default_unit(model or config.bench.model, serial)
    bench = SimBench(unit, realtime=False, seed=seed, can="virtual", instruments=False)
    try:
        description = dict(bench.start())
        dialects = {role: cfg.dialect for role, cfg in config.instruments.items()}
        bench.instruments = start_instruments(bench.pack, bench.clock, dialects=dialects, seed=seed)
        description["instruments"] = bench.instruments.describe()
    except BaseException:
        bench.close()
        raise
    return SimSetup(bench, bench.clock, description)
