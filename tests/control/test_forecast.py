"""Forecast helpers in the site's local time: tariffs and pool covers, daylight saving."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from tests.conftest import HOTEL_SITE, POOL_SITE
from thermalctl.config.loader import load_site
from thermalctl.config.site import SiteProfile
from thermalctl.control.forecast import HistoryForecaster, time_of_use_price
from thermalctl.control.settings import OperatorSettings
from thermalctl.control.state import SiteState
from thermalctl.models.sinks import PoolModel, model_for


@pytest.fixture(scope="module")
def hotel() -> SiteProfile:
    return load_site(HOTEL_SITE).profile


@pytest.fixture(scope="module")
def pool() -> SiteProfile:
    return load_site(POOL_SITE).profile


def _utc_day_s(year: int, month: int, day: int) -> float:
    return dt.datetime(year, month, day, tzinfo=dt.UTC).timestamp()


def _first_peak_hour_utc(profile: SiteProfile, day_start_s: float) -> float:
    quarter_hours = day_start_s + 900.0 * np.arange(96)
    price = time_of_use_price(profile.prices, quarter_hours, profile.site.timezone)
    peak = price == profile.prices.electricity_peak_eur_per_kwh
    return float(np.argmax(peak)) / 4.0


@pytest.mark.parametrize(
    ("month", "utc_hour"),
    [(1, 16.0), (7, 15.0)],  # 17:00 in Berlin: CET = UTC+1 in winter, CEST = UTC+2 in summer
)
def test_berlin_peak_price_starts_at_17_local(
    hotel: SiteProfile, month: int, utc_hour: float
) -> None:
    assert hotel.site.timezone == "Europe/Berlin"
    assert hotel.prices.peak_hours[0] == 17
    assert hotel.prices.electricity_peak_eur_per_kwh is not None
    assert _first_peak_hour_utc(hotel, _utc_day_s(2026, month, 14)) == utc_hour


def test_peak_window_keeps_its_local_length(hotel: SiteProfile) -> None:
    a, b = hotel.prices.peak_hours
    times = _utc_day_s(2026, 7, 14) + 900.0 * np.arange(96)
    price = time_of_use_price(hotel.prices, times, hotel.site.timezone)
    assert np.count_nonzero(price == hotel.prices.electricity_peak_eur_per_kwh) == 4 * (b - a)


def test_pool_cover_follows_london_summer_time(pool: SiteProfile) -> None:
    # Cover from 22:00 to 06:00 local: 22:00 UTC in January (GMT), 21:00 UTC in July (BST).
    model = model_for(pool.sinks[0], pool)
    assert isinstance(model, PoolModel)
    assert pool.site.timezone == "Europe/London" and pool.sinks[0].cover_hours == (22, 6)
    jan = _utc_day_s(2026, 1, 14)
    jul = _utc_day_s(2026, 7, 14)
    assert not model.cover_on(jan + 21.5 * 3600) and model.cover_on(jan + 22.5 * 3600)
    assert model.cover_on(jul + 21.5 * 3600) and not model.cover_on(jul + 5.5 * 3600)
    # The planner's loss line switches with it (the covered pool loses less).
    times = jul + 3600.0 * np.array([20.5, 21.5])
    offset, slope = model.loss_line_w(times, np.zeros(2), None, pool.sinks[0].setpoint_c)
    loss = offset + slope * pool.sinks[0].setpoint_c
    assert loss[1] < 0.8 * loss[0]


def test_history_forecast_carries_draws_and_loss_lines_of_every_sink(hotel: SiteProfile) -> None:
    fc = HistoryForecaster(hotel)
    state = SiteState(now_s=0.0)
    forecast = fc.forecast(state, OperatorSettings(), 0.0, 900.0, 96)
    assert set(forecast.draw_m3_per_s) == {"dhw"}  # only the tank is drawn from
    # The standard shape spreads the profile's daily volume over the day.
    assert forecast.draw_m3_per_s["dhw"].sum() * 900.0 == pytest.approx(
        hotel.sink("dhw").draw_m3_per_day, rel=0.01
    )
    assert set(forecast.sink_loss_w) == {s.id for s in hotel.sinks}


def test_history_forecaster_learns_draws_from_the_tank_energy_balance(
    hotel: SiteProfile,
) -> None:
    # The site's real draws peak three hours later than the standard shape: after two
    # days the forecaster's draws follow the site's (inferred from heat meter, mean tank
    # temperature and standing loss), not the standard shape, and keep the daily volume.
    from thermalctl.sim.inputs import SyntheticWeather, draw_shape_for
    from thermalctl.sim.offline import plant_state
    from thermalctl.sim.plant import Plant

    standard = draw_shape_for(hotel.site.timezone)
    plant = Plant(hotel, 1_767_571_200.0, draw_shape=lambda t: standard(t + 3 * 3600.0))
    weather = SyntheticWeather.for_site(hotel)
    forecaster = HistoryForecaster(hotel)
    state = None
    for _ in range(2 * 288):
        state = plant_state(plant, state)
        forecaster.observe(state)
        plant.step(300.0, weather(plant.time_s))
    assert state is not None
    start = plant.time_s
    fc = forecaster.forecast(plant_state(plant, state), OperatorSettings(), start, 900.0, 96)
    mids = start + 900.0 * (np.arange(96) + 0.5)
    sink = hotel.sink("dhw")
    true = np.array([
        plant.dhw_draw_m3_per_s(sink, float(t)) for t in mids  # type: ignore[arg-type]
    ])
    shape = np.array([sink.draw_m3_per_day * standard(float(t)) for t in mids])
    learned = fc.draw_m3_per_s["dhw"]
    assert np.corrcoef(learned, true)[0, 1] > 0.95
    assert np.corrcoef(learned, true)[0, 1] > np.corrcoef(learned, shape)[0, 1] + 0.2
    # Daily volume within 5 % (the one-node energy balance of a stratified tank).
    assert learned.sum() * 900.0 == pytest.approx(sink.draw_m3_per_day, rel=0.05)
