"""Solver back ends for the planning programme.

:class:`HighsSolver` keeps one ``highspy`` model per site and changes only costs,
bounds, row bounds and the tagged coefficients, so HiGHS hot-starts the dual simplex
from the last basis. :class:`ScipySolver` does the same through
``scipy.optimize.linprog(method="highs")`` (slower: it rebuilds the model each call)
for installs without ``highspy``.
"""

from __future__ import annotations

import math
import time
from typing import TYPE_CHECKING

import numpy as np
from scipy import sparse
from scipy.optimize import linprog

from thermalctl.control.planner.layout import Block
from thermalctl.control.planner.programme import Array, LpData, PlannerModel, SolveResult

if TYPE_CHECKING:
    import highspy

__all__ = ["RETRIES", "HighsSolver", "ScipySolver", "Solver", "make_solver"]

#: What a solve that ended without a verdict is retried with, in turn, from no basis
#: (HiGHS options). Seen on HiGHS 1.16: the hot-started dual simplex stops at its first
#: iteration ("Not Set", run status error) or ends "Unknown" (objective error above
#: tolerance); from no basis the presolved LP then solves, but the clean-up solve of the
#: original LP from the postsolved basis can stop the same way. So: the simplex on the
#: original LP (presolve off), then the interior-point method on it.
#: HiGHS's defaults of the options a retry changes.
DEFAULT_OPTIONS = {"solver": "choose", "presolve": "choose"}
RETRIES: dict[str, dict[str, str]] = {
    "simplex": {"solver": "simplex", "presolve": "off"},
    "ipm": {"solver": "ipm", "presolve": "off"},
}


class HighsSolver:
    """One persistent ``highspy`` model per site; re-plans change arrays and hot-start."""

    name = "highspy"

    def __init__(self, model: PlannerModel, time_limit_s: float = 5.0) -> None:
        import highspy

        self._hs = highspy
        self.model = model
        self.highs = highspy.Highs()
        self.highs.setOptionValue("output_flag", False)
        self.time_limit_s = time_limit_s
        self._passed = False
        #: Solves that needed a retry, by the algorithm that retried [-].
        self.retries: dict[str, int] = {}
        self._dynamic: dict[Block, Array] = {}
        self._all_cols = np.arange(model.n_cols, dtype=np.int32)
        self._all_rows = np.arange(model.n_rows, dtype=np.int32)

    def _pass(self, data: LpData) -> None:
        hs = self._hs
        m = self.model
        matrix = m.matrix.copy()
        for name, values in data.dynamic_values.items():
            matrix.data[m.dynamic_entries[name]] = values
        lp = hs.HighsLp()
        lp.num_col_ = m.n_cols
        lp.num_row_ = m.n_rows
        lp.col_cost_ = data.cost
        lp.col_lower_ = _finite(data.col_lower)
        lp.col_upper_ = _finite(data.col_upper)
        lp.row_lower_ = _finite(data.row_lower)
        lp.row_upper_ = _finite(data.row_upper)
        lp.a_matrix_.format_ = hs.MatrixFormat.kColwise
        lp.a_matrix_.start_ = matrix.indptr.astype(np.int32)
        lp.a_matrix_.index_ = matrix.indices.astype(np.int32)
        lp.a_matrix_.value_ = matrix.data
        self.highs.passModel(lp)
        self._dynamic = {k: v.copy() for k, v in data.dynamic_values.items()}
        self._passed = True

    def _run(self) -> highspy.HighsModelStatus:
        h = self.highs
        # HiGHS's time limit counts the instance's whole run time, not this call's.
        h.setOptionValue("time_limit", h.getRunTime() + self.time_limit_s)
        h.run()
        return h.getModelStatus()

    def solve(self, data: LpData) -> SolveResult:
        start = time.perf_counter()
        h = self.highs
        m = self.model
        if not self._passed:
            self._pass(data)
        else:
            n_cols, n_rows = m.n_cols, m.n_rows
            h.changeColsCost(n_cols, self._all_cols, data.cost)
            h.changeColsBounds(
                n_cols, self._all_cols, _finite(data.col_lower), _finite(data.col_upper)
            )
            h.changeRowsBounds(  # type: ignore[attr-defined]
                n_rows, self._all_rows, _finite(data.row_lower), _finite(data.row_upper)
            )
            for name, values in data.dynamic_values.items():
                old = self._dynamic[name]
                changed = np.flatnonzero(np.abs(values - old) > 1e-12 * (1.0 + np.abs(old)))
                if changed.size:
                    r = m.dynamic_rows[name]
                    c = m.dynamic_cols[name]
                    for i in changed:
                        h.changeCoeff(int(r[i]), int(c[i]), float(values[i]))
                    old[changed] = values[changed]
        status = self._run()
        ok = status == self._hs.HighsModelStatus.kOptimal
        for retry in RETRIES:
            if ok:
                break
            # No verdict (or a spurious "Infeasible" from a hot start): the same model
            # again from no basis, see RETRIES, before giving up on this plan.
            self.retries[retry] = self.retries.get(retry, 0) + 1
            h.clearSolver()
            for option, value in RETRIES[retry].items():
                h.setOptionValue(option, value)
            status = self._run()
            for option in RETRIES[retry]:
                h.setOptionValue(option, DEFAULT_OPTIONS[option])
            ok = status == self._hs.HighsModelStatus.kOptimal
        x = np.asarray(h.getSolution().col_value, dtype=float) if ok else None
        objective = float(h.getInfo().objective_function_value) if ok else math.nan
        if not ok:
            # Start the next solve from scratch rather than from a broken basis.
            self._passed = False
        return SolveResult(
            ok, h.modelStatusToString(status), x, objective, (time.perf_counter() - start) * 1e3
        )


