"""KPI engine on hand-computed cases: ratios of sums, wrap, reset, gaps, periods."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from thermalctl.kpi import (
    KpiInputError,
    compute_kpis,
    counter_from_power,
    interval_energies,
)

HOUR_S = 3600.0


def _frame(times: list[str], **columns: list[float]) -> pd.DataFrame:
    index = pd.DatetimeIndex(pd.to_datetime(times, utc=True))
    return pd.DataFrame({k: [float(x) for x in v] for k, v in columns.items()}, index=index)


def test_ratio_of_sums_differs_from_mean_of_ratios() -> None:
    # day 1: E_DC 120, E_IT 100, E_REUSE 30 -> PUE 1.2; day 2: 40, 20, 4 -> PUE 2.0
    frame = _frame(
        ["2024-03-01", "2024-03-02", "2024-03-03"],
        facility_kwh=[0, 120, 160], it_kwh=[0, 100, 120], reused_heat_kwh=[0, 30, 34],
    )  # fmt: skip
    result = compute_kpis(frame, "D", max_gap_s=86400)
    day1, day2 = result.periods
    assert (day1.label, day2.label) == ("2024-03-01", "2024-03-02")
    assert day1.pue == pytest.approx(1.2)
    assert day2.pue == pytest.approx(2.0)
    # whole window: 160 / 120, not the mean of the daily PUEs (1.6)
    assert result.total.pue == pytest.approx(160 / 120)
    assert result.total.pue != pytest.approx(np.mean([day1.pue, day2.pue]))
    assert result.total.erf == pytest.approx(34 / 160)
    assert result.total.ere == pytest.approx((160 - 34) / 120)
    assert result.total.ere == pytest.approx((1 - result.total.erf) * result.total.pue)
    assert result.total.completeness == 1.0
    assert not result.total.estimated


def test_register_wrap_at_configured_rollover() -> None:
    times = ["2024-01-01T00:00", "2024-01-01T01:00", "2024-01-01T02:00", "2024-01-01T03:00"]
    counter = pd.Series([999_900.0, 999_950.0, 20.0, 70.0], pd.to_datetime(times, utc=True))
    wrapped = interval_energies(counter, rollover=1e6)
    # 999 950 -> 1 000 000 -> 20: 50 + 20 = 70 kWh
    assert wrapped.increments.tolist() == [50.0, 70.0, 50.0]
    (event,) = wrapped.events
    assert (event.kind, event.rollover, event.previous, event.value) == ("wrap", 1e6, 999_950, 20)
    # without a register limit the same drop is a reset: only the new reading counts
    as_reset = interval_energies(counter, rollover=None)
    assert as_reset.increments.tolist() == [50.0, 20.0, 50.0]
    assert as_reset.events[0].kind == "reset"


def test_wrap_of_32_bit_wh_register_found_among_default_limits() -> None:
    index = pd.date_range("2024-01-01", periods=2, freq="h", tz="UTC")
    # register in Wh read as kWh: limit 2**32 Wh = 4 294 967.296 kWh
    wrapped = interval_energies(pd.Series([4_294_967.0, 0.705], index))
    assert wrapped.increments.iloc[0] == pytest.approx(0.296 + 0.705)
    assert wrapped.events[0].rollover == pytest.approx(2**32 / 1000)


def test_meter_reset_counts_from_zero_and_marks_estimated() -> None:
    frame = _frame(
        ["2024-01-01T00:00", "2024-01-01T01:00", "2024-01-01T02:00", "2024-01-01T03:00"],
        facility_kwh=[45_670, 45_690, 3, 23],  # replaced between 01:00 and 02:00
        it_kwh=[100, 116, 130, 146],
        reused_heat_kwh=[0, 5, 10, 15],
    )  # fmt: skip
    result = compute_kpis(frame, max_gap_s=HOUR_S)
    # 20 + 3 (new meter from zero) + 20 = 43 kWh over an E_IT of 46 kWh
    assert result.total.facility_energy_kwh == pytest.approx(43.0)
    assert result.total.it_energy_kwh == pytest.approx(46.0)
    assert [e.kind for e in result.events] == ["reset"]
    assert result.total.estimated
    assert "meter reset of facility_kwh" in result.total.estimated_reasons[0]


def test_gap_inside_window_lowers_completeness_but_not_energy() -> None:
    hours = [0, 1, 2, 3, 4, 9, 10, 11, 12]  # nothing from 04:00 to 09:00
    frame = _frame(
        [f"2024-05-01T{h:02d}:00" for h in hours],
        facility_kwh=[12 * h for h in hours], it_kwh=[10 * h for h in hours],
        reused_heat_kwh=[3 * h for h in hours],
    )  # fmt: skip
    result = compute_kpis(frame, max_gap_s=HOUR_S)
    (gap,) = result.total.gaps
    assert gap.duration_s == 5 * HOUR_S
    assert result.total.completeness == pytest.approx(7 / 12)
    # the counter still measured the energy across the gap: 12 h at 12 kWh/h
    assert result.total.facility_energy_kwh == pytest.approx(144.0)
    assert not result.total.estimated  # a gap inside the period splits nothing


def test_gap_across_midnight_is_split_by_interpolation_and_marked_estimated() -> None:
    frame = _frame(
        ["2024-05-01T22:00", "2024-05-01T23:00", "2024-05-02T03:00", "2024-05-02T04:00"],
        facility_kwh=[0, 10, 50, 60], it_kwh=[0, 8, 40, 48], reused_heat_kwh=[0, 1, 5, 6],
    )  # fmt: skip
    result = compute_kpis(frame, "D", max_gap_s=1.5 * HOUR_S)
    day1, day2 = result.periods
    # C(24:00) = 10 + (50 - 10) * 1/4 = 20
    assert day1.facility_energy_kwh == pytest.approx(20.0)
    assert day2.facility_energy_kwh == pytest.approx(40.0)
    assert day1.completeness == pytest.approx(0.5)  # 23:00-24:00 of 22:00-24:00 missing
    assert day2.completeness == pytest.approx(0.25)  # 00:00-03:00 of 00:00-04:00 missing
    assert day1.estimated and day2.estimated
    assert result.total.facility_energy_kwh == pytest.approx(60.0)


def test_window_wider_than_data_counts_edges_as_gaps() -> None:
    frame = _frame(
        [f"2024-05-01T{h:02d}:00" for h in (6, 9, 12, 15, 18)],
        facility_kwh=[0, 3, 6, 9, 12], it_kwh=[0, 2, 4, 6, 8], reused_heat_kwh=[0, 1, 2, 3, 4],
    )  # fmt: skip
    start = pd.Timestamp("2024-05-01", tz="UTC")
    end = start + pd.Timedelta(days=1)
    result = compute_kpis(frame, start=start, end=end, max_gap_s=4 * HOUR_S)
    # nothing before 06:00 or after 18:00: energy there is missing, not extrapolated
    assert result.total.facility_energy_kwh == pytest.approx(12.0)
    assert result.total.completeness == pytest.approx(0.5)
    assert [g.duration_s for g in result.total.gaps] == [6 * HOUR_S, 6 * HOUR_S]


def test_months_follow_the_local_calendar() -> None:
    index = pd.date_range(
        "2024-01-01", "2024-03-01", freq="h", tz="Europe/Berlin", inclusive="left"
    )
    hours = np.arange(len(index), dtype=float)
    frame = pd.DataFrame(
        {"facility_kwh": 1.5 * hours, "it_kwh": hours, "reused_heat_kwh": 0.5 * hours}, index
    )
    result = compute_kpis(frame, "MS", tz="Europe/Berlin", max_gap_s=HOUR_S)
    jan, feb = result.periods
    assert (jan.label, feb.label) == ("2024-01", "2024-02")
    assert jan.start == pd.Timestamp("2023-12-31T23:00", tz="UTC")
    assert feb.start == pd.Timestamp("2024-01-31T23:00", tz="UTC")
    assert jan.it_energy_kwh == pytest.approx(31 * 24)
    assert feb.it_energy_kwh == pytest.approx(29 * 24 - 1)  # ends at the last sample
    assert jan.pue == pytest.approx(1.5)
    assert jan.erf == pytest.approx(1 / 3)


def test_water_renewables_and_avoided_backup() -> None:
    frame = _frame(
        ["2024-01-01T00:00", "2024-01-01T10:00"],
        facility_kwh=[0, 125], it_kwh=[0, 100], reused_heat_kwh=[0, 90],
        water_m3=[10.0, 10.5], renewable_kwh=[0, 50],
    )  # fmt: skip
    result = compute_kpis(
        frame,
        backup_efficiency=0.9,
        fuel_price_eur_per_kwh=0.1,
        fuel_co2_kg_per_kwh=0.2,
        measurement_category=2,
    )
    total = result.total
    assert total.wue_l_per_kwh == pytest.approx(500 / 100)  # 0.5 m³ = 500 L per 100 kWh
    assert total.ref == pytest.approx(50 / 125)
    assert total.avoided_backup_energy_kwh == pytest.approx(100.0)  # 90 kWh heat / 0.9
    assert total.avoided_cost_eur == pytest.approx(10.0)
    assert total.avoided_co2_kg == pytest.approx(20.0)
    assert result.measurement_category == 2


def test_missing_optional_meters_give_none() -> None:
    frame = _frame(["2024-01-01", "2024-01-02"], facility_kwh=[0, 2], it_kwh=[0, 1],
                   reused_heat_kwh=[0, 0])  # fmt: skip
    total = compute_kpis(frame).total
    assert total.wue_l_per_kwh is None and total.ref is None
    assert total.avoided_backup_energy_kwh is None
    assert compute_kpis(frame, renewable_fraction=0.6).total.ref == pytest.approx(0.6)


def test_power_integrated_by_trapezoid_is_marked_estimated() -> None:
    index = pd.date_range("2024-01-01", periods=3, freq="h", tz="UTC")
    it_counter = counter_from_power(pd.Series([1000.0, 3000.0, 3000.0], index))
    assert it_counter.tolist() == [0.0, 2.0, 5.0]  # (1+3)/2 kWh, then (3+3)/2 kWh
    frame = pd.DataFrame(
        {"facility_kwh": [0.0, 3.0, 6.0], "it_kwh": it_counter, "reused_heat_kwh": 0.0}, index
    )
    total = compute_kpis(frame, estimated_columns={"it_kwh"}).total
    assert total.pue == pytest.approx(6 / 5)
    assert total.estimated_reasons == ("it_kwh integrated from power",)


def test_zero_it_energy_gives_no_pue() -> None:
    frame = _frame(["2024-01-01", "2024-01-02"], facility_kwh=[5, 5], it_kwh=[7, 7],
                   reused_heat_kwh=[0, 0])  # fmt: skip
    total = compute_kpis(frame).total
    assert total.pue is None and total.erf is None and total.ere is None


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda f: f.drop(columns="it_kwh"), "missing counter column(s): it_kwh"),
        (lambda f: f.tz_localize(None), "tz-aware"),
        (lambda f: f.iloc[[0, 2, 1]], "row 2: timestamp 2024-01-01T01:00:00+00:00 is not after"),
        (lambda f: f.assign(reused_heat_kwh=[0.0, -1.0, 2.0]), "row 1 (2024-01-01T01:00:00+00:00),"
         " column 'reused_heat_kwh': negative"),
        (lambda f: f.iloc[:1], "at least two rows"),
    ],
)  # fmt: skip
def test_bad_input_names_row_and_column(mutate, message: str) -> None:  # type: ignore[no-untyped-def]
    frame = _frame(
        ["2024-01-01T00:00", "2024-01-01T01:00", "2024-01-01T02:00"],
        facility_kwh=[0, 2, 4], it_kwh=[0, 1, 2], reused_heat_kwh=[0, 1, 2],
    )  # fmt: skip
    with pytest.raises(KpiInputError) as info:
        compute_kpis(mutate(frame))
    assert message in str(info.value)


@settings(max_examples=60, deadline=None)
@given(
    steps=st.lists(st.floats(0.0, 5000.0), min_size=2, max_size=60),
    offset=st.floats(0.0, 999_999.0),
    gaps=st.lists(st.integers(1, 30), min_size=60, max_size=60),
)
def test_wrapped_counter_sums_to_true_energy_and_periods_add_up(
    steps: list[float], offset: float, gaps: list[int]
) -> None:
    true_energy = np.concatenate([[0.0], np.cumsum(steps)])
    register = (offset + true_energy) % 1e6  # a 6-digit register that wraps
    minutes = np.cumsum([0, *gaps[: len(steps)]])
    index = pd.Timestamp("2024-01-31T20:00", tz="UTC") + pd.to_timedelta(minutes * 60, unit="s")
    frame = pd.DataFrame(
        {"facility_kwh": register, "it_kwh": true_energy, "reused_heat_kwh": 0.0}, index
    )
    result = compute_kpis(frame, "D", rollover=1e6, max_gap_s=3600)
    assert result.total.facility_energy_kwh == pytest.approx(true_energy[-1], abs=1e-6)
    period_sum = sum(p.facility_energy_kwh for p in result.periods)
    assert period_sum == pytest.approx(result.total.facility_energy_kwh, abs=1e-6)
    assert all(e.kind == "wrap" for e in result.events)


def test_single_low_glitch_is_interpolated_not_counted_as_a_reset() -> None:
    """A gateway answering 0 for one poll must not add the whole register to the period
    (review finding: 500 500 kWh and PUE 1564 before the fix)."""
    from thermalctl.kpi.counters import interval_energies

    idx = pd.date_range("2026-01-01", periods=5, freq="h", tz="UTC")
    counter = pd.Series([500_000.0, 500_100.0, 0.0, 500_300.0, 500_400.0], idx, name="f")
    result = interval_energies(counter)
    assert result.increments.sum() == pytest.approx(400.0)
    assert [e.kind for e in result.events] == ["glitch"]
