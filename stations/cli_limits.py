"""``station limits capability``: what each measurement's uncertainty is on a station.

Prints (or writes) the measurement capability document: for each model of the plan every
numeric measurement's spec limit, U (k = 2), acceptance limit and U as a share of the half
tolerance, those above the rule of ten with their reason, each budget's contributions and
the datasheet figures used. ``docs/measurement-capability.md`` is its output for the
simulated station.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

ROOT = Path(__file__).resolve().parent.parent


def station_name(file: Path) -> str:
    """The station file as the document names it: relative to the project when inside it."""
    try:
        return str(file.resolve().relative_to(ROOT))
    except ValueError:
        return str(file)


def register(app: typer.Typer) -> None:
    limits_app = typer.Typer(help="The limits documents: spec limits, uncertainty, acceptance.",
                             no_args_is_help=True)
    app.add_typer(limits_app, name="limits")

    @limits_app.command()
    def capability(
        plan: Annotated[str, typer.Option(help="plan whose limits to show")] = "eol",
        station_file: Annotated[Path | None, typer.Option(
            help="station file whose instruments U is evaluated for [default: stations/sim.toml]")] = None,
        out: Annotated[Path | None, typer.Option(help="write the document here instead of printing it")] = None,
    ) -> None:
        """Spec limit, U, acceptance limit and U / (T/2) of every numeric measurement on a station."""
        from fixtures.plugin import DEFAULT_STATION
        from stations.schema import StationFileError, load_station_file
        from testplans.limits import LimitsFileError
        from testplans.limits.capability import capability_markdown

        file = station_file or DEFAULT_STATION
        try:
            text = capability_markdown(load_station_file(file), station_name(file), plan)
        except (StationFileError, LimitsFileError) as exc:
            Console(stderr=True).print(f"error: {exc}", highlight=False, markup=False)
            raise typer.Exit(3) from None
        if out is None:
            typer.echo(text, nl=False)
        else:
            out.write_text(text, encoding="utf-8")
            typer.echo(f"wrote {out}")
