"""Exceptions raised by the adapters.

The tree::

    AdapterError                 anything an adapter refuses or fails to do
    ├── DeviceError              the device or the bus failed: no connection, timeout,
    │                            Modbus exception response; the library's own exception
    │                            is chained as ``__cause__``
    └── WriteRefused             a write was not attempted: the register is unknown,
                                 read-only, or the value is outside its valid range or
                                 cannot be represented (``ValueError`` as well)

Library exceptions (pymodbus, ``OSError``, ``asyncio.TimeoutError``) are translated
once, where the adapter calls the library (``raise DeviceError(...) from exc``).
Reads never raise: a failed read becomes a ``BAD`` :class:`~thermalctl.points.Reading`
with its reason.
"""

from __future__ import annotations

__all__ = ["AdapterError", "DeviceError", "WriteRefused"]


class AdapterError(Exception):
    """Base class of every adapter error."""


class DeviceError(AdapterError):
    """The device or the bus did not do what was asked (transport or protocol failure)."""


class WriteRefused(AdapterError, ValueError):  # noqa: N818 - a refusal, not an error
    """A write was refused before anything was sent to the device."""
