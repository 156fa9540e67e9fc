"""A minimal stand-in for the simulated pack, for the instruments' wire tests.

It implements the parts of ``SimPackApi`` the instruments use, with a fixed EMF and
resistance and MOSFET paths a test can open, so a driver test does not depend on the
battery model; the coupling tests use the real ``sim.pack.SimPack``.
"""

from __future__ import annotations

from common.clock import VirtualClock
from sim.pack.interface import LEDS, TerminalNetwork, TerminalView


class FakePack:
    def __init__(self, clock: VirtualClock, emf: float = 52.6, r: float = 0.018) -> None:
        self.clock = clock
        self.emf = emf
        self.r = r
        self.charge_path = True
        self.discharge_path = True
        self._network: TerminalNetwork | None = None
        self._i = 0.0
        self._hist: list[tuple[float, float]] = [(0.0, 0.0)]
        self._ambient = 25.0
        self.buttons: dict[str, object] = {"power": False, "sw": False, "breaker": False, "in1": 0.0}
        self.button_log: list[tuple[float, str, object]] = []
        self.contacts = {2: False, 3: False, 4: False}
        self._led_edges: dict[str, list[tuple[float, bool]]] = {led: [] for led in LEDS}
        self.colours = {led: (0, 255, 0) if led != "ALM" else (255, 0, 0) for led in LEDS}

    # terminals
    def view(self) -> TerminalView:
        return TerminalView(self.emf, self.r, self.charge_path, self.discharge_path)

    def set_network(self, network: TerminalNetwork | None) -> None:
        self._network = network
        self.inputs_changed()

    def inputs_changed(self) -> None:
        i = self._network(self.view()) if self._network is not None else 0.0
        if i != self._i:
            self._i = i
            self._hist.append((self.clock.now(), i))

    def set_paths(self, charge: bool, discharge: bool) -> None:
        self.charge_path, self.discharge_path = charge, discharge
        self.inputs_changed()

    def terminal_voltage(self) -> float:
        if not (self.charge_path or self.discharge_path):
            return 0.0
        return self.emf + self._i * self.r

    def current(self) -> float:
        self.inputs_changed()
        return self._i

    def current_history(self, t0: float, t1: float) -> list[tuple[float, float]]:
        before = [p for p in self._hist if p[0] <= t0]
        first = (t0, before[-1][1] if before else 0.0)
        return [first] + [p for p in self._hist if t0 < p[0] <= t1]

    # environment
    def set_ambient(self, temp_c: float) -> None:
        self._ambient = temp_c

    def ambient(self) -> float:
        return self._ambient

    def cell_temperature(self) -> float:
        return self._ambient

    # fixture relays
    def _press(self, name: str, value: object) -> None:
        self.buttons[name] = value
        self.button_log.append((self.clock.now(), name, value))

    def set_power_button(self, on: bool) -> None:
        self._press("power", on)

    def set_sw(self, pressed: bool) -> None:
        self._press("sw", pressed)

    def set_breaker(self, closed: bool) -> None:
        self._press("breaker", closed)

    def set_in1(self, volts: float) -> None:
        self._press("in1", volts)

    # observables
    def contact_closed(self, n: int) -> bool:
        return self.contacts[n]

    def add_led_edge(self, led: str, t: float, on: bool) -> None:
        self._led_edges[led].append((t, on))

    def led_on(self, led: str) -> bool:
        edges = [e for e in self._led_edges[led] if e[0] <= self.clock.now()]
        return edges[-1][1] if edges else False

    def led_edges(self, led: str, t0: float, t1: float) -> list[tuple[float, bool]]:
        return [e for e in self._led_edges[led] if t0 <= e[0] <= t1]

    def led_colour(self, led: str) -> tuple[int, int, int]:
        return self.colours[led]

    def led_intensity(self, led: str) -> float:
        return 0.5

    def ground_bond_ohm(self) -> float:
        return 0.021

    def insulation_ohm(self) -> float:
        return 4.7e8
