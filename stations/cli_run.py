"""``station run PLAN``: run a test plan on a station and write its record and certificate.

Exit codes: 0 PASS, 1 FAIL, 2 aborted or error (record written), 3 refused before start
(bad usage, invalid serial, expired calibration, unreachable database; no record).
"""

from __future__ import annotations

import gc
import time
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape

STYLE = {"PASS": "green", "FAIL": "bold red", "ERROR": "bold magenta", "NOT_RUN": "dim",
         "ABORTED": "bold yellow"}


class Progress:
    """Live lines for the operator (a :class:`fixtures.engine.RunObserver`): step,
    simulated and wall time, each outcome."""

    def __init__(self, console: Console, err: Console) -> None:
        self.console, self.err = console, err
        self.wall0 = time.perf_counter()  # wall time shown beside the station clock
        self.last_step: str | None = None
        self.not_run = 0

    def started(self, run: Any) -> None:
        for old in run.recovered:
            self.err.print(f"[yellow]recovered[/] unfinished run {old.run_id} of {old.serial}: "
                           f"ABORTED, {old.counts()['PASS'] + old.counts()['FAIL']} measurements kept")
        rec = run.record
        self.console.print(f"[bold]{rec.plan.upper()}[/] {rec.serial} ({rec.model}) "
                           f"on station {rec.station.id}, limits {rec.limits.version}")

    def measurement(self, run: Any, m: Any) -> None:
        if m.outcome == "NOT_RUN":
            self.not_run += 1
            return
        if self.console.quiet:   # -q: rich would lay out every line only to drop it
            return
        if m.step != self.last_step:
            self.last_step = m.step
            self.console.print(f"[bold]── {m.step}[/]")
        sim = run.recorder.elapsed()
        wall = time.perf_counter() - self.wall0
        value = f"{m.value:.6g}" if isinstance(m.value, float) else m.value_text()
        unit = f" {m.unit}" if m.unit and m.value is not None else ""
        why = f"  [dim]{m.message}[/]" if m.outcome != "PASS" and m.message else ""
        self.console.print(
            f"  [dim]{sim:6.1f} s {wall:5.2f} s wall[/]  [{STYLE.get(m.outcome, '')}]{m.outcome:<5}[/]"
            f" {m.name:<31} {value}{unit}  [dim]({m.limit.text()})[/]{why}", soft_wrap=True,
        )


class LogLevel(StrEnum):
    debug = "debug"
    info = "info"
    warning = "warning"
    error = "error"


def start_logging(level: LogLevel, file: Path | None) -> str | None:
    """Send the station's logs (drivers, the wire at DEBUG, pyvisa) to ``file`` or stderr;
    the refusal's text when the file cannot be opened (before anything is switched on)."""
    import logging

    if file is not None and not file.parent.is_dir():
        return f"--log-file {file}: folder {file.parent} does not exist"
    try:
        handler: logging.Handler = (logging.FileHandler(file, encoding="utf-8")
                                    if file is not None else logging.StreamHandler())
    except OSError as exc:
        return f"--log-file {file}: cannot open: {exc.strerror or exc}"
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(level.value.upper())
    return None


