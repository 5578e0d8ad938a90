"""GPU power-cap agent (tools/gpu_agent.py) through its dry-run path, with fake NVML-like
devices, and the controller-side MQTT actuator round trip through a real Mosquitto."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path
from types import ModuleType, SimpleNamespace

import pytest

from tests.conftest import REPO
from tests.servers import MosquittoServer, mosquitto_server_fixture, wait_for  # noqa: F401
from thermalctl.adapters.gpu_mqtt import MqttGpuCapActuator, cap_set_topic
from thermalctl.adapters.mqtt import MqttHub, Topics
from thermalctl.config.services import resolve_mqtt
from thermalctl.points import Decision, Mode

AGENT_PATH = REPO / "tools" / "gpu_agent.py"


def load_agent() -> ModuleType:
    spec = importlib.util.spec_from_file_location("gpu_agent", AGENT_PATH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["gpu_agent"] = module
    spec.loader.exec_module(module)
    return module


agent_mod = load_agent()


class FakeNvml:
    """The few NVML calls the agent makes; limits in milliwatts like the real library."""

    def __init__(self, limits_mw: list[tuple[int, int]]) -> None:
        self.limits_mw = limits_mw
        self.set_calls: list[tuple[int, int]] = []

    def nvmlDeviceGetHandleByIndex(self, index: int) -> int:  # noqa: N802 - NVML's name
        return index

    def nvmlDeviceGetName(self, handle: int) -> bytes:  # noqa: N802
        return b"NVIDIA H100 80GB HBM3"

    def nvmlDeviceGetPowerManagementLimitConstraints(self, handle: int) -> tuple[int, int]:  # noqa: N802
        return self.limits_mw[handle]

    def nvmlDeviceSetPowerManagementLimit(self, handle: int, milliwatts: int) -> None:  # noqa: N802
        self.set_calls.append((handle, milliwatts))


@pytest.mark.parametrize(("group_cap_w", "expected"), [
    (1600.0, [400.0, 400.0, 400.0, 400.0]),   # fits: even split
    (400.0, [200.0, 200.0, 200.0, 200.0]),    # below every card's minimum: clamped up
    (8000.0, [700.0, 700.0, 700.0, 700.0]),   # above the maximum: clamped down
])
def test_plan_caps_clamps_to_each_cards_limits(group_cap_w: float, expected: list[float]) -> None:
    nvml = FakeNvml([(200_000, 700_000)] * 4)
    gpus = [agent_mod.NvmlGpu(nvml, i) for i in range(4)]
    assert [p.cap_w for p in agent_mod.plan_caps(group_cap_w, gpus)] == expected


def test_share_and_reserve() -> None:
    gpus = agent_mod.parse_fake_gpus("2:100:400")
    plans = agent_mod.plan_caps(4000.0, gpus, share=0.25, reserve_w=200.0)
    assert [p.cap_w for p in plans] == [400.0, 400.0]  # (1000 - 200) / 2 = 400


def test_dry_run_changes_nothing_and_reports() -> None:
    nvml = FakeNvml([(200_000, 700_000), (150_000, 350_000)])
    gpus = [agent_mod.NvmlGpu(nvml, i) for i in range(2)]
    agent = agent_mod.Agent(gpus, share=1.0, reserve_w=0.0, dry_run=True)
    state = agent.handle(json.dumps({"cap_w": 1000.0, "ts": 1.0}).encode())
    assert nvml.set_calls == []
    assert state["dry_run"] is True and state["requested_w"] == 1000.0
    assert [g["cap_w"] for g in state["gpus"]] == [500.0, 350.0]
    assert [g["clamped"] for g in state["gpus"]] == [False, True]
    assert state["applied_w"] == 850.0


def test_real_run_sets_limits_in_milliwatts() -> None:
    nvml = FakeNvml([(200_000, 700_000)])
    agent = agent_mod.Agent([agent_mod.NvmlGpu(nvml, 0)], share=1.0, reserve_w=0.0,
                            dry_run=False)
    agent.handle(b'{"cap_w": 450.5}')
    assert nvml.set_calls == [(0, 450_500)]


def test_bad_command_is_refused() -> None:
    agent = agent_mod.Agent(agent_mod.parse_fake_gpus("1:100:400"), share=1.0, reserve_w=0.0,
                            dry_run=True)
    assert agent.handle(b"not json")["ok"] is False


@pytest.mark.integration
def test_controller_cap_reaches_agent_over_mqtt(mosquitto_server: MosquittoServer) -> None:
    url = mosquitto_server.url_for["site_a"]
    proc = subprocess.Popen(
        [sys.executable, str(AGENT_PATH), "--mqtt-url", url, "--site", "site_a", "--group",
         "pod", "--fake-gpus", "4:100:400", "--once"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, cwd=Path(REPO))
    endpoint = resolve_mqtt(None, {"THERMALCTL_MQTT_URL": url})
    assert endpoint is not None
    hub = MqttHub(endpoint.model_copy(update={"client_id": "ctl-site_a"}),
                  Topics("thermalctl", "site_a"))
    actuator = MqttGpuCapActuator(hub, ("pod",))
    hub.start()
    try:
        assert hub.wait_connected(5.0)
        tick = SimpleNamespace(now_s=10.0, decision=Decision(10.0, Mode.AUTO, "mpc",
                                                             {"pod": 1200.0}))
        actuator.on_tick(tick)  # type: ignore[arg-type]
        assert wait_for(lambda: "pod" in actuator.applied, 10.0), proc.stdout
        state = actuator.applied["pod"]
        assert state["requested_w"] == 1200.0 and state["dry_run"] is True
        assert [g["cap_w"] for g in state["gpus"]] == [300.0] * 4
        assert proc.wait(10) == 0
        manual = SimpleNamespace(now_s=20.0, decision=Decision(20.0, Mode.MANUAL, "mpc",
                                                               {"pod": 100.0}))
        actuator.on_tick(manual)  # type: ignore[arg-type]   # manual: nothing published
        assert cap_set_topic(hub.topics, "pod") == "thermalctl/site_a/gpu/pod/cap/set"
    finally:
        hub.stop()
        if proc.poll() is None:
            proc.kill()
            proc.wait()
