"""docs/reliability.md carries the table of cases.py, which the other tests of this folder
check case by case; every case is checked by some test."""

from __future__ import annotations

from pathlib import Path

from cases import CASES, markdown_table

HERE = Path(__file__).resolve().parent
DOC = HERE.parents[1] / "docs" / "reliability.md"


def test_docs_carry_the_table() -> None:
    text = DOC.read_text(encoding="utf-8")
    assert markdown_table() in text, "regenerate with: .venv/bin/python tests/reliability/cases.py"


def test_every_case_is_named_by_a_test() -> None:
    files = [p for p in HERE.glob("test_reliab_*.py") if p.name != Path(__file__).name]
    files.append(HERE.parent / "reports" / "test_reports_signing.py")   # the forgeries
    sources = "".join(p.read_text(encoding="utf-8") for p in files)
    missing = [c.id for c in CASES if f'"{c.id}"' not in sources]
    assert not missing, missing
