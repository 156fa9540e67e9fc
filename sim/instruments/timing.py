"""What each command costs on the real instrument, so the simulated duration of a plan is the
cycle time a real bench would show (DESIGN "Time": whatever takes time on a bench takes that
time on the simulated clock).

A command costs its link's turnaround (LAN/VISA round trip and parsing; on a serial link
also every byte at 10 bits per baud) and, for a few commands, an instrument-side action
(a measurement's aperture). A query's cost passes before it is answered, so the station
waits for it as it waits for a real instrument; a write's cost is owed and paid at the next
query on the same link (the instrument works through its input queue in order, and the
station's next query waits behind it). Figures are the project's [A], from the datasheets
where they give one; ``docs/instruments.md`` lists them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field


@dataclass(frozen=True)
class CommandTime:
    """The costs of one dialect's commands."""

    turnaround_s: float                  # every command: link round trip and parsing
    baud: int | None = None              # a serial link: each byte 10/baud s, both ways
    #: The protocol answers every command (Feasa, ESPEC), not only SCPI queries (``?``).
    answers_all: bool = False
    #: (header regex, s): instrument-side actions, matched against the command's header
    actions: tuple[tuple[str, float], ...] = ()
    _compiled: tuple[tuple[re.Pattern[str], float], ...] = field(init=False, repr=False,
                                                                 compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_compiled",
                           tuple((re.compile(p, re.IGNORECASE), s) for p, s in self.actions))

    def of_command(self, line: str) -> float:
        """Turnaround, the bytes sent and the command's own action."""
        cost = self.turnaround_s + self._bytes(len(line) + 1)
        header = line.split(" ", 1)[0].lstrip(":")
        for pattern, seconds in self._compiled:
            if pattern.match(header):
                cost += seconds
                break
        return cost

    def awaited(self, line: str) -> bool:
        """The station waits for an answer to ``line``."""
        return self.answers_all or "?" in line

    def of_answer(self, answer: str, eol: str) -> float:
        """The answer's bytes on a serial link (nothing on LAN)."""
        return self._bytes(len(answer) + len(eol))

    def _bytes(self, n: int) -> float:
        return n * 10.0 / self.baud if self.baud else 0.0


#: Measurement queries of the sources and loads: a reading is an averaged acquisition.
_MEAS = r"MEAS(ure)?:"

DIALECT_TIMES: dict[str, CommandTime] = {
    # Keysight RP7900: ≤ 1 ms command processing; a MEAS acquires 1024 points at 20.48 µs
    # (SENSe:SWEep defaults) = 21 ms [RP7900 Operating and Service Guide, "Measurements"]
    "keysight-rp7900": CommandTime(0.001, actions=((_MEAS, 0.021),)),
    # ITECH IT6000C: LAN; a MEAS is the meter's last update, about 10 ms [A]
    "itech-it6000c": CommandTime(0.002, actions=((_MEAS, 0.010),)),
    # Chroma 63200A: LAN/GPIB; the meter updates continuously, a MEAS costs the reply [A]
    "chroma-63200a": CommandTime(0.002, actions=((_MEAS, 0.005), (r"FETC(h)?:ARR", 0.020))),
    # ITECH IT8900A: as the Chroma [A]
    "itech-it8900a": CommandTime(0.002, actions=((_MEAS, 0.005), (r"FETC(h)?:ARR", 0.020))),
    # Keysight DAQ970A: MEAS? configures, closes the channel relay and reads at 1 PLC
    # (20 ms at 50 Hz) with autorange: about 30 ms; a thermocouple adds the CJC, an RTD
    # a 4-wire reading [DAQ970A Programming Guide, "MEASure?"; reading rates in the datasheet]
    "keysight-daq970a": CommandTime(0.001, actions=(
        (r"MEAS(ure)?:VOLT", 0.030), (r"MEAS(ure)?:TEMP", 0.040),
        (r"MEAS(ure)?:DIG", 0.002), (r"SOUR(ce)?:DIG", 0.002))),
    # ESPEC SCP-220 over its serial interface at 9600 baud, slow to answer [A]
    "espec-scp220": CommandTime(0.050, baud=9600, answers_all=True),
    # Watlow F4T over Ethernet: an embedded controller, about 10 ms a command [A]
    "watlow-f4t": CommandTime(0.010),
    # Feasa LED analyser: USB serial at 57600 baud, a few ms to parse; a capture's own time
    # is the analyser's (the sequence is ready when its points have been sampled)
    "feasa-led": CommandTime(0.003, baud=57600, answers_all=True),
    # Chroma 19032: a few ms a command; its tests take the time they are programmed for
    "chroma-19032": CommandTime(0.005),
    # Keysight InfiniiVision 4000 X over LAN: a few ms a command; formatting and sending a
    # record of tens of thousands of ASCii points takes about 0.1 s [A]
    "keysight-infiniivision": CommandTime(0.003, actions=((r"WAV(eform)?:DATA", 0.100),)),
}


def command_time(dialect: str) -> CommandTime:
    try:
        return DIALECT_TIMES[dialect]
    except KeyError:
        raise ValueError(f"no command times for dialect {dialect!r}") from None
