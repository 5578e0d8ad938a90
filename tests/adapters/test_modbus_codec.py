"""Register decoding, encoding, range checks and read planning (pure, no network)."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pymodbus.client import ModbusBaseClient

from thermalctl.adapters.modbus_codec import (
    MAX_BITS_PER_READ,
    DecodeError,
    EncodeError,
    ReadBlock,
    check_range,
    decode_register,
    encode_register,
    from_canonical,
    plan_reads,
    unpack_block,
)
from thermalctl.config.hardware import REGISTER_COUNT, DataType, HardwareMap, Register, Table
from thermalctl.config.units import CANONICAL, to_canonical

DT = ModbusBaseClient.DATATYPE
NUMERIC = [t for t in DataType if t is not DataType.BOOL]
ORDERS = ["big", "little"]

#: Values each type holds exactly (float32 ones are exact binary32 numbers).
SAMPLES: dict[DataType, list[float]] = {
    DataType.INT16: [0, 1, -1, 12345, -32768, 32767],
    DataType.UINT16: [0, 1, 0x1234, 65535],
    DataType.INT32: [0, -1, 70000, -(2**31), 2**31 - 1],
    DataType.UINT32: [0, 0x12345678, 2**32 - 1],
    DataType.INT64: [0, -1, 2**40 + 3, -(2**53)],
    DataType.UINT64: [0, 2**48 + 5, 2**53],
    DataType.FLOAT32: [0.0, 1.5, -1234.25, 230.0, 2.0**127],
    DataType.FLOAT64: [0.0, math.pi, -1e300, 5e-324],
}


def make_reg(
    data_type: DataType = DataType.UINT16,
    *,
    name: str = "r",
    address: int = 0,
    table: Table | None = None,
    **kwargs: object,
) -> Register:
    if table is None:
        table = Table.COIL if data_type is DataType.BOOL else Table.HOLDING
    return Register.model_validate(
        {"name": name, "address": address, "table": table, "data_type": data_type, **kwargs}
    )


def make_map(registers: list[Register], max_per_read: int = 125) -> HardwareMap:
    return HardwareMap(
        model="test",
        manufacturer="test",
        document="thermalctl test map",
        kind="other",
        max_registers_per_read=max_per_read,
        registers=tuple(registers),
    )


def swap(words: list[int]) -> list[int]:
    return [((w & 0xFF) << 8) | (w >> 8) for w in words]


# -- decoding and encoding ------------------------------------------------------------


@pytest.mark.parametrize("byte_order", ORDERS)
@pytest.mark.parametrize("word_order", ORDERS)
@pytest.mark.parametrize(
    ("data_type", "value"), [(t, v) for t in NUMERIC for v in SAMPLES[t]], ids=str
)
def test_decode_matches_pymodbus_layout(
    data_type: DataType, value: float, word_order: str, byte_order: str
) -> None:
    """Words laid out by pymodbus' own encoder (then byte-swapped) decode to the value."""
    reg = make_reg(data_type, word_order=word_order, byte_order=byte_order)
    words = ModbusBaseClient.convert_to_registers(
        value, getattr(DT, data_type.name), word_order=word_order
    )
    if byte_order == "little":
        words = swap(words)
    assert len(words) == REGISTER_COUNT[data_type]
    assert decode_register(reg, words) == value
    assert encode_register(reg, value) == words


def test_published_layouts() -> None:
    """Layouts written out by hand, independent of pymodbus."""
    # IEEE-754 binary32 230.0 is 0x43660000 (SDM630 voltage, high word first).
    assert decode_register(make_reg(DataType.FLOAT32), [0x4366, 0x0000]) == 230.0
    assert decode_register(make_reg(DataType.FLOAT32, word_order="little"), [0, 0x4366]) == 230.0
    # Byte-swapped int16: 0x1234 arrives as 0x3412.
    assert decode_register(make_reg(DataType.INT16, byte_order="little"), [0x3412]) == 0x1234
    # uint32 low word first, as the rack controller's power cap.
    assert decode_register(make_reg(DataType.UINT32, word_order="little"), [0x5678, 0x1234]) == (
        0x12345678
    )
    # int64 Wh counter: 1 234 500 Wh = 0x12D644.
    assert decode_register(make_reg(DataType.INT64), [0, 0, 0x12, 0xD644]) == 1_234_500


