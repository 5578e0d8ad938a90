"""MQTT sensor bindings reach the controller's state through a real Mosquitto broker."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from tests.conftest import POOL_SITE
from tests.servers import Listener, MosquittoServer, mosquitto_server_fixture, wait_for  # noqa: F401
from thermalctl.adapters.store import LocalStore
from thermalctl.config import load_site
from thermalctl.config.loader import Site
from thermalctl.config.site import MqttSensor
from thermalctl.control.policy import BaselinePolicy
from thermalctl.points import Quality
from thermalctl.runtime.controller import Controller
from thermalctl.runtime.demo import relocate_to_free_ports
from thermalctl.runtime.services import start_services
from thermalctl.sim.site import SimulatedSite

pytestmark = pytest.mark.integration


async def test_mqtt_sensor_feeds_state_and_goes_stale(
    tmp_path: Path, mosquitto_server: MosquittoServer
) -> None:
    base = relocate_to_free_ports(load_site(POOL_SITE))
    sensor = MqttSensor(
        name="hall_air",
        topic="pool/hall/climate",
        json_field="air.temp",
        unit="K",
        signal="sink.pool.air_temp_c",
        stale_after_s=120,
    )
    site = Site(base.profile.model_copy(update={"mqtt_sensors": (sensor,)}), base.maps, base.path)
    now = [1_767_571_200.0]
    sim = SimulatedSite(site, lambda: now[0])
    await sim.start()
    store = LocalStore(tmp_path / "s.sqlite")
    controller = Controller(site, store, BaselinePolicy(site.profile), lambda: now[0])
    env = {"THERMALCTL_MQTT_URL": f"mqtt://admin:admin-pw@127.0.0.1:{mosquitto_server.port}"}
    services = await start_services(controller, env=env)
    listener = Listener(mosquitto_server)
    try:
        assert "sink.pool.air_temp_c" in controller.bound_signals
        assert wait_for(lambda: bool(listener.connack), 5.0)

        async def seen() -> bool:
            # a sensor publishes periodically; the first may precede the subscription
            listener.publish("pool/hall/climate", json.dumps({"air": {"temp": 304.15}}))
            await asyncio.sleep(0.05)
            now[0] += 10.0
            sim.sync()
            await controller.tick()
            return controller.state.value("sink.pool.air_temp_c") is not None

        for _ in range(100):
            if await seen():
                break
        assert controller.state.value("sink.pool.air_temp_c") == pytest.approx(31.0)  # K -> degC
        now[0] += 600.0  # no new message for 10 min: past the binding's 120 s
        sim.sync()
        await controller.tick()
        assert controller.state.readings["sink.pool.air_temp_c"].quality is Quality.STALE
        assert controller.state.value("sink.pool.air_temp_c") is None
    finally:
        listener.close()
        await services.stop()
        await controller.close()
        await sim.stop()
        store.close()
