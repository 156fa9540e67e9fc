"""``station verify`` and ``station report lot|unit``: records and analytics on the command line.

Exit codes: ``verify`` 0 when the record is signed by a trusted key and certificate, record
and store agree, 1 when not, 2 on bad usage (an unreadable ``--trust`` file, say);
``report`` 0 done, 1 nothing to report (no store at the path, no runs), 2 bad usage (an
``--out`` that cannot be written), 3 database unusable. A report never creates a store.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

if TYPE_CHECKING:
    from reports.store import Store

DEFAULT_RESULTS = Path("results")

Db = Annotated[str | None, typer.Option("--db", help="results database URL (default: RESULTS/station.sqlite)")]
Results = Annotated[Path, typer.Option("--results", help="output folder of the station")]


def _console(stderr: bool = False) -> Console:
    """Wide when not on a terminal, so hashes and run ids are never folded in logs."""
    probe = Console(stderr=stderr)
    return probe if probe.is_terminal else Console(stderr=stderr, width=200)


def _since(text: str | None) -> datetime | None:
    if text is None:
        return None
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        raise typer.BadParameter(f"--since {text!r}: give a date such as 2026-01-31") from None


def _cell(x: Any) -> str:
    """A table cell: "—" for a missing value (None, NaN, NaT), never "nan"."""
    import pandas as pd

    if x is None:
        return "—"
    try:
        if pd.isna(x):
            return "—"
    except (TypeError, ValueError):   # a list or another non-scalar
        pass
    return str(x)


def _store_file(db: str | None, results: Path) -> Path | None:
    """The SQLite file a report would read (None for a server database)."""
    from reports.store.engine import DEFAULT_FILE

    if db is None:
        return results / DEFAULT_FILE
    if db.startswith("sqlite:///") and len(db) > len("sqlite:///"):
        return Path(db[len("sqlite:///"):])
    return None


def _open_existing_store(db: str | None, results: Path) -> Store:
    """The store a report reads, never a new one: a report of a folder without a store
    says so (exit 1) and creates nothing; an unusable database is exit 3."""
    from reports.store import StoreUnavailable, open_store

    path = _store_file(db, results)
    if path is not None and not path.is_file():
        _console(stderr=True).print(f"no store at {path}: nothing to report", soft_wrap=True,
                                    highlight=False)
        raise typer.Exit(1)
    try:
        return open_store(db, results)
    except StoreUnavailable as exc:
        _console(stderr=True).print(f"error: {exc}", soft_wrap=True, highlight=False)
        raise typer.Exit(3) from None


def register(app: typer.Typer) -> None:
    report_app = typer.Typer(help="Reports from the results store.", no_args_is_help=True)
    app.add_typer(report_app, name="report")

    @app.command()
    def verify(
        path: Annotated[Path, typer.Argument(help="certificate (.pdf) or record (.json)")],
        db: Db = None,
        trust: Annotated[list[Path] | None, typer.Option(
            "--trust", help="file of trusted key fingerprints or public keys, one a line "
                            "(added to the local key folder's keys); repeatable")] = None,
    ) -> None:
        """Check the record's signature and key, and that its certificate (same stem) and the
        store agree with it."""
        from reports.verify import verify as run_verify

        console = _console()
        try:
            result = run_verify(path, db, trust=trust or [])
        except ValueError as exc:
            console.print(f"[red]error:[/] {exc}")
            raise typer.Exit(2) from None
        for line in result.checked:
            console.print(f"[green]ok[/]  {line}", highlight=False)
        for line in result.problems:
            console.print(f"[red]DISAGREE[/]  {line}", highlight=False)
        if result.ok:
            console.print("[bold green]signed by a trusted key; certificate, record and store agree[/]")
        else:
            console.print(f"[bold red]{path} does not verify[/]")
        raise typer.Exit(0 if result.ok else 1)

    @report_app.command("lot")
    def lot(
        out: Annotated[Path, typer.Option("--out", help="report file, .pdf or .html")],
        db: Db = None,
        results: Results = DEFAULT_RESULTS,
        since: Annotated[str | None, typer.Option(help="only runs started on or after")] = None,
        model: Annotated[str | None, typer.Option(help="only this model")] = None,
        plan: Annotated[str, typer.Option(help="plan to report on")] = "eol",
    ) -> None:
        """Yield, first-pass yield, retest rate, Pareto, Pp/Ppk and Cp/Cpk per model, run charts of a lot."""
        from reports.lot_report import count_simulated_runs, write_lot_report
        from reports.lot_sql import lot_summary

        console = _console(stderr=True)
        if out.suffix.lower() not in (".pdf", ".html", ".htm"):
            console.print(f"error: --out {out}: the lot report is written as .pdf or .html",
                          soft_wrap=True, highlight=False)
            raise typer.Exit(2)
        if not out.parent.is_dir():
            console.print(f"error: --out {out}: folder {out.parent} does not exist",
                          soft_wrap=True, highlight=False)
            raise typer.Exit(2)
        start = _since(since)
        scope = ", ".join(x for x in (f"plan {plan}", f"model {model}" if model else "",
                                      f"since {since}" if since else "") if x)
        store = _open_existing_store(db, results)
        try:   # computed in the database: memory flat in the number of runs
            with store:
                summary = lot_summary(store, since=start, model=model, plan=plan,
                                      title=f"Lot report ({scope})")
                summary.simulated_runs = count_simulated_runs(store, since=start, model=model,
                                                              plan=plan)
        except ValueError as exc:
            console.print(f"{exc} ({scope})")
            raise typer.Exit(1) from None
        try:
            write_lot_report(summary, out)
        except OSError as exc:
            console.print(f"error: --out {out}: cannot write the report: {exc.strerror or exc}",
                          soft_wrap=True, highlight=False)
            raise typer.Exit(2) from None
        _console().print(
            f"{summary.n_runs} runs, {summary.units} units: yield {100 * summary.yield_:.1f} %, "
            f"first-pass yield {100 * summary.first_pass_yield:.1f} %, "
            f"retest rate {100 * summary.retest_rate:.1f} % -> {out}", highlight=False)

    @report_app.command("cert")
    def cert(
        serial: Annotated[str, typer.Argument(help="serial number of the pack")],
        db: Db = None,
        results: Results = DEFAULT_RESULTS,
        out: Annotated[Path | None, typer.Option(help="PDF to write [default: RESULTS/<serial>_cert.pdf]")] = None,
    ) -> None:
        """Re-render the latest certification pre-check of SERIAL from the store (clause
        verdicts derived from its measurements; traces from RESULTS/attachments)."""
        from reports.cert_report import write_cert_report

        store = _open_existing_store(db, results)
        with store:
            runs = store.runs(serial=serial)
            runs = runs[runs.plan == "cert"] if not runs.empty else runs
            if runs.empty:
                _console().print(f"no cert runs of {serial} in the store")
                raise typer.Exit(1)
            last = runs.sort_values("started_at").iloc[-1]
            record = store.load_record(last.run_id)
            sha = store.record_sha256(last.run_id)
        path = out or results / f"{serial}_cert.pdf"
        write_cert_report(record, sha, path, results / "attachments" / record.run_id)
        _console().print(f"{record.verdict} {serial} cert pre-check -> {path}", highlight=False)

    @report_app.command("rma")
    def rma(
        serial: Annotated[str, typer.Argument(help="serial number of the returned pack")],
        results: Results = DEFAULT_RESULTS,
        out: Annotated[Path | None, typer.Option(
            "--out", help="PDF to write [default: beside the record, same stem]")] = None,
    ) -> None:
        """Re-render the RMA diagnosis report of the pack's latest RMA record (its files are
        checked against their hashes first)."""
        from reports.rma_report import ReportError, latest_rma_record, write_rma_report

        console = _console()
        try:
            record, path = latest_rma_record(results, serial.strip().upper())
            target = out or path.with_suffix(".pdf")
            write_rma_report(record, path, target)
        except (ReportError, OSError) as exc:
            _console(stderr=True).print(f"error: {exc}", highlight=False)
            raise typer.Exit(1) from None
        console.print(f"{record.serial}: RMA report of run {record.run_id} -> {target}", highlight=False)

    @report_app.command("unit")
    def unit(
        serial: Annotated[str, typer.Argument(help="serial number of the pack")],
        db: Db = None,
        results: Results = DEFAULT_RESULTS,
        measurements: Annotated[bool, typer.Option(
            "--measurements", metavar="", help="also list every measurement")] = False,
    ) -> None:
        """Every run of one pack, oldest first, with why each did not pass."""
        import pandas as pd

        from common.serial_number import InvalidSerialError, parse_serial

        console = _console()
        try:
            key = parse_serial(serial).text
        except InvalidSerialError as exc:
            _console(stderr=True).print(f"error: {exc}")
            raise typer.Exit(2) from None
        store = _open_existing_store(db, results)
        with store:
            runs = store.runs(serial=key)
            meas = store.measurements(serial=key) if measurements else None
        if runs.empty:
            console.print(f"no runs of {key} in the store")
            raise typer.Exit(1)
        table = Table(title=f"Runs of {key} ({runs.model.iloc[0]})")
        for col in ("#", "started (UTC)", "plan", "station", "operator", "verdict",
                    "first failure", "cycle s", "run"):
            table.add_column(col)
        r: Any   # a DataFrame row: its fields have no static type
        for r in runs.sort_values("retest_index").itertuples():
            why = next((_cell(x) for x in (r.failure_measurement, r.failure_message)
                        if _cell(x) not in ("—", "")), "—")
            started = "—" if pd.isna(r.started_at) else f"{r.started_at:%Y-%m-%d %H:%M:%S}"
            verdict = "RUNNING" if _cell(r.verdict) == "—" else r.verdict
            table.add_row(_cell(r.retest_index), started, _cell(r.plan), _cell(r.station_id),
                          _cell(r.operator), verdict, why,
                          "—" if pd.isna(r.duration_s) else f"{r.duration_s:.1f}", _cell(r.run_id))
        console.print(table)
        if meas is not None:
            mt = Table(title="Measurements")
            for col in ("#", "step", "measurement", "value", "unit", "outcome"):
                mt.add_column(col)
            index = runs.set_index("run_id").retest_index
            m: Any   # a DataFrame row
            for m in meas.itertuples():
                mt.add_row(_cell(index[m.run_id]), _cell(m.step), _cell(m.name), _cell(m.value),
                           _cell(m.unit) if _cell(m.value) != "—" else "", _cell(m.outcome))
            console.print(mt)

