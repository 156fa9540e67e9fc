"""Every fault and bad input the reliability tests try, with the outcome they assert.

Each entry is checked by a test (``test_faults.py``, ``test_signals.py``,
``test_bad_input.py``, ``test_envelope.py``); ``markdown_table()`` is the table docs/reliability.md carries and a
test keeps the two equal. Regenerate the table with:

    .venv/bin/python tests/reliability/cases.py
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Case:
    id: str
    area: str             # "signal" | "fault" | "reading" | "input" | ... | "envelope"
    tried: str            # what was done to the station
    exit: int | None      # exit code of `station run` (None: role commands, no run)
    verdict: str          # verdict of the record ("-" for none)
    step: str = "-"       # step the record names
    says: str = "-"       # what the record's failure / the terminal line names (a substring)
    bench: str = "safe"   # state of the bench afterwards, checked on the simulated instruments
    note: str = ""
    unconfirmed: str = ""  # role whose safe state the station reports it could not confirm


SAFE = "safe: load, supply off; chamber standby; relays released; test mode off"
WIRE = "nothing of it on the wire"

CASES: tuple[Case, ...] = (
    # ---- terminate / abort (real processes on a real-time served bench) --------------------
    Case("sigint", "signal", "SIGINT to `station run eol` a few seconds in (served bench)",
         2, "ABORTED", "(current)", "SIGINT", SAFE,
         "measurements so far kept in record and store; checked with pyvisa on the served instruments"),
    Case("sigterm", "signal", "SIGTERM to `station run eol` a few seconds in (served bench)",
         2, "ABORTED", "(current)", "SIGTERM", SAFE),
    Case("double-sigint", "signal", "two SIGINTs 50 ms apart (abort at once)",
         2, "ABORTED", "(current)", "SIGINT", SAFE,
         "exits within the 10 s bound; record written by the abort path"),
    Case("pytest-sigterm", "signal", "SIGTERM to a plain `pytest --pyargs testplans.eol --station-serial ...`",
         2, "ABORTED", "(current)", "SIGTERM", SAFE, "the same engine and handler as `station run`"),
    Case("sigkill", "signal", "SIGKILL to `station run eol` during the charge pulse (supply on)",
         -9, "ABORTED", "-", "found unfinished", "supply off by its own watchdog within watchdog_s",
         "next `station run` on the same store recovers the run: ABORTED, measurements kept"),
    Case("sigkill-load-on", "signal", "SIGKILL to `station run eol` in the 15 s tier at 150 A (load on)",
         -9, "-", "-", "-", "no current within 10 s, no command sent: load input off (inhibited), "
         "POWER relay open (pack unpowered, 0 V)",
         "the fixture's dead-man: the station no longer toggles the heartbeat, the watchdog relay "
         "drops after timeout_s; nothing recloses"),
    Case("sigkill-test-mode", "signal", "SIGKILL inside test mode on a fixture without a dead-man "
         "(pack stays powered, console in `PYTES_debug>`)",
         -9, "ABORTED", "-", "logged out", SAFE,
         "the next `station run` sends `logout` at open (thresholds restored) and says so; with a "
         "dead-man the pack loses POWER and its test mode with it"),
    Case("abort-inside-close", "signal",
         "second signal's abort path while the main thread is stopped inside close()",
         2, "ABORTED", "-", "second signal", SAFE,
         "the abort worker finishes the safe state and writes the one record"),
    Case("operator-stop", "signal", "SIGINT raised in-process during a step",
         2, "ABORTED", "test_mode", "SIGINT", SAFE),
    # ---- faults injected while the plan runs (in-process, on the bench's virtual clock) ------
    Case("load-silent", "fault", "electronic load stops answering at t = 31 s",
         2, "ERROR", "peak_tier", "Timeout", SAFE,
         "terminal: `safe state NOT confirmed by the load` (its model did switch off)",
         unconfirmed="load"),
    Case("load-scpi-error", "fault", "load answers every SYST:ERR? with -222 from t = 31 s",
         2, "ERROR", "peak_tier", "-222", SAFE,
         "terminal: `safe state NOT confirmed by the load` (its model did switch off)",
         unconfirmed="load"),
    Case("supply-link-drop", "fault", "supply's TCP connection dropped at t = 17.7 s (supply on)",
         2, "ERROR", "charge_pulse", "connection failed", SAFE,
         "safe state reconnects the supply once and switches it off"),
    Case("load-link-drop", "fault", "load's TCP connection dropped at t = 31 s",
         2, "ERROR", "peak_tier", "connection failed", SAFE,
         "safe state reconnects the load once and switches it off"),
    Case("rs485-corrupt", "fault", "RS485 answers carry a flipped byte from t = 18.9 s",
         2, "ERROR", "discharge_pulse", "Rs485FrameError", SAFE),
    Case("can-silent", "fault", "CAN broadcaster stopped at t = 11 s",
         1, "FAIL", "peak_tier", "CAN silent", SAFE,
         "the 0x359 it reads is stale: \"CAN silent\" at the first check that needs CAN"),
    Case("unexpected-protection", "fault", "300 A discharge surge for 1 s at t = 15.9 s (pack trips)",
         1, "FAIL", "charge_pulse", "dcr_charge_mohm", SAFE,
         "the protected pack fails the next check that needs a closed path"),
    Case("pack-off", "fault", "pack's POWER switch released at t = 12 s (during the rest readings)",
         2, "ERROR", "rest", "ConsoleTimeout", SAFE),
    # ---- bad input: refused before anything starts (exit 3, no record) ----------------------
    Case("station-malformed", "input", "station file with a TOML syntax error", 3, "-", says="station"),
    Case("station-bad-key", "input", "station file: watchdog_s = \"x\"", 3, "-", says="watchdog_s"),
    Case("station-missing", "input", "station file that does not exist", 3, "-", says="station-none.toml"),
    Case("safety-nan", "reading", "the safety tester answers NAN (the insulation, the first test)",
         2, "ERROR", "safety", "non-finite", SAFE, "ERROR, never PASS; critical: the plan stops"),
    Case("safety-inf", "reading", "the safety tester answers +INF",
         2, "ERROR", "safety", "non-finite", SAFE),
    Case("daq-over-range", "reading", "the DAQ answers 9.9E37 (SCPI over-range) for the pack voltage",
         2, "ERROR", "power_on", "non-finite", SAFE),
    Case("load-nan", "reading", "the load answers nan for its current",
         2, "ERROR", "discharge_pulse", "non-finite", SAFE, "every current it reads is ERROR"),
    Case("store-away-2s", "results", "PostgreSQL (through a TCP proxy) cut 30 s into the run, back 2 s later",
         0, "PASS", "-", "-", SAFE, "the run goes on; the store holds the record and its hash at the end"),
    Case("store-away", "results", "PostgreSQL cut after the run began, not back before its end",
         0, "PASS", "-", "store", SAFE,
         "record and journal on disk; `station store sync` catches the store up, no duplicate"),
    Case("disk-full", "results", "the output folder on a 24 kB filesystem that fills mid-run",
         2, "ERROR", "(current)", "No space left", SAFE, "one `not written` line per file; the store keeps the run"),
    Case("disk-read-only", "results", "the output folder remounted read-only 30 s into the run",
         2, "ERROR", "(current)", "Read-only", SAFE),
    Case("journal-sync-refused", "results", "the journal's fsync at the end of the third step fails (I/O error)",
         2, "ERROR", "(the third)", "cannot be kept", SAFE,
         "no step after it; the store keeps every measurement taken"),
    Case("sigkill-unsynced", "results", "SIGKILL right after 40 measurements were written to a journal, before any fsync",
         -9, "-", "-", "-", "-", "all 40 read back: a written line outlives the process (page cache)"),
    Case("kill-after-record", "results", "SIGKILL after the JSON record, before the store hears of it",
         -9, "PASS", "-", "-", "-", "the next start syncs that record into the store: one run, one record"),
    Case("recover-live-run", "results", "an unfinished run of this station whose owner still runs",
         0, "-", "-", "left alone", "-", "only a run whose owner is provably gone is closed ABORTED"),
    Case("two-processes", "results", "a second `station run` on a bench a live run holds",
         3, "-", "-", "is in use by", SAFE, "refused before anything is opened; the first run goes on"),
    Case("operator-huge", "input", "`--operator` of 10,000 characters", 3, "-", says="--operator"),
    Case("operator-blank", "input", "`--operator` blank", 3, "-", says="--operator is blank"),
    Case("ascii-terminal", "input", "`PYTHONIOENCODING=ascii` (a terminal without Unicode)", 0, "PASS",
         says="PASS PV5S260100000013"),
    Case("store-empty", "input", "the SQLite store truncated to 0 bytes", 3, "-", says="empty file"),
    Case("store-damaged", "input", "a page of the SQLite store overwritten", 3, "-", says="station.sqlite"),
    Case("sigkill-random", "signal", "SIGKILL at 12 random moments (seeded) of the first 28 s of real-time runs, 4 benches",
         -9, "ABORTED", "-", "found unfinished", "no current within 10 s (dead-man), no command sent",
         "each next start recovers exactly the killed run; every recovered record verifies"),
    Case("forge-edited-record", "forgery", "JSON, PDF and store edited consistently, hash recomputed",
         1, "-", says="signature does not match", bench="-", note="`station verify` exit 1 (tests/reports/test_reports_signing.py)"),
    Case("forge-own-key", "forgery", "the edited record re-signed with the forger's own key",
         1, "-", says="not trusted", bench="-"),
    Case("forge-regenerated-pdf", "forgery", "a PDF regenerated with other values and the original hash",
         1, "-", says="is not the document record", bench="-"),
    Case("forge-fail-to-pass", "forgery", "a FAIL report byte-edited into a visual PASS",
         1, "-", says="is not the document record", bench="-"),
    Case("forge-edited-limits", "forgery", "limits edited (insulation low 0, `in1_hold_s = 3600`), label kept",
         0, "PASS", says="development run", bench="-", note="not released: no certificate, not in yield"),
    Case("verify-recovered", "forgery", "`station verify` of a recovered (killed) run's record",
         0, "ABORTED", says="-", bench="-", note="signed at recovery; accepted"),
    Case("verify-operator-run-id", "forgery", "an operator named `run <32 hex>`", 0, "PASS",
         says="-", bench="-", note="accepted (the certificate is rebuilt, not parsed)"),
    Case("limits-malformed", "input", "limits file with a TOML syntax error", 3, "-", says="v5.toml"),
    Case("limits-condition-typo", "input", "limits: a condition misspelt (`dcr_afer_s`)", 3, "-",
         says="dcr_afer_s"),
    Case("limits-non-finite", "input", "limits: a bound of `nan`", 3, "-", says="insulation_mohm"),
    Case("limits-unmeasured", "input", "limits declare a measurement no step measures", 3, "-",
         says="ocv_twice_v"),
    Case("unit-malformed", "input", "unit file with a TOML syntax error", 3, "-", says="unit.toml"),
    Case("unit-bad-key", "input", "unit file: cells.r_ohmic_mohm = \"x\"", 3, "-", says="r_ohmic_mohm"),
    Case("serial-check", "input", "serial with a wrong check character", 3, "-", says="PV5S260100000012"),
    Case("serial-variant", "input", "serial with an unknown variant letter", 3, "-", says="PV5X260100000013"),
    Case("serial-model", "input", "V5 serial with --model v5-alpha", 3, "-", says="v5-alpha"),
    Case("model-unknown", "input", "--model v9", 3, "-", says="v9"),
    Case("out-unwritable", "input", "--out below a regular file (tests run as root: permissions would not stop it)", 3, "-", says="cannot be written"),
    Case("db-unreachable", "input", "--db postgresql://…@127.0.0.1:<closed port>", 3, "-", says="127.0.0.1"),
    Case("envelope-over-rating", "input", "station file: envelope.max_current_a = 5000 (load 1200 A, supply 250 A)",
         3, "-", says="envelope.max_current_a: 5000 A"),
    Case("envelope-gb-over-rating", "input", "station file: envelope.max_ground_bond_a = 50 (tester 30 A)",
         3, "-", says="envelope.max_ground_bond_a: 50 A"),
    Case("retest", "input", "the same serial run three times into one folder",
         0, "PASS", says="retest_index 0, 1, 2", note="three records and certificates, none overwritten"),
    # ---- envelope: role commands on an opened station, refused before the wire ------------
    Case("cv-uncapped", "envelope", "load CV at 0 V with no current limit (would draw up to 1200 A)",
         None, "-", says="needs a current limit", bench=WIRE),
    Case("cv-no-cap-on-dialect", "envelope", "load CV 50 V, 100 A limit on a load whose dialect cannot cap CV",
         None, "-", says="cannot cap CV current", bench=WIRE,
         note="a dialect that can cap CV current overrides `_set_cv_current_limit`"),
    Case("cv-over-power", "envelope", "load CV 60 V with a 250 A limit (15 kW)",
         None, "-", says="15000 W not in", bench=WIRE),
    Case("cp-low-voltage", "envelope", "load CP 12 kW (300 A at the lowest plausible 40 V)",
         None, "-", says="at 40 V", bench=WIRE),
    Case("cr-over-power", "envelope", "load CR 0.25 Ω (240 A but 14.4 kW at 60 V)",
         None, "-", says="below 0.3 Ω", bench=WIRE),
    Case("supply-volt-after-limit", "envelope", "supply limits 250 A first, then the voltage raised to 60 V (15 kW)",
         None, "-", says="15000 W not in", bench=WIRE, note="the limits alone are sent; the voltage is not"),
    Case("supply-on-unset", "envelope", "supply output on before this session set its voltage and limits",
         None, "-", says="not both set", bench=WIRE),
    Case("safety-gb-over", "envelope", "ground bond at 40 A (envelope 10 A)",
         None, "-", says="40 A not in 0..10 A", bench=WIRE),
    Case("safety-ir-over", "envelope", "insulation test at 1000 V (envelope 500 V)",
         None, "-", says="1000 V not in 0..500 V", bench=WIRE),
    Case("envelope-random", "envelope", "hypothesis: random orders of supply set points, every load mode, "
         "safety settings, relays, short mode, safe state", None, "-", says="-",
         bench="on the wire and on the models: nothing outside the envelope",
         note="a mutation dropping the supply's voltage-side power check, or CP's current bound, fails it"),
)

BY_ID = {c.id: c for c in CASES}


def markdown_table() -> str:
    rows = ["| case | area | tried | exit | verdict | step in record | record / terminal names "
            "| bench afterwards | note |", "|---|---|---|---|---|---|---|---|---|"]
    for c in CASES:
        rows.append(f"| `{c.id}` | {c.area} | {c.tried} | {'-' if c.exit is None else c.exit} "
                    f"| {c.verdict} | {c.step} "
                    f"| `{c.says}` | {c.bench if c.area != 'input' else 'nothing started'} "
                    f"| {c.note} |")
    return "\n".join(rows) + "\n"


if __name__ == "__main__":  # print the table for docs/reliability.md
    print(markdown_table(), end="")
