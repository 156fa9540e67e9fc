"""Instrument roles, vendor dialects, the safe envelope and the dialect registry."""

from drivers.instruments.daq_capture import DaqCapture
from drivers.instruments.envelope import Envelope
from drivers.instruments.errors import (
    CaptureRefused,
    EnvelopeViolation,
    InstrumentCommandError,
    InstrumentConnectionError,
    InstrumentError,
    InstrumentResponseError,
    RampRefused,
    UnknownDialectError,
)
from drivers.instruments.registry import DIALECTS, get_dialect, register
from drivers.instruments.roles import (
    ROLE_KEYS,
    Capture,
    Chamber,
    Daq,
    DcSupply,
    ElectronicLoad,
    LedAnalyser,
    LedReading,
    Role,
    SafetyTester,
)

__all__ = [
    "DIALECTS",
    "ROLE_KEYS",
    "Capture",
    "CaptureRefused",
    "Chamber",
    "Daq",
    "DaqCapture",
    "DcSupply",
    "ElectronicLoad",
    "Envelope",
    "EnvelopeViolation",
    "InstrumentCommandError",
    "InstrumentConnectionError",
    "InstrumentError",
    "InstrumentResponseError",
    "LedAnalyser",
    "LedReading",
    "RampRefused",
    "Role",
    "SafetyTester",
    "UnknownDialectError",
    "get_dialect",
    "register",
]
