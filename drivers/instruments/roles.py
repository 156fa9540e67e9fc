"""The role interfaces test plans use: a plan asks for ``load``, never for a vendor.

Each role is an abstract class whose *public* methods check the station's envelope and then
call a small set of abstract primitives (``_set_cc`` ...) that a vendor dialect implements.
So the envelope is enforced in one place for every dialect, before anything is written, and
adding an instrument means writing the primitives only.
"""

from __future__ import annotations

import math
from abc import abstractmethod
from dataclasses import dataclass
from typing import ClassVar, Literal

from drivers.instruments.daq_capture import DaqCapture
from drivers.instruments.daq_role import DAQ_FUNCTIONS, Daq
from drivers.instruments.errors import RampRefused
from drivers.instruments.load_capture import capture_grid
from drivers.instruments.role_base import Role

LedName = Literal["RUN", "ALM", "SOC1", "SOC2", "SOC3", "SOC4"]
LED_NAMES: tuple[LedName, ...] = ("RUN", "ALM", "SOC1", "SOC2", "SOC3", "SOC4")


# ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Capture:
    """Samples of a timed current capture: sample i was taken at ``t0 + i * dt``."""

    t0: float
    dt: float
    samples: tuple[float, ...]

    def times(self) -> list[float]:
        return [self.t0 + i * self.dt for i in range(len(self.samples))]


class ElectronicLoad(Role):
    role = "load"
    MIN_CAPTURE_HZ: ClassVar[float] = 100.0
    #: The digitizer's fastest and slowest interval and its memory (the dialect's manual).
    CAPTURE_MIN_DT_S: ClassVar[float] = 0.0
    CAPTURE_MAX_DT_S: ClassVar[float] = math.inf
    CAPTURE_MAX_POINTS: ClassVar[int] = 10**9

    def set_cc(self, amps: float) -> None:
        """Constant-current mode at ``amps`` (A drawn from the pack)."""
        self._set_cc(self.envelope.check_current(self.name, "CC", amps))

    def set_cv(self, volts: float, current_limit_a: float | None = None) -> None:
        """Constant-voltage mode at ``volts``, its current capped at ``current_limit_a``
        (required: a CV load draws whatever holds the voltage, up to its frame rating)."""
        v, a = self.envelope.check_cv(self.name, "CV", volts, current_limit_a)
        self._set_cv_current_limit(a)   # the cap first, so the level never acts uncapped
        self._set_cv(v)

    def set_cp(self, watts: float) -> None:
        self._set_cp(self.envelope.check_cp(self.name, "CP", watts))

    def set_cr(self, ohms: float) -> None:
        self._set_cr(self.envelope.check_resistance(self.name, "CR", ohms))

    def set_input(self, on: bool) -> None:
        self._set_input(bool(on))

    def pulse(self, amps: float, seconds: float) -> None:
        """A timed constant-current pulse, timed on the station clock."""
        self.set_cc(amps)
        self.set_input(True)
        try:
            self.clock.sleep(seconds)
        finally:
            self.set_input(False)

    def capture_grid(self, rate_hz: float, seconds: float, *,
                     min_rate_hz: float | None = None) -> tuple[float, int]:
        """(interval s, points) a capture of ``seconds`` at ``rate_hz`` will use: the rate
        asked if the digitizer holds it, else the highest that fits and is at least
        ``min_rate_hz`` (default :attr:`MIN_CAPTURE_HZ`); :class:`CaptureRefused` when none
        does. Writes nothing, so a plan can check before it switches anything on."""
        low = self.MIN_CAPTURE_HZ if min_rate_hz is None else max(self.MIN_CAPTURE_HZ, min_rate_hz)
        return capture_grid(self.name, rate_hz, seconds, min_rate_hz=low,
                            min_dt_s=self.CAPTURE_MIN_DT_S, max_dt_s=self.CAPTURE_MAX_DT_S,
                            max_points=self.CAPTURE_MAX_POINTS)

    def start_capture(self, rate_hz: float, seconds: float, *, min_rate_hz: float | None = None) -> None:
        """Arm a current capture starting now (trip timing, >= 100 Hz) on the grid
        :meth:`capture_grid` gives; ``fetch_capture().dt`` is the interval used."""
        self._start_capture(*self.capture_grid(rate_hz, seconds, min_rate_hz=min_rate_hz))

    def fetch_capture(self) -> Capture:
        return self._fetch_capture()

    def short(self, on: bool) -> None:
        """Short mode: only inside ``envelope.allow_short(step)`` for a declared step."""
        if on:
            self.envelope.check_short(self.name, "SHORT ON")
        self._set_short(bool(on))

    def safe_state(self) -> None:
        """Input off first (that stops the current), then short mode off; each is tried even
        when the other fails, and the first failure is raised after both."""
        failures: list[Exception] = []
        for action in (lambda: self._set_input(False), lambda: self._set_short(False)):
            try:
                action()
            except Exception as exc:
                failures.append(exc)
        if failures:
            raise failures[0]

    @abstractmethod
    def _set_cc(self, amps: float) -> None: ...
    @abstractmethod
    def _set_cv(self, volts: float) -> None: ...
    def _set_cv_current_limit(self, amps: float) -> None:
        """Cap the current of CV mode. A dialect that can, overrides this; one that cannot
        has its CV mode refused here, before anything is written."""
        raise self.envelope.refuse(self.name, "CV", f"this load cannot cap CV current ({amps:g} A asked)")
    @abstractmethod
    def _set_cp(self, watts: float) -> None: ...
    @abstractmethod
    def _set_cr(self, ohms: float) -> None: ...
    @abstractmethod
    def _set_input(self, on: bool) -> None: ...
    @abstractmethod
    def _set_short(self, on: bool) -> None: ...
    @abstractmethod
    def _start_capture(self, dt: float, points: int) -> None: ...
    @abstractmethod
    def _fetch_capture(self) -> Capture: ...
    @abstractmethod
    def input_on(self) -> bool: ...
    @abstractmethod
    def measure_voltage(self) -> float: ...
    @abstractmethod
    def measure_current(self) -> float:
        """Current drawn by the load, A (positive)."""
    @abstractmethod
    def measure_power(self) -> float: ...
    @abstractmethod
    def protection_status(self) -> frozenset[str]:
        """Tripped protections: subset of {"OV", "OC", "OP", "OT"} (+ "RV" where the load
        reports a reverse voltage)."""
    @abstractmethod
    def clear_protection(self) -> None: ...


