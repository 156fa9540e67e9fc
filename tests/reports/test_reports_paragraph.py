"""The remembered line breaking: the same document to the byte, the lines broken once per width."""

from __future__ import annotations

import io

import pytest
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import getSampleStyleSheet
from reportlab.platypus import Paragraph as PlainParagraph
from reportlab.platypus import SimpleDocTemplate, Table

from reports.paragraph import Paragraph

PLAIN = ("cell over-voltage protection trip 3.650 V within its acceptance limits, "
         "measured at the pack's terminals with the DAQ's 6½-digit voltmeter; ") * 3
TEXT = PLAIN.replace("3.650 V", "<b>3.650 V</b>")


def _document(cls: type[PlainParagraph]) -> bytes:
    style = getSampleStyleSheet()["BodyText"]
    rows = [[cls(f"{i}: {TEXT}", style), cls(PLAIN[: 40 + 7 * i], style)] for i in range(40)]
    story = [cls(TEXT * 4, style), Table(rows, colWidths=[250, 200], repeatRows=0)]
    buf = io.BytesIO()
    SimpleDocTemplate(buf, pagesize=A4, invariant=1).build(story)   # rows split over pages
    return buf.getvalue()


def test_a_document_is_the_same_to_the_byte_as_with_reportlabs_paragraph() -> None:
    assert _document(Paragraph) == _document(PlainParagraph)


def test_the_lines_are_broken_once_per_width(monkeypatch: pytest.MonkeyPatch) -> None:
    broken: list[list[float]] = []
    plain = PlainParagraph.breakLines
    monkeypatch.setattr(PlainParagraph, "breakLines",
                        lambda self, widths: broken.append(list(widths)) or plain(self, widths))
    p = Paragraph(TEXT, getSampleStyleSheet()["BodyText"])
    first = p.wrap(200, 1000)
    assert p.wrap(200, 1000) == first and p.wrap(200, 50) == first   # the height asked: no matter
    assert len(broken) == 1
    narrower = p.wrap(120, 1000)
    assert len(broken) == 2 and narrower[1] > first[1]   # another width: broken again
    assert p.wrap(200, 1000) == first and len(broken) == 3
    assert p.wrap(0, 1000) == (0, 0x7fffffff) and p.wrap(200, 1000) == first   # nothing fits
    assert len(broken) == 3
