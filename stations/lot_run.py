"""Several units in one ``station run`` process (``--serial A --serial B ...``): for a lot
or CI, the imports and first-run costs are paid once instead of once per unit.

Each unit is its own run through the same engine (its own record, certificate, store row,
safe state). A refused serial or a FAIL does not stop the others; a run aborted (the
operator's Ctrl-C / SIGTERM) or in error stops the lot there, the units after it not run.
The exit code is the worst of them (0 all PASS, 1 a FAIL, 2 an abort or error, 3 a unit
refused).
"""

from __future__ import annotations

from typing import Any

from rich.console import Console

#: Order of exit codes from best to worst (PASS, FAIL, aborted/error, refused).
_WORST = (0, 1, 2, 3)


def worst_exit(codes: list[int]) -> int:
    """The exit code of a lot: the worst of its units' codes (0 for none)."""
    return max(codes, key=_WORST.index, default=0)


def run_units(requests: list[Any], console: Console, err: Console, *,
              progress: bool = True) -> int:
    """Run each request in turn (the station is opened and put in its safe state for each,
    as for a single run); print one summary line per unit; the lot's exit code."""
    from stations.cli_run import run_plan

    codes: list[int] = []
    for i, req in enumerate(requests, 1):
        console.print(f"[bold]unit {i}/{len(requests)}[/] {req.serial}", highlight=False)
        codes.append(run_plan(req, console, err, progress=progress))
        if codes[-1] == 2 and i < len(requests):   # a stop or a station fault: look first
            err.print(f"[bold yellow]lot stopped[/] after unit {i}: "
                      f"{len(requests) - i} unit(s) not run", soft_wrap=True)
            break
    names = {0: "PASS", 1: "FAIL", 2: "aborted or error", 3: "refused"}
    for k, req in enumerate(requests):
        state = names.get(codes[k], str(codes[k])) if k < len(codes) else "not run"
        console.print(f"{req.serial}: {state}", highlight=False)
    passed = codes.count(0)
    console.print(f"{passed} of {len(requests)} units passed", highlight=False)
    return worst_exit(codes)
