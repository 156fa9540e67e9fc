"""The QR code of a certificate, with qrcode's own mask choice computed in one pass.

``qrcode`` picks the mask (ISO/IEC 18004 §7.8.3) by laying the symbol out eight times and
scoring each with pure-Python loops: three quarters of a QR code's cost, a tenth of a
certificate's. The eight masked symbols differ only in their data modules, so they are
built here from one layout and scored together with numpy; the score is qrcode's
(``qrcode.util.lost_point``: runs, 2×2 blocks, finder-like 1:1:3:1:1 patterns, dark
ratio), on the same test layout (format and version areas light), and the first lowest
wins as in ``QRCode.best_mask_pattern``. The symbol is then qrcode's own, laid out once
with that mask: the same matrix as ``QRCode.make()``, module for module (tested on
payloads of every version a certificate can need).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import qrcode
from numpy.lib.stride_tricks import sliding_window_view

#: 1:1:3:1:1 dark-light with four light modules after or before it (qrcode's two patterns)
_FINDER_LIKE = np.array([[1, 0, 1, 1, 1, 0, 1, 0, 0, 0, 0],
                         [0, 0, 0, 0, 1, 0, 1, 1, 1, 0, 1]], dtype=bool)


class _Layout(qrcode.QRCode):
    """A QRCode that notes which modules its data fills (the ones still empty when
    ``map_data`` starts), so the other masks can be applied to the same layout."""

    data_modules: np.ndarray | None = None

    def map_data(self, data: Any, mask_pattern: int) -> None:
        self.data_modules = np.array([[m is None for m in row] for row in self.modules])
        super().map_data(data, mask_pattern)


def _masks(n: int) -> np.ndarray:
    """The eight mask conditions (qrcode.util.mask_func) over an n × n symbol."""
    i, j = np.indices((n, n))
    return np.stack([
        (i + j) % 2 == 0, i % 2 == 0, j % 3 == 0, (i + j) % 3 == 0,
        (i // 2 + j // 3) % 2 == 0, (i * j) % 2 + (i * j) % 3 == 0,
        ((i * j) % 2 + (i * j) % 3) % 2 == 0, ((i * j) % 3 + (i + j) % 2) % 2 == 0,
    ])


def _runs_penalty(lines: np.ndarray) -> int:
    """Σ (length − 2) over runs of five or more equal modules in each line."""
    m, n = lines.shape
    edges = np.ones((m, n + 1), dtype=bool)
    edges[:, 1:-1] = lines[:, 1:] != lines[:, :-1]
    lengths = np.diff(np.flatnonzero(edges))   # across two lines: 1, never counted
    return int((lengths[lengths >= 5] - 2).sum())


def _finder_like(lines: np.ndarray) -> int:
    windows = sliding_window_view(lines, 11, axis=1)
    return int(sum((windows == p).all(axis=2).sum() for p in _FINDER_LIKE))


def lost_point(symbol: np.ndarray) -> int:
    """qrcode's penalty of one symbol (bool n × n)."""
    n = symbol.shape[0]
    score = _runs_penalty(symbol) + _runs_penalty(symbol.T)
    block = symbol[:-1, :-1]
    score += 3 * int(((block == symbol[1:, :-1]) & (block == symbol[:-1, 1:])
                      & (block == symbol[1:, 1:])).sum())
    score += 40 * (_finder_like(symbol) + _finder_like(symbol.T))
    percent = float(int(symbol.sum())) / (n ** 2)
    return score + int(abs(percent * 100 - 50) / 5) * 10


def best_mask(qr: _Layout) -> int:
    """The mask qrcode's ``best_mask_pattern`` picks, from one test layout."""
    qr.makeImpl(True, 0)
    assert qr.data_modules is not None
    first = np.array(qr.modules, dtype=bool)
    masks = _masks(first.shape[0])
    data = qr.data_modules
    raw = first ^ (masks[0] & data)
    scores = [lost_point(np.where(data, raw ^ masks[k], first)) for k in range(8)]
    return int(np.argmin(scores))    # the first of the lowest, as qrcode


def qr_matrix(payload: str, *, border: int = 2) -> list[list[bool]]:
    """The modules of the QR code of ``payload`` at level M (border included): what
    ``QRCode.make(fit=True)`` then ``get_matrix()`` give."""
    qr = _Layout(error_correction=qrcode.constants.ERROR_CORRECT_M, border=border)
    qr.add_data(payload)
    qr.best_fit(start=qr.version)
    qr.makeImpl(False, best_mask(qr))
    return qr.get_matrix()
