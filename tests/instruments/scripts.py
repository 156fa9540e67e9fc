"""Small builders for protocol scripts (see :mod:`tests.instruments.protocol`)."""

from __future__ import annotations

from tests.instruments.protocol import NUM, Step

NO_ERROR = b'+0,"No error"\n'


def w(command: str, *, checked: bool = True) -> list[Step]:
    """A SCPI write (no answer), followed by its error-queue check when ``checked``."""
    steps: list[Step] = [((command + "\n").encode(), b"")]
    if checked:
        steps.append((b"SYST:ERR?\n", NO_ERROR))
    return steps


def q(command: str, reply: str, sim: bytes | None = None, *, term: str = "\n") -> list[Step]:
    """A query and its answer; ``sim`` is the regex the simulator's answer must match."""
    sent, answer = (command + term).encode(), (reply + term).encode()
    return [(sent, answer) if sim is None else (sent, answer, sim + term.encode())]


def num(command: str, reply: str, *, term: str = "\n") -> list[Step]:
    """A query answered by a live number."""
    return q(command, reply, NUM, term=term)
