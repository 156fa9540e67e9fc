"""The DAQ's timed scan as plans see it: one scan, the instrument's own timestamps.

SPEC §8 takes every timing from an instrument-side capture, never from host polling, so a
run on a busy host measures what one on a quiet host does. A :class:`DaqCapture` holds the
readings of one timed scan (``Daq.start_capture`` / ``Daq.fetch_capture``) with the times
the DAQ stamped on them; :func:`decode` turns the instrument's reading memory into one.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from drivers.instruments.errors import InstrumentResponseError

#: Fixture names a capture may scan: the terminals' DCV channel, the current shunt's DCV
#: channel (read as amperes) and the digital input byte.
CAPTURE_CHANNELS: tuple[str, ...] = ("pack_voltage", "pack_current", "inputs")

Value = float | bool
#: One reading of the DAQ's memory: (value, seconds since the scan started, channel).
Reading = tuple[float, float, int]


@dataclass(frozen=True)
class DaqCapture:
    """Readings of one timed scan, keyed ``"pack_voltage"`` (V, calibration applied),
    ``"pack_current"`` (A, + = charge: the shunt's volts ÷ its resistance) and
    ``"no2"``/``"no3"``/``"no4"`` (closed = True).

    ``times_s`` are the instrument's timestamps of each sweep (its first channel) relative
    to the first sweep; ``channel_times_s`` the DAQ's own timestamp of each key's reading
    (channels of one sweep are read one after another, a few ms apart), which
    :meth:`first` uses. ``interval_s`` is the scan interval asked; ``started_at`` the station
    clock when the scan was started: host side, for placing the capture among the plan's
    actions, never for timing.
    """

    times_s: tuple[float, ...]
    values: Mapping[str, tuple[Value, ...]]
    channel_times_s: Mapping[str, tuple[float, ...]] = field(default_factory=dict)
    interval_s: float = math.nan
    started_at: float = math.nan

    def times(self, key: str) -> tuple[float, ...]:
        """The instrument's timestamps of ``key``'s readings (s from the first sweep)."""
        self._check(key)
        return self.channel_times_s.get(key, self.times_s)

    def first(self, key: str, predicate: Callable[[Value], bool], after_s: float = 0.0) -> float | None:
        """Instrument time of the first reading of ``key`` at or after ``after_s`` that
        satisfies ``predicate``; None when no reading does."""
        for t, v in zip(self.times(key), self.values[key], strict=True):
            if t >= after_s - 1e-9 and predicate(v):
                return t
        return None

    @property
    def max_gap_s(self) -> float:
        """The longest time between two sweeps: the resolution an edge is timed to."""
        t = self.times_s
        return max((b - a for a, b in itertools.pairwise(t)), default=0.0)

    def _check(self, key: str) -> None:
        if key not in self.values:
            raise KeyError(f"capture has no {key!r}; it has {sorted(self.values)}")


@dataclass(frozen=True)
class PendingScan:
    """A scan the DAQ is running: what was asked, and when its last reading is due."""

    keys: tuple[str, ...]             # from CAPTURE_CHANNELS
    channels: Mapping[str, int]       # key -> DAQ channel
    interval_s: float
    sweeps: int
    started_at: float                 # station clock after INIT
    ends_at: float                    # station clock when the last reading is due

    @property
    def readings(self) -> int:
        return self.sweeps * len(self.channels)


def decode(name: str, scan: PendingScan, readings: Sequence[Reading], *,
           input_bits: Mapping[str, int], volt_offset: float = 0.0,
           shunt_ohm: float | None = None) -> DaqCapture:
    """The capture of ``scan`` from the DAQ's reading memory; every channel must have one
    reading per sweep, or the answer is an :class:`InstrumentResponseError`."""
    per: dict[int, list[tuple[float, float]]] = {ch: [] for ch in scan.channels.values()}
    for value, t, ch in readings:
        if ch not in per:
            raise InstrumentResponseError(name, "FETC?", f"a reading of channel {ch}, not in the scan")
        per[ch].append((t, value))
    for ch, got in per.items():
        if len(got) != scan.sweeps:
            raise InstrumentResponseError(
                name, "FETC?", f"channel {ch}: {len(got)} readings, {scan.sweeps} sweeps asked")
    order = sorted(per)                       # the DAQ scans in channel order
    t0 = per[order[0]][0][0]
    values: dict[str, tuple[Value, ...]] = {}
    times: dict[str, tuple[float, ...]] = {}
    for key, ch in scan.channels.items():
        stamps = tuple(t - t0 for t, _ in per[ch])
        raw = [v for _, v in per[ch]]
        if key == "pack_voltage":
            values[key] = tuple(v + volt_offset for v in raw)
            times[key] = stamps
            continue
        if key == "pack_current":
            if not shunt_ohm:
                raise ValueError(f"{name}: a pack_current capture needs the shunt's resistance")
            values[key] = tuple(v / shunt_ohm for v in raw)
            times[key] = stamps
            continue
        bytes_ = [_byte(name, v) for v in raw]
        for inp, bit in input_bits.items():
            values[inp] = tuple(bool(b >> bit & 1) for b in bytes_)
            times[inp] = stamps
    sweeps = tuple(t - t0 for t, _ in per[order[0]])
    return DaqCapture(sweeps, values, times, scan.interval_s, scan.started_at)


def _byte(name: str, value: float) -> int:
    if not (0 <= value <= 255 and value == int(value)):   # NaN fails both: no byte
        raise InstrumentResponseError(name, "FETC?", f"digital reading {value!r} is not a byte")
    return int(value)
