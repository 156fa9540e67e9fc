"""Lumped thermal model: cells + case (one node) and BMS board + MOSFETs (another).

Each node is advanced with an implicit step (unconditionally stable), so an idle hour
can be one step. Heat: I²R in the cells and in the MOSFET path, the heater, exchange
with the air whose temperature the chamber sets.
"""

from __future__ import annotations

from sim.unit import ThermalSection


class Thermal:
    def __init__(self, section: ThermalSection, ambient_c: float) -> None:
        self.c_cells = section.cell_heat_capacity_j_k
        self.c_board = section.board_heat_capacity_j_k
        self.g_cells_air = section.cell_to_air_w_k
        self.g_board_air = section.board_to_air_w_k
        self.g_board_cells = section.board_to_cells_w_k
        self.k_mosfet = section.mosfet_sensor_k_w
        start = ambient_c if section.initial_c is None else section.initial_c
        self.ambient = ambient_c
        self.t_cells = start
        self.t_board = start
        self.p_mosfet = 0.0

    def step(self, dt: float, p_cells: float, p_board: float) -> None:
        """Advance ``dt`` seconds with the given heat inputs (W)."""
        if dt <= 0:
            return
        tc, tb, ta = self.t_cells, self.t_board, self.ambient
        g1, g2, g3 = self.g_cells_air, self.g_board_cells, self.g_board_air
        # implicit Euler on each node, the other node taken at its old temperature
        tc_new = (tc + dt / self.c_cells * (p_cells + g1 * ta + g2 * tb)) / (
            1.0 + dt * (g1 + g2) / self.c_cells
        )
        tb_new = (tb + dt / self.c_board * (p_board + g3 * ta + g2 * tc_new)) / (
            1.0 + dt * (g2 + g3) / self.c_board
        )
        self.t_cells, self.t_board = tc_new, tb_new
        self.p_mosfet = p_board

    @property
    def t_mosfet(self) -> float:
        return self.t_board + self.k_mosfet * self.p_mosfet

    def rate(self, p_cells: float, p_board: float) -> float:
        """Fastest temperature change now (K/s), to size idle steps."""
        dc = (p_cells + self.g_cells_air * (self.ambient - self.t_cells)
              + self.g_board_cells * (self.t_board - self.t_cells)) / self.c_cells
        db = (p_board + self.g_board_air * (self.ambient - self.t_board)
              + self.g_board_cells * (self.t_cells - self.t_board)) / self.c_board
        return max(abs(dc), abs(db))
