"""Bounded handling of what arrives from the broker: size, JSON, echo, log rate.

Every message handler on paho's network thread goes through these helpers, so that no
payload can raise out of a handler (``OverflowError`` from a 400-digit number, the
``ValueError`` of Python's 4,300-digit int-string limit, ``RecursionError`` from deep
nesting) and nothing a client sends is echoed or logged whole:

* a payload over :data:`MAX_PAYLOAD_BYTES` is refused before it is decoded;
* :func:`parse_json` reads JSON with integers of more than :data:`_MAX_INT_DIGITS`
  digits taken as floats (so ``1`` followed by 400 zeros is ``inf``, refused as not
  finite, never an ``int`` that overflows ``float()``), ``NaN`` / ``Infinity`` refused,
  nesting deeper than :data:`MAX_JSON_DEPTH` refused before the parser recurses;
* :func:`clip` bounds every echo (acks, audit) and log argument to :data:`ECHO_CHARS`;
* :class:`LogLimiter` bounds the rate of warnings a client can cause.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "ECHO_CHARS",
    "MAX_JSON_DEPTH",
    "MAX_PAYLOAD_BYTES",
    "LogLimiter",
    "PayloadError",
    "check_size",
    "clip",
    "finite_number",
    "parse_json",
]

#: Largest command or sensor payload read [bytes]; a command is a few dozen bytes, a
#: signed one about 250, a zigbee2mqtt sensor message well under 1 KiB.
MAX_PAYLOAD_BYTES = 4096
#: Longest text taken from a message into an ack, the audit trail or a log line [chars].
ECHO_CHARS = 200
#: Deepest JSON nesting read (a command has depth 1, sensor payloads a handful).
MAX_JSON_DEPTH = 32
#: Integers with more digits than this are read as floats (int64 has 19).
_MAX_INT_DIGITS = 18


class PayloadError(ValueError):
    """A payload that cannot be used; the message says why (already bounded)."""


def clip(text: object, limit: int = ECHO_CHARS) -> str:
    """``text`` as a string of at most ``limit`` characters (``…(N chars)`` marks a cut).

    >>> clip("x" * 300, 20)
    'xxxxxxxxx…(300 chars)'
    """
    s = text if isinstance(text, str) else repr(text)
    if len(s) <= limit:
        return s
    tail = f"…({len(s)} chars)"
    return s[: max(limit - len(tail), 0)] + tail


def check_size(payload: bytes, limit: int = MAX_PAYLOAD_BYTES) -> None:
    """``PayloadError`` if ``payload`` is over ``limit`` bytes (checked before decoding)."""
    if len(payload) > limit:
        raise PayloadError(f"payload of {len(payload)} bytes is over the {limit}-byte limit")


def _parse_int(text: str) -> int | float:
    return int(text) if len(text.lstrip("-")) <= _MAX_INT_DIGITS else float(text)


def _refuse_constant(name: str) -> float:
    raise PayloadError(f"{name} is not a number JSON allows")


def _depth(text: str) -> int:
    """Deepest bracket nesting of ``text``, not counting brackets inside strings."""
    depth = deepest = 0
    in_string = escaped = False
    for ch in text:
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif ch in "]}":
            depth -= 1
    return deepest


def parse_json(text: str) -> Any:
    """JSON from ``text``, or ``PayloadError`` with the reason; never another exception."""
    if _depth(text) > MAX_JSON_DEPTH:
        raise PayloadError(f"JSON nested deeper than {MAX_JSON_DEPTH} levels")
    try:
        return json.loads(text, parse_int=_parse_int, parse_constant=_refuse_constant)
    except PayloadError:
        raise
    except json.JSONDecodeError as exc:
        raise PayloadError(f"not valid JSON: {exc.msg} at character {exc.pos}") from None
    except (ValueError, RecursionError) as exc:  # belt and braces: the checks above
        raise PayloadError(f"not usable JSON: {clip(str(exc), 80)}") from None


def finite_number(node: object, what: str) -> float:
    """``node`` as a finite float, or ``PayloadError`` (booleans are not numbers)."""
    if isinstance(node, bool) or not isinstance(node, int | float):
        raise PayloadError(f"{what} is {clip(node, 60)}, not a number")
    try:
        value = float(node)
    except OverflowError:
        raise PayloadError(f"{what} is too large") from None
    if not math.isfinite(value):
        raise PayloadError(f"{what} is {value}, not a finite number")
    return value


@dataclass
class LogLimiter:
    """At most ``budget`` log lines per ``window_s``; :meth:`allow` says whether to log.

    When a new window opens after lines were held back, :meth:`allow` returns the count
    through :attr:`suppressed_last` so the caller can log one summary line.
    """

    budget: int = 20
    window_s: float = 60.0
    clock: Callable[[], float] = time.monotonic
    _start: float | None = None
    _used: int = 0
    _held: int = 0
    suppressed_last: int = field(default=0)

    def allow(self) -> bool:
        now = self.clock()
        self.suppressed_last = 0
        if self._start is None or now - self._start >= self.window_s:
            self.suppressed_last, self._held = self._held, 0
            self._start, self._used = now, 0
        if self._used < self.budget:
            self._used += 1
            return True
        self._held += 1
        return False
