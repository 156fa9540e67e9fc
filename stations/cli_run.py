"""``station run PLAN``: run a test plan on a station and write its record and certificate.

Exit codes: 0 PASS, 1 FAIL, 2 aborted or error (record written), 3 refused before start
(bad usage, invalid serial, expired calibration, unreachable database; no record).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

EXIT = {"PASS": 0, "FAIL": 1, "ABORTED": 2, "ERROR": 2}
REFUSED = 3
STYLE = {"PASS": "green", "FAIL": "bold red", "ERROR": "bold magenta", "NOT_RUN": "dim",
         "ABORTED": "bold yellow"}


class Progress:
    """Live lines for the operator: step, simulated and wall time, each outcome."""

    def __init__(self, console: Console, run: Any) -> None:
        self.console = console
        self.run = run
        self.wall0 = time.perf_counter()  # wall time shown beside the station clock
        self.last_step: str | None = None
        self.not_run = 0

    def __call__(self, m: Any) -> None:
        if m.outcome == "NOT_RUN":
            self.not_run += 1
            return
        rec = self.run.recorder
        if m.step != self.last_step:
            self.last_step = m.step
            self.console.print(f"[bold]── {m.step}[/]")
        sim = rec.elapsed()
        wall = time.perf_counter() - self.wall0
        value = f"{m.value:.6g}" if isinstance(m.value, float) else m.value_text()
        unit = f" {m.unit}" if m.unit and m.value is not None else ""
        why = f"  [dim]{m.message}[/]" if m.outcome != "PASS" and m.message else ""
        self.console.print(
            f"  [dim]{sim:6.1f} s {wall:5.2f} s wall[/]  [{STYLE.get(m.outcome, '')}]{m.outcome:<5}[/]"
            f" {m.name:<31} {value}{unit}  [dim]({m.limit.text()})[/]{why}", soft_wrap=True,
        )


def register(app: typer.Typer) -> None:
    @app.command()
    def run(
        plan: Annotated[str, typer.Argument(help="plan to run: eol")],
        serial: Annotated[str, typer.Option(help="serial number of the unit (scanned)")],
        station: Annotated[Path | None, typer.Option(help="station file [default: stations/sim.toml]")] = None,
        model: Annotated[str | None, typer.Option(help="v5, v5-alpha or v5-alpha-plus [default: from the serial]")] = None,
        unit: Annotated[Path | None, typer.Option(help="unit description file (simulated bench only)")] = None,
        operator: Annotated[str, typer.Option(help="operator name for the record")] = "operator",
        out: Annotated[Path, typer.Option(help="output folder for records and certificates")] = Path("results"),
        db: Annotated[str | None, typer.Option(help="database URL [default: SQLite in --out]")] = None,
        dip: Annotated[int | None, typer.Option(help="work order: expected DIP setting (0-15)")] = None,
        heater: Annotated[bool, typer.Option("--heater/--no-heater", help="work order: heater fitted")] = True,
        seed: Annotated[int, typer.Option(help="simulated bench: noise seed")] = 0,
        quiet: Annotated[bool, typer.Option("--quiet", "-q", help="only the verdict line")] = False,
    ) -> None:
        """Run PLAN on one pack; writes DIR/<serial>_<UTC time>.json and .pdf."""
        from fixtures.plugin import DEFAULT_STATION
        from fixtures.session import RunRequest

        req = RunRequest(plan=plan, serial=serial, station_file=station or DEFAULT_STATION,
                         model=model, unit_file=unit, operator=operator, out_dir=out, db=db,
                         seed=seed, dip=dip, heater=heater)
        raise typer.Exit(run_plan(req, Console(), Console(stderr=True), progress=not quiet))


def _stop_reason(exc: BaseException) -> str:
    """``operator stop (SIGINT)``: fixtures.signals puts the signal's name first."""
    text = str(exc)
    return f"operator stop ({text.split(':', 1)[0] if text.startswith('SIG') else 'interrupt'})"


def run_plan(req: Any, console: Console, err: Console, *, progress: bool = True) -> int:
    """Prepare, run and close one plan; return the exit code.

    The signal handler is installed before anything opens, so a stop while the station
    opens (or recovers an old run) also ends in the safe state, never in a traceback."""
    import pytest

    from fixtures.plugin import PlanPlugin
    from fixtures.session import PLAN_DIR, PlanRun, RunRefused, prepare
    from fixtures.signals import TerminateHandler

    current: list[Any] = []

    def abort_now() -> None:
        if current:
            current[0].aborted = current[0].aborted or "operator abort (second signal: at once)"
            current[0].close()

    with TerminateHandler(abort_now):
        run: Any = None
        try:
            run = PlanRun(prepare(req))
            current.append(run)
            run.open()
        except RunRefused as exc:
            err.print(f"[bold red]refused:[/] {exc}", soft_wrap=True)
            return REFUSED
        except KeyboardInterrupt as exc:
            if run is None or run.record is None:
                if run is not None:
                    run.close()   # the safe state, if the station had opened
                err.print(f"[yellow]stopped[/] before the plan started ({_stop_reason(exc)}): "
                          "nothing recorded")
                return REFUSED
            run.aborted = _stop_reason(exc)
            return _conclude(run, run.close(), None, console, err)
        assert run.recorder is not None and run.record is not None
        live = Progress(console if progress else Console(quiet=True), run)
        try:   # from here on, a stop anywhere ends in close(): safe state and ABORTED record
            for old in run.recovered:
                err.print(f"[yellow]recovered[/] unfinished run {old.run_id} of {old.serial}: "
                          f"ABORTED, {old.counts()['PASS'] + old.counts()['FAIL']} measurements kept")
            console.print(f"[bold]{req.plan.upper()}[/] {run.record.serial} ({run.record.model}) "
                          f"on station {run.record.station.id}, limits {run.record.limits.version}")
            run.recorder.on_measurement = live
            pytest.main(
                [str(PLAN_DIR / req.plan), "-s", "-p", "no:terminal", "-p", "no:cacheprovider",
                 "-p", "fixtures.plugin", "--rootdir", str(PLAN_DIR.parent), "-o", "addopts="],
                plugins=[PlanPlugin(run)],
            )
        except KeyboardInterrupt as exc:
            run.aborted = run.aborted or _stop_reason(exc)
        finally:
            record = run.close()
    return _conclude(run, record, live, console, err)


def _conclude(run: Any, record: Any, live: Progress | None, console: Console, err: Console) -> int:
    """The operator's last lines: safe-state problems, the verdict with step and fault."""
    assert record is not None and record.verdict is not None
    if live is not None and live.not_run:
        console.print(f"[dim]{live.not_run} measurements not run[/]")
    style = STYLE.get(record.verdict, "")
    why = ""
    if record.failure and record.verdict != "PASS":
        f = record.failure
        where = f"step {f.step}" if f.step else "before the first step"
        what = f"{f.measurement}: " if f.measurement else ""
        why = f": {where}: {what}{f.message}"
    report = getattr(run, "safe_report", None)
    for role, problem in (report.errors.items() if report is not None else ()):
        err.print(f"[bold red]safe state NOT confirmed[/] by the {role}: {problem}", soft_wrap=True)
    console.print(
        f"[{style}]{record.verdict}[/] {record.serial} in {record.duration_s:.1f} s "
        f"(cycle time), {record.wall_duration_s:.1f} s wall{why}", soft_wrap=True,
    )
    console.print(f"record {run.record_path}\ncertificate {run.certificate_path}")
    return EXIT[record.verdict]