class ScipySolver:
    """``scipy.optimize.linprog(method="highs")``; no state between calls."""

    name = "scipy"

    def __init__(self, model: PlannerModel) -> None:
        self.model = model

    def solve(self, data: LpData) -> SolveResult:
        start = time.perf_counter()
        m = self.model
        matrix = m.matrix.copy()
        for name, values in data.dynamic_values.items():
            matrix.data[m.dynamic_entries[name]] = values
        a = matrix.tocsr()
        eq = data.row_lower == data.row_upper
        upper = ~eq & np.isfinite(data.row_upper)
        lower = ~eq & np.isfinite(data.row_lower)
        a_ub = sparse.vstack([a[upper], -a[lower]]).tocsr()
        b_ub = np.concatenate([data.row_upper[upper], -data.row_lower[lower]])
        bounds = np.column_stack([
            np.where(np.isfinite(data.col_lower), data.col_lower, np.nan),
            np.where(np.isfinite(data.col_upper), data.col_upper, np.nan),
        ])
        res = linprog(
            data.cost, A_ub=a_ub, b_ub=b_ub, A_eq=a[eq], b_eq=data.row_lower[eq],
            bounds=[(None if math.isnan(lo) else lo, None if math.isnan(hi) else hi)
                    for lo, hi in bounds],
            method="highs",
        )
        ok = res.status == 0
        return SolveResult(
            ok, str(res.message), np.asarray(res.x) if ok else None,
            float(res.fun) if ok else math.nan, (time.perf_counter() - start) * 1e3,
        )


Solver = HighsSolver | ScipySolver


def make_solver(model: PlannerModel, backend: str = "auto") -> Solver:
    """``highspy`` when installed (``backend="auto"``), else scipy's ``linprog``."""
    if backend in ("auto", "highspy"):
        try:
            return HighsSolver(model)
        except ImportError:
            if backend == "highspy":
                raise
    return ScipySolver(model)


def _finite(values: Array) -> Array:
    """HiGHS takes +-1e30 as infinite."""
    return np.clip(values, -1e30, 1e30)
