"""Station driver for the pack's RS485 port (Pylon v3.3, SPEC §6).

Works on any pyserial port: a pty, /dev/ttyUSB0, or a TCP gateway via
``serial_for_url("socket://host:port")``. Every response is checked (CHKSUM, LENGTH,
layout); an RTN becomes a named exception; a lost or corrupt answer is retried a bounded
number of times. Timeouts are wall time on the port; the unanswered part is also charged
on the station clock, so a simulated run costs what the floor would.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Protocol, TypeVar

import serial

from common import pylon_rs485 as pr
from common.clock import Clock
from drivers.instruments.transport import ChunkedPort, close_serial_port
from drivers.pack.errors import (
    ChecksumRejected,
    LengthChecksumRejected,
    Rs485Error,
    Rs485FrameError,
    Rs485Timeout,
    rtn_error,
)

log = logging.getLogger(__name__)
wire_log = logging.getLogger("station.wire")
T = TypeVar("T")

#: Longest answer of a stack of 16 (0x42 with FF, capacities in the u24 form: 16 blocks of
#: 63 bytes, hex-coded, plus the frame), bytes: an FF request waits its wire time too.
STACK_ANSWER_BYTES = 18 + 2 * (2 + 16 * 63)

__all__ = ["Rs485Client", "Rs485Error"]


class SerialPort(Protocol):
    timeout: float | None

    def write(self, data: bytes) -> int | None: ...
    def read_until(self, expected: bytes = ..., size: int | None = ...) -> bytes: ...
    def reset_input_buffer(self) -> None: ...
    def close(self) -> None: ...


class Rs485Client:
    """One pack on an RS485 bus. ``address`` is the pack's ADR (0x02 + 0x10·m + index)."""

    def __init__(self, port: SerialPort, clock: Clock, *, address: int = 0x02,
                 timeout: float = 0.5, retries: int = 2) -> None:
        if not 0 <= address <= 0xFF:
            raise ValueError(f"RS485 address {address!r} is not a byte")
        if retries < 0 or timeout <= 0:
            raise ValueError("retries must be >= 0 and timeout > 0")
        self.port, self.clock, self.address = port, clock, address
        self.timeout, self.retries = timeout, retries
        self.port.timeout = timeout
        self.transactions = 0
        self.retried = 0
        self._last_raw = b""

    @classmethod
    def open(cls, url: str, clock: Clock, *, baud: int = 9600, **kwargs: object) -> Rs485Client:
        """Open a device path or a pyserial URL (``socket://127.0.0.1:PORT``)."""
        try:
            port = serial.serial_for_url(url, baudrate=baud, timeout=0.5)
        except (serial.SerialException, ValueError) as exc:
            raise Rs485Error(f"cannot open RS485 port {url!r}: {exc}") from exc
        return cls(ChunkedPort(port), clock, **kwargs)  # type: ignore[arg-type]

    def close(self) -> None:
        close_serial_port(self.port)  # without pyserial's socket:// close wait

    def __enter__(self) -> Rs485Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- transactions ----------------------------------------------------------------------
    def transact(self, cid2: int, *, adr: int | None = None,
                 info_adr: int | None = None) -> pr.Frame:
        """Send one request and return the checked response frame (RTN 00). A request for
        the whole stack (INFO ``FF``) waits as long as the answer of 16 packs takes on the
        wire at the port's baud, on top of the timeout."""
        adr = self.address if adr is None else adr
        request = pr.encode_request(adr, cid2, info_adr)
        timeout = self.timeout
        if info_adr == pr.ALL_PACKS:
            timeout += STACK_ANSWER_BYTES * 10 / float(getattr(self.port, "baudrate", 9600) or 9600)
        last: Rs485Error | None = None
        for attempt in range(self.retries + 1):
            if attempt:
                self.retried += 1
                log.info("RS485 retry %d of %02X after: %s", attempt, cid2, last)
            try:
                return self._once(request, adr, timeout)
            except (Rs485Timeout, Rs485FrameError, ChecksumRejected,
                    LengthChecksumRejected) as exc:  # transmission faults: worth a retry
                last = exc
        assert last is not None
        raise last

    def _once(self, request: bytes, adr: int, timeout: float | None = None) -> pr.Frame:
        self.transactions += 1
        timeout = self.timeout if timeout is None else timeout
        t0 = self.clock.now()
        if self.port.timeout != timeout:     # setting it reconfigures a real port: only on change
            self.port.timeout = timeout
        try:
            self.port.reset_input_buffer()
            self.port.write(request)
            raw = received = self.port.read_until(b"\r")
            for _ in range(3):  # noise, or the adapter's echo of our request: read on
                if not raw.endswith(b"\r") or (b"~" in raw and not raw.endswith(request)):
                    break
                raw = self.port.read_until(b"\r")
                received += raw
        except (serial.SerialException, OSError) as exc:
            raise Rs485Error(f"RS485 port failed during {request!r}: {exc}") from exc
        self._last_raw = raw
        wire_log.debug("rs485 > %r  < %r", request, received)   # `station run --log-level debug`
        if not raw.endswith(b"\r"):
            remaining = timeout - (self.clock.now() - t0)
            if remaining > 0:
                self.clock.sleep(remaining)
            raise Rs485Timeout(
                f"no complete answer to {request.decode('ascii', 'replace').strip()} "
                f"within {timeout:g} s", received)
        try:
            frame = pr.decode_frame(raw)
        except pr.PylonFrameError as exc:
            raise Rs485FrameError(f"corrupt answer: {exc.reason}", raw) from None
        if frame.rtn != pr.RTN_OK:
            raise rtn_error(frame.rtn, f"pack refused {request.decode('ascii', 'replace').strip()}",
                            raw)
        if adr != 0 and frame.adr != adr:
            raise Rs485FrameError(f"answer from ADR {frame.adr:02X}, asked {adr:02X}", raw)
        return frame

    def _decode(self, frame: pr.Frame, decoder: Callable[[bytes], T]) -> T:
        try:
            return decoder(frame.info)
        except pr.PylonFrameError as exc:
            raise Rs485FrameError(f"bad INFO: {exc.reason}", self._last_raw) from None

    # -- the commands of §6 ----------------------------------------------------------------
    def protocol_version(self, *, adr: int = 0) -> int:
        """VER of the 0x4F answer (0x20); ADR 0 by default, as inverters ask."""
        return self.transact(pr.CID2_PROTOCOL_VERSION, adr=adr).ver

    def manufacturer_info(self, *, adr: int = 0) -> pr.ManufacturerInfo:
        frame = self.transact(pr.CID2_MANUFACTURER_INFO, adr=adr)
        return self._decode(frame, pr.decode_manufacturer_info)

    def analog_values(self, *, all_packs: bool = False) -> pr.AnalogValues:
        target = pr.ALL_PACKS if all_packs else self.address
        frame = self.transact(pr.CID2_ANALOG_VALUES, info_adr=target)
        return self._decode(frame, lambda b: pr.decode_analog_values(b, all_packs=all_packs))

    def alarm_info(self, *, all_packs: bool = False) -> pr.AlarmInfo:
        target = pr.ALL_PACKS if all_packs else self.address
        frame = self.transact(pr.CID2_ALARM_INFO, info_adr=target)
        return self._decode(frame, lambda b: pr.decode_alarm_info(b, all_packs=all_packs))

    def system_parameters(self) -> pr.SystemParameters:
        frame = self.transact(pr.CID2_SYSTEM_PARAMETERS, info_adr=self.address)
        return self._decode(frame, pr.decode_system_parameters)

    def management_info(self) -> pr.ManagementInfo:
        frame = self.transact(pr.CID2_MANAGEMENT_INFO, info_adr=self.address)
        return self._decode(frame, pr.decode_management_info)

    def serial_number(self) -> str:
        frame = self.transact(pr.CID2_SERIAL_NUMBER, info_adr=self.address)
        return self._decode(frame, pr.decode_serial_number).serial
