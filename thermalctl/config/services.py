"""Settings for the services a site may use: InfluxDB, MQTT, the BMS server.

Each is optional; with none configured thermalctl needs no external service.
Secrets are never stored in a profile: they come from the environment
(``THERMALCTL_INFLUX_TOKEN``, ``THERMALCTL_MQTT_URL`` ...).
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["BmsSettings", "InfluxSettings", "MqttSettings"]


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class InfluxSettings(_Frozen):
    url: str | None = None
    org: str = "thermalctl"
    bucket: str = "thermalctl"
    token_env: str = "THERMALCTL_INFLUX_TOKEN"
    api: Literal["v2", "v1"] = "v2"
    batch_size: Annotated[int, Field(ge=1, le=50000)] = 5000
    flush_period_s: Annotated[float, Field(gt=0)] = 10.0


class MqttSettings(_Frozen):
    url: str | None = Field(default=None, description="mqtt://user:pass@host:port or mqtts://")
    base_topic: str = "thermalctl"
    discovery_prefix: str = "homeassistant"
    client_id: str | None = None
    ca_file: str | None = None


class BmsSettings(_Frozen):
    listen: str = "127.0.0.1:5502"
    unit_id: Annotated[int, Field(ge=0, le=255)] = 1
    heartbeat_timeout_s: Annotated[float, Field(gt=0)] = 60.0
