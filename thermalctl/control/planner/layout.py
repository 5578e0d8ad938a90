"""Variable and row layout of the planning programme, and the matrix builder.

Every variable and every row comes in blocks of ``horizon_steps`` (one per step),
named by a word and the rack group or sink it belongs to, e.g.
``(Var.DEFERRABLE_KW, "pod")`` or ``(Row.SINK_DYNAMICS, "pool")``. The names say what
the value is and its unit inside the LP (kW, kWh, degC, K).

Matrix entries whose values change with the forecast (a sink's loss slope, a tank's
draw flow) are *tagged* when built; their positions in the CSC data array are kept so
an update can change exactly those values and nothing else.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy import sparse

__all__ = ["Block", "Builder", "Layout", "Row", "Var"]

Array = npt.NDArray[np.float64]
Block = tuple[str, str]
"""A block of ``horizon_steps`` variables or rows: (name, group or sink id, or "")."""


class Var:
    """Variable names (one block per rack group or sink), with their LP units."""

    #: Deferrable rack power over each step, per rack group [kW].
    DEFERRABLE_KW = "deferrable_kw"
    #: Deferred work still waiting at the end of each step, per rack group [kWh].
    BACKLOG_KWH = "backlog_kwh"
    #: Waiting work past its (margin-shortened) deadline, per rack group [kWh] (slack).
    LATE_KWH = "late_kwh"
    #: Heat from the loop into each sink [kW].
    SINK_HEAT_KW = "sink_heat_kw"
    #: Heat from each sink's own backup heater [kW].
    BACKUP_KW = "backup_kw"
    #: Planned sink temperature at the end of each step [degC].
    SINK_TEMP_C = "sink_temp_c"
    #: How far the sink is below its low point [K] (slack).
    BELOW_LOW_K = "below_low_k"
    #: How far the sink is above its band [K] (slack).
    ABOVE_HIGH_K = "above_high_k"
    #: Heat rejected by the dry cooler [kW].
    DUMP_KW = "dump_kw"
    #: Captured heat that fits neither a sink nor the dump [kW] (slack).
    UNPLACED_KW = "unplaced_kw"
    #: Loop supply (rack inlet) temperature at the end of each step [degC].
    LOOP_SUPPLY_C = "loop_supply_c"
    #: How far a sink's exchanger inlet lies above the hottest water the loop brings [K]
    #: (slack, priced: keeps the plan feasible when a sink is hotter than the loop, e.g.
    #: a tank after its legionella cycle).
    HX_EXCESS_K = "hx_excess_k"
    #: How far a sink's circuit is asked below what its valves pass, when they would pass
    #: less than nothing [kW] (slack, priced as unplaced heat: keeps the programme
    #: feasible where a building's own gains or its night setback leave its rooms above
    #: the valves' band while the heating curve still runs).
    THROTTLE_SLACK_KW = "throttle_slack_kw"


class Row:
    """Row names (one block per constraint family and rack group or sink)."""

    HEAT_BALANCE = "heat_balance"
    BACKLOG = "backlog"
    DEADLINE = "deadline"
    RAMP = "ramp"
    SINK_DYNAMICS = "sink_dynamics"
    COMFORT_LOW = "comfort_low"
    COMFORT_HIGH = "comfort_high"
    HX_CAPACITY = "hx_capacity"
    HEAT_CAP = "heat_cap"
    DRAW_TOP_UP = "draw_top_up"
    DUMP_CAPACITY = "dump_capacity"
    RACK_OUTLET = "rack_outlet"


@dataclass
class Layout:
    """Where each block starts, and the assembled matrix with its tagged entries."""

    horizon_steps: int
    n_cols: int
    n_rows: int
    cols: dict[Block, int]
    rows: dict[Block, int]
    matrix: sparse.csc_matrix
    #: Tag -> positions of its entries in ``matrix.data`` (sorted by step), and their
    #: row and column indices (for HiGHS's ``changeCoeff``).
    dynamic_entries: dict[Block, npt.NDArray[np.int64]]
    dynamic_rows: dict[Block, npt.NDArray[np.int32]]
    dynamic_cols: dict[Block, npt.NDArray[np.int32]]

    def col(self, name: str, ident: str = "") -> slice:
        start = self.cols[(name, ident)]
        return slice(start, start + self.horizon_steps)

    def row(self, name: str, ident: str = "") -> slice:
        start = self.rows[(name, ident)]
        return slice(start, start + self.horizon_steps)


class Builder:
    """Collects variable blocks, row blocks and matrix entries; :meth:`assemble` makes
    the CSC matrix once."""

    def __init__(self, horizon_steps: int) -> None:
        self.n = horizon_steps
        self.steps = np.arange(horizon_steps)
        #: Steps 1..n-1 (entries that refer to the previous step).
        self.later = self.steps[1:]
        self.n_cols = 0
        self.n_rows = 0
        self.cols: dict[Block, int] = {}
        self.rows: dict[Block, int] = {}
        self._r: list[npt.NDArray[np.int64]] = []
        self._c: list[npt.NDArray[np.int64]] = []
        self._v: list[Array] = []
        self._tags: list[npt.NDArray[np.int64]] = []
        self._tag_names: list[Block] = [("", "")]

    def add_cols(self, name: str, ident: str = "") -> int:
        self.cols[(name, ident)] = self.n_cols
        self.n_cols += self.n
        return self.cols[(name, ident)]

    def add_rows(self, name: str, ident: str = "") -> int:
        self.rows[(name, ident)] = self.n_rows
        self.n_rows += self.n
        return self.rows[(name, ident)]

    def col(self, name: str, ident: str = "") -> int:
        """First column of a block."""
        return self.cols[(name, ident)]

    def entries(self, rows: Any, cols: Any, values: Any, tag: Block | None = None) -> None:
        """Add matrix entries; a ``tag`` marks them as changed by every update."""
        r = np.atleast_1d(np.asarray(rows, dtype=np.int64))
        c = np.atleast_1d(np.asarray(cols, dtype=np.int64))
        v = np.broadcast_to(np.asarray(values, dtype=float), r.shape).copy()
        t = 0
        if tag is not None:
            self._tag_names.append(tag)
            t = len(self._tag_names) - 1
        self._r.append(r)
        self._c.append(c)
        self._v.append(v)
        self._tags.append(np.full(r.shape, t, dtype=np.int64))

    def assemble(self) -> Layout:
        rows = np.concatenate(self._r)
        cols = np.concatenate(self._c)
        vals = np.concatenate(self._v)
        tags = np.concatenate(self._tags)
        # Assemble CSC by sorting (col, row) ourselves so tagged entries keep known positions.
        order = np.lexsort((rows, cols))
        rows, cols, vals, tags = rows[order], cols[order], vals[order], tags[order]
        indptr = np.zeros(self.n_cols + 1, dtype=np.int64)
        np.add.at(indptr, cols + 1, 1)
        indptr = np.cumsum(indptr)
        matrix = sparse.csc_matrix((vals, rows, indptr), shape=(self.n_rows, self.n_cols))
        dynamic: dict[Block, npt.NDArray[np.int64]] = {}
        dyn_rows: dict[Block, npt.NDArray[np.int32]] = {}
        dyn_cols: dict[Block, npt.NDArray[np.int32]] = {}
        for t, name in enumerate(self._tag_names):
            if t == 0:
                continue
            pos = np.flatnonzero(tags == t)
            # Positions sorted by column = by step for a tagged block.
            dynamic[name] = pos
            dyn_rows[name] = rows[pos].astype(np.int32)
            dyn_cols[name] = cols[pos].astype(np.int32)
        return Layout(
            horizon_steps=self.n,
            n_cols=self.n_cols,
            n_rows=self.n_rows,
            cols=self.cols,
            rows=self.rows,
            matrix=matrix,
            dynamic_entries=dynamic,
            dynamic_rows=dyn_rows,
            dynamic_cols=dyn_cols,
        )
