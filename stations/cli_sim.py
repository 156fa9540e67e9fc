"""``station demo`` and ``station sim ...``: the simulated bench on the command line."""

from __future__ import annotations

import json
import logging
import signal
import sys
import threading
from pathlib import Path
from typing import Annotated

import typer


def register(app: typer.Typer) -> None:
    sim_app = typer.Typer(help="The simulated bench.", no_args_is_help=True)
    app.add_typer(sim_app, name="sim")

    @app.command()
    def demo() -> None:
        """Run the simulated pack through a charge/discharge profile and print its states."""
        from sim.demo import run_demo

        run_demo()

    @sim_app.command()
    def serve(
        model: Annotated[str, typer.Option(help="model id: v5, v5-alpha, v5-alpha-plus")] = "v5",
        unit: Annotated[Path | None, typer.Option(help="unit description file (overrides --model)")] = None,
        seed: Annotated[int, typer.Option(help="seed of the sensors' noise")] = 0,
        rs485_port: Annotated[int, typer.Option(help="TCP port of the RS485 gateway (0: a free one)")] = 0,
        console_port: Annotated[int, typer.Option(help="TCP port of the console (0: a free one)")] = 0,
        can_port: Annotated[int, typer.Option(help="TCP port of the socketcand server (0: a free one)")] = 0,
        station_file: Annotated[Path | None, typer.Option(help="where to write the station file")] = None,
        power_on: Annotated[bool, typer.Option(help="start the pack (POWER on, SW 1 s)")] = True,
        instruments: Annotated[bool, typer.Option(help="also serve the simulated instruments")] = True,
        verbose: Annotated[bool, typer.Option("--verbose", "-v", help="debug logging on stderr")] = False,
    ) -> None:
        """Serve the simulated bench in real time until SIGINT/SIGTERM; print where it is."""
        logging.basicConfig(stream=sys.stderr, level=logging.DEBUG if verbose else logging.INFO,
                            format="%(asctime)s %(levelname)s %(name)s: %(message)s")
        from sim.bench import SimBench
        from sim.unit import UnitFileError, load_unit

        try:
            unit_desc = load_unit(unit) if unit is not None else None
            bench = SimBench(unit_desc, model=model, realtime=True, seed=seed, can="socketcand",
                             station_file=station_file, power_on=power_on,
                             rs485_port=rs485_port, console_port=console_port,
                             can_port=can_port, instruments=instruments)
        except (UnitFileError, ValueError, OSError) as exc:
            typer.echo(f"station sim serve: {exc}", err=True)
            raise typer.Exit(2) from None
        stop = threading.Event()
        received: list[int] = []

        def on_signal(signum: int, frame: object) -> None:
            received.append(signum)   # no logging here: a handler may interrupt a log call
            stop.set()

        old = {s: signal.signal(s, on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
        try:
            try:
                description = bench.start()
            except OSError as exc:
                typer.echo(f"station sim serve: cannot start the bench: {exc}", err=True)
                raise typer.Exit(2) from None
            sys.stdout.write(json.dumps(description) + "\n")
            sys.stdout.flush()
            logging.getLogger("station.sim").info("serving %s", description["serial"])
            while not stop.wait(0.5):  # wall: waiting for a signal, nothing else
                pass
            logging.getLogger("station.sim").info("signal %d: stopping", received[0])
        finally:
            bench.close()
            for s, handler in old.items():
                signal.signal(s, handler)
