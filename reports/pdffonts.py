"""Fonts for the PDFs: DejaVu (shipped with matplotlib), because the model names and units
need °, α, Ω and µ, which the PDF base fonts cannot show."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import matplotlib
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont

SANS, BOLD, MONO = "VS-Sans", "VS-Sans-Bold", "VS-Mono"


@cache
def register_fonts() -> None:
    """Register the three faces once per process (idempotent)."""
    folder = Path(matplotlib.get_data_path()) / "fonts" / "ttf"
    for name, file in ((SANS, "DejaVuSans.ttf"), (BOLD, "DejaVuSans-Bold.ttf"),
                       (MONO, "DejaVuSansMono.ttf")):
        pdfmetrics.registerFont(TTFont(name, str(folder / file)))
    pdfmetrics.registerFontFamily(SANS, normal=SANS, bold=BOLD, italic=SANS, boldItalic=BOLD)