class DcSupply(Role):
    """A bidirectional supply: sources (charges the pack) and sinks."""

    role = "supply"
    #: Set points as this session programmed them; None = unknown (never set, or a write
    #: that failed), which keeps the output from being switched on.
    _volts: float | None = None
    _limit_a: float | None = None
    _on: bool = False

    def _check_power(self, command: str, volts: float | None, amps: float | None) -> None:
        """V × current limit inside the power envelope, whichever set point changed."""
        if volts is not None and amps is not None:
            self.envelope.check_power(self.name, command, volts * amps)
        elif self._on:
            raise self.envelope.refuse(self.name, command, "a set point is unknown while the output is on")

    def set_voltage(self, volts: float) -> None:
        v = self.envelope.check_voltage(self.name, "VOLT", volts)
        self._check_power("VOLT", v, self._limit_a)
        self._volts = None
        self._set_voltage(v)
        self._volts = v

    def set_current_limits(self, source_a: float, sink_a: float) -> None:
        """Positive limits for both directions; V·I must stay inside the power envelope."""
        src = self.envelope.check_current(self.name, "CURR:LIM", source_a)
        snk = self.envelope.check_current(self.name, "CURR:LIM:NEG", sink_a)
        self._check_power("CURR:LIM", self._volts, max(src, snk))
        self._limit_a = None
        self._set_current_limits(src, snk)
        self._limit_a = max(src, snk)

    def set_charge(self, volts: float, amps: float) -> None:
        """Source ``volts`` with ``amps`` the limit either way: a pack on the output charges
        at ``amps`` until it reaches ``volts`` (the set-up of every charge a plan makes)."""
        self.set_voltage(volts)
        self.set_current_limits(amps, amps)

    def set_ovp(self, volts: float) -> None:
        self._set_ovp(self.envelope.check_voltage(self.name, "VOLT:PROT", volts))

    def set_output(self, on: bool) -> None:
        """On only with both set points programmed by this session, V·I inside the envelope
        (so a limit left by an earlier session never delivers power unchecked)."""
        if on:
            if self._volts is None or self._limit_a is None:
                raise self.envelope.refuse(self.name, "OUTP ON", "voltage and current limits not both set")
            self._check_power("OUTP ON", self._volts, self._limit_a)
            self._on = True
        self._set_output(bool(on))
        self._on = bool(on)

    def safe_state(self) -> None:
        self._set_output(False)
        self._on = False

    @abstractmethod
    def _set_voltage(self, volts: float) -> None: ...
    @abstractmethod
    def _set_current_limits(self, source_a: float, sink_a: float) -> None: ...
    @abstractmethod
    def _set_ovp(self, volts: float) -> None: ...
    @abstractmethod
    def _set_output(self, on: bool) -> None: ...
    @abstractmethod
    def output_on(self) -> bool: ...
    @abstractmethod
    def measure_voltage(self) -> float: ...
    @abstractmethod
    def measure_current(self) -> float:
        """Output current, A (+ = sourced into the pack)."""
    @abstractmethod
    def protection_status(self) -> frozenset[str]:
        """Tripped protections: subset of {"OV", "OC", "OP", "OT", "WDOG"} (+ "PF", "OP-",
        "INH", "EDP" where the supply reports them)."""
    @abstractmethod
    def clear_protection(self) -> None: ...


