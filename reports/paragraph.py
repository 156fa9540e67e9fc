"""reportlab's ``Paragraph``, whose line breaking is remembered for the width it was last
wrapped at.

A table wraps each of its cells at the same width two or three times (to size its columns
and rows, then to draw them), and breaking the lines is most of what a certificate costs.
The lines are the same, so the document is the same to the byte."""

from __future__ import annotations

from typing import Any

from reportlab.platypus import Paragraph as _Paragraph
from reportlab.platypus.paragraph import _FUZZ  # type: ignore[attr-defined]


class Paragraph(_Paragraph):
    """``Paragraph`` with ``wrap`` remembered for the last width (``split`` forgets it)."""

    _wrapped: tuple[float, Any, Any, float] | None = None

    def wrap(self, availWidth: float, availHeight: float) -> tuple[float, float]:
        last = self._wrapped
        if last is not None and last[0] == availWidth:
            self.width, self._wrapWidths, self.blPara, self.height = last
            return self.width, self.height
        size: tuple[float, float] = super().wrap(availWidth, availHeight)
        if availWidth >= _FUZZ:   # below it, nothing was laid out
            self._wrapped = (self.width, self._wrapWidths, self.blPara, self.height)
        return size

    def split(self, availWidth: float, availHeight: float) -> list[Any]:
        self._wrapped = None
        parts: list[Any] = super().split(availWidth, availHeight)
        return parts
