"""Random and mutated input on every parser and every pack-side session: nothing crashes."""

from __future__ import annotations

import contextlib

import can
from hypothesis import given, settings
from hypothesis import strategies as st

from common import pylon_rs485 as pr
from drivers.pack import console_parse as cp
from drivers.pack.can_monitor import CanMonitor
from drivers.pack.errors import ConsoleError
from sim.wire.console import Console
from sim.wire.rs485 import Rs485Responder
from sim.wire.socketcand import parse_send
from tests.wire.fake_pack import FakePack

PACK = FakePack()
VALID = [pr.encode_request(2, cid2, 2 if cid2 in pr.ADDRESSED_COMMANDS else None)
         for cid2 in pr.COMMANDS]


@given(st.binary(max_size=400))
def test_rs485_responder_on_random_bytes(data: bytes) -> None:
    r = Rs485Responder(PACK)  # type: ignore[arg-type]
    for req, resp in r.feed(data):
        frame = pr.decode_frame(resp)      # whatever it answers is a valid frame
        assert frame.adr == 2 and req.startswith(b"~")


@given(st.sampled_from(VALID), st.integers(0, 40), st.integers(0, 255))
def test_rs485_responder_on_mutated_requests(req: bytes, pos: int, byte: int) -> None:
    raw = bytearray(req)
    raw[min(pos, len(raw) - 1)] = byte
    r = Rs485Responder(PACK)  # type: ignore[arg-type]
    answers = r.feed(bytes(raw) + b"\r")
    assert len(answers) <= 1
    for _, resp in answers:
        frame = pr.decode_frame(resp)
        assert frame.rtn in pr.RTN_NAMES
    assert r.answered + r.rejected + r.ignored >= 1


@settings(max_examples=60)
@given(st.binary(max_size=200))
def test_console_on_random_bytes(data: bytes) -> None:
    c = Console(PACK)  # type: ignore[arg-type]
    out = c.feed(data)
    lines = data.count(b"\r") + data.count(b"\n")
    if lines:
        assert out.endswith(b"PYTES>") or out.endswith(b"PYTES_debug>")
    PACK.bms.logout()


_PARSERS = (cp.parse_info, cp.parse_pwr, cp.parse_pwr_detail, cp.parse_bat, cp.parse_soh,
            cp.parse_stat, cp.parse_log, cp.parse_time, cp.parse_crc)


@given(st.lists(st.text(max_size=80), max_size=20))
def test_console_parsers_on_random_lines(lines: list[str]) -> None:
    for parse in _PARSERS:
        with contextlib.suppress(ConsoleError):
            parse(tuple(lines))


@given(st.binary(max_size=300))
def test_split_reply_on_random_bytes(raw: bytes) -> None:
    try:
        cp.split_reply("pwr", raw + b"PYTES>", b"PYTES>")
    except ConsoleError as exc:
        assert exc.raw == raw + b"PYTES>"


def _sample_body(cmd: str) -> tuple[str, ...]:
    out = Console(PACK).feed(cmd.encode() + b"\r")  # type: ignore[arg-type]
    return cp.split_reply(cmd, out, b"PYTES>").body


@given(st.sampled_from(["info", "pwr", "pwr 1", "bat 1", "soh", "stat", "log", "time"]),
       st.data())
def test_console_parsers_on_mutated_real_replies(cmd: str, data: st.DataObject) -> None:
    body = list(_sample_body(cmd))
    i = data.draw(st.integers(0, len(body) - 1))
    line = body[i]
    j = data.draw(st.integers(0, max(0, len(line) - 1)))
    body[i] = line[:j] + data.draw(st.text(max_size=3)) + line[j + 1:]
    parser = {"info": cp.parse_info, "pwr": cp.parse_pwr, "pwr 1": cp.parse_pwr_detail,
              "bat 1": cp.parse_bat, "soh": cp.parse_soh, "stat": cp.parse_stat,
              "log": cp.parse_log, "time": cp.parse_time}[cmd]
    with contextlib.suppress(ConsoleError):
        parser(tuple(body))


@given(st.integers(0, 0x7FF), st.binary(max_size=8), st.booleans())
def test_can_monitor_on_random_frames(fid: int, data: bytes, ext: bool) -> None:
    mon = CanMonitor(can.Bus(interface="virtual", channel="bad-input-none"), PACK.clock)
    try:
        mon.handle(can.Message(arbitration_id=fid, data=data, is_extended_id=ext, timestamp=1.0))
        rx = mon.rx
        assert rx.frames == 1 and rx.unknown_id + rx.wrong_dlc + sum(
            s.count for s in mon.stats.values()) == 1
    finally:
        mon.bus.shutdown()


@given(st.text(max_size=60))
def test_socketcand_parser_on_random_text(text: str) -> None:
    msg = parse_send(text)
    assert msg is None or len(msg.data) <= 8


class _Port:
    """A scripted serial port: every read returns the next chunk, then nothing."""

    def __init__(self, chunks: list[bytes]) -> None:
        self.chunks, self.timeout, self.in_waiting = chunks, 0.1, 0

    def write(self, data: bytes) -> int:
        return len(data)

    def read_until(self, expected: bytes = b"\r", size: int | None = None) -> bytes:
        return self.chunks.pop(0) if self.chunks else b""

    def read(self, size: int = 1) -> bytes:
        return self.chunks.pop(0) if self.chunks else b""

    def reset_input_buffer(self) -> None: ...
    def close(self) -> None: ...


@given(st.binary(max_size=200), st.sampled_from(sorted(pr.COMMANDS)))
def test_rs485_driver_raises_its_named_error_with_the_raw_bytes(junk: bytes, cid2: int) -> None:
    from drivers.pack.errors import Rs485Error
    from drivers.pack.rs485 import Rs485Client

    answer = junk + b"\r"
    client = Rs485Client(_Port([answer]), PACK.clock, retries=0)  # type: ignore[arg-type]
    try:
        client.transact(cid2, info_adr=2)
    except Rs485Error as exc:
        assert exc.raw and exc.raw in answer      # the bytes at fault, in the message too
        assert repr(exc.raw) in str(exc)


@given(st.binary(max_size=200))
def test_console_driver_raises_its_named_error_on_garbage(junk: bytes) -> None:
    from drivers.pack.console import ConsoleClient

    reply = junk + b"PYTES>"
    client = ConsoleClient(_Port([reply]), PACK.clock)  # type: ignore[arg-type]
    try:
        client.info()
    except ConsoleError as exc:
        assert exc.raw == reply and repr(reply) in str(exc)
