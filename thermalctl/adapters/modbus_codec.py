"""Modbus register decoding, encoding and read planning; pure, no I/O.

A register's engineering value, in the unit its hardware map names, is::

    value = raw * scale + offset

where ``raw`` is the integer or IEEE-754 number stored in the register's words.
``word_order`` ``"big"`` means the most significant word comes first;
``byte_order`` ``"little"`` means the two bytes inside every 16-bit word are
swapped (some gateways do that). The byte swap is done here; everything else is
pymodbus' own ``convert_from_registers`` / ``convert_to_registers``, so the
simulator and the client cannot disagree on a layout.

:func:`plan_reads` turns "these registers of this map" into the fewest read
requests that respect the device's request size limit, reading across small
gaps of unused addresses rather than issuing another request.

Unit conversion to and from the canonical units of
:mod:`thermalctl.config.units` is done by the callers (the Modbus client and the
simulator), once, at the edge: :func:`from_canonical` is the inverse they need
for writes.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from pymodbus.client import ModbusBaseClient
from pymodbus.exceptions import ModbusException

from thermalctl.config.hardware import DataType, HardwareMap, Register, Table
from thermalctl.config.units import CANONICAL

__all__ = [
    "BIT_TABLES",
    "MAX_BITS_PER_READ",
    "MAX_REGISTERS_PER_READ",
    "DecodeError",
    "EncodeError",
    "ReadBlock",
    "check_range",
    "decode_register",
    "encode_register",
    "from_canonical",
    "plan_reads",
    "unpack_block",
]

_DT = ModbusBaseClient.DATATYPE

#: Modbus protocol limit for one read of holding or input registers (function 3 / 4).
MAX_REGISTERS_PER_READ = 125
#: Modbus protocol limit for one read of coils or discrete inputs (function 1 / 2).
MAX_BITS_PER_READ = 2000
#: Tables whose addresses are single bits.
BIT_TABLES = frozenset({Table.COIL, Table.DISCRETE})

_PYMODBUS_TYPE: dict[DataType, ModbusBaseClient.DATATYPE] = {
    DataType.INT16: _DT.INT16,
    DataType.UINT16: _DT.UINT16,
    DataType.INT32: _DT.INT32,
    DataType.UINT32: _DT.UINT32,
    DataType.INT64: _DT.INT64,
    DataType.UINT64: _DT.UINT64,
    DataType.FLOAT32: _DT.FLOAT32,
    DataType.FLOAT64: _DT.FLOAT64,
}

#: Inclusive raw bounds of the integer types.
_INT_BOUNDS: dict[DataType, tuple[int, int]] = {
    DataType.INT16: (-(2**15), 2**15 - 1),
    DataType.UINT16: (0, 2**16 - 1),
    DataType.INT32: (-(2**31), 2**31 - 1),
    DataType.UINT32: (0, 2**32 - 1),
    DataType.INT64: (-(2**63), 2**63 - 1),
    DataType.UINT64: (0, 2**64 - 1),
}

#: Largest finite IEEE-754 binary32 number; larger values cannot be packed.
_FLOAT32_MAX = 3.4028234663852886e38


class DecodeError(ValueError):
    """Words cannot be decoded as the register says (wrong length, not 16-bit words)."""


class EncodeError(ValueError):
    """A value cannot be written to a register (out of range, overflow, not finite)."""


def _swap_bytes(words: Sequence[int]) -> list[int]:
    """Swap the two bytes inside every 16-bit word."""
    return [((w & 0xFF) << 8) | (w >> 8) for w in words]


def decode_register(reg: Register, words: Sequence[int]) -> float:
    """Engineering value of ``reg`` (in ``reg.unit``) from its raw words or bit.

    Parameters
    ----------
    reg : Register
        The register's map entry.
    words : sequence of int
        Exactly ``reg.register_count`` 16-bit words as read (one bit, 0/1 or bool,
        for coils and discrete inputs).

    Returns
    -------
    float
        ``raw * scale + offset``; NaN or infinite if the register holds such a float.

    Raises
    ------
    DecodeError
        Wrong number of words, or a word outside 0..65535.

    Examples
    --------
    >>> reg = Register(name="t", address=0, table="input", data_type="int16", scale=0.1)
    >>> round(decode_register(reg, [0xFF38]), 3)
    -20.0
    """
    if len(words) != reg.register_count:
        raise DecodeError(
            f"register {reg.name!r}: {len(words)} word(s) given, "
            f"{reg.data_type.value} needs {reg.register_count}"
        )
    if reg.data_type is DataType.BOOL:
        raw: float = 1.0 if words[0] else 0.0
        return raw * reg.scale + reg.offset
    if any(not 0 <= int(w) <= 0xFFFF for w in words):
        raise DecodeError(f"register {reg.name!r}: words {list(words)} are not all 16-bit")
    regs = _swap_bytes(words) if reg.byte_order == "little" else [int(w) for w in words]
    try:
        value = ModbusBaseClient.convert_from_registers(
            regs, _PYMODBUS_TYPE[reg.data_type], word_order=reg.word_order
        )
    except ModbusException as exc:
        raise DecodeError(f"register {reg.name!r}: {exc}") from exc
    if not isinstance(value, int | float):  # pragma: no cover - one value per register
        raise DecodeError(f"register {reg.name!r}: decoded {value!r}, expected a number")
    return float(value) * reg.scale + reg.offset


def check_range(reg: Register, value: float) -> str | None:
    """Why ``value`` (engineering value in ``reg.unit``) is not valid for ``reg``, or None.

    A value is invalid when it is NaN or infinite, or outside ``reg.min`` / ``reg.max``
    (each bound is checked only when the map gives it).
    """
    if not math.isfinite(value):
        return f"register {reg.name!r}: value {value} is not finite"
    if reg.min is not None and value < reg.min:
        return f"register {reg.name!r}: value {value:g} {reg.unit} below its minimum {reg.min:g}"
    if reg.max is not None and value > reg.max:
        return f"register {reg.name!r}: value {value:g} {reg.unit} above its maximum {reg.max:g}"
    return None


def encode_register(reg: Register, value: float, *, enforce_range: bool = True) -> list[int]:
    """Words (or the single bit) that store ``value`` (in ``reg.unit``) in ``reg``.

    The inverse of :func:`decode_register`: ``raw = (value - offset) / scale``,
    rounded to the nearest integer for integer types.

    Parameters
    ----------
    reg : Register
    value : float
        Engineering value in ``reg.unit``.
    enforce_range : bool
        Refuse values outside ``reg.min`` / ``reg.max`` (default). The simulator turns
        this off to present out-of-range readings the way a faulty sensor would.

    Raises
    ------
    EncodeError
        Not finite, outside the valid range, not 0/1 for a bit, or too large for the
        data type. The message names the register.
    """
    if not math.isfinite(value):
        raise EncodeError(f"register {reg.name!r}: cannot write {value}")
    if enforce_range and (reason := check_range(reg, value)) is not None:
        raise EncodeError(reason)
    raw = (value - reg.offset) / reg.scale
    if reg.data_type is DataType.BOOL:
        if raw not in (0.0, 1.0):
            raise EncodeError(f"register {reg.name!r}: a bit takes 0 or 1, not {raw:g}")
        return [int(raw)]
    number: int | float
    if reg.data_type in _INT_BOUNDS:
        number = round(raw)
        low, high = _INT_BOUNDS[reg.data_type]
        if not low <= number <= high:
            raise EncodeError(
                f"register {reg.name!r}: raw value {number} overflows "
                f"{reg.data_type.value} ({low}..{high})"
            )
    else:
        number = raw
        if reg.data_type is DataType.FLOAT32 and abs(raw) > _FLOAT32_MAX:
            raise EncodeError(f"register {reg.name!r}: raw value {raw:g} overflows float32")
    words = ModbusBaseClient.convert_to_registers(
        number, _PYMODBUS_TYPE[reg.data_type], word_order=reg.word_order
    )
    return _swap_bytes(words) if reg.byte_order == "little" else list(words)


def from_canonical(value: float, unit: str) -> float:
    """Convert ``value`` from the canonical unit of ``unit``'s dimension to ``unit``.

    The inverse of :func:`thermalctl.config.units.to_canonical`.

    >>> from_canonical(2500.0, "kW")
    2.5
    """
    try:
        _canonical, factor, offset = CANONICAL[unit]
    except KeyError:
        raise ValueError(f"unknown unit {unit!r}") from None
    return (value - offset) / factor


@dataclass(frozen=True, slots=True)
class ReadBlock:
    """One read request: ``count`` addresses of ``table`` from ``start``.

    ``registers`` are the map entries the block serves, in address order; the
    addresses between them are read and ignored.
    """

    table: Table
    start: int
    count: int
    registers: tuple[Register, ...]

    @property
    def end(self) -> int:
        """One past the last address read."""
        return self.start + self.count

    @property
    def is_bits(self) -> bool:
        """True for coils and discrete inputs (addresses are single bits)."""
        return self.table in BIT_TABLES


_TABLE_ORDER = (Table.HOLDING, Table.INPUT, Table.COIL, Table.DISCRETE)


def plan_reads(
    hw: HardwareMap, names: Iterable[str] | None = None, max_gap: int = 8
) -> list[ReadBlock]:
    """Group registers into as few read requests as the device allows.

    Registers of one table, sorted by address, share a request while the unused
    addresses between neighbours are at most ``max_gap`` and the request stays
    within ``hw.max_registers_per_read`` registers (``MAX_BITS_PER_READ`` bits for
    coils and discrete inputs).

    Parameters
    ----------
    hw : HardwareMap
    names : iterable of str, optional
        Register names to read (duplicates allowed); all registers when omitted.
    max_gap : int
        Largest run of unused addresses read through rather than split at.

    Returns
    -------
    list of ReadBlock
        Holding, input, coil, discrete blocks in that order, each by address.

    Raises
    ------
    KeyError
        A name is not in the map.
    ValueError
        ``max_gap`` is negative.
    """
    if max_gap < 0:
        raise ValueError(f"max_gap must be >= 0, not {max_gap}")
    if names is None:
        wanted = list(hw.registers)
    else:
        wanted = [hw.register(name) for name in dict.fromkeys(names)]
    blocks: list[ReadBlock] = []
    for table in _TABLE_ORDER:
        regs = sorted((r for r in wanted if r.table is table), key=lambda r: r.address)
        limit = MAX_BITS_PER_READ if table in BIT_TABLES else hw.max_registers_per_read
        group: list[Register] = []
        for reg in regs:
            if group and (
                reg.address - group[-1].end > max_gap or reg.end - group[0].address > limit
            ):
                blocks.append(_block(table, group))
                group = []
            group.append(reg)
        if group:
            blocks.append(_block(table, group))
    return blocks


def _block(table: Table, regs: list[Register]) -> ReadBlock:
    start = regs[0].address
    return ReadBlock(table, start, regs[-1].end - start, tuple(regs))


def unpack_block(block: ReadBlock, words_or_bits: Sequence[int]) -> dict[str, float]:
    """Engineering values (in each register's map unit) of a block's registers.

    ``words_or_bits`` is the response: ``block.count`` words, or at least
    ``block.count`` bits (bit responses are padded to whole bytes).

    Raises
    ------
    DecodeError
        The response has the wrong length or holds a word that is not 16-bit.
    """
    size = len(words_or_bits)
    if (block.is_bits and size < block.count) or (not block.is_bits and size != block.count):
        raise DecodeError(
            f"{block.table.value} block at {block.start}: {size} value(s) for {block.count}"
        )
    values: dict[str, float] = {}
    for reg in block.registers:
        first = reg.address - block.start
        values[reg.name] = decode_register(reg, words_or_bits[first : first + reg.register_count])
    return values
