"""The results store: a run's rows written as the run goes, read back as records and frames.

Every write commits at once, so a crash of the station loses nothing already measured;
a re-test of a serial is a new run with the next retest index, never an overwrite. The
unique (serial, retest_index) constraint makes that true even with several stations
writing to one database: a station that loses the race recounts and tries again.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from datetime import UTC, date, datetime
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar

import sqlalchemy as sa
import sqlalchemy.dialects.sqlite

from reports.record import (
    Attachment,
    Failure,
    Firmware,
    Instrument,
    Limit,
    LimitsInfo,
    Measurement,
    Record,
    Software,
    StationInfo,
    StepRecord,
    TimeUse,
)
from reports.store.engine import quick_check, safe_url
from reports.store.tables import INSTRUMENTS, MEAS, RUN_INSTR, RUNS, STATIONS, UNITS

if TYPE_CHECKING:   # pandas only where frames are read (reports), never in a run's path
    import pandas as pd

_RETRIES = 20
P = ParamSpec("P")
R = TypeVar("R")


class StoreWriteError(RuntimeError):
    """The database failed during a run (server gone, disk full): one line, naming it."""


def _writes(fn: Callable[P, R]) -> Callable[P, R]:
    """Turn a driver error during a write into :class:`StoreWriteError` with one clear line."""

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return fn(*args, **kwargs)
        except sa.exc.DBAPIError as exc:
            if isinstance(exc, sa.exc.IntegrityError):
                raise
            store = args[0]
            reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
            raise StoreWriteError(
                f"results database {safe_url(store.url)} failed in {fn.__name__}: {reason}"  # type: ignore[attr-defined]
            ) from exc

    return wrapper


class Store:
    """One open results database. Use from one thread; open one per process."""

    def __init__(self, engine: sa.Engine, url: str, reader: sa.Engine | None = None) -> None:
        self._engine = engine
        self._reader = reader or engine  # SQLite: reads do not queue for the write lock
        self.url = url
        self._run_pk: dict[str, int] = {}
        self._next_seq: dict[str, int] = {}
        self._insert = sa.dialects.postgresql.insert if engine.dialect.name == "postgresql" \
            else sa.dialects.sqlite.insert
        # one statement object each, so SQLAlchemy compiles it once (measurements are hot)
        ins = self._insert(MEAS)
        updated = [c.name for c in MEAS.c if c.name not in ("pk", "run_pk", "name", "seq")]
        keep = {c: ins.excluded[c] for c in updated}
        self._upsert_keep = ins.on_conflict_do_update(index_elements=["run_pk", "name"], set_=keep)
        self._upsert_move = ins.on_conflict_do_update(
            index_elements=["run_pk", "name"], set_={**keep, "seq": ins.excluded.seq}
        )

    def __repr__(self) -> str:
        return f"Store({safe_url(self.url)})"

    @property
    def dialect(self) -> str:
        return self._engine.dialect.name

    def quick_check(self) -> list[str]:
        """SQLite's whole-file check: ``["ok"]`` or the problems found (SQLite only)."""
        return quick_check(self._engine)

    def close(self) -> None:
        self._engine.dispose()
        if self._reader is not self._engine:
            self._reader.dispose()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- writing -----------------------------------------------------------------------
    @_writes
    def begin_run(self, record: Record, owner: dict[str, Any] | None = None) -> int:
        """Insert the run (and its station, unit, instruments); set and return its retest
        index. ``owner`` names the process running it (recovery asks whether it is gone)."""
        for attempt in range(_RETRIES):
            try:
                with self._engine.begin() as conn:
                    existing = conn.execute(
                        sa.select(RUNS.c.pk, RUNS.c.retest_index).where(
                            RUNS.c.run_id == record.run_id
                        )
                    ).first()
                    if existing is not None:
                        self._run_pk[record.run_id] = existing.pk
                        record.retest_index = existing.retest_index
                        return existing.retest_index
                    index = self._insert_run(conn, record, owner)
                record.retest_index = index
                return index
            except sa.exc.IntegrityError:
                if attempt == _RETRIES - 1:
                    raise
                # another station took this retest index of the serial meanwhile: recount
        raise AssertionError("unreachable")  # pragma: no cover

    def _insert_run(self, conn: sa.Connection, record: Record,
                    owner: dict[str, Any] | None = None) -> int:
        now = record.started_at  # station clock, never this machine's
        self._upsert_station(conn, record.station, now)
        conn.execute(
            self._insert(UNITS)
            .values(serial=record.serial, model=record.model, first_seen=now)
            .on_conflict_do_nothing(index_elements=["serial"])
        )
        index = conn.execute(   # development runs count apart: they never move a retest
            sa.select(sa.func.count()).select_from(RUNS).where(
                RUNS.c.serial == record.serial, RUNS.c.development == record.development)
        ).scalar_one()
        pk = conn.execute(
            RUNS.insert().values(**_run_values(record), retest_index=index, owner=owner)
            .returning(RUNS.c.pk)
        ).scalar_one()
        self._write_instruments(conn, pk, record.instruments)
        self._upsert_measurements(conn, pk, record.measurements)
        self._run_pk[record.run_id] = pk
        self._next_seq[record.run_id] = len(record.measurements)
        return index

    def _upsert_station(self, conn: sa.Connection, st: StationInfo, now: datetime) -> None:
        stmt = self._insert(STATIONS).values(
            id=st.id, line=st.line, file=st.file, simulated=st.simulated,
            first_seen=now, last_seen=now,
        )
        conn.execute(stmt.on_conflict_do_update(
            index_elements=["id"],
            set_={"line": st.line, "file": st.file, "simulated": st.simulated, "last_seen": now},
        ))

    def _write_instruments(self, conn: sa.Connection, run_pk: int, items: list[Instrument]) -> None:
        conn.execute(RUN_INSTR.delete().where(RUN_INSTR.c.run_pk == run_pk))
        for pos, ins in enumerate(items):
            stmt = self._insert(INSTRUMENTS).values(dialect=ins.dialect, serial=ins.serial, idn=ins.idn)
            conn.execute(stmt.on_conflict_do_update(
                index_elements=["dialect", "serial"], set_={"idn": ins.idn}
            ))
            ipk = conn.execute(sa.select(INSTRUMENTS.c.pk).where(
                INSTRUMENTS.c.dialect == ins.dialect, INSTRUMENTS.c.serial == ins.serial
            )).scalar_one()
            conn.execute(RUN_INSTR.insert().values(
                run_pk=run_pk, position=pos, instrument_pk=ipk, role=ins.role,
                resource=ins.resource, idn=ins.idn, calibration_due=ins.calibration_due,
            ))

    def _upsert_measurement(
        self, conn: sa.Connection, run_pk: int, seq: int, m: Measurement, *, move: bool = True
    ) -> None:
        """Insert or replace measurement ``m.name`` of the run; ``move`` also sets its position."""
        stmt = self._upsert_move if move else self._upsert_keep
        conn.execute(stmt, _measurement_row(run_pk, seq, m))

    def _upsert_measurements(self, conn: sa.Connection, run_pk: int,
                             measurements: list[Measurement]) -> None:
        """Every measurement of the run at its position, in one statement executed for all
        (a run's 130 one by one were most of what writing it cost)."""
        if measurements:
            conn.execute(self._upsert_move, [_measurement_row(run_pk, seq, m)
                                             for seq, m in enumerate(measurements)])

    def _next_seq_for(self, conn: sa.Connection, run_pk: int) -> int:
        return conn.execute(
            sa.select(sa.func.coalesce(sa.func.max(MEAS.c.seq) + 1, 0)).where(MEAS.c.run_pk == run_pk)
        ).scalar_one()

    def _pk(self, conn: sa.Connection, run_id: str) -> int:
        pk = self._run_pk.get(run_id)
        if pk is None:
            pk = conn.execute(sa.select(RUNS.c.pk).where(RUNS.c.run_id == run_id)).scalar()
            if pk is None:
                raise KeyError(f"run {run_id} is not in the store {safe_url(self.url)}")
            self._run_pk[run_id] = pk
        return pk

    @_writes
    def add_measurement(self, run_id: str, m: Measurement) -> None:
        """Store one measurement now (committed before returning). A name sent again
        replaces its values and keeps its position."""
        with self._engine.begin() as conn:
            pk = self._pk(conn, run_id)
            seq = self._next_seq.get(run_id)
            if seq is None:
                seq = self._next_seq_for(conn, pk)
            self._upsert_measurement(conn, pk, seq, m, move=False)
        self._next_seq[run_id] = seq + 1

    @_writes
    def finish_run(self, record: Record, record_sha256: str | None) -> None:
        """Write the final state of the run: verdict, times, firmware, every measurement."""
        if record.run_id not in self._run_pk:
            with self._reader.connect() as conn:
                known = conn.execute(
                    sa.select(RUNS.c.pk).where(RUNS.c.run_id == record.run_id)
                ).scalar()
            if known is None:
                self.begin_run(record)
        with self._engine.begin() as conn:
            pk = self._pk(conn, record.run_id)
            values = _run_values(record)
            values["record_sha256"] = record_sha256
            conn.execute(RUNS.update().where(RUNS.c.pk == pk).values(**values))
            self._upsert_station(conn, record.station, record.started_at)
            self._write_instruments(conn, pk, record.instruments)
            self._upsert_measurements(conn, pk, record.measurements)
        self._next_seq.pop(record.run_id, None)

    def unfinished_runs(self, station_id: str) -> list[str]:
        """Run ids of ``station_id`` that have no verdict, oldest first."""
        return [run_id for run_id, _ in self.unfinished_with_owner(station_id)]

    def unfinished_with_owner(self, station_id: str) -> list[tuple[str, Any]]:
        """(run id, owner) of the unfinished runs of ``station_id``, oldest first."""
        with self._reader.connect() as conn:
            rows = conn.execute(
                sa.select(RUNS.c.run_id, RUNS.c.owner)
                .where(RUNS.c.station_id == station_id, RUNS.c.verdict.is_(None))
                .order_by(RUNS.c.started_at, RUNS.c.pk)
            )
            return [(r.run_id, r.owner) for r in rows]

    @_writes
    def mark_aborted(self, run_id: str, reason: str) -> None:
        """Close an unfinished run as ABORTED, keeping its measurements (after a crash)."""
        with self._engine.begin() as conn:
            row = conn.execute(
                sa.select(RUNS.c.pk, RUNS.c.verdict).where(RUNS.c.run_id == run_id)
            ).first()
            if row is None:
                raise KeyError(f"run {run_id} is not in the store {safe_url(self.url)}")
            if row.verdict is not None:
                raise ValueError(f"run {run_id} already finished with verdict {row.verdict}")
            last = conn.execute(
                sa.select(sa.func.max(MEAS.c.t), sa.func.max(MEAS.c.taken_at))
                .where(MEAS.c.run_pk == row.pk)
            ).first()
            conn.execute(RUNS.update().where(RUNS.c.pk == row.pk).values(
                verdict="ABORTED", failure_kind="abort", failure_step=None,
                failure_measurement=None, failure_message=reason,
                duration_s=last[0] if last else None, finished_at=last[1] if last else None,
            ))

    def recover_unfinished(
        self, station_id: str, reason: str = "run found unfinished when the station started",
        *, gone: Callable[[Any], bool] = lambda owner: True,
    ) -> list[Record]:
        """Close every unfinished run of the station whose owner is ``gone`` as ABORTED,
        with the measurements the store holds, and return the records. A run whose owner
        may still be running is left alone. A station recovers with
        :func:`fixtures.recovery.recover` instead: a run's sink writes its measurements at
        its end, so a killed run's are in its journal, which that adds."""
        out = []
        for run_id, owner in self.unfinished_with_owner(station_id):
            if not gone(owner):
                continue
            self.mark_aborted(run_id, reason)
            out.append(self.load_record(run_id))
        return out

    def record_sha256(self, run_id: str) -> str | None:
        """The hash of the run's JSON file as the station wrote it (None if not written)."""
        with self._reader.connect() as conn:
            row = conn.execute(
                sa.select(RUNS.c.record_sha256).where(RUNS.c.run_id == run_id)
            ).first()
        if row is None:
            raise KeyError(f"run {run_id} is not in the store {safe_url(self.url)}")
        return row.record_sha256

    # -- reading -----------------------------------------------------------------------
    def load_record(self, run_id: str) -> Record:
        """The run as a :class:`Record` (what its JSON file holds, if the two agree)."""
        with self._reader.connect() as conn:
            run = conn.execute(sa.select(RUNS).where(RUNS.c.run_id == run_id)).first()
            if run is None:
                raise KeyError(f"run {run_id} is not in the store {safe_url(self.url)}")
            instruments = conn.execute(
                sa.select(RUN_INSTR, INSTRUMENTS.c.dialect, INSTRUMENTS.c.serial)
                .join(INSTRUMENTS, INSTRUMENTS.c.pk == RUN_INSTR.c.instrument_pk)
                .where(RUN_INSTR.c.run_pk == run.pk).order_by(RUN_INSTR.c.position)
            ).all()
            measurements = conn.execute(
                sa.select(MEAS).where(MEAS.c.run_pk == run.pk).order_by(MEAS.c.seq, MEAS.c.pk)
            ).all()
        return _record_from_rows(_ns(run), map(_ns, instruments), map(_ns, measurements))

    def runs(self, **filters: Any) -> pd.DataFrame:
        """One row per run. Filters: see :func:`_where`."""
        q = sa.select(*[c for c in RUNS.c if c.name != "pk"])
        q = q.where(*_where(filters, measurement=False)).order_by(RUNS.c.started_at, RUNS.c.pk)
        return self._frame(q)

    def measurements(self, **filters: Any) -> pd.DataFrame:
        """One row per measurement, with its run's identity. Filters: see :func:`_where`."""
        cols = [RUNS.c.run_id, RUNS.c.serial, RUNS.c.model, RUNS.c.plan, RUNS.c.station_id,
                RUNS.c.started_at, RUNS.c.retest_index, RUNS.c.verdict] + [
            c for c in MEAS.c if c.name not in ("pk", "run_pk")]
        q = sa.select(*cols).join(RUNS, RUNS.c.pk == MEAS.c.run_pk)
        q = q.where(*_where(filters, measurement=True)).order_by(
            RUNS.c.started_at, RUNS.c.pk, MEAS.c.seq)
        return self._frame(q)

    def _frame(self, query: sa.Select[Any]) -> pd.DataFrame:
        import pandas as pd

        with self._reader.connect() as conn:
            result = conn.execute(query)
            keys = list(result.keys())
            rows = [tuple(r) for r in result]
        frame = pd.DataFrame.from_records(rows, columns=keys)
        for col in ("value", "expect", "allowed"):
            if col in frame:
                frame[col] = frame[col].astype(object)
        return frame


