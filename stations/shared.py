"""Instruments the slots of one station share (the chamber): one slot drives it at a time.

A station file with ``slots`` and ``shared = ["chamber"]`` gives each slot its own station
file (``stations.slots``) that names the shared roles and the station they belong to
(``slot_of``). Opening such a slot wraps each shared role in :class:`SharedRole`: every
command first takes the role's inter-process lock (an ``flock`` on ``<lock folder>/
<station>.<role>.shared``, dropped by the kernel if the slot dies), so another slot waits at
that barrier until the owner's command is done; ``with station.chamber.held(): ...`` keeps
ownership across a whole phase (a soak). The holder is written into the lock file (who
owns the chamber now) and each command's begin and end are appended to
``<station>.<role>.log``: the evidence that no two slots drove it at once.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import re
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from fixtures.lock import lock_folder


def _safe(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]", "_", text)


def shared_paths(station_id: str, role: str, folder: Path | None = None) -> tuple[Path, Path]:
    """The lock file and the activity log of one shared role of one station."""
    base = (folder or lock_folder()) / f"{_safe(station_id)}.{_safe(role)}"
    return base.with_suffix(base.suffix + ".shared"), base.with_suffix(base.suffix + ".log")


class SharedInstrument:
    """The lock of one shared role; re-entrant within a process (a held phase)."""

    def __init__(self, station_id: str, role: str, slot: str, folder: Path | None = None) -> None:
        self.lock_path, self.log_path = shared_paths(station_id, role, folder)
        self.slot, self.role = slot, role
        self._depth = 0
        self._fd: int | None = None
        self._mutex = threading.RLock()

    @contextlib.contextmanager
    def held(self, what: str = "") -> Iterator[None]:
        with self._mutex:
            if self._depth == 0:
                fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT, 0o644)
                fcntl.flock(fd, fcntl.LOCK_EX)   # the barrier: wait for the owner to finish
                os.ftruncate(fd, 0)
                os.write(fd, json.dumps({"slot": self.slot, "pid": os.getpid(),
                                         "what": what}).encode())
                self._fd = fd
            self._depth += 1
            try:
                yield
            finally:
                self._depth -= 1
                if self._depth == 0 and self._fd is not None:
                    with contextlib.suppress(OSError):
                        os.ftruncate(self._fd, 0)
                    os.close(self._fd)
                    self._fd = None

    def log(self, event: str, what: str) -> None:
        line = json.dumps({"slot": self.slot, "pid": os.getpid(), "event": event,
                           "what": what}) + "\n"
        fd = os.open(self.log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        try:
            os.write(fd, line.encode())
        finally:
            os.close(fd)


class SharedRole:
    """A role whose public commands run under its :class:`SharedInstrument`; attributes
    and private helpers are the wrapped role's."""

    def __init__(self, inner: Any, shared: SharedInstrument) -> None:
        object.__setattr__(self, "_inner", inner)
        object.__setattr__(self, "_shared", shared)

    def held(self, what: str = "phase") -> Any:
        """Own the instrument for a whole phase (several commands, a soak)."""
        return self._shared.held(what)

    def __getattr__(self, name: str) -> Any:
        value = getattr(self._inner, name)
        if name.startswith("_") or not callable(value):
            return value
        shared = self._shared

        def owned(*args: Any, **kwargs: Any) -> Any:
            with shared.held(name):
                shared.log("begin", name)
                try:
                    return value(*args, **kwargs)
                finally:
                    shared.log("end", name)

        return owned

    def __setattr__(self, name: str, value: Any) -> None:
        setattr(self._inner, name, value)


def share_roles(station: Any) -> None:
    """Wrap the shared roles of a slot's station (no-op for a station that is no slot)."""
    config = station.config
    if not config.shared or config.slot_of is None:
        return
    for role in config.shared:
        if role in station.roles:
            shared = SharedInstrument(config.slot_of, role, config.id)
            station.roles[role] = SharedRole(station.roles[role], shared)


def overlaps(log_path: Path) -> list[str]:
    """Commands of two slots that overlapped in a shared role's log (none, if it works)."""
    problems: list[str] = []
    open_by: dict[int, dict[str, Any]] = {}
    for n, text in enumerate(log_path.read_text().splitlines(), 1):
        entry = json.loads(text)
        others = [e for pid, e in open_by.items() if pid != entry["pid"]]
        if entry["event"] == "begin":
            if others:
                problems.append(f"line {n}: slot {entry['slot']} began {entry['what']} while "
                                f"slot {others[0]['slot']} was in {others[0]['what']}")
            open_by[entry["pid"]] = entry
        else:
            open_by.pop(entry["pid"], None)
    return problems
