"""Two simulated sites (the pool and the hotel), each with its own controller, into one
Mosquitto and one VictoriaMetrics through ``start_services``: nothing mixes.

Each controller polls its simulated devices over real Modbus TCP; time is a manual
clock near the present (inside VictoriaMetrics' retention), advanced by the test.
"""

from __future__ import annotations

import asyncio
import json
import math
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import HOTEL_SITE, POOL_SITE, ManualClock
from tests.servers import (  # noqa: F401 - fixture
    DEFAULT_ACL,
    Listener,
    MosquittoServer,
    VictoriaMetricsServer,
    victoria_metrics_fixture,
    wait_for,
)
from thermalctl.adapters.store import LocalStore
from thermalctl.config import load_site
from thermalctl.config.loader import Site
from thermalctl.control.policy import BaselinePolicy
from thermalctl.runtime.controller import Controller
from thermalctl.runtime.demo import relocate_to_free_ports
from thermalctl.runtime.services import Services, start_services
from thermalctl.sim.site import SimulatedSite

START_S = math.floor(time.time() / 3600.0) * 3600.0 - 3 * 3600.0
STEP_S = 30.0
TICKS = 12

pytestmark = pytest.mark.integration


@dataclass
class SiteRig:
    site: Site
    clock: ManualClock
    sim: SimulatedSite
    controller: Controller
    store: LocalStore
    services: Services

    @property
    def id(self) -> str:
        return self.site.profile.site.id


@pytest.fixture
def broker(tmp_path: Path) -> AsyncIterator[MosquittoServer]:
    root = tmp_path / "mosquitto"
    root.mkdir()
    server = MosquittoServer(root, users={"admin": "admin-pw", "exmouth_pool": "pool-pw",
                                          "harbour_hotel": "hotel-pw"}, acl=DEFAULT_ACL)
    server.start()
    yield server  # type: ignore[misc]
    server.stop()


async def start_rig(path: Path, tmp: Path, broker: MosquittoServer, vm: VictoriaMetricsServer,
                    password: str, gpu_by_mqtt: bool) -> SiteRig:
    site = relocate_to_free_ports(load_site(path))
    if gpu_by_mqtt:
        profile = site.profile.model_copy(update={"gpu_cap_actuation": "mqtt"})
        site = Site(profile, site.maps, site.path)
    clock = ManualClock(START_S)
    sim = SimulatedSite(site, clock)
    await sim.start()
    sim.initialise_actuators()
    sid = site.profile.site.id
    store = LocalStore(tmp / f"{sid}.sqlite")
    controller = Controller(site, store, BaselinePolicy(site.profile), clock)
    env = {"THERMALCTL_INFLUX_URL": vm.url, "THERMALCTL_INFLUX_BUCKET": "central",
           "THERMALCTL_MQTT_URL": f"mqtt://{sid}:{password}@127.0.0.1:{broker.port}"}
    services = await start_services(controller, env=env)
    assert services.started == (["influx", "mqtt", "gpu_mqtt"] if gpu_by_mqtt
                                else ["influx", "mqtt"])
    return SiteRig(site, clock, sim, controller, store, services)


@pytest.fixture
async def rigs(tmp_path: Path, broker: MosquittoServer,
               victoria_metrics: VictoriaMetricsServer) -> AsyncIterator[list[SiteRig]]:
    rigs = [await start_rig(POOL_SITE, tmp_path, broker, victoria_metrics, "pool-pw", False),
            await start_rig(HOTEL_SITE, tmp_path, broker, victoria_metrics, "hotel-pw", True)]
    yield rigs
    for rig in rigs:
        await rig.services.stop()
        await rig.controller.close()
        await rig.sim.stop()
        rig.store.close()


async def run_ticks(rigs: list[SiteRig], ticks: int) -> None:
    for _ in range(ticks):
        for rig in rigs:
            rig.clock.now += STEP_S
            rig.sim.sync()
            await rig.controller.tick()


async def until(predicate: Callable[[], bool], timeout_s: float = 5.0) -> bool:
    for _ in range(int(timeout_s / 0.02)):
        if predicate():
            return True
        await asyncio.sleep(0.02)
    return predicate()


def good_readings(store: LocalStore) -> int:
    frame = store.readings_frame()
    return int(frame["value"].notna().sum())


async def test_two_sites_share_a_broker_and_a_tsdb_without_mixing(
    rigs: list[SiteRig], broker: MosquittoServer, victoria_metrics: VictoriaMetricsServer
) -> None:
    admin = Listener(broker)
    try:
        await run_ticks(rigs, TICKS)
        pool, hotel = rigs
        # MQTT: each site's state, discovery and commands stay under its own id
        for rig in rigs:
            assert wait_for(lambda r=rig: admin.last(f"thermalctl/{r.id}/status") == b"online")
            topic = f"thermalctl/{rig.id}/state/loop/supply_temp_c"
            expected = rig.controller.state.value("loop.supply_temp_c")
            assert expected is not None
            assert wait_for(lambda t=topic, x=expected: admin.last(t) is not None and abs(
                json.loads(admin.last(t) or b"{}")["value"] - x) < 1e-3)
            config = json.loads(admin.wait(
                f"homeassistant/sensor/{rig.id}/loop_supply_temp_c/config"))
            assert config["unique_id"] == f"thermalctl_{rig.id}_loop_supply_temp_c"
            assert config["state_topic"] == f"thermalctl/{rig.id}/state/loop/supply_temp_c"
        with admin.lock:
            topics = list(admin.messages)
        for topic in topics:
            owner = [r.id for r in rigs if f"/{r.id}/" in f"/{topic}/"]
            assert len(owner) == 1, f"{topic} belongs to {owner}"
        group = hotel.site.profile.rack_groups[0].id
        cap = json.loads(admin.wait(f"thermalctl/{hotel.id}/gpu/{group}/cap/set"))
        assert cap["cap_w"] == pytest.approx(hotel.controller.last_decision.gpu_power_cap_w[group])
        assert admin.last(f"thermalctl/{pool.id}/gpu/pod/cap/set") is None  # pool: Modbus

        admin.publish(f"thermalctl/{pool.id}/cmd/gpu_cap/pod", "20000")
        # commands are applied on the controller's event loop: let it run while waiting
        assert await until(lambda: admin.last(f"thermalctl/{pool.id}/ack") is not None)
        ack = json.loads(admin.last(f"thermalctl/{pool.id}/ack") or b"{}")
        assert ack["ok"] is True
        assert pool.controller.overrides == {"pod": 20000.0}
        assert hotel.controller.overrides == {}
        assert admin.last(f"thermalctl/{hotel.id}/ack") is None
    finally:
        admin.close()

    # VictoriaMetrics: after a flush, every finite reading of each site arrived once,
    # tagged with its own site only
    for rig in rigs:
        await rig.services.shipper.stop()  # type: ignore[union-attr]
    for rig in rigs:
        series = victoria_metrics.export(f'{{__name__="reading_value",site="{rig.id}"}}')
        stamps = [len(s["timestamps"]) for s in series]  # type: ignore[arg-type]
        assert sum(stamps) == good_readings(rig.store)
        points = {s["metric"]["point"] for s in series}  # type: ignore[index]
        devices = {d.id for d in rig.site.profile.devices}
        assert {p.split(".")[0] for p in points} <= devices
        assert victoria_metrics.sample_count(
            f'{{__name__="energy_it_kwh",site="{rig.id}"}}') == TICKS
    sites = {s["metric"]["site"] for s in victoria_metrics.export('{__name__=~"reading_.*"}')}  # type: ignore[index]
    assert sites == {"exmouth_pool", "harbour_hotel"}