@pytest.mark.parametrize("byte_order", ORDERS)
@pytest.mark.parametrize("word_order", ORDERS)
@pytest.mark.parametrize("data_type", NUMERIC, ids=str)
@given(data=st.data())
def test_round_trip_property(
    data: st.DataObject, data_type: DataType, word_order: str, byte_order: str
) -> None:
    """encode then decode returns the raw value for every representable raw value."""
    reg = make_reg(data_type, word_order=word_order, byte_order=byte_order)
    if data_type is DataType.FLOAT32:
        value: float = data.draw(st.floats(width=32, allow_nan=False, allow_infinity=False))
    elif data_type is DataType.FLOAT64:
        value = data.draw(st.floats(allow_nan=False, allow_infinity=False))
    else:
        bits = REGISTER_COUNT[data_type] * 16
        signed = data_type.value.startswith("int")
        low, high = (-(2 ** (bits - 1)), 2 ** (bits - 1) - 1) if signed else (0, 2**bits - 1)
        # Raw integers beyond 2**53 are not exact as float engineering values.
        value = data.draw(st.integers(max(low, -(2**53)), min(high, 2**53)))
    words = encode_register(reg, value)
    assert all(0 <= w <= 0xFFFF for w in words)
    assert decode_register(reg, words) == value


@given(words=st.lists(st.integers(0, 0xFFFF), min_size=4, max_size=4))
def test_decode_any_words_never_crashes(words: list[int]) -> None:
    """Every bit pattern decodes to a float (NaN and inf included): decode is total."""
    for data_type in NUMERIC:
        reg = make_reg(data_type)
        assert isinstance(decode_register(reg, words[: REGISTER_COUNT[data_type]]), float)


def test_scale_and_offset() -> None:
    reg = make_reg(DataType.INT16, scale=0.1, offset=-10.0)
    assert decode_register(reg, [255]) == pytest.approx(15.5)  # 255 * 0.1 - 10
    assert encode_register(reg, 15.54) == [255]  # (15.54 + 10) / 0.1 = 255.4 -> 255
    assert encode_register(reg, -13.0) == [0xFFE2]  # raw -30
    flow = make_reg(DataType.UINT32, scale=0.001)
    assert decode_register(flow, [0, 6000]) == pytest.approx(6.0)


def test_bool_registers() -> None:
    coil = make_reg(DataType.BOOL)
    assert decode_register(coil, [True]) == 1.0
    assert decode_register(coil, [0]) == 0.0
    assert encode_register(coil, 1.0) == [1]
    assert encode_register(coil, 0) == [0]
    with pytest.raises(EncodeError, match=r"'r'.*0 or 1"):
        encode_register(coil, 0.5)


def test_decode_rejects_wrong_input() -> None:
    with pytest.raises(DecodeError, match="needs 2"):
        decode_register(make_reg(DataType.FLOAT32), [1])
    with pytest.raises(DecodeError, match="16-bit"):
        decode_register(make_reg(DataType.UINT16), [70000])


@pytest.mark.parametrize(
    ("data_type", "value", "match"),
    [
        (DataType.UINT16, 70000, "overflows uint16"),
        (DataType.UINT16, -1, "overflows uint16"),
        (DataType.INT16, 40000, "overflows int16"),
        (DataType.UINT32, 2**32, "overflows uint32"),
        (DataType.FLOAT32, 1e39, "overflows float32"),
        (DataType.FLOAT64, math.nan, "cannot write nan"),
        (DataType.FLOAT32, math.inf, "cannot write inf"),
    ],
)
def test_encode_overflow(data_type: DataType, value: float, match: str) -> None:
    reg = make_reg(data_type, name="cap")
    with pytest.raises(EncodeError, match=match) as info:
        encode_register(reg, value, enforce_range=False)
    assert "'cap'" in str(info.value)
    assert isinstance(info.value, ValueError)


def test_range_check_and_encode_refusal() -> None:
    reg = make_reg(DataType.INT16, name="temp", scale=0.1, unit="degC", min=-30, max=120)
    assert check_range(reg, 20.0) is None
    assert check_range(reg, -30.0) is None  # bounds are inclusive
    assert check_range(reg, 120.0) is None
    assert "below its minimum -30" in (check_range(reg, -30.1) or "")
    assert "above its maximum 120" in (check_range(reg, 500.0) or "")
    assert "not finite" in (check_range(reg, math.nan) or "")
    assert "not finite" in (check_range(reg, -math.inf) or "")
    with pytest.raises(EncodeError, match=r"'temp'.*above its maximum"):
        encode_register(reg, 121.0)
    assert encode_register(reg, 121.0, enforce_range=False) == [1210]
    unbounded = make_reg(DataType.FLOAT64)
    assert check_range(unbounded, 1e300) is None
    assert check_range(make_reg(DataType.FLOAT64, min=0), -1.0) is not None


@pytest.mark.parametrize("unit", sorted(CANONICAL))
def test_from_canonical_inverts_to_canonical(unit: str) -> None:
    canonical, _ = to_canonical(12.5, unit)
    assert from_canonical(canonical, unit) == pytest.approx(12.5)


def test_from_canonical_unknown_unit() -> None:
    with pytest.raises(ValueError, match="unknown unit"):
        from_canonical(1.0, "furlong")


# -- read planning --------------------------------------------------------------------


