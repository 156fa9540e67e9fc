"""What the MSA commands print: live progress of the runs and each study's table (rich)."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table

STYLE = {"capable": "green", "acceptable": "green", "not capable": "bold red",
         "not acceptable": "bold red", "conditionally acceptable": "yellow", "ok": "green",
         "false reject": "bold red", "escape": "bold red", "wrong catch": "bold red",
         "error": "bold magenta"}


class Progress:
    """One line per finished run (a bar on a terminal): label, verdict, count."""

    def __init__(self, err: Console, total: int, what: str) -> None:
        from rich.progress import BarColumn, MofNCompleteColumn, TimeElapsedColumn
        from rich.progress import Progress as Bar

        self.err, self.total, self.n = err, total, 0
        self.bar = Bar("[progress.description]{task.description}", BarColumn(),
                       MofNCompleteColumn(), TimeElapsedColumn(), console=err,
                       disable=not err.is_terminal, auto_refresh=False)   # no thread: runs fork
        self.task = self.bar.add_task(what, total=total)

    def __enter__(self) -> Progress:
        self.bar.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.bar.stop()

    def __call__(self, done: Any) -> None:
        self.n += 1
        self.bar.advance(self.task)
        self.bar.refresh()
        if not self.err.is_terminal:
            record = done.record() if done.record_path is not None else None
            verdict = record.verdict if record is not None else (done.refused or done.error
                                                                  or f"exit {done.exit_code}")
            self.err.print(f"[{self.n}/{self.total}] {done.spec.label} {done.spec.serial}: "
                           f"{verdict}", highlight=False, soft_wrap=True)


def print_type1(console: Console, study: Any) -> None:
    from reports.msa import type1_doc

    t = Table(title=f"Type-1 study: {study.serial} on {study.station}, {study.repeats} runs "
                    f"(K = 20 %, L = 6 s, target ≥ 1.33)", title_justify="left")
    for h in type1_doc.HEADER:
        t.add_column(h, justify="right" if h not in ("measurement", "unit", "result") else "left",
                     no_wrap=h != "result")
    for r, row in zip(study.results, type1_doc.rows(study), strict=True):
        t.add_row(*row[:-1], f"[{STYLE.get(r.status, 'dim')}]{row[-1]}[/]")
    console.print(t)
    counts = ", ".join(f"{v} {k}" for k, v in sorted(study.counts().items()))
    console.print(f"{counts}" + (f"; * x_m from reference runs: {', '.join(study.flagged)}"
                                 if study.flagged else ""), soft_wrap=True)


def print_grr(console: Console, study: Any) -> None:
    from reports.msa import grr_doc

    t = Table(title=f"Gauge R&R: {len(study.parts)} parts × {len(study.appraisers)} appraisers "
                    f"× {study.trials} trials (targets %GRR < 10 %, ndc ≥ 5)",
              title_justify="left")
    for h in grr_doc.HEADER:
        t.add_column(h, justify="right" if h not in ("measurement", "unit", "result") else "left",
                     no_wrap=True)
    for r, row in zip(study.results, grr_doc.rows(study), strict=True):
        t.add_row(*row[:-1], f"[{STYLE.get(r.status, 'dim')}]{row[-1]}[/]")
    console.print(t)
    for name, why in study.skipped.items():
        console.print(f"[dim]not analysed: {name}: {why}[/]", soft_wrap=True)


def print_study(console: Console, s: Any) -> None:
    from reports.msa import study_doc

    m = Table(title="Confusion matrix", title_justify="left")
    for h in study_doc.matrix_rows(s)[0]:
        m.add_column(h)
    for row in study_doc.matrix_rows(s)[1:]:
        m.add_row(*row)
    console.print(m)
    for r in s.results:
        if r.outcome == "false reject":
            why = "; ".join(f"{f.name} = {f.value} ({f.limit})" for f in r.failing)
            console.print(f"[bold red]false reject[/] {r.case.serial}: {why}", soft_wrap=True)
        elif r.outcome == "error":
            console.print(f"[bold magenta]no verdict[/] {r.case.id}: {r.fault_named}",
                          soft_wrap=True)
    if s.faulty:
        t = Table(title="Faults: where caught, against where they should be",
                  title_justify="left")
        for h in ("fault", "should fail first", "failed first", "result", "fault named"):
            t.add_column(h)
        for row in study_doc.fault_rows(s)[1:]:
            t.add_row(row[0], row[2], row[3], f"[{STYLE.get(row[4], '')}]{row[4]}[/]", row[5])
        console.print(t)
    console.print(f"false-reject rate {study_doc.rate(s.false_reject_rate)}, escape rate "
                  f"{study_doc.rate(s.escape_rate)}, wrong catches {s.wrong_catches}, "
                  f"no verdict {s.errors}")
