"""Datasheet accuracy of each dialect's measurement functions, as the datasheet states it.

A measurement's uncertainty budget (``testplans/limits/<plan>/budget.toml``) names a role and
a function (``daq``/``dc_voltage``); the station file says which dialect plays the role, and
this table gives that dialect's 1-year accuracy: ± (% of reading + % of range + absolute) on
the smallest range that holds the reading, with the range's resolution and the citation.
Figures are in SI (V, A, Ω, °C, s). Where no public copy of a datasheet could be read, the
citation says so and the figure is a conservative value the project chose: it must be
replaced by the datasheet's own figure before the budget is trusted on a real line.

Functions: ``dc_voltage``, ``temperature_rtd`` (4-wire PT100), ``temperature_tc`` (type K,
reference junction included), ``current``, ``voltage``, ``ground_bond``, ``insulation``,
``temperature`` (chamber), ``timebase`` (the instrument's own timestamps or sample
interval: % of the timed duration, the timestamp step as resolution).
"""

from __future__ import annotations

from dataclasses import dataclass


class NoDatasheetFigure(KeyError):
    """A dialect or function this table has no figure for."""


@dataclass(frozen=True)
class Range:
    """One range of a function: ± (pct_reading % of the reading + pct_range % of ``upper`` +
    ``absolute``), readings up to ``upper`` (SI), shown in steps of ``resolution``."""

    upper: float
    pct_reading: float = 0.0
    pct_range: float = 0.0
    absolute: float = 0.0
    resolution: float = 0.0

    def limit(self, reading: float) -> float:
        """The datasheet's ± limit of error at ``reading`` (SI)."""
        return abs(reading) * self.pct_reading / 100 + self.upper * self.pct_range / 100 + self.absolute


@dataclass(frozen=True)
class Accuracy:
    """A function's datasheet accuracy, with where it comes from."""

    dialect: str
    function: str
    unit: str
    ranges: tuple[Range, ...]
    source: str           # datasheet title and table, or why no figure was found
    verified: bool        # the figure was read in a public copy of the datasheet

    def range_for(self, reading: float) -> Range:
        """The smallest range that holds ``reading`` (the largest if none does)."""
        fitting = [r for r in self.ranges if abs(reading) <= r.upper]
        return min(fitting, key=lambda r: r.upper) if fitting else max(self.ranges, key=lambda r: r.upper)

    def limit(self, reading: float) -> float:
        return self.range_for(reading).limit(reading)


def _a(dialect: str, function: str, unit: str, ranges: list[Range], source: str,
       verified: bool = False) -> Accuracy:
    return Accuracy(dialect, function, unit, tuple(ranges), source, verified)


_DAQ = "Keysight DAQ970A Data Acquisition System, Data Sheet"
_NOT_FOUND = "no public copy of the datasheet's table was found: conservative value chosen by the project"

