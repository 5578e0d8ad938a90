"""The report's languages: one small message catalogue and the number format of each.

The report is written in English (``en``) or German (``de``, for the readers of the
German Energieeffizienzgesetz). A :class:`Catalogue` gives the text of a message key
(:data:`thermalctl.reports.messages.MESSAGES`) and prints numbers, percentages and
durations the way the language writes them: ``1,234.5`` in English, ``1.234,5`` in
German (DIN 1333 / DIN 5008: decimal comma, a point between thousands). The CSV files
are not printed through it: they stay machine-readable (decimal point, no grouping)
whatever the language.

>>> Catalogue("de").number(1234.5, 1)
'1.234,5'
>>> Catalogue("en").duration(180.05)
'3 min'
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from thermalctl.reports.messages import MESSAGES

__all__ = ["LANGUAGES", "Catalogue", "UnknownLanguage"]

#: The languages a report can be written in.
LANGUAGES: tuple[str, ...] = ("en", "de")


class UnknownLanguage(ValueError):  # noqa: N818 - a refusal of bad input
    """A language the catalogue has no text for."""


@dataclass(frozen=True)
class Catalogue:
    """Text and number format of one language."""

    lang: str = "en"

    def __post_init__(self) -> None:
        if self.lang not in LANGUAGES:
            raise UnknownLanguage(
                f"report language {self.lang!r} is not available (choose one of "
                f"{', '.join(LANGUAGES)})"
            )

    def __call__(self, key: str, **params: object) -> str:
        """The message ``key`` in this language, with ``params`` put in (``str.format``;
        floats printed with :meth:`plain`)."""
        try:
            text = MESSAGES[key][self.lang]
        except KeyError:
            raise KeyError(f"report message {key!r} has no {self.lang!r} text") from None
        if not params:
            return text
        shown = {k: self.plain(v) if isinstance(v, float) else v for k, v in params.items()}
        return text.format(**shown)

    def has(self, key: str) -> bool:
        return key in MESSAGES

    # -- numbers ---------------------------------------------------------------------------
    def number(self, value: float, decimals: int, *, grouping: bool = True) -> str:
        """``value`` with ``decimals`` decimals, thousands grouped, in this language."""
        text = f"{value:,.{decimals}f}" if grouping else f"{value:.{decimals}f}"
        return self.localise(text)

    def trimmed(self, value: float, decimals: int = 3) -> str:
        """``value`` with at most ``decimals`` decimals, trailing zeros dropped."""
        text = f"{value:,.{decimals}f}"
        if "." in text:
            text = text.rstrip("0").rstrip(".")
        return self.localise(text)

    def plain(self, value: float) -> str:
        """A short number as written in running text (``%g``, decimal comma in German)."""
        return self.localise(f"{value:g}")

    def percent(self, fraction: float, decimals: int = 0) -> str:
        """A fraction [0-1] as a percentage: ``50%`` in English, ``50 %`` in German."""
        number = self.number(100.0 * fraction, decimals)
        return f"{number} %" if self.lang == "de" else f"{number}%"

    def localise(self, text: str) -> str:
        """``text`` written with English separators, in this language's."""
        if self.lang == "de":
            return text.replace(",", "\0").replace(".", ",").replace("\0", ".")
        return text

    # -- time ------------------------------------------------------------------------------
    def duration(self, seconds: float) -> str:
        """A duration rounded to whole seconds in at most two units: ``3 min``,
        ``6 h 15 min``, ``2 d 3 h`` (German ``2 d 3 h`` too: SI symbols)."""
        if not math.isfinite(seconds) or seconds < 0:
            return "–"
        total = round(seconds)
        if total < 60:
            return f"{total} s"
        units = (("d", 86_400), ("h", 3_600), ("min", 60), ("s", 1))
        counts = []
        for symbol, size in units:
            count, total = divmod(total, size)
            counts.append((count, symbol))
        first = next(i for i, (count, _) in enumerate(counts) if count)
        shown = [f"{c} {s}" for c, s in counts[first:first + 2] if c]
        return " ".join(shown)
