"""The LFP open-circuit voltage over state of charge (one cell).

LFP has a flat plateau near 3.3 V and steep ends; the curve is a table interpolated
linearly, extended beyond 0 % and 100 % so that over-charge and over-discharge keep
moving the voltage (the protections must see them).
"""

from __future__ import annotations

import numpy as np

#: (SOC fraction, OCV in V) of one LFP cell at 25 °C.
OCV_TABLE: tuple[tuple[float, float], ...] = (
    (-0.10, 1.80),
    (0.00, 2.50),
    (0.01, 2.80),
    (0.02, 2.95),
    (0.05, 3.10),
    (0.10, 3.19),
    (0.20, 3.26),
    (0.30, 3.275),
    (0.40, 3.283),
    (0.50, 3.290),
    (0.60, 3.297),
    (0.70, 3.315),
    (0.80, 3.328),
    (0.90, 3.340),
    (0.95, 3.360),
    (0.98, 3.400),
    (0.99, 3.450),
    (1.00, 3.600),
    (1.05, 4.200),
)

SOC_POINTS = np.array([s for s, _ in OCV_TABLE])
OCV_POINTS = np.array([v for _, v in OCV_TABLE])


def ocv(soc: np.ndarray) -> np.ndarray:
    """Open-circuit voltage (V) of cells at ``soc`` (fractions, may leave 0..1)."""
    return np.interp(soc, SOC_POINTS, OCV_POINTS)


def ocv1(soc: float) -> float:
    return float(np.interp(soc, SOC_POINTS, OCV_POINTS))
