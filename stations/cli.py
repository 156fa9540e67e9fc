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

import atexit
import contextlib
import logging
import os
import sys
import threading

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
    try:
        app()
    except SystemExit as done:
        leave(done.code)


def leave(code: str | int | None) -> None:
    """End the process with ``code`` as ``sys.exit`` would, without the interpreter's teardown.

    Tearing down the 1,200 modules a run imports costs about 0.4 s, a sixth of a whole
    ``station run``, and frees nothing the operating system does not. Everything a process
    owes the world first: the atexit handlers (the MES outbox's last messages, temporary
    folders), logging's handlers closed, both streams flushed. A process with another
    thread still working (one that is not a daemon) exits the ordinary way, after it."""
    if any(t is not threading.main_thread() and not t.daemon and t.is_alive()
           for t in threading.enumerate()):
        sys.exit(code)
    if code is None:
        status = 0
    elif isinstance(code, int):
        status = code
    else:   # sys.exit("message"): the message on stderr, exit 1
        print(code, file=sys.stderr)
        status = 1
    atexit._run_exitfuncs()
    logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):   # a closed pipe: nothing reaches it
            stream.flush()
    os._exit(status % 256)   # as the shell sees sys.exit(status)


if __name__ == "__main__":
    main()
