"""The remembered line breaking: the same document to the byte, the lines broken once per width."""

from __future__ import annotations

import io

import pytest
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.platypus import Paragraph as PlainParagraph
from reportlab.platypus import SimpleDocTemplate, Table

from reports.paragraph import Paragraph

PLAIN = ("cell over-voltage protection trip 3.650 V within its acceptance limits, "
         "measured at the pack's terminals with the DAQ's 6½-digit voltmeter; ") * 3
TEXT = PLAIN.replace("3.650 V", "<b>3.650 V</b>")


def _document(cls: type[PlainParagraph], alignment: int) -> bytes:
    style = ParagraphStyle("body", parent=getSampleStyleSheet()["BodyText"], alignment=alignment)
    head = [cls("<b>measurement</b> " + TEXT[:80], style), cls("value " + PLAIN[:60], style)]
    rows = [head, *([cls(f"{i}: {TEXT}", style), cls(PLAIN[: 40 + 7 * i], style)]
                    for i in range(50))]
    story = [cls(TEXT * 4, style), Table(rows, colWidths=[250, 200], repeatRows=1)]
    buf = io.BytesIO()   # rows split over pages, the header drawn again on each
    SimpleDocTemplate(buf, pagesize=A4, invariant=1).build(story)
    return buf.getvalue()


@pytest.mark.parametrize("alignment", [0, 1, 2, 4])   # left, centre, right, justified
def test_a_document_is_the_same_to_the_byte_as_with_reportlabs_paragraph(alignment: int) -> None:
    assert _document(Paragraph, alignment) == _document(PlainParagraph, alignment)


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
