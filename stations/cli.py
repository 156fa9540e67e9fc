"""The ``station`` command. Each group lives beside the code it drives:

- ``station demo``, ``station sim ...``: the simulated bench (``stations.cli_sim``)
- ``station run ...``: test plans (``stations.cli_run``)
- ``station verify``, ``station report ...``: records and analytics (``reports.cli``)
- ``station keys ...``: the station's record-signing key (``stations.cli_keys``)
- ``station msa ...``, ``station study``: the station measured (``stations.cli_msa``)
- ``station limits capability``: U and acceptance limits on a station (``stations.cli_limits``)
- ``station serve``, ``gate``, ``mes``, ``export``, ``line``, ``panel``: the line (``stations.cli_line``)
"""

from __future__ import annotations

import sys

import typer

from reports.cli import register as register_reports
from stations.cli_check import register as register_check
from stations.cli_keys import register as register_keys
from stations.cli_limits import register as register_limits
from stations.cli_line import register as register_line
from stations.cli_msa import register as register_msa
from stations.cli_run import register as register_run
from stations.cli_sim import register as register_sim

app = typer.Typer(
    name="station",
    help="Production test station for Pytes V-series LFP packs.",
    no_args_is_help=True,
    add_completion=True,   # --install-completion / --show-completion (bash, zsh, fish, powershell)
    pretty_exceptions_enable=False,
)
register_sim(app)
register_run(app)
register_reports(app)
register_keys(app)
register_check(app)
register_msa(app)
register_limits(app)
register_line(app)


def main() -> None:
    # a terminal that cannot show "…" or "Ω" (PYTHONIOENCODING=ascii, a serial console)
    # gets a replacement character, never an exception in the middle of a run
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            reconfigure(errors="replace")
    app()


if __name__ == "__main__":
    main()