class Chamber(Role):
    """Air temperature of a thermal chamber: a set point (``set_temperature`` + ``run``), or
    a ramp programmed into the controller (``ramp_to``): the controller moves its set point
    from the air now to the target at the rate asked and then holds the target (a soak)
    until the next command; ``ramping()`` says whether the set point is still moving. How
    long a soak lasts is the plan's (it waits on the pack on the station clock), so a
    soak "until the cells read 48 °C" needs no fixed time on the controller."""

    role = "chamber"
    #: Fastest ramp the role sends, K/min (option ``max_rate_c_per_min`` overrides it): a
    #: faster ask is a plan error, refused before anything is written. Chambers of this
    #: class change air temperature at 1-5 K/min (ESPEC's SH/PL/PR ranges, as this project
    #: reads their catalogues; not verified for the chamber bought).
    MAX_RATE_C_PER_MIN: ClassVar[float] = 5.0

    def set_temperature(self, celsius: float) -> None:
        self._set_temperature(self.envelope.check_chamber(self.name, "TEMP", celsius))

    @property
    def max_rate_c_per_min(self) -> float:
        return float(self.options.get("max_rate_c_per_min", self.MAX_RATE_C_PER_MIN))

    def ramp_to(self, celsius: float, rate_c_per_min: float) -> None:
        """Run the chamber with its set point ramped from the air now to ``celsius`` at
        ``rate_c_per_min`` (K/min, > 0, at most :attr:`max_rate_c_per_min`), then held there.
        The target inside the envelope and the rate are checked before any I/O."""
        target = self.envelope.check_chamber(self.name, "RAMP", celsius)
        rate = rate_c_per_min
        if not isinstance(rate, int | float) or isinstance(rate, bool) or not math.isfinite(rate) \
                or rate <= 0:
            raise RampRefused(self.name, "RAMP", f"ramp rate {rate!r} K/min is not a positive number")
        if rate > self.max_rate_c_per_min:
            raise RampRefused(self.name, "RAMP", f"ramp rate {rate:g} K/min above the chamber's "
                                                 f"{self.max_rate_c_per_min:g} K/min")
        self._ramp_to(target, float(rate))

    def wait_stable(

        self, target_c: float, band_c: float, dwell_s: float, timeout_s: float, poll_s: float = 10.0
    ) -> bool:
        """Wait until the air stays within ``band_c`` of ``target_c`` for ``dwell_s``."""
        start = self.clock.now()
        inside_since: float | None = None
        while True:
            now = self.clock.now()
            if abs(self.temperature() - target_c) <= band_c:
                inside_since = now if inside_since is None else inside_since
                if now - inside_since >= dwell_s:
                    return True
            else:
                inside_since = None
            if now - start >= timeout_s:
                return False
            self.clock.sleep(poll_s)

    def safe_state(self) -> None:
        self.standby()

    @abstractmethod
    def _set_temperature(self, celsius: float) -> None: ...
    @abstractmethod
    def temperature(self) -> float:
        """Air temperature now, °C."""
    @abstractmethod
    def setpoint(self) -> float: ...
    @abstractmethod
    def run(self) -> None:
        """Control the air to the set point."""
    @abstractmethod
    def standby(self) -> None:
        """Stop heating and cooling."""
    @abstractmethod
    def mode(self) -> str:
        """``run`` or ``standby``."""
    @abstractmethod
    def _ramp_to(self, celsius: float, rate_c_per_min: float) -> None:
        """Program the ramp (checked) into the controller and run it."""
    @abstractmethod
    def ramping(self) -> bool:
        """True while the set point of the last ``ramp_to`` is still on its way."""


@dataclass(frozen=True)
class LedReading:
    red: int
    green: int
    blue: int
    intensity: int