def test_adjacent_registers_share_one_request() -> None:
    hw = make_map(
        [
            make_reg(DataType.FLOAT32, name="a", address=0, table=Table.INPUT),
            make_reg(DataType.FLOAT32, name="b", address=2, table=Table.INPUT),
            make_reg(DataType.INT16, name="c", address=4, table=Table.INPUT),
        ]
    )
    assert plan_reads(hw) == [ReadBlock(Table.INPUT, 0, 5, hw.registers)]


@pytest.mark.parametrize(
    ("gap", "max_gap", "blocks"),
    [(0, 8, 1), (8, 8, 1), (9, 8, 2), (1, 0, 2), (0, 0, 1), (40, 100, 1)],
)
def test_gap_bridging(gap: int, max_gap: int, blocks: int) -> None:
    first = make_reg(DataType.FLOAT32, name="a", address=100)
    second = make_reg(DataType.FLOAT32, name="b", address=102 + gap)
    plan = plan_reads(make_map([first, second]), max_gap=max_gap)
    assert len(plan) == blocks
    if blocks == 1:
        assert (plan[0].start, plan[0].count) == (100, 4 + gap)
    assert [r.name for b in plan for r in b.registers] == ["a", "b"]


def test_200_registers_split_by_request_limit() -> None:
    regs = [make_reg(DataType.UINT16, name=f"r{i}", address=i) for i in range(200)]
    plan = plan_reads(make_map(regs))
    assert [(b.start, b.count) for b in plan] == [(0, 125), (125, 75)]
    assert sum(len(b.registers) for b in plan) == 200


def test_device_limit_and_multi_register_values_never_straddle() -> None:
    regs = [make_reg(DataType.FLOAT64, name=f"e{i}", address=4 * i) for i in range(50)]
    plan = plan_reads(make_map(regs, max_per_read=10))
    assert all(b.count <= 10 for b in plan)
    assert all(r.address >= b.start and r.end <= b.end for b in plan for r in b.registers)
    assert [b.count for b in plan] == [8] * 25  # two float64 per request
    assert sum(len(b.registers) for b in plan) == 50


def test_bits_are_limited_to_2000_per_request() -> None:
    coils = [make_reg(DataType.BOOL, name=f"c{i}", address=i) for i in range(3000)]
    plan = plan_reads(make_map(coils))
    assert [(b.start, b.count) for b in plan] == [(0, MAX_BITS_PER_READ), (2000, 1000)]
    assert all(b.is_bits for b in plan)


def test_tables_are_planned_apart_and_names_select() -> None:
    regs = [
        make_reg(DataType.UINT16, name="h0", address=0, table=Table.HOLDING),
        make_reg(DataType.UINT16, name="i0", address=0, table=Table.INPUT),
        make_reg(DataType.UINT16, name="i1", address=1, table=Table.INPUT),
        make_reg(DataType.BOOL, name="c0", address=0, table=Table.COIL),
        make_reg(DataType.BOOL, name="d0", address=0, table=Table.DISCRETE),
    ]
    hw = make_map(regs)
    assert [b.table for b in plan_reads(hw)] == [
        Table.HOLDING,
        Table.INPUT,
        Table.COIL,
        Table.DISCRETE,
    ]
    plan = plan_reads(hw, ["i1", "c0", "i1"])  # duplicates are read once
    assert [(b.table, b.start, b.count) for b in plan] == [(Table.INPUT, 1, 1), (Table.COIL, 0, 1)]
    assert plan_reads(hw, []) == []
    with pytest.raises(KeyError, match="nope"):
        plan_reads(hw, ["nope"])
    with pytest.raises(ValueError, match="max_gap"):
        plan_reads(hw, max_gap=-1)


def test_unpack_block() -> None:
    regs = [
        make_reg(DataType.FLOAT32, name="p", address=10, table=Table.INPUT, unit="W"),
        make_reg(DataType.INT16, name="t", address=14, table=Table.INPUT, scale=0.1),
    ]
    (block,) = plan_reads(make_map(regs))
    values = unpack_block(block, [0x4366, 0, 0xDEAD, 0xBEEF, 215])
    assert values == {"p": 230.0, "t": pytest.approx(21.5)}
    with pytest.raises(DecodeError, match="4 value"):
        unpack_block(block, [0, 0, 0, 0])
    with pytest.raises(DecodeError):
        unpack_block(block, [0, 0, 0, 0, 0, 0])


def test_unpack_bits_accepts_byte_padding() -> None:
    coils = [make_reg(DataType.BOOL, name=f"c{i}", address=i) for i in (0, 2)]
    (block,) = plan_reads(make_map(coils))
    bits = [True, False, False, False, False, False, False, False]  # padded to a byte
    assert unpack_block(block, bits) == {"c0": 1.0, "c2": 0.0}
    with pytest.raises(DecodeError):
        unpack_block(block, [True, False])
