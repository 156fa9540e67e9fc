"""What the three study reports share: number formats, JSON without NaN, the PDF's styles,
tables and figures (reportlab platypus, matplotlib figures as PNG)."""

from __future__ import annotations

import html
import io
import json
import math
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # no display on a station or in CI
import matplotlib.pyplot as plt
from matplotlib.figure import Figure
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import Image, SimpleDocTemplate, Spacer, Table, TableStyle

from reports.exports import atomic_write
from reports.paragraph import Paragraph
from reports.pdffonts import BOLD, SANS, register_fonts

GOOD, BAD, DIM = "#1b7f3b", "#b3261e", "#7a7a7a"


def num(x: object, digits: int = 4) -> str:
    """A number for people: 4 significant digits, a dash for none."""
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return "—"
    if isinstance(x, float):
        return f"{x:.{digits}g}"
    return str(x)


def pct(x: float | None, digits: int = 1) -> str:
    return "—" if x is None or not math.isfinite(x) else f"{x:.{digits}f} %"


def plain(data: Any) -> Any:
    """``data`` with every non-finite float as None and paths as text: valid JSON."""
    if isinstance(data, float):
        return data if math.isfinite(data) else None
    if isinstance(data, dict):
        return {str(k): plain(v) for k, v in data.items()}
    if isinstance(data, list | tuple):
        return [plain(v) for v in data]
    if isinstance(data, Path):
        return str(data)
    return data


def write_json(path: Path, data: dict[str, Any]) -> Path:
    text = json.dumps(plain(data), indent=2, ensure_ascii=False, allow_nan=False) + "\n"
    atomic_write(path, text.encode("utf-8"))
    return path


class Doc:
    """A PDF being assembled: headings, paragraphs, tables and figures, then ``write``."""

    def __init__(self, title: str, *, wide: bool = False) -> None:
        register_fonts()
        self.title, self.wide = title, wide
        self.base = ParagraphStyle("b", fontName=SANS, fontSize=8.5, leading=11)
        self.h1 = ParagraphStyle("h1", parent=self.base, fontName=BOLD, fontSize=15, leading=19)
        self.h2 = ParagraphStyle("h2", parent=self.base, fontName=BOLD, fontSize=11, leading=14,
                                 spaceBefore=6, spaceAfter=3)
        self.story: list[Any] = [Paragraph(html.escape(title), self.h1), Spacer(1, 3 * mm)]

    @property
    def width(self) -> float:
        return (landscape(A4)[0] if self.wide else A4[0]) - 30 * mm

    @property
    def height(self) -> float:
        """Room for one figure on a page (the frame less a caption's worth)."""
        return (landscape(A4)[1] if self.wide else A4[1]) - 40 * mm

    def heading(self, text: str) -> None:
        self.story.append(Paragraph(html.escape(text), self.h2))

    def text(self, text: str) -> None:
        self.story.append(Paragraph(html.escape(text), self.base))

    def table(self, rows: list[list[str]], *, size: float = 7,
              colours: Iterable[tuple[int, int, str]] = (),
              widths: list[float] | None = None) -> None:
        """A grid with a header row; ``colours`` are (column, row, colour) of cell texts.
        With ``widths`` (fractions of the page width) every cell wraps."""
        cells: list[list[Any]] = rows
        col_widths = None
        if widths is not None:
            cell = ParagraphStyle("c", parent=self.base, fontSize=size, leading=size * 1.2)
            col_widths = [w * self.width for w in widths]
            cells = [[Paragraph(html.escape(c), cell) for c in row] for row in rows]
        t = Table(cells, repeatRows=1, colWidths=col_widths)
        style: list[tuple[Any, ...]] = [
            ("FONT", (0, 0), (-1, -1), SANS, size),
            ("FONT", (0, 0), (-1, 0), BOLD, size),
            ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e6e6e6")),
            ("GRID", (0, 0), (-1, -1), 0.25, colors.HexColor("#9a9a9a")),
            ("LEFTPADDING", (0, 0), (-1, -1), 3), ("RIGHTPADDING", (0, 0), (-1, -1), 3),
            ("TOPPADDING", (0, 0), (-1, -1), 1), ("BOTTOMPADDING", (0, 0), (-1, -1), 1),
        ]
        style += [("TEXTCOLOR", (c, r), (c, r), colors.HexColor(col)) for c, r, col in colours]
        t.setStyle(TableStyle(style))
        self.story.append(t)

    def figure(self, fig: Figure) -> None:
        w, h = fig.get_size_inches()
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=100)
        plt.close(fig)
        width = min(self.width, w * 72.0)   # the figure's own size, at most the page's width
        height = width * h / w
        if height > self.height:   # a tall figure on a landscape page: fit the frame
            width, height = width * self.height / height, self.height
        self.story += [Image(io.BytesIO(buf.getvalue()), width=width, height=height),
                       Spacer(1, 2 * mm)]

    def write(self, path: Path) -> Path:
        buf = io.BytesIO()
        size = landscape(A4) if self.wide else A4
        SimpleDocTemplate(buf, pagesize=size, leftMargin=15 * mm, rightMargin=15 * mm,
                          topMargin=12 * mm, bottomMargin=12 * mm, title=self.title,
                          creator="vstation msa", invariant=1).build(self.story)
        atomic_write(path, buf.getvalue())
        return path