_RUN_FILTERS = {"run_id", "serial", "model", "plan", "station", "verdict", "since", "until",
                "finished", "development"}
_MEAS_FILTERS = _RUN_FILTERS | {"name", "outcome"}


def _where(filters: dict[str, Any], *, measurement: bool) -> list[sa.ColumnElement[bool]]:
    """Filters: run_id, serial, model, plan, station, verdict (a value or a list),
    since / until (date or datetime, on started_at), finished, development (bool); and for
    measurements name and outcome."""
    allowed = _MEAS_FILTERS if measurement else _RUN_FILTERS
    unknown = sorted(set(filters) - allowed)
    if unknown:
        raise TypeError(f"unknown filter {', '.join(unknown)}; known: {', '.join(sorted(allowed))}")
    cols = {"run_id": RUNS.c.run_id, "serial": RUNS.c.serial, "model": RUNS.c.model,
            "plan": RUNS.c.plan, "station": RUNS.c.station_id, "verdict": RUNS.c.verdict,
            "name": MEAS.c.name, "outcome": MEAS.c.outcome, "development": RUNS.c.development}
    out: list[sa.ColumnElement[bool]] = []
    for key, value in filters.items():
        if value is None:
            continue
        if key == "since":
            out.append(RUNS.c.started_at >= _as_datetime(value))
        elif key == "until":
            out.append(RUNS.c.started_at < _as_datetime(value))
        elif key == "finished":
            out.append(RUNS.c.verdict.is_not(None) if value else RUNS.c.verdict.is_(None))
        elif isinstance(value, (list, tuple, set, frozenset)):
            out.append(cols[key].in_(list(value)))
        else:
            out.append(cols[key] == value)
    return out


