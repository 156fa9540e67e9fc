"""The decision study: good units that the plan rejects, bad units that it ships, and for
each fault where it was caught against where it should be (its covering measurement).

Pure: it classifies records (or their absence) that ``reports.msa.runs`` produced.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from reports.record import Record

Kind = Literal["good", "fault"]

OK = "ok"
FALSE_REJECT = "false reject"
ESCAPE = "escape"
WRONG_CATCH = "wrong catch"
ERROR = "error"


@dataclass(frozen=True)
class Case:
    """One unit of the study: an in-spec unit, or an off-spec one with its expectation."""

    kind: Kind
    id: str                    # the serial of a good unit, the fault id of a bad one
    serial: str                # the serial scanned for the run
    expected: str | None = None   # the measurement that must fail first (faults)
    description: str = ""


@dataclass(frozen=True)
class Failing:
    name: str
    value: str
    limit: str
    message: str


@dataclass(frozen=True)
class CaseResult:
    case: Case
    outcome: str
    verdict: str | None
    exit_code: int
    first_failure: str | None
    failing: tuple[Failing, ...] = ()
    fault_named: str = ""      # the record's failure message: what the plan said it saw
    record_file: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def classify(case: Case, record: Record | None, exit_code: int,
             record_file: str | None = None, why: str = "") -> CaseResult:
    """The outcome of one unit's run (``record`` None: the run never started)."""
    if record is None or record.verdict not in ("PASS", "FAIL"):
        verdict = None if record is None else record.verdict
        message = why or (record.failure.message if record and record.failure else "")
        return CaseResult(case, ERROR, verdict, exit_code, None, (), message, record_file)
    failing = tuple(Failing(m.name, m.value_text(), m.limit.text(), m.message)
                    for m in record.measurements if m.outcome in ("FAIL", "ERROR"))
    first = record.first_failure()
    named = record.failure.message if record.failure else ""
    if case.kind == "good":
        outcome = OK if record.verdict == "PASS" else FALSE_REJECT
    elif record.verdict == "PASS":
        outcome = ESCAPE
    else:
        outcome = OK if first is not None and first.name == case.expected else WRONG_CATCH
    return CaseResult(case, outcome, record.verdict, exit_code,
                      first.name if first else None, failing, named, record_file)


@dataclass
class StudySummary:
    results: list[CaseResult]
    good: int = 0
    faulty: int = 0
    good_passed: int = 0
    false_rejects: int = 0
    escapes: int = 0
    caught: int = 0             # bad units rejected (at the right measurement or not)
    wrong_catches: int = 0
    errors: int = 0
    rejected_by: dict[str, int] = field(default_factory=dict)   # measurement → good units

    @property
    def false_reject_rate(self) -> float | None:
        return self.false_rejects / self.good if self.good else None

    @property
    def escape_rate(self) -> float | None:
        return self.escapes / self.faulty if self.faulty else None

    @property
    def clean(self) -> bool:
        """No false reject, escape, wrong catch or error: the study's exit code 0."""
        return not (self.false_rejects or self.escapes or self.wrong_catches or self.errors)

    def to_dict(self) -> dict[str, Any]:
        return {
            "good": self.good, "faulty": self.faulty, "good_passed": self.good_passed,
            "false_rejects": self.false_rejects, "escapes": self.escapes,
            "caught": self.caught, "wrong_catches": self.wrong_catches, "errors": self.errors,
            "false_reject_rate": self.false_reject_rate, "escape_rate": self.escape_rate,
            "rejected_by": dict(self.rejected_by), "clean": self.clean,
            "results": [r.to_dict() for r in self.results],
        }


def summarize(results: Sequence[CaseResult]) -> StudySummary:
    s = StudySummary(list(results))
    for r in results:
        if r.case.kind == "good":
            s.good += 1
            s.good_passed += r.outcome == OK
            s.false_rejects += r.outcome == FALSE_REJECT
            if r.outcome == FALSE_REJECT:
                for f in r.failing:
                    s.rejected_by[f.name] = s.rejected_by.get(f.name, 0) + 1
        else:
            s.faulty += 1
            s.escapes += r.outcome == ESCAPE
            s.caught += r.outcome in (OK, WRONG_CATCH)
            s.wrong_catches += r.outcome == WRONG_CATCH
        s.errors += r.outcome == ERROR
    s.rejected_by = dict(sorted(s.rejected_by.items(), key=lambda kv: (-kv[1], kv[0])))
    return s
