"""``station check``: commission a bench (instruments, calibration, envelope, fixture relays,
optionally the pack's ports) and print one report.

Exit codes: 0 every item OK (warnings allowed), 1 a problem found, 3 the station file refused.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

STYLE = {"OK": "green", "WARN": "yellow", "PROBLEM": "bold red", "SKIP": "dim"}


def _console(stderr: bool = False) -> Console:
    """Wide when not on a terminal, so addresses and paths are never folded in logs."""
    probe = Console(stderr=stderr)
    return probe if probe.is_terminal else Console(stderr=stderr, width=200)


def register(app: typer.Typer) -> None:
    @app.command()
    def check(
        station: Annotated[Path | None, typer.Option(
            help="station file to check [default: stations/sim.toml]")] = None,
        pack: Annotated[bool, typer.Option(
            "--pack", metavar="", help="also start the pack on the fixture and check its RS485, console "
            "and CAN ports")] = False,
    ) -> None:
        """Open every instrument of a station file and check it is the one named, in
        calibration and rated for the envelope; exercise the fixture relays; leave the bench
        safe. Exit 0 all OK, 1 a problem found, 3 the station file refused."""
        from stations.check import CheckRefused, run_check
        from stations.schema import default_station_file

        path = station or default_station_file()
        try:
            report = run_check(path, pack=pack)
        except CheckRefused as exc:
            _console(stderr=True).print(f"[bold red]refused:[/] {exc}", soft_wrap=True,
                                        highlight=False)
            raise typer.Exit(3) from None
        table = Table(title=f"station check: {report.station} ({path})")
        table.add_column("item", no_wrap=True)
        table.add_column("result", no_wrap=True)
        table.add_column("detail", overflow="fold")
        for item in report.items:
            style = STYLE.get(item.result, "")
            table.add_row(item.item, f"[{style}]{item.result}[/]", item.detail)
        console = _console()
        console.print(table, highlight=False)
        n_prob, n_warn = len(report.problems), len(report.warnings)
        if n_prob:
            console.print(f"[bold red]{n_prob} problem(s)[/], {n_warn} warning(s): "
                          "the bench is not ready", highlight=False)
        else:
            console.print(f"[green]bench ready[/] ({n_warn} warning(s))", highlight=False)
        raise typer.Exit(report.exit_code)