class LedAnalyser(Role):
    """Per-fibre colour/intensity and on/off sequences. ``options["fibres"]``: LED → fibre."""

    role = "leds"
    transport_kind = "serial"
    _sequence_end: float | None   # set by start_sequence()

    @property
    def fibres(self) -> dict[str, int]:
        return dict(self.options.get("fibres", {n: i + 1 for i, n in enumerate(LED_NAMES)}))

    def read(self) -> dict[str, LedReading]:
        """Colour and intensity of every fibre now."""
        self._capture()
        return {led: self._reading(fibre) for led, fibre in self.fibres.items()}

    def capture_sequence(self, seconds: float, sample_ms: int = 10) -> dict[str, list[tuple[float, bool]]]:
        """Record every fibre for ``seconds``; returns on/off edges (t from the start, s)."""
        points = max(1, round(seconds * 1000 / sample_ms))
        self._start_sequence(sample_ms, points)
        self.clock.sleep(points * sample_ms / 1000)
        return {led: self._sequence_edges(fibre) for led, fibre in self.fibres.items()}

    def start_sequence(self, seconds: float, sample_ms: int = 10) -> None:
        """Arm a sequence capture of every fibre that runs while the station does other
        work (e.g. from before SW is pressed until the standby blink is seen)."""
        points = max(1, round(seconds * 1000 / sample_ms))
        self._start_sequence(sample_ms, points)
        self._sequence_end = self.clock.now() + points * sample_ms / 1000  # from its start

    def fetch_sequence(self) -> dict[str, list[tuple[float, bool]]]:
        """Wait for the armed capture to end; its edges per LED (t from its start, s)."""
        end = getattr(self, "_sequence_end", None)
        if end is None:
            raise RuntimeError(f"{self.name}: fetch_sequence() without start_sequence()")
        self.clock.sleep(max(0.0, end - self.clock.now()))
        self._sequence_end = None
        return {led: self._sequence_edges(fibre) for led, fibre in self.fibres.items()}

    def safe_state(self) -> None:
        """A passive analyser has nothing to switch off."""
        return None

    @abstractmethod
    def _capture(self) -> None: ...
    @abstractmethod
    def _reading(self, fibre: int) -> LedReading: ...
    @abstractmethod
    def _start_sequence(self, sample_ms: int, points: int) -> None: ...
    @abstractmethod
    def _sequence_edges(self, fibre: int) -> list[tuple[float, bool]]: ...


class SafetyTester(Role):
    """Ground bond (4-wire, 10 A) and insulation (500 V DC) resistance."""

    role = "safety"

    def ground_bond(self, current_a: float = 10.0) -> float:
        self.start_ground_bond(current_a)
        return self.ground_bond_result()

    def start_ground_bond(self, current_a: float = 10.0) -> None:
        """Start a ground-bond test and return at once: it runs in the tester (chassis to
        ground stud, nothing of the pack's circuit), so the station may work meanwhile."""
        self._start_ground_bond(self.envelope.check_ground_bond(self.name, "GB", current_a))

    def ground_bond_result(self) -> float:
        """Wait (station clock) for the started ground-bond test; its resistance, Ω."""
        return self._step_result()

    def insulation(self, volts: float = 500.0) -> float:
        return self._insulation(self.envelope.check_insulation(self.name, "IR", volts))

    def safe_state(self) -> None:
        self._stop()

    @abstractmethod
    def _start_ground_bond(self, current_a: float) -> None: ...
    @abstractmethod
    def _step_result(self) -> float: ...
    @abstractmethod
    def _insulation(self, volts: float) -> float: ...
    @abstractmethod
    def _stop(self) -> None: ...


