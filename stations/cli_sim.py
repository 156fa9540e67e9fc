"""``station demo`` and ``station sim ...``: the simulated bench on the command line."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    sim_app = typer.Typer(help="The simulated bench.", no_args_is_help=True)
    app.add_typer(sim_app, name="sim")

    @app.command()
    def demo() -> None:
        """Run the simulated pack through a charge/discharge profile and print its states."""
        from sim.demo import run_demo

        run_demo()
