"""The pack's RS232 console (SPEC §7): Pylontech-style commands and the test mode.

Transport-free like the RS485 responder: ``feed(bytes) -> bytes``. Each command line is
echoed, then ``@``, the body, ``Command completed successfully`` (or the error line),
``$$`` and the prompt. The exact formats are in docs/protocols.md; the station's parser
in drivers/pack/console_parse.py reads exactly these.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from common.models import CELLS_IN_SERIES, NOMINAL_CAPACITY_AH
from sim.pack.interface import BmsSnapshot, InvalidValue, NotInTestMode, SimPackApi
from sim.wire.link import Stack, lone_stack
from sim.wire.rs485 import SILENT_STATES

log = logging.getLogger(__name__)

PROMPT = b"PYTES>"
DEBUG_PROMPT = b"PYTES_debug>"
OK_LINE = "Command completed successfully"
MAX_LINE = 256
TIME_FORMAT = "%Y-%m-%d %H:%M:%S"
#: Entries per page of `log` (`log P` prints page P) [A].
LOG_PAGE = 20
#: SOHCount from which `soh N` says a cell is Abnormal [A].
SOH_ABNORMAL_COUNT = 5

HELP = (
    ("help", "this list"),
    ("info", "device information"),
    ("pwr [N]", "pack values (all packs, or pack N in detail)"),
    ("bat [N]", "cell values of pack N"),
    ("soh [N]", "state of health (of each cell of pack N)"),
    ("stat", "lifetime counters"),
    ("log [P|clear]", "event log (page P)"),
    ("data event", "the latest stored event with its cells"),
    ("time [YYYY-MM-DD hh:mm:ss]", "read or set the clock"),
    ("login debug", "enter debug mode"),
)
DEBUG_HELP = (
    ("tmode on|off", "test mode"),
    ("relay N on|off", "force dry contact N (2, 3, 4)"),
    ("led test", "each LED alone for 0.5 s"),
    ("heater on|off", "force the heater"),
    ("setthr NAME VALUE", "temporary parameter change"),
    ("clrthr", "restore the stored parameter set"),
    ("crc", "CRC-32 of the stored and active parameter set"),
    ("unlock", "clear a system lock"),
    ("logout", "leave debug mode"),
)


def _row(values: tuple[str, ...], widths: tuple[int, ...]) -> str:
    """Fixed-width columns that never touch, even when a value overflows its width."""
    return " ".join(f"{v:<{w}}" for v, w in zip(values, widths, strict=True)).rstrip()


class CommandError(Exception):
    """A command the console refuses; the message is the line it prints."""


def _onoff(word: str) -> bool:
    if word not in ("on", "off"):
        raise CommandError(f"Invalid value: expected on|off, got '{word}'")
    return word == "on"


def base_state(s: BmsSnapshot) -> str:
    if s.state != "on":
        return {"off": "Off", "sleep": "Sleep", "latched": "Latched"}.get(s.state, s.state)
    if s.protections:
        return "Protect"
    return {"charging": "Charge", "discharging": "Dischg"}.get(s.mode, "Idle")


def _level(s: BmsSnapshot, over: tuple[str, ...], under: tuple[str, ...],
           words: tuple[str, str, str, str]) -> str:
    """words = (over-protection, under-protection, high alarm, low alarm)."""
    for conds, i in ((over, 0), (under, 1)):
        if any(c in s.protections for c in conds):
            return words[i]
    for conds, i in ((over, 2), (under, 3)):
        if any(c in s.alarms for c in conds):
            return words[i]
    return "Normal"


def volt_state(s: BmsSnapshot) -> str:
    return _level(s, ("cell_ov", "pack_ov"), ("cell_uv", "pack_uv"),
                  ("OverVolt", "UnderVolt", "HighVolt", "LowVolt"))


def curr_state(s: BmsSnapshot) -> str:
    return _level(s, ("dsg_oc", "short"), ("chg_oc",), ("DsgOC", "ChgOC", "DsgHigh", "ChgHigh"))


def temp_state(s: BmsSnapshot) -> str:
    return _level(s, ("chg_ot", "dsg_ot", "board_ot"), ("chg_ut", "dsg_ut"),
                  ("OverTemp", "UnderTemp", "HighTemp", "LowTemp"))


_CELL_WORDS = {"normal": "Normal", "below": "Low", "above": "High"}


class Console:
    """One console session of one pack."""

    def __init__(self, pack: SimPackApi, stack: Callable[[], Stack] | None = None) -> None:
        """``stack``: the pack's stack now (``sim.wire.link``), for the address ``info``
        prints; default a stack of one (the DIP's address)."""
        self.pack = pack
        self._stack = stack if stack is not None else (lambda: lone_stack(pack))
        self._line = bytearray()
        self._last_cr = False
        self.commands: dict[str, Callable[[list[str]], list[str]]] = {
            "help": self._help, "info": self._info, "pwr": self._pwr, "bat": self._bat,
            "soh": self._soh, "stat": self._stat, "log": self._log, "time": self._time,
            "login": self._login, "logout": self._logout, "tmode": self._tmode,
            "relay": self._relay, "led": self._led, "heater": self._heater,
            "setthr": self._setthr, "clrthr": self._clrthr, "crc": self._crc,
            "unlock": self._unlock,
            "data": self._data,
        }

    @property
    def prompt(self) -> bytes:
        return DEBUG_PROMPT if self.pack.bms.debug else PROMPT

    # -- byte stream ---------------------------------------------------------------------
    def feed(self, data: bytes) -> bytes:
        """Consume received bytes; return everything the pack writes back."""
        out = bytearray()
        for b in data:
            if b in (0x0D, 0x0A):
                if b == 0x0A and self._last_cr:   # CRLF is one line end
                    self._last_cr = False
                    continue
                self._last_cr = b == 0x0D
                line = self._line.decode("ascii", "replace")
                self._line.clear()
                out += self.execute(line)
                continue
            self._last_cr = False
            if b in (0x08, 0x7F):
                if self._line:
                    self._line.pop()
                continue
            if len(self._line) < MAX_LINE:
                self._line.append(b)
        return bytes(out)

    def execute(self, line: str) -> bytes:
        """Echo, ``@``, body, completion line, ``$$``, prompt (nothing while the BMS is off)."""
        bms = self.pack.bms
        if bms.snapshot().state in SILENT_STATES:
            return b""
        bms.console_activity()
        text = line.strip()
        echo = line.rstrip() + "\r\n"
        if not text:
            return echo.encode("ascii", "replace") + self.prompt
        words = text.split()
        handler = self.commands.get(words[0].lower())
        try:
            if handler is None:
                raise CommandError(f"Unknown command '{words[0]}'. Type 'help'.")
            body = handler([w for w in words[1:]])
            tail = [OK_LINE]
        except CommandError as exc:
            body, tail = [str(exc)], []
        except InvalidValue as exc:
            body, tail = [f"Invalid value: {exc}" if str(exc) else "Invalid value"], []
        except NotInTestMode as exc:
            body, tail = [f"Not in test mode: {exc}" if str(exc) else "Not in test mode"], []
        except Exception:  # a model fault must not kill the console
            log.exception("console: internal error on %r", text)
            body, tail = ["Internal error"], []
        lines = [echo.rstrip("\r\n"), "@", *body, *tail, "$$", ""]
        return "\r\n".join(lines).encode("ascii", "replace") + self.prompt

    # -- helpers ---------------------------------------------------------------------------
    def _calendar(self, t: float) -> datetime:
        """Pack calendar time of virtual time ``t``, to the nearest second (as the pack
        stores it: a later read prints the same time for the same event)."""
        when = self.pack.bms.pack_time() - timedelta(seconds=self.pack.clock.now() - t)
        return (when + timedelta(microseconds=500_000)).replace(microsecond=0)

    @staticmethod
    def _pack_index(args: list[str]) -> int:
        if len(args) != 1 or not args[0].isdigit():
            raise CommandError("Invalid value: expected a pack number")
        n = int(args[0])
        if n != 1:
            raise CommandError(f"Invalid value: pack {n} is absent (stack of 1)")
        return n

    # -- commands --------------------------------------------------------------------------
    def _help(self, args: list[str]) -> list[str]:
        rows = HELP + (DEBUG_HELP if self.pack.bms.debug else ())
        return [f"{cmd:<28}{what}" for cmd, what in rows]

    def _info(self, args: list[str]) -> list[str]:
        i = self.pack.identity
        address = self._stack().own_address   # a slave's is the master's + its index
        dip = "".join("1" if i.dip >> b & 1 else "0" for b in range(4))
        rows = (
            ("Device address", str(address)),
            ("Manufacturer", i.manufacturer),
            ("Device name", i.device_name),
            ("Specification", f"51.2V/{NOMINAL_CAPACITY_AH:.0f}AH"),
            ("Cell number", str(CELLS_IN_SERIES)),
            ("Board version", i.fw_bms_board),
            ("Boot version", i.fw_boot),
            ("Main Soft version", i.fw_main),
            ("Barcode", i.serial),
            ("DIP setting", f"{dip} (bit1..bit4)"),
            ("Address", f"0x{address:02X}"),
            ("RS485 baud", str(i.rs485_baud)),
            ("Protocol", "Pylon CAN / Pylon RS485 v3.3"),
        )
        return [f"{k:<20}: {v}" for k, v in rows]

    def _pwr(self, args: list[str]) -> list[str]:
        s = self.pack.bms.snapshot()
        if args:
            self._pack_index(args)
            return self._pwr_detail(s)
        head = ("Power", "Volt", "Curr", "Tempr", "Tlow", "Thigh", "Vlow", "Vhigh", "Base.St",
                "Volt.St", "Curr.St", "Temp.St", "Coulomb", "Time", "", "Barcode")
        cells = s.temps_dc[1:5] or s.temps_dc
        row = ("1", str(s.pack_mv), str(s.current_ma), str(max(cells) * 100),
               str(min(cells) * 100), str(max(cells) * 100), str(min(s.cell_mv)),
               str(max(s.cell_mv)), base_state(s), volt_state(s), curr_state(s), temp_state(s),
               f"{round(s.soc_pct)}%",
               *self._calendar(s.t).strftime(TIME_FORMAT).split(" "),
               self.pack.identity.serial)
        widths = (5, 6, 7, 6, 6, 6, 5, 5, 8, 9, 7, 9, 7, 10, 8, 16)
        return [_row(head, widths), _row(row, widths)]

    def _pwr_detail(self, s: BmsSnapshot) -> list[str]:
        cells = s.temps_dc[1:5] or s.temps_dc
        rows = (
            ("Voltage", f"{s.pack_mv} mV"), ("Current", f"{s.current_ma} mA"),
            ("Temperature", f"{max(cells) * 100} mC"),
            ("Board temperature", f"{s.temps_dc[0] * 100} mC"),
            ("MOSFET temperature", f"{s.temps_dc[-1] * 100} mC"),
            ("Cell voltage low", f"{min(s.cell_mv)} mV"),
            ("Cell voltage high", f"{max(s.cell_mv)} mV"),
            ("Cell temperature low", f"{min(cells) * 100} mC"),
            ("Cell temperature high", f"{max(cells) * 100} mC"),
            ("Base state", base_state(s)), ("Voltage state", volt_state(s)),
            ("Current state", curr_state(s)), ("Temperature state", temp_state(s)),
            ("Coulomb", f"{round(s.soc_pct)} %"), ("SOH", f"{round(s.soh_pct)} %"),
            ("Remaining capacity", f"{s.remaining_mah} mAh"),
            ("Full capacity", f"{s.full_mah} mAh"),
            ("Charge MOSFET", "On" if s.charge_fet else "Off"),
            ("Discharge MOSFET", "On" if s.discharge_fet else "Off"),
            ("Charge limit", f"{s.charge_limit_da * 100} mA"),
            ("Discharge limit", f"{s.discharge_limit_da * 100} mA"),
            ("Alarms", ",".join(sorted(s.alarms)) or "None"),
            ("Protections", ",".join(sorted(s.protections)) or "None"),
            ("Heater", "On" if s.heater_on else "Off"),
            ("Test mode", "On" if s.test_mode else "Off"),
            ("Time", self._calendar(s.t).strftime(TIME_FORMAT)),
        )
        return [f"{k:<22}: {v}" for k, v in rows]

    def _bat(self, args: list[str]) -> list[str]:
        self._pack_index(args)
        s = self.pack.bms.snapshot()
        groups = s.temps_dc[1:5] or s.temps_dc
        per_group = max(1, len(s.cell_mv) // len(groups))
        head = ("Battery", "Volt", "Curr", "Tempr", "Base.St", "Volt.St", "Coulomb", "BAL",
                "Capacity")
        widths = (8, 6, 8, 7, 8, 8, 8, 4, 10)
        out = [_row(head, widths)]
        for i, mv in enumerate(s.cell_mv):
            temp = groups[min(i // per_group, len(groups) - 1)]
            bal = s.balancing[i] if i < len(s.balancing) else False
            row = (str(i), str(mv), str(s.current_ma), str(temp * 100), base_state(s),
                   _CELL_WORDS.get(s.cell_states[i], s.cell_states[i]),
                   f"{round(s.soc_pct)}%", "Y" if bal else "N", f"{s.remaining_mah}mAh")
            out.append(_row(row, widths))
        return out

    def _soh(self, args: list[str]) -> list[str]:
        s = self.pack.bms.snapshot()
        if args:   # `soh N`: each cell's voltage, SOHCount and SOHStatus (SPEC §7)
            self._pack_index(args)
            widths = (8, 8, 9, 9)
            out = [_row(("Battery", "Voltage", "SOHCount", "SOHStatus"), widths)]
            for i, (mv, n) in enumerate(zip(s.cell_mv, self.pack.bms.soh_counts(), strict=True)):
                status = "Abnormal" if n >= SOH_ABNORMAL_COUNT else "Normal"
                out.append(_row((str(i + 1), str(mv), str(n), status), widths))
            return out
        return [f"{'SOH':<16}: {round(s.soh_pct)} %",
                f"{'Full capacity':<16}: {s.full_mah} mAh",
                f"{'Design capacity':<16}: {s.design_mah} mAh"]

    def _stat(self, args: list[str]) -> list[str]:
        """Lifetime counters with the labels Pylontech-style consoles print (SPEC §7)."""
        s = self.pack.bms.snapshot()
        counters = self.pack.bms.stat_counters()
        out = [f"{'CYCLE Times':<16}: {s.cycles}"]
        out += [f"{label:<16}: {n}" for label, n in counters.items()]
        out += [f"{'SOH':<16}: {round(s.soh_pct)} %",
                f"{'Pwr Coulomb':<16}: {s.full_mah} mAh",
                f"{'Dsg Cap':<16}: {s.cumulative_ah:.1f} Ah"]
        return out

    def _log(self, args: list[str]) -> list[str]:
        if args == ["clear"]:
            self.pack.bms.clear_events()
            return ["Log cleared"]
        if len(args) > 1 or (args and not args[0].isdigit()):
            raise CommandError(f"Invalid value: log {' '.join(args)}")
        events = self.pack.bms.events()
        pages = max(1, -(-len(events) // LOG_PAGE))
        page = int(args[0]) if args else 1
        if not 1 <= page <= pages:
            raise CommandError(f"Invalid value: page {page} of {pages}")
        widths = (6, 20, 21, 8, 7, 8, 6, 6, 6)
        out = [_row(("Index", "Time", "Code", "Info", "Volt", "Curr", "Vhigh", "Vlow", "Tempr"),
                    widths)]
        first = (page - 1) * LOG_PAGE
        for n, e in enumerate(events[first:first + LOG_PAGE], start=first):
            when = self._calendar(e.t).strftime(TIME_FORMAT)
            out.append(_row((str(n), when, e.code, e.info, str(e.pack_mv), str(e.current_ma),
                             str(e.cell_max_mv), str(e.cell_min_mv), str(e.temp_dc * 100)),
                            widths))
        out.append(f"Page {page}/{pages}")
        return out

    def _data(self, args: list[str]) -> list[str]:
        """`data event`: the latest stored event, then the cells it stored (SPEC §7)."""
        if args != ["event"]:
            raise CommandError("Invalid value: usage: data event")
        events = self.pack.bms.events()
        if not events:
            return ["No event"]
        e = events[-1]
        rows = (("Index", str(len(events) - 1)),
                ("Time", self._calendar(e.t).strftime(TIME_FORMAT)), ("Code", e.code),
                ("Info", e.info), ("Volt", f"{e.pack_mv} mV"), ("Curr", f"{e.current_ma} mA"),
                ("Vhigh", f"{e.cell_max_mv} mV"), ("Vlow", f"{e.cell_min_mv} mV"),
                ("Tempr", f"{e.temp_dc * 100} mC"))
        out = [f"{k:<8}: {v}" for k, v in rows]
        out.append(_row(("Cell", "Volt"), (6, 6)))
        out += [_row((str(i + 1), str(mv)), (6, 6)) for i, mv in enumerate(e.cells_mv)]
        return out

    def _time(self, args: list[str]) -> list[str]:
        if args:
            try:
                when = datetime.strptime(" ".join(args), TIME_FORMAT).replace(tzinfo=UTC)
            except ValueError:
                raise CommandError(
                    f"Invalid value: '{' '.join(args)}' is not YYYY-MM-DD hh:mm:ss") from None
            self.pack.bms.set_pack_time(when)
        return [self.pack.bms.pack_time().strftime(TIME_FORMAT)]

    def _login(self, args: list[str]) -> list[str]:
        if args != ["debug"]:
            raise CommandError("Invalid value: usage: login debug")
        self.pack.bms.login_debug()
        return ["Debug mode"]

    def _logout(self, args: list[str]) -> list[str]:
        self.pack.bms.logout()
        return ["Logged out"]

    def _tmode(self, args: list[str]) -> list[str]:
        if len(args) != 1:
            raise CommandError("Invalid value: usage: tmode on|off")
        on = _onoff(args[0])
        self.pack.bms.set_test_mode(on)
        return [f"Test mode {'on' if on else 'off'}"]

    def _relay(self, args: list[str]) -> list[str]:
        if len(args) != 2 or not args[0].isdigit():
            raise CommandError("Invalid value: usage: relay N on|off")
        n, on = int(args[0]), _onoff(args[1])
        self.pack.bms.force_relay(n, on)
        return [f"Relay {n} {'on' if on else 'off'}"]

    def _led(self, args: list[str]) -> list[str]:
        if args != ["test"]:
            raise CommandError("Invalid value: usage: led test")
        self.pack.bms.led_test()
        return ["LED test started"]

    def _heater(self, args: list[str]) -> list[str]:
        if len(args) != 1:
            raise CommandError("Invalid value: usage: heater on|off")
        on = _onoff(args[0])
        self.pack.bms.force_heater(on)
        return [f"Heater {'on' if on else 'off'}"]

    def _setthr(self, args: list[str]) -> list[str]:
        if len(args) != 2:
            raise CommandError("Invalid value: usage: setthr NAME VALUE")
        try:
            value = int(args[1])
        except ValueError:
            raise CommandError(f"Invalid value: '{args[1]}' is not an integer") from None
        self.pack.bms.set_threshold(args[0], value)
        return [f"{args[0]}={value}"]

    def _clrthr(self, args: list[str]) -> list[str]:
        self.pack.bms.clear_thresholds()
        return ["Thresholds restored"]

    def _unlock(self, args: list[str]) -> list[str]:
        self.pack.bms.unlock()
        return ["System unlocked"]

    def _crc(self, args: list[str]) -> list[str]:
        stored, active = self.pack.bms.crc()
        return [f"stored {stored:08X} active {active:08X}"]