class ShortCircuitCapture(Role):
    """The short-circuit fixture's capture (CERT-RMA: >= 1 MS/s): an oscilloscope on the
    fixture's shunt, armed for one acquisition that triggers on the rising short-circuit
    current. Amps and seconds; the shunt's resistance and the channel are the station file's
    ``options`` (``shunt_ohm``, ``channel``). The contactor itself is the fixture's, fired
    through the DAQ (``drivers/cert_fixtures.py``: ``ShortCircuit``)."""

    role = "short_circuit"
    #: CERT-RMA's slowest capture of a short circuit, and the dialect's record memory.
    MIN_RATE_HZ: ClassVar[float] = 1e6
    MAX_POINTS: ClassVar[int] = 10**6

    @property
    def shunt_ohm(self) -> float:
        ohm = float(self.options.get("shunt_ohm", 0.0))
        if not (math.isfinite(ohm) and ohm > 0):
            raise ValueError(f"{self.name}: options.shunt_ohm must be the fixture shunt's "
                             f"resistance in ohm (> 0), not {ohm!r}")
        return ohm

    @property
    def channel(self) -> int:
        return int(self.options.get("channel", 1))

    def arm(self, *, window_s: float, pre_trigger_s: float, rate_hz: float, trigger_a: float,
            full_scale_a: float) -> tuple[float, int]:
        """One acquisition of ``window_s`` (``pre_trigger_s`` of it before the trigger) at
        ``rate_hz``, triggered on the current rising through ``trigger_a``, its screen from
        −10 % to 90 % of ``full_scale_a``. Returns ``(interval s, points)``; refused
        (:class:`CaptureRefused`, nothing written) below :attr:`MIN_RATE_HZ` or beyond the
        memory."""
        from drivers.instruments.errors import CaptureRefused

        for what, v in (("window_s", window_s), ("rate_hz", rate_hz), ("trigger_a", trigger_a),
                        ("full_scale_a", full_scale_a)):
            if isinstance(v, bool) or not math.isfinite(v) or v <= 0:
                raise CaptureRefused(self.name, None, f"{what} must be a positive finite number, not {v!r}")
        if not 0.0 <= pre_trigger_s < window_s:
            raise CaptureRefused(self.name, None, f"pre_trigger_s {pre_trigger_s!r} outside 0 … window")
        if rate_hz < self.MIN_RATE_HZ:
            raise CaptureRefused(self.name, None, f"{rate_hz:g} Hz is below the {self.MIN_RATE_HZ:g} Hz "
                                 "a short-circuit capture needs")
        points = round(window_s * rate_hz)
        if points > self.MAX_POINTS:
            raise CaptureRefused(self.name, None, f"{points} points: more than the {self.MAX_POINTS} "
                                 "the record holds")
        if trigger_a >= 0.9 * full_scale_a:
            raise CaptureRefused(self.name, None, f"trigger {trigger_a:g} A is off the screen "
                                 f"({full_scale_a:g} A full scale)")
        self._arm(window_s, pre_trigger_s, points, trigger_a, full_scale_a)
        return window_s / points, points

    def wait_trigger(self, timeout_s: float, poll_s: float = 0.01) -> bool:
        """Poll the trigger on the station clock; True once the acquisition triggered."""
        from common.clock import wait_until

        return wait_until(self.clock, self._triggered, timeout=timeout_s, poll=poll_s)

    def fetch(self) -> Capture:
        """The record: sample i at ``t0 + i·dt`` s from the trigger, in A. A clipped sample
        is NaN (it never passes a limit). A record slower than :attr:`MIN_RATE_HZ` (the
        instrument did not do what it was asked) is an :class:`InstrumentResponseError`."""
        from drivers.instruments.errors import InstrumentResponseError

        capture = self._fetch()
        if not capture.dt * self.MIN_RATE_HZ <= 1.0 + 1e-9:
            raise InstrumentResponseError(self.name, None, f"the record's interval {capture.dt!r} s "
                                          f"is slower than {self.MIN_RATE_HZ:g} Hz")
        return capture

    def safe_state(self) -> None:
        """Stop the acquisition (a scope holds no energy)."""
        self._stop()

    @abstractmethod
    def _arm(self, window_s: float, pre_trigger_s: float, points: int, trigger_a: float,
             full_scale_a: float) -> None: ...
    @abstractmethod
    def _triggered(self) -> bool: ...
    @abstractmethod
    def _fetch(self) -> Capture: ...
    @abstractmethod
    def _stop(self) -> None: ...


ROLE_CLASSES: dict[str, type[Role]] = {
    c.role: c for c in (ElectronicLoad, DcSupply, Chamber, Daq, LedAnalyser, SafetyTester,
                        ShortCircuitCapture)
}
ROLE_KEYS: tuple[str, ...] = tuple(ROLE_CLASSES)
#: Roles of a certification fixture: only a plan step that is declared for them needs them,
#: so a station file without them is complete for every plan (the step is NOT RUN or ERROR).
FIXTURE_ROLE_KEYS: tuple[str, ...] = ("short_circuit",)
#: What a run needs when its plan does not say: every role but the fixtures'.
DEFAULT_ROLE_KEYS: tuple[str, ...] = tuple(r for r in ROLE_KEYS if r not in FIXTURE_ROLE_KEYS)

__all__ = ["DAQ_FUNCTIONS", "DEFAULT_ROLE_KEYS", "FIXTURE_ROLE_KEYS", "LED_NAMES", "ROLE_CLASSES",
           "ROLE_KEYS", "Capture", "Chamber", "Daq", "DaqCapture", "DcSupply", "ElectronicLoad",
           "LedAnalyser", "LedReading", "Role", "SafetyTester", "ShortCircuitCapture"]
