"""ChunkedPort: pyserial's ``read_until`` answers, read in chunks, over a real pty and a
real ``socket://`` port (the two kinds a station's serial links are)."""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import serial

from drivers.instruments.transport import ChunkedPort


class _Counter:
    """Counts the raw port's reads (its ``read`` replaced on the instance: the port keeps
    its type, which ChunkedPort looks at)."""

    def __init__(self, raw: Any) -> None:
        self.reads, real = 0, raw.read

        def read(size: int = 1) -> bytes:
            self.reads += 1
            data: bytes = real(size)
            return data

        raw.read = read


@pytest.fixture(params=["pty", "socket"])
def link(request: pytest.FixtureRequest) -> Iterator[tuple[ChunkedPort, _Counter,
                                                           Callable[[bytes], None]]]:
    """(the chunked port, its counted raw port, send bytes from the other end)."""
    if request.param == "pty":
        master, slave = os.openpty()
        raw = serial.Serial(os.ttyname(slave), timeout=0.3)
        os.close(slave)

        def send(data: bytes) -> None:
            os.write(master, data)

        closers: list[Callable[[], None]] = [lambda: os.close(master)]
    else:
        server = socket.create_server(("127.0.0.1", 0))
        port_no = server.getsockname()[1]
        accepted: list[socket.socket] = []
        t = threading.Thread(target=lambda: accepted.append(server.accept()[0]))
        t.start()
        raw = serial.serial_for_url(f"socket://127.0.0.1:{port_no}", timeout=0.3)
        t.join(5)
        peer = accepted[0]
        send = peer.sendall
        closers = [peer.close, server.close]
    counted = _Counter(raw)
    port = ChunkedPort(raw)
    time.sleep(0.05)   # the pty settles (its line discipline set by pyserial)
    yield port, counted, send
    raw.close()
    for close in closers:
        close()


def _settled(port: ChunkedPort, n: int) -> None:
    """Wait (test side) until ``n`` bytes have arrived at the port."""
    for _ in range(200):
        if port.raw.in_waiting >= min(n, 1):
            time.sleep(0.02)
            return
        time.sleep(0.005)


def test_an_answer_is_read_in_a_few_reads_not_one_per_byte(link: Any) -> None:
    port, counted, send = link
    answer = b"~" + b"20024A00" * 40 + b"\r"
    send(answer)
    _settled(port, len(answer))
    assert port.read_until(b"\r") == answer
    assert counted.reads <= 4, counted.reads   # pyserial's own read_until: one per byte


def test_what_follows_the_terminator_waits_for_the_next_read(link: Any) -> None:
    port, _, send = link
    send(b"ECHO\rANSWER\r")
    _settled(port, 12)
    assert port.read_until(b"\r") == b"ECHO\r"
    assert port.read_until(b"\r") == b"ANSWER\r"


def test_an_answer_split_across_writes_is_read_whole(link: Any) -> None:
    port, _, send = link
    threading.Timer(0.05, lambda: send(b"+1.25")).start()
    threading.Timer(0.12, lambda: send(b"0E+0\n")).start()
    assert port.read_until(b"\n") == b"+1.250E+0\n"


def test_reset_drops_what_was_left_and_a_silent_port_times_out(link: Any) -> None:
    port, _, send = link
    send(b"OLD\rSTALE")
    _settled(port, 9)
    assert port.read_until(b"\r") == b"OLD\r"
    port.reset_input_buffer()
    started = time.monotonic()
    assert port.read_until(b"\r") == b""            # nothing new: the port's timeout
    assert 0.25 <= time.monotonic() - started < 2.0
    send(b"PART")
    _settled(port, 4)
    assert port.read_until(b"\r") == b"PART"         # no terminator within the timeout