#: dialect → function → accuracy. Keep one entry per function a budget may name.
DATASHEETS: dict[str, dict[str, Accuracy]] = {
    "keysight-daq970a": {
        "dc_voltage": _a("keysight-daq970a", "dc_voltage", "V", [
            Range(0.1, 0.0050, 0.0060, resolution=1e-7),
            Range(1.0, 0.0035, 0.0006, resolution=1e-6),
            Range(10.0, 0.0030, 0.0004, resolution=1e-5),
            Range(100.0, 0.0040, 0.0006, resolution=1e-4),
            Range(300.0, 0.0040, 0.0020, resolution=1e-3),
        ], f"{_DAQ}, 'DAQ970A Accuracy Specifications ±(% of reading + % of range)', DC voltage, "
           "1 year Tcal ± 5 °C (resolution: 6½ digits)", verified=True),
        "temperature_tc": _a("keysight-daq970a", "temperature_tc", "°C", [
            Range(1200.0, absolute=1.0, resolution=0.01),
        ], f"{_DAQ}, 'Example 3: Thermocouple measurement accuracy': total error = probe "
           "accuracy + 1.0 °C, switching, conversion and reference junction errors included "
           "(the example is type J; the type K row was not read: 1.0 °C taken for K)"),
        "temperature_rtd": _a("keysight-daq970a", "temperature_rtd", "°C", [
            Range(600.0, absolute=0.06, resolution=0.001),
        ], f"{_DAQ}, temperature table, RTD (R0 49 Ω…2.1 kΩ, α 0.00385, 4-wire), 1 year: the row "
           "was not read in a public copy; 0.06 °C as the 34970A family states it, probe "
           "excluded (the probe enters as calibration data, or as `without_calibration`)"),
        "timebase": _a("keysight-daq970a", "timebase", "s", [
            Range(360_000.0, pct_reading=0.01, resolution=1e-3),
        ], f"{_DAQ}: scan interval and timestamps in 1 ms steps; timebase accuracy {_NOT_FOUND} "
           "(±0.01 % of the timed interval, 100 ppm)"),
    },
    "chroma-63200a": {
        "current": _a("chroma-63200a", "current", "A", [
            Range(12.0, 0.1, 0.1, resolution=1e-4),
            Range(120.0, 0.1, 0.1, resolution=1e-3),
            Range(1200.0, 0.1, 0.1, resolution=1e-2),
        ], "Chroma 63200A Series High Power DC Electronic Load, specifications, current "
           f"measurement (63212A-150-1200, three ranges): {_NOT_FOUND} (±(0.1 % + 0.1 % of range))"),
        "voltage": _a("chroma-63200a", "voltage", "V", [
            Range(15.0, 0.05, 0.05, resolution=1e-4), Range(150.0, 0.05, 0.05, resolution=1e-3),
        ], f"Chroma 63200A Series, specifications, voltage measurement: {_NOT_FOUND} "
           "(±(0.05 % + 0.05 % of range))"),
        "timebase": _a("chroma-63200a", "timebase", "s", [
            Range(100_000.0, pct_reading=0.01, resolution=2e-6),
        ], f"Chroma 63200A Series, digitizing function (DIG:SAMP:TIME): sample interval accuracy "
           f"{_NOT_FOUND} (±0.01 % of the timed interval)"),
    },
    "itech-it8900a": {
        "current": _a("itech-it8900a", "current", "A", [
            Range(120.0, 0.1, 0.1, resolution=1e-3), Range(1200.0, 0.1, 0.1, resolution=1e-2),
        ], f"ITECH IT8900A/E Series High Power DC Electronic Load, datasheet, current readback: "
           f"{_NOT_FOUND} (±(0.1 % + 0.1 % of range), two ranges)"),
        "voltage": _a("itech-it8900a", "voltage", "V", [
            Range(15.0, 0.05, 0.05, resolution=1e-4), Range(150.0, 0.05, 0.05, resolution=1e-3),
        ], f"ITECH IT8900A/E Series datasheet, voltage readback: {_NOT_FOUND} (±(0.05 % + 0.05 % of range))"),
        "timebase": _a("itech-it8900a", "timebase", "s", [
            Range(100_000.0, pct_reading=0.01, resolution=1e-5),
        ], f"ITECH IT8900A/E Series, sweep acquisition (SENS:SWE:TINT): interval accuracy {_NOT_FOUND} "
           "(±0.01 % of the timed interval)"),
    },
    "keysight-rp7900": {
        "current": _a("keysight-rp7900", "current", "A", [
            Range(250.0, 0.1, 0.1, resolution=1e-3),
        ], "Keysight RP7900 Series Regenerative Power System, Operating and Service Guide, "
           f"'Specifications', current measurement (80 V / ±250 A model): {_NOT_FOUND} "
           "(±(0.1 % + 0.1 % of the 250 A rating))"),
        "voltage": _a("keysight-rp7900", "voltage", "V", [
            Range(80.0, 0.05, 0.05, resolution=1e-4),
        ], f"Keysight RP7900 Series, 'Specifications', voltage measurement: {_NOT_FOUND} "
           "(±(0.05 % + 0.05 % of the 80 V rating); the RP7970 table states 0.04 % + 150 mV at 2000 V)"),
    },
    "itech-it6000c": {
        "current": _a("itech-it6000c", "current", "A", [
            Range(150.0, 0.1, 0.1, resolution=1e-3),
        ], f"ITECH IT6000C Series (IT6006C-80-150) datasheet, current readback: {_NOT_FOUND} "
           "(±(0.1 % + 0.1 % of the 150 A rating))"),
        "voltage": _a("itech-it6000c", "voltage", "V", [
            Range(80.0, 0.05, 0.05, resolution=1e-4),
        ], f"ITECH IT6000C Series datasheet, voltage readback: {_NOT_FOUND} (±(0.05 % + 0.05 % of 80 V))"),
    },
    "chroma-19032": {
        "ground_bond": _a("chroma-19032", "ground_bond", "Ω", [
            Range(0.51, pct_reading=1.0, absolute=0.002, resolution=1e-4),
        ], "Chroma 19032 Electrical Safety Analyzer User's Manual, specifications, ground bond "
           f"resistance (0.0001-0.51 Ω, the GB limit range of ch. 5): {_NOT_FOUND} (±(1 % + 2 mΩ))"),
        "insulation": _a("chroma-19032", "insulation", "Ω", [
            Range(1e9, pct_reading=5.0, resolution=1e4),
        ], f"Chroma 19032 User's Manual, specifications, insulation resistance at 500 V: "
           f"{_NOT_FOUND} (±5 % of reading up to 1 GΩ)"),
    },
    "feasa-led": {
        "timebase": _a("feasa-led", "timebase", "s", [
            Range(100_000.0, pct_reading=0.1),
        ], "Feasa LED Analyser User Manual, Functional Version rev. 8.7, 'Sequence Capture Mode' "
           "(capture and wait times set in whole ms, pp. 80-81): the analyser's clock accuracy "
           "is not stated; conservative ±0.1 % of the timed interval. The sample grid itself "
           "enters the budget as sampling"),
    },
    "espec-scp220": {
        "temperature": _a("espec-scp220", "temperature", "°C", [
            Range(150.0, absolute=1.0, resolution=0.1),
        ], f"ESPEC chamber with SCP-220 controller, indication of the chamber temperature: "
           f"{_NOT_FOUND} (±1.0 °C, 0.1 °C display)"),
    },
    "watlow-f4t": {
        "temperature": _a("watlow-f4t", "temperature", "°C", [
            Range(1000.0, absolute=1.0, resolution=0.1),
        ], f"Watlow F4T controller, thermocouple input accuracy: {_NOT_FOUND} (±1.0 °C)"),
    },
}


def datasheet(dialect: str, function: str) -> Accuracy:
    """The datasheet figure of ``dialect``'s ``function``; NoDatasheetFigure names both."""
    try:
        return DATASHEETS[dialect][function]
    except KeyError:
        known = ", ".join(sorted(DATASHEETS.get(dialect, {}))) or "none"
        raise NoDatasheetFigure(
            f"dialect {dialect!r} has no datasheet figure for {function!r} "
            f"(drivers/instruments/datasheets.py; its functions: {known})") from None


def dialects_with(function: str, dialects: list[str]) -> list[str]:
    """Which of ``dialects`` state a figure for ``function``."""
    return [d for d in dialects if function in DATASHEETS.get(d, {})]
