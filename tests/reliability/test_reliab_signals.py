"""Terminate and abort with real processes: `station sim serve --no-power-on` serves a
real-time bench, `station run eol --station <its file>` runs the plan on it and is
interrupted part-way. Afterwards the served instruments are asked, over pyvisa, whether
the load, supply, chamber and fixture relays are safe."""

from __future__ import annotations

import signal
import time
from pathlib import Path

import pytest
from cases import BY_ID
from procs import SAFE, Instruments, run_eol, served_bench, with_watchdog

from reports.record import Record
from reports.store import open_store

pytestmark = pytest.mark.timeout(120)


def _record(out: Path, terminal: str = "") -> Record:
    files = sorted(out.glob("*.json"))
    assert len(files) == 1, (files, terminal)
    return Record.load(files[0])


def _taken(rec: Record) -> dict[str, object]:
    return {m.name: (m.outcome, m.value) for m in rec.measurements if m.outcome != "NOT_RUN"}


@pytest.mark.parametrize("sigs", [("SIGINT",), ("SIGTERM",), ("SIGINT", "SIGINT")],
                         ids=["sigint", "sigterm", "double-sigint"])
def test_signal_part_way_aborts_safely(sigs: tuple[str, ...], tmp_path: Path) -> None:
    case = BY_ID["double-sigint" if len(sigs) == 2 else sigs[0].lower()]
    out = tmp_path / "out"
    with served_bench(tmp_path / "bench") as desc:
        run = run_eol(desc["station_file"], desc["serial"], out)
        try:
            run.wait_line("── power_on", 60)       # the fixture relays now power the pack
            run.wait_line("── identity", 30)        # measurements of two steps are in
            t0 = time.monotonic()
            for i, name in enumerate(sigs):
                if i:
                    time.sleep(0.05)
                run.signal(getattr(signal, name))
            code = run.wait(30)
            took = time.monotonic() - t0
        finally:
            run.stop()
        assert code == case.exit == 2, run.terminal
        assert took < 12.0, took   # the abort's bound is 10 s
        rec = _record(out, run.terminal)
        assert rec.verdict == case.verdict, rec.failure
        assert rec.failure is not None and case.says in rec.failure.message, rec.failure
        # the step it ended: the last one that printed, or the next one (begun, nothing taken)
        headers = [ln.split()[-1] for ln in run.out if ln.startswith("── ")]
        order = list(dict.fromkeys(m.step for m in rec.measurements))
        last = order.index(headers[-1])
        assert rec.failure.step in order[last:last + 2], (rec.failure, headers)
        taken = _taken(rec)
        assert "insulation_mohm" in taken and "terminal_voltage_v" in taken, sorted(taken)
        with open_store(None, out) as store:
            stored = store.load_record(rec.run_id)
        assert stored.verdict == "ABORTED" and _taken(stored) == taken
        if len(sigs) == 1:
            verdict_lines = [ln for ln in run.out if ln.startswith("ABORTED")]
            assert len(verdict_lines) == 1 and case.says in verdict_lines[0], run.terminal
            assert f"step {rec.failure.step}" in verdict_lines[0]
        ins = Instruments(desc)
        try:
            assert ins.state() == SAFE
        finally:
            ins.close()


def test_sigkill_watchdog_then_recovery(tmp_path: Path) -> None:
    """SIGKILL while the supply charges the pack: the supply's own watchdog switches it off
    within watchdog_s; the next `station run` finds the run, marks it ABORTED and keeps
    its measurements."""
    wd = 3.0
    with served_bench(tmp_path / "bench") as desc:
        station = with_watchdog(desc["station_file"], tmp_path, wd)
        ins = Instruments(desc)
        try:
            out = tmp_path / "out"
            run = run_eol(station, desc["serial"], out)
            try:
                run.wait_line("── charge_pulse", 60)
                run.wait_line("dcr_charge_mohm", 20)   # supply on, pack charging (its current readings follow)
                run.signal(signal.SIGKILL)
                killed_at = time.monotonic()
                assert run.wait(10) == -signal.SIGKILL
            finally:
                run.stop()
            printed = [ln.split()[6] for ln in run.out if " s wall " in ln]
            assert not list(out.glob("*.json")), "a killed station writes no record"
            # do not talk to the supply before its watchdog delay: any command feeds it
            time.sleep(max(0.0, killed_at + wd + 1.0 - time.monotonic()))
            assert ins.query("supply", "OUTP?") == "0"
            assert ins.query("supply", "OUTP:PROT:WDOG?") == "1"

            again = run_eol(station, desc["serial"], out)
            try:
                line = again.wait_line("recovered unfinished run", 60)
                again.signal(signal.SIGINT)
                assert again.wait(30) == 2, again.terminal
            finally:
                again.stop()
            assert ins.state() == SAFE
        finally:
            ins.close()
    run_id = line.split("run ")[1].split()[0]
    with open_store(None, out) as store:
        old = store.load_record(run_id)
    assert old.verdict == "ABORTED"
    assert old.failure is not None and BY_ID["sigkill"].says in old.failure.message, old.failure
    taken = _taken(old)
    assert set(printed) <= set(taken), (printed, sorted(taken))
    assert "dcr_charge_mohm" in taken
    assert any(p.name.startswith(f"{old.serial}_") and old.run_id[:8] in p.name
               for p in out.glob("*.json")), "the recovered run's record is written too"


def test_plain_pytest_run_terminated_part_way_ends_safe_with_an_aborted_record(
        tmp_path: Path) -> None:
    """``pytest --pyargs testplans.eol --station-serial ...`` (no ``station run``) gets the
    engine's signal handling: SIGTERM ends the step, the safe state runs, ABORTED record."""
    import sys

    from procs import Proc

    case = BY_ID["pytest-sigterm"]
    out = tmp_path / "out"
    with served_bench(tmp_path / "bench") as desc:
        run = Proc([sys.executable, "-m", "pytest", "--pyargs", "testplans.eol", "-v",
                    "-p", "no:cacheprovider", "--station-serial", desc["serial"],
                    "--station-file", desc["station_file"], "--station-out", str(out)])
        try:
            run.wait_line("test_identity PASSED", 90)   # the pack is powered, two steps in
            run.signal(signal.SIGTERM)
            code = run.wait(30)
        finally:
            run.stop()
        assert code == case.exit, run.terminal   # pytest: 2, interrupted
        rec = _record(out)
        assert rec.verdict == case.verdict == "ABORTED", rec.failure
        assert rec.failure is not None and case.says in rec.failure.message, rec.failure
        assert "terminal_voltage_v" in _taken(rec) and "serial_rs485" in _taken(rec)
        with open_store(None, out) as store:
            assert store.load_record(rec.run_id).verdict == "ABORTED"
        ins = Instruments(desc)
        try:
            assert ins.state() == SAFE
        finally:
            ins.close()
