"""``station msa type1``, ``station msa grr`` and ``station study``: the station measured.

Each command runs the EOL plan through the one engine (``reports.msa.runs``), every run
with its own output folder under ``OUT/<kind>-NNN/runs/`` and its own noise seed (the
simulated bench's; a real bench has its own noise), then prints its table and writes a PDF
and a JSON report beside the runs. The units of ``grr`` and ``study`` are unit files for the
simulated bench, made from ``sim.population`` and ``sim.faults``. Exit codes: 0 the targets
are met, 1 they are not, 2 a run ended without a verdict or the study was stopped,
3 refused before the first run (nothing ran).
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from reports.msa.console import Progress, print_grr, print_study, print_type1

GOLDEN_SERIAL = "PV5S260100000013"
GOLDEN_DIR = Path(__file__).resolve().parent / "golden"


OUT_HELP = "folder for the study (a new <kind>-NNN inside: runs, PDF and JSON report)"


class Refused(Exception):
    """Bad input found before any run: one line, exit 3."""


# -- shared ------------------------------------------------------------------------------

def _consoles() -> tuple[Console, Console]:
    out = Console()
    return (out if out.is_terminal else Console(width=200)), Console(stderr=True)


def _study_folder(out: Path, kind: str) -> Path:
    """``OUT/<kind>-NNN``, the first that does not exist (no clock needed to name it)."""
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise Refused(f"output folder {out} cannot be created: {exc.strerror or exc}") from None
    n = 1
    while (out / f"{kind}-{n:03d}").exists():
        n += 1
    folder = out / f"{kind}-{n:03d}"
    folder.mkdir()
    return folder


def _station_file(path: Path | None) -> Path:
    from fixtures.plugin import DEFAULT_STATION
    from stations.schema import StationFileError, load_station_file

    file = path or DEFAULT_STATION
    try:
        load_station_file(file)
    except StationFileError as exc:
        raise Refused(str(exc)) from None
    return file


def _simulated(file: Path) -> bool:
    from stations.schema import load_station_file

    return bool(load_station_file(file).bench.simulated)


def _check_jobs(jobs: int, stations: Sequence[Path]) -> None:
    if jobs < 1:
        raise Refused(f"--jobs {jobs}: at least one")
    if jobs > 1 and not all(_simulated(s) for s in stations):
        raise Refused("--jobs > 1 needs simulated stations: a real bench runs one pack at a time")


def _run(specs: Sequence[Any], jobs: int, err: Console, what: str) -> list[Any]:
    from reports.msa.runs import StudyRefused, run_all

    with Progress(err, len(specs), what) as progress:
        try:
            return run_all(specs, jobs=jobs, progress=progress)
        except StudyRefused as exc:
            raise Refused(str(exc)) from None


def _records(done: Sequence[Any]) -> tuple[list[Any], list[str]]:
    """Records with a verdict of PASS or FAIL, and the labels of runs without one."""
    records, missing = [], []
    for d in done:
        r = d.record() if d.record_path is not None else None
        if r is not None and r.verdict in ("PASS", "FAIL"):
            records.append(r)
        else:
            missing.append(d.spec.label)
    return records, missing


def _guarded(body: Callable[[], int]) -> None:
    """Run a command body: a refusal is one line and exit 3, a stop exit 2."""
    from reports.msa.reference import ReferenceFileError
    from reports.msa.runs import StudyStopped

    err = Console(stderr=True)
    try:
        code = body()
    except (Refused, ReferenceFileError) as exc:
        err.print(f"[bold red]refused:[/] {exc}", soft_wrap=True, highlight=False)
        raise typer.Exit(3) from None
    except (StudyStopped, KeyboardInterrupt) as exc:
        why = str(exc) or "operator stop"
        err.print(f"[yellow]stopped:[/] {why}; the runs so far are kept, no report written",
                  soft_wrap=True)
        raise typer.Exit(2) from None
    raise typer.Exit(code)


def _written(console: Console, *paths: Path) -> None:
    for p in paths:
        console.print(f"report {p}", soft_wrap=True, highlight=False, markup=False)


# -- type 1 --------------------------------------------------------------------------------

def _serial_of_unit(unit: Path) -> str:
    from sim.unit import UnitFileError, load_unit  # unit files exist on the simulated bench

    try:
        return load_unit(unit).identity.serial
    except (UnitFileError, OSError) as exc:
        raise Refused(f"--unit {unit}: {exc}") from None


def type1_command(*, repeats: int, serial: str | None, station: Path | None, model: str | None,
                  unit: Path | None, reference: Path | None, reference_runs: int, seed: int,
                  jobs: int, out: Path) -> int:
    from reports.msa import type1_doc
    from reports.msa.reference import load_reference
    from reports.msa.runs import RunSpec, run_folder
    from reports.msa.type1 import analyse
    from reports.msa.values import numeric_series

    console, err = _consoles()
    if repeats < 2:
        raise Refused(f"--repeats {repeats}: a type-1 study needs at least 2 (AIAG/VDA: ≥ 25)")
    if reference_runs < 0:
        raise Refused(f"--reference-runs {reference_runs}: 0 or more")
    file = _station_file(station)
    _check_jobs(jobs, [file])
    sn = serial or (_serial_of_unit(unit) if unit is not None else GOLDEN_SERIAL)
    ref_file = reference or GOLDEN_DIR / f"{sn}.toml"
    if reference is None and not ref_file.exists():
        raise Refused(f"no reference file for {sn} in {GOLDEN_DIR}: give --reference FILE "
                      "(the master's stated values, docs/msa.md)")
    ref = load_reference(ref_file)
    if ref.serial != sn:
        raise Refused(f"reference file {ref_file} states the master {ref.serial}, not {sn}")
    if repeats < 25:
        err.print(f"[yellow]note:[/] {repeats} repeats; AIAG/VDA ask for at least 25")
    folder = _study_folder(out, "type1")
    specs = [RunSpec(f"r{k + 1:03d}", sn, file, run_folder(folder, f"r{k + 1:03d}"), seed + k,
                     "msa type-1", model, unit) for k in range(repeats)]
    done = _run(specs, jobs, err, f"type-1 study of {sn}")
    records, missing = _records(done)
    if not records:
        err.print("[bold red]no run ended with a verdict[/]: nothing to analyse")
        return 2
    series = numeric_series(records)
    fallback = None
    unstated = [n for n in series if n not in ref.values]
    if unstated and reference_runs:
        ref_specs = [RunSpec(f"x{k + 1:03d}", sn, file, run_folder(folder, f"x{k + 1:03d}"),
                             seed + repeats + k, "msa reference", model, unit)
                     for k in range(reference_runs)]
        err.print(f"{len(unstated)} measurements without a stated reference value: "
                  f"{reference_runs} reference runs for their x_m", soft_wrap=True)
        fallback = numeric_series(_records(_run(ref_specs, jobs, err, "reference runs"))[0])
    study = type1_doc.Type1Study(
        serial=sn, model=records[0].model, station=records[0].station.id, repeats=repeats,
        seeds=[s.seed for s in specs], reference_file=str(ref_file), stated_by=ref.stated_by,
        results=analyse(series, ref, fallback), reference_runs=reference_runs if fallback else 0,
        runs=[str(d.record_path) for d in done if d.record_path], not_finished=missing)
    print_type1(console, study)
    pdf, js = type1_doc.write(study, folder, "type1")
    _written(console, pdf, js)
    if missing:
        return 2
    return 0 if study.all_capable else 1


# -- gauge R&R -----------------------------------------------------------------------------

def _unit_files(units: Sequence[Path], parts: int, seed: int, model: str, folder: Path
                ) -> list[tuple[str, Path]]:
    """(serial, unit file) of each part: the files given, else a generated population."""
    if units:
        return [(_serial_of_unit(u), u) for u in units]
    from sim.population import generate  # the simulated bench's in-spec population

    try:
        made = generate(parts, seed, model, out_dir=folder / "units")
    except ValueError as exc:
        raise Refused(str(exc)) from None
    return [(u.identity.serial, folder / "units" / f"{u.identity.serial}.toml") for u in made]


def grr_command(*, parts: int, units: Sequence[Path], seed: int, model: str,
                stations: Sequence[Path], operators: Sequence[str], repeats: int, alpha: float,
                jobs: int, out: Path, all_plots: bool, plots: int) -> int:
    from reports.msa import grr_doc
    from reports.msa.grr import from_records
    from reports.msa.runs import RunSpec, run_folder

    console, err = _consoles()
    files = [_station_file(s) for s in (stations or (None,))]
    _check_jobs(jobs, files)
    if repeats < 2:
        raise Refused(f"--repeats {repeats}: a gauge R&R needs at least 2 trials")
    if not units and parts < 2:
        raise Refused(f"--parts {parts}: a gauge R&R needs at least 2 parts")
    if len(set(operators)) != len(operators):
        raise Refused("--operator: each operator once")
    appraisers = [(f, op, op if len(files) == 1 else f"{f.stem}/{op}") for f in files
                  for op in operators]
    if len(appraisers) < 2:
        raise Refused("a gauge R&R needs at least 2 appraisers: give 2 operators or 2 stations")
    if not 0 < alpha < 1:
        raise Refused(f"--alpha-interaction {alpha}: between 0 and 1")
    folder = _study_folder(out, "grr")
    part_files = _unit_files(units, parts, seed, model, folder)
    specs: list[RunSpec]
    specs, cell = [], {}
    for trial in range(1, repeats + 1):
        for a, (file, op, label) in enumerate(appraisers):
            for p, (sn, unit) in enumerate(part_files):
                name = f"t{trial}-a{a + 1}-p{p + 1:02d}"
                specs.append(RunSpec(name, sn, file, run_folder(folder, name), seed + len(specs),
                                     op, None, unit))
                cell[name] = (sn, label)
    done = _run(specs, jobs, err, "gauge R&R runs")
    labelled, missing = [], []
    for d in done:
        record = d.record() if d.record_path is not None else None
        if record is not None and record.verdict in ("PASS", "FAIL"):
            labelled.append((cell[d.spec.label], record))
        else:
            missing.append(d.spec.label)
    results, data, skipped = from_records(labelled, alpha)
    study = grr_doc.GrrStudy([sn for sn, _ in part_files], [lab for _, _, lab in appraisers],
                             repeats, alpha, results, data, skipped,
                             [str(d.record_path) for d in done if d.record_path])
    print_grr(console, study)
    pdf, js = grr_doc.write(study, folder, "grr", all_plots=all_plots, plots=plots)
    _written(console, pdf, js)
    if missing:
        err.print(f"[bold red]runs without a verdict[/]: {', '.join(missing)}", soft_wrap=True)
        return 2
    return 0 if study.all_acceptable else 1


# -- decision study ------------------------------------------------------------------------

def _faults(selected: Sequence[str], fault_file: Path | None, none: bool) -> list[Any]:
    from sim.faults import FAULTS, Fault

    if none:
        return []
    table = list(FAULTS)
    if fault_file is not None:
        try:
            data = tomllib.loads(fault_file.read_text(encoding="utf-8"))
            table = [Fault(**entry) for entry in data.get("fault", [])]
        except (OSError, tomllib.TOMLDecodeError, TypeError) as exc:
            raise Refused(f"--faults {fault_file}: {exc}") from None
        if not table:
            raise Refused(f"--faults {fault_file}: no [[fault]] entries")
    known = {f.id: f for f in table}
    unknown = [s for s in selected if s not in known]
    if unknown:
        raise Refused(f"--fault {unknown[0]}: no such fault; known: {', '.join(known)}")
    return [known[s] for s in selected] if selected else table


def study_command(*, population: int, seed: int, model: str, fault_ids: Sequence[str],
                  fault_file: Path | None, no_faults: bool, station: Path | None, jobs: int,
                  out: Path) -> int:
    from reports.msa import study_doc
    from reports.msa.runs import RunSpec, run_folder
    from reports.msa.study import Case, classify, summarize
    from sim.unit import UnitFileError, default_unit, with_change, write_unit

    console, err = _consoles()
    if population < 0:
        raise Refused(f"--population {population}: 0 or more")
    file = _station_file(station)
    if not _simulated(file):
        raise Refused(f"{file} is not a simulated station: the study's units are unit files")
    _check_jobs(jobs, [file])
    faults = _faults(fault_ids, fault_file, no_faults)
    if population == 0 and not faults:
        raise Refused("nothing to study: --population 0 and no faults")
    folder = _study_folder(out, "study")
    cases: list[tuple[Case, Path]] = [
        (Case("good", sn, sn), path)
        for sn, path in _unit_files([], population, seed, model, folder)] if population else []
    for f in faults:
        try:
            unit = with_change(default_unit(f.model), f.key, f.value)
        except (UnitFileError, ValueError) as exc:
            raise Refused(f"fault {f.id}: {exc}") from None
        path = folder / "units" / f"fault-{f.id}.toml"
        path.parent.mkdir(parents=True, exist_ok=True)
        write_unit(unit, path)
        cases.append((Case("fault", f.id, f.scanned_serial or unit.identity.serial,
                           f.first_failure, f.description), path))
    specs = [RunSpec(f"{c.kind}-{i + 1:03d}", c.serial, file,
                     run_folder(folder, f"{c.kind}-{i + 1:03d}"), seed + i, "study", None, path)
             for i, (c, path) in enumerate(cases)]
    done = _run(specs, jobs, err, "decision study")
    results, good_records = [], []
    for (case, _), d in zip(cases, done, strict=True):
        record = d.record() if d.record_path is not None else None
        results.append(classify(case, record, d.exit_code, str(d.record_path or ""),
                                d.refused or d.error or ""))
        if case.kind == "good" and record is not None:
            good_records.append(record)
    summary = summarize(results)
    meta = {"population": population, "population seed": seed, "model": model,
            "faults": len(faults), "fault table": str(fault_file or "sim/faults.py FAULTS"),
            "station": str(file), "runs": len(done)}
    print_study(console, summary)
    pdf, js = study_doc.write(summary, good_records, meta, folder, "study")
    _written(console, pdf, js)
    return 0 if summary.clean else 1


# -- registration --------------------------------------------------------------------------

def register(app: typer.Typer) -> None:
    msa = typer.Typer(help="Measurement system analysis: type-1 study and gauge R&R.",
                      no_args_is_help=True)
    app.add_typer(msa, name="msa")

    @msa.command("type1")
    def type1(
        repeats: Annotated[int, typer.Option(help="runs of the EOL plan on the master (AIAG/VDA: ≥ 25)")] = 25,
        serial: Annotated[str | None, typer.Option(help=f"the master unit's serial (default: {GOLDEN_SERIAL}, or the --unit file's)")] = None,
        station: Annotated[Path | None, typer.Option(help="station file (default: stations/sim.toml)")] = None,
        model: Annotated[str | None, typer.Option(help="v5, v5-alpha or v5-alpha-plus (default: from the serial)")] = None,
        unit: Annotated[Path | None, typer.Option(help="unit description of the master (simulated bench only)")] = None,
        reference: Annotated[Path | None, typer.Option(help="the master's reference values (TOML) (default: stations/golden/<serial>.toml)")] = None,
        reference_runs: Annotated[int, typer.Option(help="extra runs whose mean is x_m of a measurement the reference file does not state (0: none)")] = 5,
        seed: Annotated[int, typer.Option(help="noise seed of the first run; run k uses seed + k (simulated bench)")] = 1,
        jobs: Annotated[int, typer.Option(help="runs in parallel processes (simulated bench only)")] = 1,
        out: Annotated[Path, typer.Option(help=OUT_HELP)] = Path("results/msa"),
    ) -> None:
        """Type-1 gauge study: Cg and Cgk of every numeric measurement on a master unit."""
        _guarded(lambda: type1_command(repeats=repeats, serial=serial, station=station,
                                       model=model, unit=unit, reference=reference,
                                       reference_runs=reference_runs, seed=seed, jobs=jobs,
                                       out=out))

    @msa.command("grr")
    def grr_cmd(
        parts: Annotated[int, typer.Option(help="in-spec units generated as parts (sim.population)")] = 10,
        unit: Annotated[list[Path] | None, typer.Option(help="a unit file as a part (repeatable; replaces --parts)")] = None,
        seed: Annotated[int, typer.Option(help="population seed, and noise seed of the first run")] = 7,
        model: Annotated[str, typer.Option(help="model of the generated parts")] = "v5",
        station: Annotated[list[Path] | None, typer.Option(help="station file of an appraiser (repeatable) (default: stations/sim.toml)")] = None,
        operator: Annotated[list[str] | None, typer.Option(help="operator name (repeatable) (default: A, B, C)")] = None,
        repeats: Annotated[int, typer.Option(help="trials of each part by each appraiser")] = 3,
        alpha_interaction: Annotated[float, typer.Option(help="pool the part × appraiser interaction when its p-value is above this")] = 0.25,
        jobs: Annotated[int, typer.Option(help="runs in parallel processes (simulated bench only)")] = 1,
        out: Annotated[Path, typer.Option(help=OUT_HELP)] = Path("results/msa"),
        plots: Annotated[int, typer.Option(help="plot at most this many of the measurements missing a target, worst first")] = 12,
        all_plots: Annotated[bool, typer.Option("--all-plots", help="plot every measurement that varies, met targets or not")] = False,
    ) -> None:
        """Crossed gauge R&R (ANOVA): parts × appraisers (every station × operator) × trials."""
        _guarded(lambda: grr_command(parts=parts, units=unit or [], seed=seed, model=model,
                                     stations=station or [], operators=operator or ["A", "B", "C"],
                                     repeats=repeats, alpha=alpha_interaction, jobs=jobs,
                                     out=out, all_plots=all_plots, plots=plots))

    @app.command("study")
    def study(
        population: Annotated[int, typer.Option(help="in-spec units (sim.population), each toleranced value within its spread")] = 20,
        seed: Annotated[int, typer.Option(help="population seed, and noise seed of the first run")] = 1,
        model: Annotated[str, typer.Option(help="model of the population")] = "v5",
        fault: Annotated[list[str] | None, typer.Option(help="a fault id of the table to run (repeatable) (default: all)")] = None,
        faults: Annotated[Path | None, typer.Option(help="TOML file of faults, each with id, key, value, first_failure, description, model; docs/msa.md (default: the table of sim/faults.py)")] = None,
        no_faults: Annotated[bool, typer.Option("--no-faults", help="the population only")] = False,
        station: Annotated[Path | None, typer.Option(help="simulated station file (default: stations/sim.toml)")] = None,
        jobs: Annotated[int, typer.Option(help="runs in parallel processes")] = 1,
        out: Annotated[Path, typer.Option(help=OUT_HELP)] = Path("results/msa"),
    ) -> None:
        """Decision study: false rejects of good units, escapes of faulty ones, and where each
        fault is caught against its covering measurement; exit 1 on any miss."""
        _guarded(lambda: study_command(population=population, seed=seed, model=model,
                                       fault_ids=fault or [], fault_file=faults,
                                       no_faults=no_faults, station=station, jobs=jobs, out=out))


