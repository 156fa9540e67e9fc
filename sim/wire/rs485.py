"""The pack's RS485 side (SPEC §6): turns request bytes into response bytes.

Transport-free: a transport feeds it received bytes and writes back what it returns, so
the same responder serves a pty, a TCP gateway and the benchmarks. Wire time is charged
by the transport (see :mod:`sim.wire.serve`), because only it knows the bytes in flight.

The port answers for the pack's whole stack (``sim.wire.link``): every address of it, each
with that member's values, and ``FF`` with one block per member, master first. A slave's
own port answers the same as the master's [A]; an address outside the stack is silence.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from common import pylon_rs485 as pr
from sim.pack.interface import BmsSnapshot, SimPackApi
from sim.wire.link import Stack, lone_stack

log = logging.getLogger(__name__)

MAX_FRAME_BYTES = 4096  # a longer run without CR is noise and is dropped
#: BMS states in which the board does not talk at all (no supply, or asleep).
SILENT_STATES = frozenset({"off", "sleep"})


def module_analog(s: BmsSnapshot) -> pr.ModuleAnalog:
    return pr.ModuleAnalog(
        cell_mv=tuple(s.cell_mv),
        temps_dc=tuple(s.temps_dc),
        current_da=round(s.current_ma / 100),
        voltage_mv=s.pack_mv,
        remaining_mah=s.remaining_mah,
        total_mah=s.full_mah,
        cycles=min(s.cycles, 0xFFFF),
    )


def _status1(p: frozenset[str]) -> int:
    bits = {0x80: ("pack_uv",), 0x40: ("chg_ot",), 0x20: ("dsg_ot",),
            0x10: ("dsg_oc", "short"), 0x04: ("chg_oc",), 0x02: ("cell_uv",),
            0x01: ("pack_ov",)}
    return sum(b for b, conds in bits.items() if any(c in p for c in conds))


def module_alarms(s: BmsSnapshot) -> pr.ModuleAlarms:
    both = s.alarms | s.protections

    def state(above: tuple[str, ...], below: tuple[str, ...]) -> str:
        if any(c in both for c in above):
            return "above"
        return "below" if any(c in both for c in below) else "normal"

    status2 = (0x08 if s.state == "on" else 0) | (0x04 if s.discharge_fet else 0) | (
        0x02 if s.charge_fet else 0)
    status3 = (0x80 if s.mode == "charging" else 0) | (0x40 if s.mode == "discharging" else 0) | (
        0x08 if s.fully_charged else 0)
    cell_bits = sum(1 << i for i, st in enumerate(s.cell_states[:16]) if st != "normal")
    return pr.ModuleAlarms(
        cell_states=tuple(s.cell_states),
        temp_states=tuple(s.temp_states),
        charge_current_state=state(("chg_oc",), ()),
        voltage_state=state(("pack_ov",), ("pack_uv",)),
        discharge_current_state=state(("dsg_oc", "short"), ()),
        status=(_status1(s.protections), status2, status3, cell_bits & 0xFF, cell_bits >> 8),
    )


def system_parameters(active: dict[str, int]) -> pr.SystemParameters:
    return pr.SystemParameters(
        cell_ov_alarm_mv=active["cell_ov_alarm_mv"],
        cell_uv_alarm_mv=active["cell_uv_alarm_mv"],
        cell_uv_prot_mv=active["cell_uv_prot_mv"],
        chg_ot_prot_dc=active["chg_ot_prot_dc"],
        chg_ut_prot_dc=active["chg_ut_prot_dc"],
        charge_current_limit_da=active["ccl_max_da"],
        pack_ov_alarm_mv=active["pack_ov_alarm_mv"],
        pack_uv_alarm_mv=active["pack_uv_alarm_mv"],
        pack_uv_prot_mv=active["pack_uv_prot_mv"],
        dsg_ot_prot_dc=active["dsg_ot_prot_dc"],
        dsg_ut_prot_dc=active["dsg_ut_prot_dc"],
        discharge_current_limit_da=active["dcl_max_da"],
    )


def management_info(adr: int, s: BmsSnapshot) -> pr.ManagementInfo:
    return pr.ManagementInfo(
        command=adr,
        charge_voltage_mv=s.cvl_mv,
        discharge_voltage_mv=s.dvl_mv,
        charge_current_da=s.charge_limit_da,
        discharge_current_da=-s.discharge_limit_da,
        charge_enable=s.charge_fet,
        discharge_enable=s.discharge_fet,
        force_charge_1=s.force_charge_1,
        force_charge_2=s.force_charge_2,
        full_charge_request=s.full_charge_request,
    )


def _version_pair(text: str) -> tuple[int, int]:
    parts = [*text.split("."), "0", "0"][:2]
    try:
        return int(parts[0]) & 0xFF, int(parts[1]) & 0xFF
    except ValueError:
        return 0, 0


class Rs485Responder:
    """Answers Pylon RS485 requests for one pack's port, on behalf of its stack."""

    def __init__(self, pack: SimPackApi, stack: Callable[[], Stack] | None = None) -> None:
        """``stack``: the pack's stack now (``Cabling.stack``); default a stack of one."""
        self.pack = pack
        self._stack = stack if stack is not None else (lambda: lone_stack(pack))
        self._buf = bytearray()
        self.ignored = 0       # frames dropped without answer (noise, foreign address)
        self.rejected = 0      # frames answered with an RTN other than 00
        self.answered = 0

    # -- byte stream ---------------------------------------------------------------------
    def feed(self, data: bytes) -> list[tuple[bytes, bytes]]:
        """Consume received bytes; return (request, response) for each complete frame that
        gets an answer. Bytes before ``~`` and frames without ``~`` are dropped."""
        out: list[tuple[bytes, bytes]] = []
        self._buf += data
        while True:
            cr = self._buf.find(b"\r")
            if cr < 0:
                if len(self._buf) > MAX_FRAME_BYTES:
                    self._buf.clear()
                    self.ignored += 1
                break
            chunk = bytes(self._buf[:cr + 1])
            del self._buf[:cr + 1]
            start = chunk.rfind(b"~")
            if start < 0:
                self.ignored += 1
                continue
            request = chunk[start:]
            response = self.handle(request[1:-1])
            if response is not None:
                out.append((request, response))
        return out

    # -- one frame -----------------------------------------------------------------------
    def handle(self, body: bytes) -> bytes | None:
        """Response to one request body (between ``~`` and CR), or None for silence."""
        stack = self._stack()
        own = stack.own_address

        def accepts(adr: int, cid2: int) -> bool:
            return adr in stack.addresses or (adr == 0 and cid2 in pr.ADR0_COMMANDS)

        try:
            req = pr.parse_request(body, accepts)
        except pr.RequestRejected as rej:
            if self.pack.bms.snapshot().state in SILENT_STATES:
                self.ignored += 1
                return None
            self.rejected += 1
            log.debug("RS485 request %r rejected: %s", body, rej)
            return pr.encode_response(rej.adr if rej.adr in stack.addresses else own, rej.rtn)
        if req is None:
            self.ignored += 1
            return None
        snap = self.pack.bms.snapshot()
        if snap.state in SILENT_STATES:
            self.ignored += 1
            return None
        adr = own if req.adr == 0 else req.adr
        try:
            info = self._info(req, adr, stack)
        except Exception:  # a model fault must not kill the port: answer 91 like a real BMS
            log.exception("RS485: internal error answering %r", body)
            self.rejected += 1
            return pr.encode_response(adr, pr.RTN_INTERNAL)
        self.answered += 1
        return pr.encode_response(adr, pr.RTN_OK, info)

    def _info(self, req: pr.Request, adr: int, stack: Stack) -> bytes:
        cid2 = req.cid2
        member: Any = stack.member(adr)
        if cid2 == pr.CID2_PROTOCOL_VERSION:
            return b""
        ident = member.identity
        if cid2 == pr.CID2_MANUFACTURER_INFO:
            return pr.encode_manufacturer_info(pr.ManufacturerInfo(
                ident.device_name, _version_pair(ident.fw_main), ident.manufacturer))
        if cid2 == pr.CID2_SERIAL_NUMBER:
            return pr.encode_serial_number(pr.SerialNumberInfo(adr, ident.serial))
        if cid2 == pr.CID2_SYSTEM_PARAMETERS:
            return pr.encode_system_parameters(system_parameters(member.bms.active_parameters()))
        if req.target == pr.ALL_PACKS:
            snaps = [m.bms.snapshot() for m in stack.members]
            if cid2 == pr.CID2_ANALOG_VALUES:
                return pr.encode_analog_values(pr.AnalogValues(
                    stack.count, tuple(module_analog(x) for x in snaps)))
            if cid2 == pr.CID2_ALARM_INFO:
                return pr.encode_alarm_info(pr.AlarmInfo(
                    stack.count, tuple(module_alarms(x) for x in snaps)))
        snap = member.bms.snapshot()
        if cid2 == pr.CID2_ANALOG_VALUES:
            return pr.encode_analog_values(pr.AnalogValues(adr, (module_analog(snap),)))
        if cid2 == pr.CID2_ALARM_INFO:
            return pr.encode_alarm_info(pr.AlarmInfo(adr, (module_alarms(snap),)))
        if cid2 == pr.CID2_MANAGEMENT_INFO:
            return pr.encode_management_info(management_info(adr, snap))
        raise AssertionError(f"CID2 {cid2:02X} passed parse_request but has no handler")
