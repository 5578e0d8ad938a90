"""Hardware (register) maps: one YAML file per device model.

A map lists a device's Modbus registers as the maker documents them. It is
validated when it is built: the data type fits the table, the register count
fits the data type, addresses do not overlap, only holding registers and coils
are writable.
"""

from __future__ import annotations

import itertools
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from thermalctl.config.units import Unit

__all__ = [
    "REGISTER_COUNT",
    "DataType",
    "HardwareMap",
    "Register",
    "Table",
]


class Table(StrEnum):
    HOLDING = "holding"
    INPUT = "input"
    COIL = "coil"
    DISCRETE = "discrete"


class DataType(StrEnum):
    BOOL = "bool"
    INT16 = "int16"
    UINT16 = "uint16"
    INT32 = "int32"
    UINT32 = "uint32"
    INT64 = "int64"
    UINT64 = "uint64"
    FLOAT32 = "float32"
    FLOAT64 = "float64"


#: Number of 16-bit registers (or bits, for ``bool``) each data type occupies.
REGISTER_COUNT: dict[DataType, int] = {
    DataType.BOOL: 1,
    DataType.INT16: 1,
    DataType.UINT16: 1,
    DataType.INT32: 2,
    DataType.UINT32: 2,
    DataType.INT64: 4,
    DataType.UINT64: 4,
    DataType.FLOAT32: 2,
    DataType.FLOAT64: 4,
}

Order = Literal["big", "little"]


class _Frozen(BaseModel):
    # NaN and infinity are refused: they would disable a range check or a timeout.
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class Register(_Frozen):
    """One value in a device's register map.

    ``address`` is the zero-based protocol address (the manual's 30001 is input
    address 0). ``word_order`` ``big`` means the most significant word comes first;
    ``byte_order`` ``little`` swaps the two bytes inside every register. The
    engineering value is ``raw * scale + offset`` in ``unit``.
    """

    name: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$")]
    address: Annotated[int, Field(ge=0, le=65535)]
    table: Table
    data_type: DataType
    count: int | None = Field(
        default=None, description="Registers occupied; derived from data_type when omitted."
    )
    word_order: Order = "big"
    byte_order: Order = "big"
    scale: float = 1.0
    offset: float = 0.0
    unit: Unit = "1"
    access: Literal["r", "rw"] = "r"
    min: float | None = Field(default=None, description="Lowest valid engineering value.")
    max: float | None = Field(default=None, description="Highest valid engineering value.")
    description: str = ""

    @model_validator(mode="after")
    def _check(self) -> Register:
        expected = REGISTER_COUNT[self.data_type]
        if self.count is not None and self.count != expected:
            raise ValueError(
                f"count {self.count} does not fit data_type {self.data_type.value}, "
                f"which occupies {expected} register(s)"
            )
        bit_table = self.table in (Table.COIL, Table.DISCRETE)
        if bit_table != (self.data_type is DataType.BOOL):
            raise ValueError(
                f"data_type {self.data_type.value} does not fit table {self.table.value}: "
                "coils and discrete inputs are bool, registers are numeric"
            )
        if self.access == "rw" and self.table not in (Table.HOLDING, Table.COIL):
            raise ValueError(
                f"access rw on table {self.table.value}: only holding registers and coils are "
                "writable"
            )
        if self.scale == 0:
            raise ValueError("scale must not be 0")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"min {self.min} is above max {self.max}")
        return self

    @property
    def register_count(self) -> int:
        return REGISTER_COUNT[self.data_type]

    @property
    def end(self) -> int:
        """One past the last address occupied."""
        return self.address + self.register_count

    @property
    def writable(self) -> bool:
        return self.access == "rw"


class HardwareMap(_Frozen):
    """A device model's register map, following a published document."""

    model: str
    manufacturer: str
    document: str = Field(
        description="The maker's register list this map follows (title, version, year), or "
        "'thermalctl specification' where the map is the project's own."
    )
    kind: Literal[
        "power_meter", "heat_meter", "loop_controller", "rack_controller", "sensor", "other"
    ]
    max_registers_per_read: Annotated[int, Field(ge=1, le=125)] = 125
    registers: Annotated[tuple[Register, ...], Field(min_length=1)]

    @model_validator(mode="after")
    def _no_overlap(self) -> HardwareMap:
        seen: dict[str, int] = {}
        for idx, reg in enumerate(self.registers):
            if reg.name in seen:
                raise ValueError(f"registers.{idx}.name: duplicate register name {reg.name!r}")
            seen[reg.name] = idx
        by_table: dict[Table, list[Register]] = {}
        for reg in self.registers:
            by_table.setdefault(reg.table, []).append(reg)
        for table, regs in by_table.items():
            regs.sort(key=lambda r: r.address)
            for a, b in itertools.pairwise(regs):
                if b.address < a.end:
                    raise ValueError(
                        f"registers {a.name!r} ({table.value} {a.address}-{a.end - 1}) and "
                        f"{b.name!r} ({table.value} {b.address}-{b.end - 1}) overlap"
                    )
        return self

    def register(self, name: str) -> Register:
        for reg in self.registers:
            if reg.name == name:
                return reg
        raise KeyError(f"no register {name!r} in map {self.model!r}")
