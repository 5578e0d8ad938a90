"""start_services: nothing configured starts nothing; env alone configures a service;
the controller as an operator port (mode, GPU cap override, set point)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.conftest import POOL_SITE
from tests.servers import free_port
from thermalctl.adapters.store import LocalStore
from thermalctl.config import load_site
from thermalctl.control.policy import BaselinePolicy
from thermalctl.points import Mode
from thermalctl.runtime.controller import Controller
from thermalctl.runtime.services import ControllerOperator, start_services


@pytest.fixture
async def controller(tmp_path: Path) -> AsyncIterator[Controller]:
    site = load_site(POOL_SITE)
    store = LocalStore(tmp_path / "s.sqlite")
    c = Controller(site, store, BaselinePolicy(site.profile), lambda: 0.0)
    yield c
    await c.close()
    store.close()


async def test_nothing_configured_starts_nothing(controller: Controller) -> None:
    services = await start_services(controller, env={})
    assert services.started == [] and controller.observers == []
    await services.stop()


async def test_env_alone_starts_the_bms_server(controller: Controller) -> None:
    port = free_port()
    services = await start_services(controller, env={"THERMALCTL_BMS_LISTEN":
                                                     f"127.0.0.1:{port}"})
    try:
        assert services.started == ["bms"]
        assert services.bms is not None and services.bms.listen.port == port
        assert controller.observers == [services.bms]
    finally:
        await services.stop()
    assert controller.observers == []


def test_controller_operator_applies_settings(controller: Controller) -> None:
    op = ControllerOperator(controller)
    op.apply_setting("mode", Mode.MANUAL)
    assert controller.mode is Mode.MANUAL and op.setting_value("mode") is Mode.MANUAL
    op.apply_setting("gpu_cap/pod", 20000.0)
    assert controller.overrides == {"pod": 20000.0}
    op.apply_setting("gpu_cap/pod", None)
    assert controller.overrides == {}
    op.apply_setting("setpoint/pool", 30.5)
    assert op.setting_value("setpoint/pool") == 30.5
    # An input to the core, not a patch: the profile keeps its value, the settings the new.
    assert controller.profile.sink("pool").setpoint_c != 30.5
    assert controller.settings.setpoint_c(controller.profile.sink("pool")) == 30.5
