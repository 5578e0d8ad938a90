"""The one place that names a report: its folder and the stem of its files.

``thermalctl demo``, ``thermalctl report`` and the monthly report job all call
:func:`report_folder`, so the same period of the same site lands in the same folder
whoever writes it: ``<report_dir>/<site>_<start>_<end>`` with the start and the
(exclusive) end in the site's local time, as ``YYYY-MM-DD`` when they fall on local
midnight and ``YYYY-MM-DDTHHMM`` otherwise (a two-hour demo is not named like a day).

>>> import pandas as pd
>>> report_stem("pool", pd.Timestamp("2027-01-01", tz="Europe/Berlin"),
...             pd.Timestamp("2027-02-01", tz="Europe/Berlin"), "Europe/Berlin")
'pool_2027-01-01_2027-02-01'
>>> report_stem("pool", pd.Timestamp("2026-01-05T00:00Z"), pd.Timestamp("2026-01-05T02:00Z"),
...             "Europe/London")
'pool_2026-01-05T0000_2026-01-05T0200'
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

__all__ = ["edition_suffix", "report_folder", "report_stem"]


def _local(stamp: pd.Timestamp, tz: str) -> pd.Timestamp:
    stamp = pd.Timestamp(stamp)
    return stamp.tz_localize(tz) if stamp.tzinfo is None else stamp.tz_convert(tz)


def report_stem(site_id: str, start: pd.Timestamp, end: pd.Timestamp, tz: str) -> str:
    """``<site>_<start>_<end>`` in the site's local time (see the module docstring)."""
    first, last = _local(start, tz), _local(end, tz)
    daily = all(s == s.normalize() for s in (first, last))
    form = "%Y-%m-%d" if daily else "%Y-%m-%dT%H%M"
    return f"{site_id}_{first.strftime(form)}_{last.strftime(form)}"


def report_folder(
    report_dir: str | Path, site_id: str, start: pd.Timestamp, end: pd.Timestamp, tz: str
) -> Path:
    """The folder of the report of ``[start, end)``: ``<report_dir>/<stem>``."""
    return Path(report_dir) / report_stem(site_id, start, end, tz)


def edition_suffix(lang: str) -> str:
    """What the files of a language edition carry before their extension: none for
    English, ``.de`` for German, so both editions can share a folder."""
    return "" if lang == "en" else f".{lang}"
