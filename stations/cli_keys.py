"""``station keys show|export``: the station's signing key, so its records can be trusted.

A record verifies only when signed by a trusted key. On the station itself the key folder
makes its own keys trusted; anywhere else (the MES, an auditor) the public key printed by
``station keys export`` goes into a trust file given to ``station verify --trust``.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

Station = Annotated[Path | None, typer.Option(help="station file [default: stations/sim.toml]")]


def _station_key(station: Path | None) -> tuple[str, Path]:
    """The station's id and the path of its private key (made on first use)."""
    from fixtures.plugin import DEFAULT_STATION
    from reports.signing import key_path
    from stations.schema import StationFileError, load_station_file

    file = station or DEFAULT_STATION
    try:
        config = load_station_file(file)
    except StationFileError as exc:
        Console(stderr=True).print(f"error: {exc}", highlight=False)
        raise typer.Exit(2) from None
    return config.id, key_path(config.id, config.signing_key, file)


def register(app: typer.Typer) -> None:
    keys_app = typer.Typer(help="The station's record-signing key.", no_args_is_help=True)
    app.add_typer(keys_app, name="keys")

    def _load(station: Path | None) -> tuple[str, Path, Ed25519PublicKey]:
        from reports.signing import SigningKeyError, load_or_create

        station_id, path = _station_key(station)
        try:
            return station_id, path, load_or_create(path, station_id).public_key()
        except SigningKeyError as exc:
            Console(stderr=True).print(f"error: {exc}", highlight=False)
            raise typer.Exit(2) from None

    @keys_app.command("show")
    def show(station: Station = None) -> None:
        """Station, key file, fingerprint and public key (the key is made if it has none)."""
        from reports.signing import fingerprint, public_b64

        station_id, path, public = _load(station)
        console = Console(width=200)
        for label, value in (("station", station_id), ("key file", str(path)),
                             ("algorithm", "Ed25519"), ("fingerprint", fingerprint(public)),
                             ("public key", public_b64(public))):
            console.print(f"{label:<12} {value}", highlight=False, soft_wrap=True)

    @keys_app.command("export")
    def export(
        station: Station = None,
        out: Annotated[Path | None, typer.Option(
            "--out", help="append the line to this trust file instead of printing it")] = None,
    ) -> None:
        """The public key as one trust-file line (for `station verify --trust FILE`)."""
        from reports.signing import public_line

        station_id, _, public = _load(station)
        line = public_line(public, station_id)
        if out is None:
            typer.echo(line)
            return
        with out.open("a", encoding="utf-8") as fh:
            fh.write(line + "\n")
        typer.echo(f"appended the public key of station {station_id} to {out}")