def register(app: typer.Typer) -> None:
    @app.command()
    def run(
        plan: Annotated[str, typer.Argument(help="plan to run: eol, rma")],
        serial: Annotated[list[str], typer.Option(help="serial number of the unit (scanned); "
                          "repeat it to run several units one after the other in this process")],
        station: Annotated[Path | None, typer.Option(help="station file [default: stations/sim.toml; cert: stations/sim-cert.toml]")] = None,
        model: Annotated[str | None, typer.Option(help="v5, v5-alpha or v5-alpha-plus [default: from the serial]")] = None,
        unit: Annotated[Path | None, typer.Option(help="unit description file (simulated bench only)")] = None,
        operator: Annotated[str, typer.Option(help="operator name for the record")] = "operator",
        out: Annotated[Path, typer.Option(help="output folder for records and certificates")] = Path("results"),
        db: Annotated[str | None, typer.Option(help="database URL [default: SQLite in --out]")] = None,
        dip: Annotated[int | None, typer.Option(help="work order: expected DIP setting (0-15)")] = None,
        heater: Annotated[bool, typer.Option("--heater/--no-heater", metavar="", help="work order: heater fitted (--no-heater: none)")] = True,
        seed: Annotated[int, typer.Option(help="simulated bench: noise seed")] = 0,
        stop_on_fail: Annotated[bool, typer.Option("--stop-on-fail", metavar="", help="end the plan after the step of the first FAIL (the rest NOT RUN)")] = False,
        fixture: Annotated[list[str] | None, typer.Option(help="cert: a fixture or sample present (repeat): short_circuit, cell_thermocouples, prepared_sample, reversal_fixture")] = None,
        quiet: Annotated[bool, typer.Option("--quiet", "-q", metavar="", help="only the verdict line")] = False,
        intake: Annotated[Path | None, typer.Option(help="rma: the intake file (RMA number, claim, checklist); absent answers are recorded as not given")] = None,
        log_level: Annotated[LogLevel, typer.Option(case_sensitive=False, help="driver and wire log level (debug: every instrument exchange)")] = LogLevel.warning,
        log_file: Annotated[Path | None, typer.Option(help="write the log here (appended) [default: stderr]")] = None,
    ) -> None:
        """Run PLAN on one pack (or several, one after the other, ``--serial`` repeated);
        writes DIR/<serial>_<UTC time>.json and .pdf for each."""
        from fixtures.plugin import DEFAULT_STATION, SERVICE_STATION
        from fixtures.session import RunRequest
        from stations.gate import production_refusal

        if station is None and plan == "cert":   # the cert bench: wider envelope, smoke input
            station = DEFAULT_STATION.with_name("sim-cert.toml")
        default = SERVICE_STATION if plan == "rma" else DEFAULT_STATION
        refusal = production_refusal(station or default, out)   # docs/line.md: the gate
        if refusal is not None:
            Console(stderr=True).print(f"[bold red]refused:[/] {escape(str(refusal))}", soft_wrap=True)
            raise typer.Exit(3)
        err = Console(stderr=True)
        from reports.extras import missing

        problem = missing("pyarrow", "the cert plan (its traces are Parquet)") \
            if plan == "cert" else None
        problem = problem or start_logging(log_level, log_file)
        if problem is not None:
            err.print(f"[bold red]refused:[/] {escape(problem)}", soft_wrap=True, highlight=False)
            raise typer.Exit(3)
        if unit is not None and len(serial) > 1:
            err.print("[bold red]refused:[/] --unit describes one unit: give one --serial with it")
            raise typer.Exit(3)
        reqs = [RunRequest(plan=plan, serial=sn, station_file=station or default,
                           model=model, unit_file=unit, operator=operator, out_dir=out, db=db,
                           seed=seed, dip=dip, heater=heater, stop_on_fail=stop_on_fail,
                           fixtures=tuple(fixture or ()), intake=intake)
                for sn in serial]
        if len(reqs) == 1:
            raise typer.Exit(run_plan(reqs[0], Console(), err, progress=not quiet))
        from stations.lot_run import run_units

        raise typer.Exit(run_units(reqs, Console(), err, progress=not quiet))


    store_app = typer.Typer(help="The results store: catch it up after an outage, check it whole.",
                            no_args_is_help=True)
    app.add_typer(store_app, name="store")

    @store_app.command("sync")
    def sync(
        out: Annotated[Path, typer.Option(help="output folder whose run journals to sync")] = Path("results"),
        db: Annotated[str | None, typer.Option(help="database URL [default: SQLite in --out]")] = None,
    ) -> None:
        """Bring the store up to every finished record a run journal in OUT names (a store
        that was away during a run); exit 0 when nothing is left pending, 1 otherwise."""
        from fixtures.journal import pending_journals
        from fixtures.recovery import sync_pending

        err = Console(stderr=True)
        with _store_or_exit(db, out, err) as store:
            done = sync_pending(out, store)
        for run_id in done.synced:
            Console().print(f"synced run {run_id}")
        for problem in done.failed:
            err.print(f"[bold red]not synced[/]: {problem}", soft_wrap=True)
        left = len(pending_journals(out))
        Console().print(f"{len(done.synced)} synced, {left} journal(s) left in {out}")
        raise typer.Exit(1 if done.failed else 0)

    @store_app.command("check")
    def check(
        out: Annotated[Path, typer.Option(help="output folder of the SQLite store")] = Path("results"),
        db: Annotated[str | None, typer.Option(help="database URL [default: SQLite in --out]")] = None,
    ) -> None:
        """Check the whole SQLite store, page by page (``PRAGMA quick_check``): for
        maintenance, e.g. nightly beside its backup. A run's start checks a large store only
        where its runs write (docs/records.md). Exit 0 sound, 1 damaged, 3 not opened."""
        err = Console(stderr=True)
        with _store_or_exit(db, out, err) as store:
            if store.dialect != "sqlite":
                Console().print(f"{store.dialect}: the server checks its own pages "
                                "(data checksums; amcheck for indexes): nothing to check here")
                raise typer.Exit(0)
            with err.status(f"checking {escape(store.url)} page by page"):
                found = store.quick_check()
        if found != ["ok"]:
            err.print(f"[bold red]damaged[/]: {escape(store.url)}: {escape('; '.join(found))} "
                      "(restore it from a backup)", soft_wrap=True)
            raise typer.Exit(1)
        Console().print(f"sound: {store.url}", soft_wrap=True, highlight=False)


