"""Site profiles and hardware maps: every shipped file loads; broken ones are named precisely."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from tests.conftest import HARDWARE_MAPS, POOL_SITE, SITE_PROFILES
from thermalctl.cli import main
from thermalctl.config import ConfigError, load_hardware_map, load_site, validate_files


@pytest.mark.parametrize("path", SITE_PROFILES, ids=lambda p: p.name)
def test_shipped_site_profiles_load(path: Path) -> None:
    site = load_site(path)
    assert site.profile.rack_groups
    assert set(site.maps) == {d.id for d in site.profile.devices}


@pytest.mark.parametrize("path", HARDWARE_MAPS, ids=lambda p: p.name)
def test_shipped_hardware_maps_load_and_name_their_document(path: Path) -> None:
    hw = load_hardware_map(path)
    assert len(hw.document) > 10


def test_at_least_four_maps_and_two_sites() -> None:
    assert len(HARDWARE_MAPS) >= 4
    assert len(SITE_PROFILES) >= 2


def _write(tmp_path: Path, data: dict, name: str = "site.yaml") -> Path:
    p = tmp_path / name
    p.write_text(yaml.safe_dump(data, sort_keys=False))
    return p


def _pool() -> dict:
    return yaml.safe_load(POOL_SITE.read_text())


# (mutation, expected field path, expected words in the reason)
SITE_BREAKAGES = [
    (
        lambda d: d["rack_groups"][0].update(capture_fraction=1.4),
        "rack_groups.0.capture_fraction",
        "less than or equal to 1",
    ),
    (
        lambda d: d["rack_groups"][0].update(cooling="oil_bath"),
        "rack_groups.0.cooling",
        "immersion",
    ),
    (
        lambda d: d["rack_groups"][0].update(idle_power_w=70000),
        "rack_groups.0",
        "below max_power_w",
    ),
    (lambda d: d["sinks"][0].update(setpoint_c=35.0), "sinks.0", "within band"),
    (lambda d: d["sinks"][0].update(colour="blue"), "sinks.0.colour", "Extra inputs"),
    (lambda d: d["sinks"][0].pop("area_m2"), "sinks.0.area_m2", "Field required"),
    (
        lambda d: d["limits"].update(coolant_supply_alarm_c=60),
        "limits",
        "below coolant_supply_trip",
    ),
    (
        lambda d: d["devices"][0]["signals"].update({"rack.nope.power_w": "total_power"}),
        "devices.0.signals",
        "unknown signal",
    ),
    (lambda d: d["devices"][0].update(port=70000), "devices.0.port", "less than or equal"),
    (
        lambda d: d["reporting"].update(measurement_category=4),
        "reporting.measurement_category",
        "Input should be",
    ),
    (
        lambda d: d["devices"][0]["signals"].update({"it.power_w": "no_such_register"}),
        "devices.0.signals.it.power_w",
        "no register",
    ),
    (
        lambda d: d["devices"][3]["actuators"].update({"dump.on": "pump_running"}),
        "devices.3.actuators.dump.on",
        "read-only",
    ),
    (
        lambda d: d["devices"][3]["signals"].pop("loop.supply_temp_c"),
        "devices",
        "interlocks need loop.supply_temp_c",
    ),
    (
        lambda d: d["devices"][2]["signals"].update({"it.power_w": "power"}),
        "devices.2.signals",
        "already bound",
    ),
    (
        lambda d: d["devices"][0]["signals"].update({"sink.pool.temp_c": "total_power"}),
        "devices.3.signals",
        "already bound",
    ),
]


@pytest.mark.parametrize(("mutate", "path", "words"), SITE_BREAKAGES)
def test_broken_site_profile_names_file_field_and_reason(tmp_path, mutate, path, words) -> None:
    data = _pool()
    mutate(data)
    f = _write(tmp_path, data)
    issues = validate_files([f])
    assert issues, "broken profile was accepted"
    assert any(i.path == path and words in i.reason for i in issues), [str(i) for i in issues]
    assert all(i.file == str(f) for i in issues)


def test_error_carries_yaml_line(tmp_path) -> None:
    text = POOL_SITE.read_text().replace("capture_fraction: 0.97", "capture_fraction: 7")
    f = tmp_path / "site.yaml"
    f.write_text(text)
    with pytest.raises(ConfigError) as err:
        load_site(f)
    issue = err.value.issues[0]
    line = text.splitlines()[issue.line - 1]
    assert "capture_fraction" in line


def test_yaml_syntax_error_names_line(tmp_path) -> None:
    f = tmp_path / "bad.yaml"
    f.write_text("site:\n  id: x\n  name: [unclosed\n")
    issues = validate_files([f])
    assert len(issues) == 1
    assert "YAML syntax" in issues[0].reason
    assert issues[0].line is not None


MAP_BREAKAGES = [
    (
        {"name": "x", "address": 0, "table": "input", "data_type": "float32", "count": 1},
        "does not fit data_type",
    ),
    (
        {"name": "x", "address": 0, "table": "input", "data_type": "uint16", "access": "rw"},
        "only holding registers and coils",
    ),
    ({"name": "x", "address": 0, "table": "coil", "data_type": "int16"}, "coils and discrete"),
    (
        {"name": "x", "address": 0, "table": "holding", "data_type": "int16", "min": 5, "max": 1},
        "above max",
    ),
]


@pytest.mark.parametrize(("register", "words"), MAP_BREAKAGES)
def test_broken_register_rejected(tmp_path, register, words) -> None:
    data = {
        "model": "m",
        "manufacturer": "x",
        "document": "doc v1",
        "kind": "sensor",
        "registers": [register],
    }
    issues = validate_files([_write(tmp_path, data, "map.yaml")])
    assert any(words in i.reason and i.path.startswith("registers.0") for i in issues), issues


def test_overlapping_registers_rejected(tmp_path) -> None:
    data = {
        "model": "m",
        "manufacturer": "x",
        "document": "doc v1",
        "kind": "sensor",
        "registers": [
            {"name": "a", "address": 10, "table": "holding", "data_type": "float32"},
            {"name": "b", "address": 11, "table": "holding", "data_type": "uint16"},
            {"name": "c", "address": 11, "table": "input", "data_type": "uint16"},
        ],
    }
    issues = validate_files([_write(tmp_path, data, "map.yaml")])
    assert len(issues) == 1 and "overlap" in issues[0].reason
    assert "'a'" in issues[0].reason and "'b'" in issues[0].reason


def test_cli_validate_accepts_shipped_and_rejects_broken(tmp_path, capsys) -> None:
    assert main(["validate", *map(str, SITE_PROFILES + HARDWARE_MAPS)]) == 0
    data = _pool()
    data["rack_groups"][0]["capture_fraction"] = 2
    bad = _write(tmp_path, data)
    assert main(["validate", str(bad)]) == 1
    err = capsys.readouterr().err
    assert f"{bad}:" in err and "rack_groups.0.capture_fraction" in err


def test_cli_schema_is_json_schema(capsys) -> None:
    assert main(["schema"]) == 0
    schema = json.loads(capsys.readouterr().out)
    assert schema["title"] == "SiteProfile"
    assert "rack_groups" in schema["properties"]


def test_pool_loss_arguments_match_the_physics() -> None:
    from thermalctl.config.site import PoolSink
    from thermalctl.physics import pool

    assert PoolSink.FRESH_WATER_PER_BATHER_M3 == pool.FRESH_WATER_PER_BATHER_M3
    sink = next(s for s in load_site(POOL_SITE).profile.sinks if isinstance(s, PoolSink))
    loss = pool.pool_heat_loss_w(30.0, **sink.loss_model_arguments(cover_on=False))
    intercept, slope = pool.linearised_heat_loss_w(30.0, **sink.loss_model_arguments(False))
    assert intercept + slope * 30.0 == pytest.approx(float(loss), rel=1e-12)
    assert slope > 0  # a warmer pool loses more


def test_register_unit_must_fit_the_signal(tmp_path) -> None:
    data = _pool()
    data["devices"][3]["signals"]["loop.supply_temp_c"] = "pump_power"  # W, not degC
    issues = validate_files([_write(tmp_path, data)])
    assert any("needs degC" in i.reason and i.path.endswith("loop.supply_temp_c") for i in issues)


def test_mqtt_safety_sensor_may_not_go_stale_slower_than_the_limit(tmp_path) -> None:
    data = _pool()
    data["devices"][3]["signals"].pop("loop.return_temp_c")
    data["mqtt_sensors"] = [
        {
            "name": "ret",
            "topic": "loop/ret",
            "unit": "degC",
            "signal": "loop.return_temp_c",
            "stale_after_s": 300,
        }
    ]
    issues = validate_files([_write(tmp_path, data)])
    assert any(i.path == "mqtt_sensors.0.stale_after_s" for i in issues), [str(i) for i in issues]
    data["mqtt_sensors"][0]["stale_after_s"] = 20
    assert validate_files([_write(tmp_path, data)]) == []


def test_binding_errors_carry_the_line(tmp_path) -> None:
    text = POOL_SITE.read_text().replace("it.power_w: total_power", "it.power_w: total_powr")
    f = tmp_path / "site.yaml"
    f.write_text(text)
    issues = validate_files([f])
    assert len(issues) == 1 and issues[0].line is not None
    assert "total_powr" in text.splitlines()[issues[0].line - 1]
