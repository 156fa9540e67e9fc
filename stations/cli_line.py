"""``station serve``, ``station gate``, ``station mes sync``, ``station export``, ``station
line lot``, ``station panel user``: the line's commands (docs/line.md, docs/operator.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

Station = Annotated[Path | None, typer.Option(help="station file [default: stations/sim.toml]")]
Out = Annotated[Path, typer.Option(help="results folder")]


def _station(path: Path | None) -> Path:
    from stations.schema import default_station_file

    return path or default_station_file()


def register(app: typer.Typer) -> None:
    @app.command()
    def serve(
        station: Station = None,
        host: Annotated[str, typer.Option(help="address to listen on")] = "127.0.0.1",
        port: Annotated[int, typer.Option(help="TCP port")] = 8080,
        out: Out = Path("results"),
        db: Annotated[str | None, typer.Option(help="database URL [default: SQLite in --out]")] = None,
        users: Annotated[Path | None, typer.Option(help="users file [default: OUT/panel-users.json]")] = None,
        units: Annotated[Path | None, typer.Option(help="simulated bench: folder of unit files named <serial>.toml")] = None,
        stop_on_fail: Annotated[bool, typer.Option("--stop-on-fail", metavar="", help="a FAIL ends the plan after its step (the rest NOT RUN)")] = False,
        prompts: Annotated[Path | None, typer.Option(help="operator prompts asked before a run (e.g. stations/panel/prompts.toml)")] = None,
    ) -> None:
        """The operator panel in the browser: scan, watch, stop; slots, gate, MES."""
        from stations.panel.app import serve as run_server
        from stations.panel.prompts import PromptsError, load_prompts

        if prompts is not None:
            try:
                load_prompts(prompts)
            except PromptsError as exc:
                Console(stderr=True).print(f"error: {exc}", soft_wrap=True, highlight=False)
                raise typer.Exit(2) from None
        Console(stderr=True).print(f"panel on http://{host}:{port}/ (station {_station(station)})")
        run_server(_station(station), out, host, port, users_file=users, units_dir=units, db=db,
                   stop_on_fail=stop_on_fail, prompts_file=prompts)

    panel_app = typer.Typer(help="Panel users.", no_args_is_help=True)
    app.add_typer(panel_app, name="panel")

    @panel_app.command("user")
    def panel_user(
        name: Annotated[str, typer.Argument(help="log-in name")],
        role: Annotated[str, typer.Option(help="operator, engineer or admin")] = "operator",
        out: Out = Path("results"),
        users: Annotated[Path | None, typer.Option(help="users file [default: OUT/panel-users.json]")] = None,
        password: Annotated[str, typer.Option(prompt=True, hide_input=True,
                                              confirmation_prompt=True)] = "",
    ) -> None:
        """Add or change a panel user (the password is kept as an Argon2id hash)."""
        from stations.panel.auth import UserError, Users

        try:
            Users(users or out / "panel-users.json").add(name, role, password)
        except UserError as exc:
            Console(stderr=True).print(f"error: {exc}")
            raise typer.Exit(2) from None
        Console().print(f"user {name} ({role}) saved")

    gate_app = typer.Typer(help="The production gate: calibration and the golden-unit check.",
                           no_args_is_help=True)
    app.add_typer(gate_app, name="gate")

    @gate_app.command("status")
    def gate_status(station: Station = None, out: Out = Path("results")) -> None:
        """Whether production runs may start; exit 0 open, 1 blocked (with why)."""
        from stations.gate import status
        from stations.schema import load_station_file

        st = status(load_station_file(_station(station)), out)
        for reason, action in zip(st.reasons, st.actions, strict=True):
            Console().print(f"[bold red]blocked[/]: {reason} — {action}", soft_wrap=True)
        if st.ok:
            Console().print("[green]open[/]: production runs may start")
        raise typer.Exit(0 if st.ok else 1)

    @gate_app.command("check")
    def gate_check(station: Station = None, out: Out = Path("results"),
                   operator: Annotated[str, typer.Option(help="who runs it")] = "engineer",
                   db: Annotated[str | None, typer.Option(help="database URL")] = None) -> None:
        """Run today's golden-unit check (good unit must PASS, bad unit must FAIL)."""
        from stations.gate import run_check

        data = run_check(_station(station), out, operator, db)
        Console().print(("[green]passed[/]: " if data["passed"] else "[bold red]failed[/]: ")
                        + data["why"], soft_wrap=True)
        raise typer.Exit(0 if data["passed"] else 1)

    mes_app = typer.Typer(help="The MES hand-off: the outbox.", no_args_is_help=True)
    app.add_typer(mes_app, name="mes")

    @mes_app.command("sync")
    def mes_sync(station: Station = None, out: Out = Path("results")) -> None:
        """Send what the outbox of OUT still holds to the station's broker; exit 1 if any is left."""
        from fixtures.mes import OUTBOX, Outbox, Publisher
        from stations.schema import load_station_file

        config = load_station_file(_station(station))
        if config.mes is None:
            Console(stderr=True).print("the station file has no [mes]")
            raise typer.Exit(2)
        pub = Publisher(Outbox(out / OUTBOX), config.mes.broker, config.mes.timeout_s)
        sent = pub.drain()
        left = len(pub.outbox.pending())
        Console().print(f"{sent} sent, {left} left" + (f" ({pub.last_error})" if left else ""))
        raise typer.Exit(1 if left else 0)

    @app.command("export")
    def export(
        to: Annotated[Path, typer.Option("--to", help="folder for the exports")],
        out: Annotated[Path, typer.Option(help="results folder (its store)")] = Path("results"),
        db: Annotated[str | None, typer.Option(help="database URL")] = None,
        run: Annotated[str | None, typer.Option(help="one run id")] = None,
        serial: Annotated[str | None, typer.Option(help="every run of one serial")] = None,
        since: Annotated[str | None, typer.Option(help="runs started on or after (ISO date)")] = None,
        until: Annotated[str | None, typer.Option(help="runs started before (ISO date)")] = None,
    ) -> None:
        """CSV and Parquet of the measurements, JUnit XML per run, for a run, a serial or a date range."""
        from stations.export import export_runs

        try:
            written = export_runs(out, to, db=db, run_id=run, serial=serial, since=since,
                                  until=until)
        except ValueError as exc:
            Console(stderr=True).print(f"error: {exc}")
            raise typer.Exit(1) from None
        for path in written:
            Console().print(str(path), highlight=False, soft_wrap=True)

    line_app = typer.Typer(help="A lot through the station's slots.", no_args_is_help=True)
    app.add_typer(line_app, name="line")

    @line_app.command("lot")
    def lot(
        units: Annotated[Path, typer.Option(help="folder of unit files <serial>.toml (simulated)")],
        station: Annotated[Path, typer.Option(help="station file with slots")] = Path("stations/sim-line.toml"),
        out: Out = Path("results"),
        plan: Annotated[str, typer.Option(help="plan")] = "eol",
        expect: Annotated[list[str] | None, typer.Option(
            "--expect", help="SERIAL=VERDICT of a unit not expected to PASS; repeatable")] = None,
        db: Annotated[str | None, typer.Option(help="database URL [default: SQLite in --out]")] = None,
    ) -> None:
        """Run every unit of UNITS through the slots, then check for interference: each
        verdict as expected, each record its unit's and verified, the bench safe after each
        run, the chamber never in two slots at once. Exit 0 none, 1 interference, 2 bad input."""
        from stations.line_lot import parse_expected, run_lot

        try:
            summary = run_lot(station, units, out, plan=plan, expected=parse_expected(expect or []),
                              db=db)
        except ValueError as exc:
            Console(stderr=True).print(f"error: {exc}", soft_wrap=True, highlight=False)
            raise typer.Exit(2) from None
        Console().print(summary.text(), soft_wrap=True, highlight=False)
        raise typer.Exit(0 if summary.ok else 1)
