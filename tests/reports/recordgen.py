"""Realistic records for the reports tests: a population of packs, some off-spec.

Nothing here hides the expected answers: each generated record says in plain data which
measurements failed, and the tests derive yield and Pareto from that input themselves.
"""

from __future__ import annotations

import random
import uuid
from datetime import UTC, date, datetime, timedelta

from common.serial_number import check_character
from reports.record import (
    Failure,
    Firmware,
    Instrument,
    Limit,
    LimitsInfo,
    Measurement,
    Record,
    StationInfo,
)

EPOCH = datetime(2026, 1, 5, 8, 0, 0, tzinfo=UTC)

#: (name, step, unit, limit, critical, nominal, sigma): a slice of the EOL plan of SPEC §8.
DECLARED: list[tuple[str, str, str, Limit, bool, float | str | bool, float]] = [
    ("ground_continuity", "safety", "Ω", Limit(high=0.1, comparison="le").guarded(0.0035), True, 0.03, 0.01),
    ("insulation", "safety", "MΩ", Limit(low=10.0, comparison="ge"), True, 200.0, 30.0),
    ("polarity_voltage", "polarity", "V", Limit(low=45.0, high=58.0, comparison="range"), True, 52.5, 0.3),
    ("serial_rs485", "identity", "", Limit(pattern=r"^PV5[SAP]\d{11}[0-9A-Z]$", comparison="regex"), True, "S", 0.0),
    ("firmware_main", "identity", "", Limit(comparison="in", allowed=["V1.2.0", "V1.2.1"]), False, "V1.2.1", 0.0),
    ("param_crc_match", "identity", "", Limit(expect=True, comparison="eq"), False, True, 0.0),
    ("ocv", "ocv", "V", Limit(low=51.5, high=53.6, comparison="range").guarded(0.0032), False, 52.5, 0.25),
    ("cell_spread", "ocv", "mV", Limit(high=30.0, comparison="le"), False, 8.0, 3.0),
    ("bms_pack_voltage_error", "accuracy", "V", Limit(low=-0.25, high=0.25, comparison="range"), False, 0.0, 0.05),
    ("bms_current_error_0a", "accuracy", "A", Limit(low=-0.3, high=0.3, comparison="range"), False, 0.0, 0.06),
    ("dc_resistance", "pulses", "mΩ", Limit(high=25.0, comparison="le"), False, 14.0, 1.5),
    ("tier_15s_time", "current_protection", "s", Limit(low=15.0, high=16.5, comparison="range").guarded(0.0084), False, 15.75, 0.1),
    ("fast_trip_time", "current_protection", "ms", Limit(high=300.0, comparison="le"), False, 150.0, 10.0),
    ("shipping_soc", "final", "%", Limit(low=40.0, high=60.0, comparison="range"), False, 50.0, 2.0),
]
NAMES = [d[0] for d in DECLARED]

#: Off-spec values that fail the named measurement.
BAD: dict[str, float | str | bool] = {
    "ground_continuity": 0.4,
    "insulation": 2.0,
    "polarity_voltage": -52.0,
    "serial_rs485": "PV5S2601000000XX",
    "firmware_main": "V1.1.9",
    "param_crc_match": False,
    "ocv": 50.9,
    "cell_spread": 45.0,
    "bms_pack_voltage_error": 0.4,
    "bms_current_error_0a": -0.5,
    "dc_resistance": 31.0,
    "tier_15s_time": 17.2,
    "fast_trip_time": 420.0,
    "shipping_soc": 71.0,
}


def make_serial(seq: int, variant: str = "S") -> str:
    body = f"PV5{variant}2601{seq:07d}"
    return body + check_character(body)


def _passes(limit: Limit, value: object) -> bool:
    """The generated value passes its limit (guard band included, as the station judges)."""
    return limit.judge(value)[0] == "PASS"  # type: ignore[arg-type]


