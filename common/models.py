"""The V-series models and their ratings (SPEC §1), keyed by the model id used everywhere."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ModelInfo:
    id: str              # the id in files and on the command line
    name: str            # the name on the label
    variant: str         # serial-number variant letter
    device_name: str     # RS485 0x51 / console `info`
    peak_max_a: float    # upper end of the 15 s tier
    breaker: bool        # 125 V / 125 A DC breaker on the front panel
    terminal: str
    weight_kg: float


MODELS: dict[str, ModelInfo] = {
    m.id: m
    for m in (
        ModelInfo("v5", "V5°", "S", "V5", 180.0, False, "PHOENIX M6 bolt", 44.0),
        ModelInfo("v5-alpha", "V5°α", "A", "V5A", 200.0, False, "Amphenol SurLok Plus 8.0 mm", 45.34),
        ModelInfo("v5-alpha-plus", "V5°α Plus", "P", "V5AP", 200.0, True, "Amphenol SurLok Plus 8.0 mm", 45.34),
    )
}

MANUFACTURER = "PYTES"
CELLS_IN_SERIES = 16
NOMINAL_CAPACITY_AH = 100.0
TEMPERATURE_SENSORS = ("bms_board", "cells_1_4", "cells_5_8", "cells_9_12", "cells_13_16", "mosfet")


class UnknownModelError(ValueError):
    """A model id that is not one of :data:`MODELS`."""


def get_model(model_id: str) -> ModelInfo:
    try:
        return MODELS[model_id]
    except KeyError:
        raise UnknownModelError(
            f"unknown model {model_id!r}; known models: {', '.join(MODELS)}"
        ) from None


def model_for_variant(letter: str) -> ModelInfo:
    for m in MODELS.values():
        if m.variant == letter:
            return m
    raise UnknownModelError(
        f"unknown variant letter {letter!r}; known: "
        + ", ".join(f"{m.variant} ({m.id})" for m in MODELS.values())
    )
