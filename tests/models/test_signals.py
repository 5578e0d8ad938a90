"""The signal catalogue: names, units, ranges and what a site requires, declared once."""

from __future__ import annotations

import pytest

from tests.conftest import HOTEL_SITE, POOL_SITE
from thermalctl.config.loader import load_site_profile
from thermalctl.config.units import CANONICAL
from thermalctl.models import signals as sig


def test_every_template_is_declared_once_with_a_canonical_unit() -> None:
    templates = [s.template for s in sig.CATALOGUE]
    assert len(templates) == len(set(templates))
    canonical = {c for c, _, _ in CANONICAL.values()}
    for s in sig.CATALOGUE:
        assert s.unit in canonical, s.template
        assert s.plausible[0] < s.plausible[1], s.template
        assert s.description, s.template


def test_counters_are_total_increasing_energy_for_the_ha_energy_dashboard() -> None:
    counters = [s for s in sig.CATALOGUE if s.kind is sig.Kind.COUNTER]
    assert counters
    assert all((s.unit, s.device_class, s.state_class) == ("kWh", "energy", "total_increasing")
               for s in counters)


@pytest.mark.parametrize(
    ("build", "name"),
    [
        (lambda: sig.rack_signal("pod", "gpu_power_cap_w"), "rack.pod.gpu_power_cap_w"),
        (lambda: sig.sink_signal("pool", "energy_kwh"), "sink.pool.energy_kwh"),
        (lambda: sig.LOOP_SUPPLY_TEMP_C, "loop.supply_temp_c"),
    ],
)
def test_builders_make_catalogue_names(build, name) -> None:
    assert build() == name
    assert sig.spec(name) is sig.spec(sig.parse(name).spec.template)


@pytest.mark.parametrize(
    ("build", "words"),
    [
        (lambda: sig.rack_signal("pod", "power_kw"), "no rack signal 'power_kw'"),
        (lambda: sig.sink_signal("pool", "gpu_power_cap_w"), "no sink signal"),
        (lambda: sig.spec("loop.supply_temp"), "unknown signal"),
        (lambda: sig.parse("rack..power_w"), "unknown signal"),
    ],
)
def test_unknown_names_are_refused(build, words) -> None:
    with pytest.raises(sig.UnknownSignalError, match=words):
        build()


def test_parse_takes_a_name_apart() -> None:
    ref = sig.parse("sink.dhw.heat_request_w")
    assert (ref.sink, ref.group, ref.spec.kind, ref.spec.actuator) == (
        "dhw", None, sig.Kind.SETPOINT, True)
    assert sig.parse("rack.train.power_w").group == "train"


def test_critical_signals_are_the_loop_temperatures() -> None:
    assert sig.CRITICAL_SIGNALS == ("loop.supply_temp_c", "loop.return_temp_c")


def test_signals_for_a_site_resolve_ranges_from_the_profile() -> None:
    profile = load_site_profile(POOL_SITE)
    limits = profile.limits.model_copy(update={"plausible_power_w": (-10.0, 2.0e5)})
    specs = sig.signals_for(profile.model_copy(update={"limits": limits}))
    assert specs["rack.pod.power_w"].plausible == (-10.0, 2.0e5)  # limits.plausible_power_w
    assert specs["it.power_w"].plausible == (-10.0, 2.0e5)
    assert specs["sink.pool.temp_c"].plausible == profile.limits.plausible_temp_c
    assert specs["rack.pod.gpu_power_cap_w"].plausible == (4000.0, 40000.0)
    assert specs["sink.pool.heat_request_w"].plausible == (0.0, 80000.0)
    assert specs["it.energy_kwh"].plausible[0] == 0.0  # counters keep their own range
    assert "sink.pool.mean_temp_c" not in specs  # a tank's signal
    assert not any(name.startswith("rack.{") for name in specs)
    assert sig.is_plausible("rack.pod.power_w", 1.0e5, specs)
    assert not sig.is_plausible("rack.pod.power_w", 3.0e5, specs)


def test_required_signals_follow_what_the_profile_configures() -> None:
    profile = load_site_profile(HOTEL_SITE)
    required = sig.required_signals(profile)
    for name in ("loop.supply_temp_c", "loop.return_temp_c", "it.energy_kwh",
                 "facility.energy_kwh", "sink.dhw.temp_c", "sink.dhw.energy_kwh",
                 "sink.heating.temp_c", "sink.heating.energy_kwh"):
        assert name in required
    assert "ambient.temp_c" not in required
    assert sig.actuators_for(profile).keys() == {
        "rack.train.gpu_power_cap_w", "rack.infer.gpu_power_cap_w", "sink.dhw.heat_request_w",
        "sink.heating.heat_request_w", "dump.on", "dump.heat_request_w"}


def test_closest_names_for_a_misspelling() -> None:
    valid = sig.signals_for(load_site_profile(POOL_SITE))
    assert sig.closest("sink.pool.temp", valid)[0] == "sink.pool.temp_c"
