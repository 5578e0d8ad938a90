"""Energy KPIs per ISO/IEC 30134 from cumulative meter counters (pure: pandas, numpy).

- :mod:`.counters`: counter increments with wrap / reset handling, power
  integration, gaps and coverage;
- :mod:`.engine`: :func:`compute_kpis` (PUE, ERF, ERE, WUE, REF, avoided backup
  energy) per day, month or year, with completeness;

No file I/O here: the BMS export reader is :mod:`thermalctl.adapters.kpi_csv` and the
``thermalctl kpi`` command is :mod:`thermalctl.runtime.kpi_cli`.
"""

from thermalctl.kpi.counters import (
    DEFAULT_ROLLOVERS,
    CounterEvent,
    CounterIntervals,
    Gap,
    counter_from_power,
    covered_fraction,
    find_gaps,
    interval_energies,
)
from thermalctl.kpi.engine import (
    OPTIONAL_COLUMNS,
    REQUIRED_COLUMNS,
    Freq,
    KpiResult,
    PeriodKpis,
    compute_kpis,
    period_edges,
)
from thermalctl.kpi.errors import CsvInputError, KpiInputError

__all__ = [
    "DEFAULT_ROLLOVERS",
    "OPTIONAL_COLUMNS",
    "REQUIRED_COLUMNS",
    "CounterEvent",
    "CounterIntervals",
    "CsvInputError",
    "Freq",
    "Gap",
    "KpiInputError",
    "KpiResult",
    "PeriodKpis",
    "compute_kpis",
    "counter_from_power",
    "covered_fraction",
    "find_gaps",
    "interval_energies",
    "period_edges",
]
