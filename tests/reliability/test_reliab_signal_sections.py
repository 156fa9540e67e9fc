"""The terminate handler with real signals sent to this process (a fake exit): a signal
that lands inside an uninterrupted section (a store transaction) acts as the section ends;
one whose section hangs still aborts within the deferral."""

from __future__ import annotations

import os
import signal
import threading
import time

import pytest

from fixtures import signals
from fixtures.signals import TerminateHandler, uninterrupted


class _Exit(Exception):
    pass


def _handler(aborted: list[str], exits: list[int]) -> TerminateHandler:
    return TerminateHandler(lambda: aborted.append(threading.current_thread().name),
                            bound_s=2.0, exit=exits.append)


def _signal_self(sig: int = signal.SIGINT) -> None:
    os.kill(os.getpid(), sig)
    time.sleep(0.05)   # the handler runs on the main thread's next bytecode


def test_a_first_signal_inside_a_section_interrupts_after_it() -> None:
    aborted: list[str] = []
    exits: list[int] = []
    done: list[str] = []
    with _handler(aborted, exits), pytest.raises(KeyboardInterrupt, match="SIGTERM"), \
            uninterrupted():
        _signal_self(signal.SIGTERM)
        done.append("section ran to its end")
    assert done == ["section ran to its end"] and not aborted and not exits


def test_a_first_signal_outside_a_section_interrupts_at_once() -> None:
    done: list[str] = []
    with _handler([], []), pytest.raises(KeyboardInterrupt):
        _signal_self()
        done.append("went on")
    assert done == []


def test_a_second_signal_inside_a_section_aborts_after_it_not_in_it() -> None:
    aborted: list[str] = []
    exits: list[int] = []
    order: list[str] = []
    with _handler(aborted, exits) as handler:
        with pytest.raises(KeyboardInterrupt):
            _signal_self()
        with uninterrupted():
            _signal_self()
            order.append(f"section end, aborts so far {len(aborted)}")
        order.append("after the section")
    assert handler.signals == 2
    assert order == ["section end, aborts so far 0", "after the section"]
    assert aborted == ["abort-safe-state"] and exits == [signals.ABORT_EXIT_CODE]


def test_a_section_that_hangs_does_not_hold_the_abort(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(signals, "DEFER_S", 0.2)
    aborted: list[str] = []
    exits: list[int] = []
    with _handler(aborted, exits):
        with pytest.raises(KeyboardInterrupt):
            _signal_self()
        t0 = time.monotonic()
        with uninterrupted():
            _signal_self()
            while not exits and time.monotonic() - t0 < 5:   # a store waiting on a lock
                time.sleep(0.01)
            hung = time.monotonic() - t0
    assert exits == [signals.ABORT_EXIT_CODE] and len(aborted) == 1
    assert 0.2 <= hung < 2.0, hung   # the deferral, not the section, decided when


def test_a_section_on_another_thread_defers_nothing() -> None:
    """Only the main thread is frozen by a handler; another thread's section is plain."""
    depth: list[int] = []
    with _handler([], []) as handler:
        worker = threading.Thread(target=lambda: _enter_section(handler, depth))
        worker.start()
        worker.join()
    assert depth == [0]


def _enter_section(handler: TerminateHandler, depth: list[int]) -> None:
    with uninterrupted():
        depth.append(handler._sections)