def make_record(
    serial: str,
    *,
    fail: str | None = None,
    error: str | None = None,
    station: str = "eol-1",
    started: datetime = EPOCH,
    rng: random.Random | None = None,
    model: str = "v5",
    verdict_override: str | None = None,
) -> Record:
    """A finished EOL record of ``serial``; ``fail`` makes that measurement FAIL.

    A critical failure stops the plan: the measurements after it are NOT_RUN.
    """
    rng = rng or random.Random(serial)
    ms: list[Measurement] = []
    stopped = False
    t = 0.0
    for name, step, unit, limit, critical, nominal, sigma in DECLARED:
        t += 3.0
        taken = started + timedelta(seconds=t)
        if stopped:
            ms.append(Measurement(name=name, step=step, unit=unit, limit=limit, critical=critical,
                                  outcome="NOT_RUN"))
            continue
        if name == error:
            ms.append(Measurement(name=name, step=step, unit=unit, limit=limit, critical=critical,
                                  outcome="ERROR", message="instrument did not answer", t=t,
                                  taken_at=taken))
            stopped = True
            continue
        if name == fail:
            value = BAD[name]
        elif name == "serial_rs485":
            value = serial
        elif isinstance(nominal, float):
            value = round(rng.gauss(nominal, sigma), 4)
            low = next((x for x in (limit.accept_low, limit.low) if x is not None), float("-inf"))
            high = next((x for x in (limit.accept_high, limit.high) if x is not None), float("inf"))
            value = min(max(value, low + 0.2 * sigma), high - 0.2 * sigma)
        else:
            value = nominal
        outcome = "PASS" if _passes(limit, value) else "FAIL"
        assert (outcome == "FAIL") == (name == fail), (name, value)
        ms.append(Measurement(name=name, step=step, unit=unit, limit=limit, critical=critical,
                              outcome=outcome, value=value, t=t, taken_at=taken,
                              message="" if outcome == "PASS" else "outside limits",
                              description=f"{name} per SPEC §8"))
        if outcome == "FAIL" and critical:
            stopped = True
    first = next((m for m in ms if m.outcome in ("FAIL", "ERROR")), None)
    if error:
        verdict = "ERROR"
        failure = Failure(kind="error", step=first.step, measurement=first.name, message=first.message)
    elif first is not None:
        verdict = "FAIL"
        failure = Failure(kind="measurement", step=first.step, measurement=first.name,
                          message=f"{first.name} = {first.value} outside {first.limit.text()}")
    else:
        verdict, failure = "PASS", None
    if verdict_override is not None:
        verdict = verdict_override
        failure = Failure(kind="abort", message="operator stop")
    duration = t + 5.0
    return Record(
        run_id=uuid.UUID(int=rng.getrandbits(128), version=4).hex,
        serial=serial, model=model, plan="eol", verdict=verdict, started_at=started,
        finished_at=started + timedelta(seconds=duration), duration_s=duration,
        wall_duration_s=round(rng.uniform(1.0, 2.5), 3), operator="A. Tester",
        software_version="0.1.0",
        station=StationInfo(id=station, line="line-A", file=f"stations/{station}.toml", simulated=True),
        instruments=[
            Instrument(role="load", dialect="sim-load", resource="TCPIP0::127.0.0.1::40001::SOCKET",
                       idn="SIMLAB,EL-600,LD1001,1.0", serial="LD1001", calibration_due=date(2026, 9, 30)),
            Instrument(role="daq", dialect="sim-daq", resource="TCPIP0::127.0.0.1::40002::SOCKET",
                       idn="SIMLAB,DAQ-16,DQ2002,2.1", serial="DQ2002", calibration_due=date(2026, 6, 1)),
        ],
        firmware=Firmware(main="V1.2.1", boot="B0.9", bms_board="HW-C"),
        limits=LimitsInfo(file="testplans/limits/v5.toml", version="2026.1", sha256="ab" * 32),
        work_order={"dip": 1, "heater": False},
        measurements=ms, failure=failure,
    )
