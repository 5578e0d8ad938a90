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
        "devices.0.signals.rack.nope.power_w",
        "no rack group 'nope' (rack_groups: pod)",
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
        "loop.supply_temp_c must be bound to a device or an MQTT sensor: the safety interlocks",
    ),
    (
        lambda d: d["devices"][2]["signals"].update({"it.power_w": "power"}),
        "devices.2.signals.it.power_w",
        "already bound",
    ),
    (
        lambda d: d["devices"][0]["signals"].update({"sink.pool.temp_c": "total_power"}),
        "devices.3.signals.sink.pool.temp_c",
        "already bound",
    ),
    # -- an unknown signal names the closest valid ones ------------------------------------------
    (
        lambda d: d["devices"][0]["signals"].update({"it.powr_w": "total_power"}),
        "devices.0.signals.it.powr_w",
        "did you mean it.power_w",
    ),
    (
        lambda d: d["devices"][3]["signals"].update({"sink.pool.mean_temp_c": "sink1_mean_temp"}),
        "devices.3.signals.sink.pool.mean_temp_c",
        "only for dhw sinks",
    ),
    (
        lambda d: d["devices"][3]["signals"].update({"dump.on": "dump_enable"}),
        "devices.3.signals.dump.on",
        "is an actuator",
    ),
    (
        lambda d: d["devices"][3]["actuators"].update({"loop.flow_m3_per_s": "dump_heat_request"}),
        "devices.3.actuators.loop.flow_m3_per_s",
        "not an actuator",
    ),
    # -- a register name is checked even while the profile has other problems --------------------
    (
        lambda d: (
            d["rack_groups"][0].update(capture_fraction=2.0),
            d["devices"][0]["signals"].update({"it.power_w": "total_powr"}),
        ),
        "devices.0.signals.it.power_w",
        "no register 'total_powr'; did you mean total_power",
    ),
    (
        lambda d: d["devices"][1].update(map="schneider_pm5000"),
        "devices.1.map",
        "not found",
    ),
    # -- what the profile configures needs its signals -------------------------------------------
    (
        lambda d: d["devices"][0]["signals"].pop("it.energy_kwh"),
        "devices",
        "it.energy_kwh must be bound",
    ),
    (
        lambda d: d["devices"][1]["signals"].pop("facility.energy_kwh"),
        "devices",
        "facility.energy_kwh must be bound",
    ),
    (
        lambda d: d["devices"][2]["signals"].pop("sink.pool.energy_kwh"),
        "devices",
        "sink.pool.energy_kwh must be bound",
    ),
    (
        lambda d: d["devices"][3]["signals"].pop("sink.pool.temp_c"),
        "devices",
        "sink.pool.temp_c must be bound",
    ),
    # -- values that would disable safety --------------------------------------------------------
    (
        lambda d: d["limits"].update(stale_after_s=float("inf")),
        "limits.stale_after_s",
        "finite number",
    ),
    (lambda d: d["limits"].update(stale_after_s=1e9), "limits.stale_after_s", "less than"),
    (
        lambda d: d["limits"].update(coolant_supply_trip_c=130, plausible_temp_c=[-30, 140]),
        "limits.coolant_supply_trip_c",
        "above what register 'supply_temp'",
    ),
    (
        lambda d: d["limits"].update(coolant_return_trip_c=130),
        "limits.coolant_return_trip_c",
        "outside plausible_temp_c",
    ),
    (
        lambda d: d["limits"].update(plausible_temp_c=[110, -30]),
        "limits.plausible_temp_c",
        "reversed",
    ),
    (
        lambda d: d["limits"].update(plausible_temp_c=[-1000, 1000]),
        "limits.plausible_temp_c",
        "no liquid-cooling loop",
    ),
    (
        lambda d: d["limits"].update(plausible_power_w=[0, 1000]),
        "limits.plausible_power_w",
        "full load would read as implausible",
    ),
    (
        lambda d: d["limits"].update(plausible_power_w=[5e6, -1e3]),
        "limits.plausible_power_w",
        "reversed",
    ),
    (
        lambda d: d["devices"][3].update(poll_period_s=float("inf")),
        "devices.3.poll_period_s",
        "finite number",
    ),
    (
        lambda d: d["devices"][3].update(poll_period_s=120),
        "devices.3.poll_period_s",
        "would see it stale",
    ),
    (lambda d: d.update(fast_period_s=float("inf")), "fast_period_s", "finite number"),
    (lambda d: d.update(fast_period_s=45), "fast_period_s", "the interlocks run once a tick"),
    (lambda d: d.update(plan_period_s=float("inf")), "plan_period_s", "finite number"),
    (
        lambda d: d.update(bms={"heartbeat_timeout_s": float("inf")}),
        "bms.heartbeat_timeout_s",
        "finite number",
    ),
    (
        lambda d: d["sinks"][0].update(setpoint_c=float("nan")),
        "sinks.0.setpoint_c",
        "finite number",
    ),
    (
        lambda d: d["sinks"][0]["hx"].update(ua_w_per_k=float("nan")),
        "sinks.0.hx.ua_w_per_k",
        "finite number",
    ),
    # -- the loop as the pipes run ------------------------------------------------------------
    (
        lambda d: d["sinks"][0].pop("hx"),
        "sinks.0.hx",
        "no heat exchanger: give sinks[].hx or a default heat_loop.hx",
    ),
    (
        lambda d: d["sinks"][0]["hx"].update(loop_flow_m3_per_h=1.0),
        "sinks.0.hx.loop_flow_m3_per_h",
        "in series the whole loop flow passes each exchanger",
    ),
    (
        lambda d: d["site"].pop("climate"),
        "sinks.0.mains_seasonal",
        "needs site.climate",
    ),
    (
        lambda d: d["rack_groups"][0].update(max_outlet_temp_c=39.0),
        "rack_groups.0.max_outlet_temp_c",
        "must be above the inlet limit",
    ),
    (
        lambda d: d["sinks"][0].update(pool_type="olympic"),
        "sinks.0.pool_type",
        "Input should be",
    ),
    # -- configured fields are used: the cooling type bounds the capture fraction -----------------
    (
        lambda d: d["rack_groups"][0].update(capture_fraction=0.5),
        "rack_groups.0.capture_fraction",
        "outside the plausible range 0.95-1 for immersion cooling",
    ),
    # -- MQTT sensors: the unit must fit the signal ----------------------------------------------
    (
        lambda d: d.update(mqtt_sensors=[{"name": "hall", "topic": "pool/hall", "unit": "W",
                                          "signal": "sink.pool.air_temp_c"}]),
        "mqtt_sensors.0.unit",
        "does not fit sink.pool.air_temp_c",
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


def test_every_unknown_signal_is_reported_at_its_own_line(tmp_path) -> None:
    text = POOL_SITE.read_text().replace(
        "      loop.flow_m3_per_s: loop_flow\n",
        "      loop.flow_m3_per_sec: loop_flow\n      sink.pol.temp_c: sink1_temp\n",
    )
    f = tmp_path / "site.yaml"
    f.write_text(text)
    issues = [i for i in validate_files([f]) if "unknown signal" in i.reason]
    lines = text.splitlines()
    assert len(issues) == 2, [str(i) for i in issues]
    assert "loop.flow_m3_per_sec" in lines[issues[0].line - 1]
    assert "did you mean loop.flow_m3_per_s" in issues[0].reason
    assert "sink.pol.temp_c" in lines[issues[1].line - 1]
    assert "no sink 'pol' (sinks: pool)" in issues[1].reason


def test_profile_and_binding_problems_come_in_one_pass(tmp_path) -> None:
    text = (
        POOL_SITE.read_text()
        .replace("capture_fraction: 0.97", "capture_fraction: 7")
        .replace("it.power_w: total_power", "it.power_w: total_powr")
    )
    f = tmp_path / "site.yaml"
    f.write_text(text)
    paths = [i.path for i in validate_files([f])]
    assert paths == ["rack_groups.0.capture_fraction", "devices.0.signals.it.power_w"]


def test_missing_hardware_map_is_named_at_the_profile_line(tmp_path) -> None:
    text = POOL_SITE.read_text().replace("map: schneider_pm5100", "map: schneider_pm5000")
    f = tmp_path / "site.yaml"
    f.write_text(text)
    (issue,) = validate_files([f])
    assert issue.file == str(f) and issue.path == "devices.1.map"
    assert "schneider_pm5000" in text.splitlines()[issue.line - 1]
    assert "available: " in issue.reason and "schneider_pm5100" in issue.reason


def test_duplicate_yaml_keys_are_errors(tmp_path) -> None:
    text = POOL_SITE.read_text().replace(
        "  stale_after_s: 30\n", "  stale_after_s: 30\n  stale_after_s: 3000\n"
    )
    f = tmp_path / "site.yaml"
    f.write_text(text)
    issues = validate_files([f])
    dup = [i for i in issues if "duplicate key" in i.reason]
    assert [i.path for i in dup] == ["limits.stale_after_s"], [str(i) for i in issues]
    assert text.splitlines()[dup[0].line - 1] == "  stale_after_s: 3000"
    assert f"first at line {dup[0].line - 1}" in dup[0].reason


def test_duplicate_keys_in_a_hardware_map(tmp_path) -> None:
    f = tmp_path / "map.yaml"
    f.write_text(
        "model: m\nmanufacturer: x\ndocument: doc v1\nkind: sensor\nkind: heat_meter\n"
        "registers:\n  - {name: a, address: 0, table: input, data_type: uint16}\n"
    )
    (issue,) = validate_files([f])
    assert (issue.path, issue.line) == ("kind", 5)


def test_a_file_that_is_not_utf8_is_named_with_the_reason(tmp_path) -> None:
    f = tmp_path / "site.yaml"
    text = POOL_SITE.read_text().replace("Exmouth-type", "Exmouth\xa0type")
    f.write_bytes(text.encode("latin-1"))
    (issue,) = validate_files([f])
    assert issue.file == str(f)
    assert "not UTF-8" in issue.reason and "0xa0" in issue.reason
    assert issue.line is not None and issue.line > 1


def test_shipped_profiles_bind_every_required_signal() -> None:
    from thermalctl.models.signals import required_signals

    for path in SITE_PROFILES:
        profile = load_site(path).profile
        bound = {s for d in profile.devices for s in d.signals}
        bound |= {m.signal for m in profile.mqtt_sensors}
        assert set(required_signals(profile)) <= bound, path.name