def _as_datetime(value: date | datetime | str) -> datetime:
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if not isinstance(value, datetime):
        value = datetime(value.year, value.month, value.day)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _run_values(r: Record) -> dict[str, Any]:
    f = r.failure
    return {
        "run_id": r.run_id, "schema_version": r.schema_version, "serial": r.serial,
        "model": r.model, "plan": r.plan, "verdict": r.verdict, "started_at": r.started_at,
        "finished_at": r.finished_at, "duration_s": r.duration_s,
        "wall_duration_s": r.wall_duration_s, "operator": r.operator,
        "software_version": r.software_version, "station_id": r.station.id,
        "station_line": r.station.line, "station_file": r.station.file,
        "station_simulated": r.station.simulated,
        "firmware_main": r.firmware.main, "firmware_boot": r.firmware.boot,
        "firmware_bms_board": r.firmware.bms_board, "limits_file": r.limits.file,
        "limits_version": r.limits.version, "limits_sha256": r.limits.sha256,
        "work_order": dict(r.work_order),
        "failure_kind": f.kind if f else None, "failure_step": f.step if f else None,
        "failure_measurement": f.measurement if f else None,
        "failure_message": f.message if f else None,
        "development": r.development,
        "steps": [s.model_dump(mode="json") for s in r.steps],
        "time_use": r.time_use.model_dump(mode="json") if r.time_use is not None else None,
        "attachments": [a.model_dump(mode="json") for a in r.attachments] or None,
        "software": r.software.model_dump(mode="json") if r.software is not None else None,
    }