#: Whether a run in this process has frozen the survivors already (``gc.get_freeze_count``
#: would say so too, but it counts the frozen objects one by one: 20 ms a unit in a lot).
def _store_or_exit(db: str | None, out: Path, err: Console) -> Any:
    """The store of ``--db`` / ``--out``, or the reason it cannot be opened and exit 3."""
    from reports.store import StoreUnavailable, open_store

    try:
        return open_store(db, out)
    except StoreUnavailable as exc:
        err.print(f"[bold red]refused:[/] {escape(str(exc))}", soft_wrap=True)
        raise typer.Exit(3) from None


_FROZE_BEFORE: list[bool] = [False]


def freeze_survivors() -> None:
    """Before a run: move every object alive now out of the garbage collector's sight
    (``gc.freeze``), so the full collections during the run scan only what the run makes.

    The modules a run imports leave about 150,000 tracked objects, and each full collection
    walked them all: one every unit or two, 60 to 240 ms each on this project's machines
    (a unit's collections took 0.08 s, 0.04 s frozen). Before a later run in the same
    process, what the earlier one left is collected first, so no garbage is frozen with the
    survivors; before the first (nothing frozen yet), only the imports' few cycles can be."""
    if _FROZE_BEFORE[0]:   # an earlier run froze: what it left is collected first
        gc.collect()
    gc.freeze()
    _FROZE_BEFORE[0] = True


def run_plan(req: Any, console: Console, err: Console, *, progress: bool = True) -> int:
    """Run one plan through the engine with live progress; print the verdict; the exit code."""
    from fixtures.engine import execute

    freeze_survivors()
    live = Progress(console if progress else Console(quiet=True), err)
    result = execute(req, live)
    if result.refused is not None:
        err.print(f"[bold red]refused:[/] {escape(result.refused)}", soft_wrap=True)
    elif result.stopped_before_start is not None:
        err.print(f"[yellow]stopped[/] before the plan started ({result.stopped_before_start}): "
                  "nothing recorded")
    else:
        _conclude(result, live, console, err)
    return result.exit_code


def _conclude(result: Any, live: Progress, console: Console, err: Console) -> None:
    """The operator's last lines: safe-state problems, the verdict with step and fault."""
    record = result.record
    assert record is not None and record.verdict is not None
    if live.not_run:
        console.print(f"[dim]{live.not_run} measurements not run[/]")
    style = STYLE.get(record.verdict, "")
    why = ""
    if record.failure and record.verdict != "PASS":
        f = record.failure
        where = f"step {f.step}" if f.step else "before the first step"
        what = f"{f.measurement}: " if f.measurement else ""
        why = f": {where}: {what}{f.message}"
    report = result.safe_report
    for role, problem in (report.errors.items() if report is not None else ()):
        err.print(f"[bold red]safe state NOT confirmed[/] by the {role}: {problem}", soft_wrap=True)
    for problem in result.output_errors:
        err.print(f"[bold red]not written[/]: {problem}", soft_wrap=True)
    for run_id in result.synced:
        err.print(f"[yellow]caught up[/] the store with the record of run {run_id}", soft_wrap=True)
    dev = " [bold]development run[/] (not all steps: no certificate, not in yield)" \
        if record.development else ""
    console.print(
        f"[{style}]{record.verdict}[/] {record.serial} in {record.duration_s:.1f} s "
        f"(cycle time), {record.wall_duration_s:.1f} s wall{why}{dev}", soft_wrap=True,
    )
    # paths whole on one line each, whatever the width (a pipe is 80 columns to rich)
    console.print(f"record {result.record_path}", soft_wrap=True, highlight=False, markup=False)
    console.print(f"certificate {result.certificate_path}", soft_wrap=True, highlight=False,
                  markup=False)
