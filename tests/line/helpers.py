"""Station files for the line's tests: the simulated station with a test's own MES topic."""

from __future__ import annotations

import re
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def station_file(folder: Path, *, source: str = "sim.toml", broker: str = "127.0.0.1:1883",
                 slots: int | None = None, pace: float | None = None,
                 extra: str = "", replace: dict[str, str] | None = None) -> tuple[Path, str]:
    """A copy of ``stations/<source>`` with its own topic prefix (the broker is shared with
    other runs), optionally fewer slots, a paced clock; the path and the prefix."""
    text = (ROOT / "stations" / source).read_text(encoding="utf-8")
    prefix = f"vstation-test-{uuid.uuid4().hex[:10]}"
    text = re.sub(r'(?m)^broker = ".*"$', f'broker = "{broker}"', text)
    text = re.sub(r'(?m)^topic = ".*"$', f'topic = "{prefix}"', text)
    text = re.sub(r'(?m)^id = "(SIM-[A-Z0-9-]+)"$', lambda m: f'id = "{m.group(1)}-{prefix[-6:]}"',
                  text, count=1)
    if pace is not None:
        text = text.replace('description = "in-process simulated bench"',
                            f'description = "in-process simulated bench"\npace = {pace}')
    if slots is not None:
        head, *blocks = text.split("[[slots]]")
        text = head + "".join("[[slots]]" + b for b in blocks[:slots])
    for old, new in (replace or {}).items():
        assert old in text, old
        text = text.replace(old, new)
    path = folder / "station.toml"
    path.write_text(text + extra, encoding="utf-8")
    return path, prefix