def _measurement_row(run_pk: int, seq: int, m: Measurement) -> dict[str, Any]:
    """The parameters of one measurement's upsert: its run, its position, its values."""
    return {"run_pk": run_pk, "seq": seq, **_measurement_values(m)}


def _measurement_values(m: Measurement) -> dict[str, Any]:
    v = m.value
    value_num = float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else None
    return {
        "name": m.name, "step": m.step, "unit": m.unit, "description": m.description,
        "comparison": m.limit.comparison, "low": m.limit.low, "high": m.limit.high,
        "expect": m.limit.expect, "pattern": m.limit.pattern, "allowed": m.limit.allowed,
        "uncertainty": m.limit.uncertainty, "accept_low": m.limit.accept_low,
        "accept_high": m.limit.accept_high, "critical": m.critical, "outcome": m.outcome, "value": v,
        "value_num": value_num, "message": m.message, "t": m.t,
        "taken_at": m.taken_at,
    }


def _ns(row: sa.Row[Any]) -> SimpleNamespace:
    """Attribute access by column name (a Row's own ``t`` and ``count`` would shadow ours)."""
    return SimpleNamespace(**row._mapping)


def _record_from_rows(run: Any, instruments: Iterable[Any], measurements: Iterable[Any]) -> Record:
    failure = None
    if run.failure_kind is not None:
        failure = Failure(kind=run.failure_kind, step=run.failure_step,
                          measurement=run.failure_measurement, message=run.failure_message or "")
    return Record(
        schema_version=run.schema_version, run_id=run.run_id, serial=run.serial,
        model=run.model, plan=run.plan, verdict=run.verdict, started_at=run.started_at,
        finished_at=run.finished_at, duration_s=run.duration_s,
        wall_duration_s=run.wall_duration_s, retest_index=run.retest_index,
        operator=run.operator, software_version=run.software_version,
        station=StationInfo(id=run.station_id, line=run.station_line, file=run.station_file,
                            simulated=run.station_simulated),
        instruments=[Instrument(role=i.role, dialect=i.dialect, resource=i.resource, idn=i.idn,
                                serial=i.serial, calibration_due=i.calibration_due)
                     for i in instruments],
        firmware=Firmware(main=run.firmware_main, boot=run.firmware_boot,
                          bms_board=run.firmware_bms_board),
        limits=LimitsInfo(file=run.limits_file, version=run.limits_version,
                          sha256=run.limits_sha256),
        work_order=run.work_order or {},
        measurements=[
            Measurement(
                name=m.name, step=m.step, unit=m.unit, description=m.description,
                limit=Limit(low=m.low, high=m.high, expect=m.expect, pattern=m.pattern,
                            comparison=m.comparison, allowed=m.allowed,
                            uncertainty=m.uncertainty, accept_low=m.accept_low,
                            accept_high=m.accept_high),
                critical=m.critical, outcome=m.outcome, value=m.value, message=m.message,
                t=m.t, taken_at=m.taken_at,
            )
            for m in measurements
        ],
        failure=failure,
        development=bool(run.development),
        steps=[StepRecord.model_validate(s) for s in (run.steps or [])],
        time_use=TimeUse.model_validate(run.time_use) if run.time_use else None,
        attachments=[Attachment.model_validate(a) for a in (run.attachments or [])],
        software=Software.model_validate(run.software) if run.software else None,
    )
