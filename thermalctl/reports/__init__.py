"""Energy reports for permitting: HTML, PDF and CSV with charts.

- :mod:`.info`: :class:`ReportInfo`, the site facts, and :func:`report_info_from_profile`;
- :mod:`.tables`: every number of the report, computed and rounded once;
- :mod:`.regulatory`: EU Delegated Regulation (EU) 2024/1364 fields, EnEfG § 11 check;
- :mod:`.plots`, :mod:`.pdf`, :mod:`.html`: rendering;
- :mod:`.build`: :func:`build_report`; :mod:`.cli`: ``thermalctl report``.
"""

from thermalctl.reports.build import ReportFiles, build_report
from thermalctl.reports.info import ReportInfo, report_info_from_profile
from thermalctl.reports.tables import ReportTables, build_tables

__all__ = [
    "ReportFiles",
    "ReportInfo",
    "ReportTables",
    "build_report",
    "build_tables",
    "report_info_from_profile",
]
