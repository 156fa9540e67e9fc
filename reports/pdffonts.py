"""Fonts for the PDFs: DejaVu (shipped with matplotlib), because the model names and units
need °, α, Ω and µ, which the PDF base fonts cannot show."""

from __future__ import annotations

import importlib.util
from functools import cache
from pathlib import Path

from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont

SANS, BOLD, MONO = "VS-Sans", "VS-Sans-Bold", "VS-Mono"


@cache
def register_fonts() -> None:
    """Register the three faces once per process (idempotent)."""
    folder = mpl_data() / "fonts" / "ttf"
    for name, file in ((SANS, "DejaVuSans.ttf"), (BOLD, "DejaVuSans-Bold.ttf"),
                       (MONO, "DejaVuSansMono.ttf")):
        pdfmetrics.registerFont(TTFont(name, str(folder / file)))
    pdfmetrics.registerFontFamily(SANS, normal=SANS, bold=BOLD, italic=SANS, boldItalic=BOLD)


def mpl_data() -> Path:
    """matplotlib's data folder (``matplotlib.get_data_path()``), found without importing
    matplotlib: a certificate needs its font files, not its 0.1 s import."""
    spec = importlib.util.find_spec("matplotlib")
    if spec is None or spec.origin is None:
        raise FileNotFoundError("matplotlib is not installed: its DejaVu fonts are needed")
    return Path(spec.origin).with_name("mpl-data")
