"""Settings for the services a site may use: InfluxDB, MQTT, the BMS server.

Each is optional; with none configured thermalctl needs no external service.
Secrets are never stored in a profile: they come from the environment
(``THERMALCTL_INFLUX_TOKEN``, ``THERMALCTL_MQTT_URL`` ...).

The profile's section and the environment are merged once, at start-up, into a
*target* (:class:`InfluxTarget`, :class:`MqttEndpoint`, :class:`BmsListen`) by the
``resolve_*`` functions; the environment wins over the profile. A service is
configured when its target resolves, else it is not started.

Environment variables::

    THERMALCTL_INFLUX_URL      http://host:8086 (v2 write API; VictoriaMetrics works too)
    THERMALCTL_INFLUX_TOKEN    API token (v2) or "user:password" (v1)
    THERMALCTL_INFLUX_ORG      organisation (v2)
    THERMALCTL_INFLUX_BUCKET   bucket (v2) or database (v1)
    THERMALCTL_MQTT_URL        mqtt://user:pass@host:1883 or mqtts://... (TLS)
    THERMALCTL_MQTT_COMMAND_KEYS  file of operators' command keys (signed MQTT commands)
    THERMALCTL_BMS_LISTEN      host:port of the BMS Modbus TCP server
    THERMALCTL_BMS_ALLOW       BMS clients allowed, comma-separated IPs or networks
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from ipaddress import IPv4Network, IPv6Network, ip_network
from typing import TYPE_CHECKING, Annotated, Literal, Protocol
from urllib.parse import unquote, urlsplit

from pydantic import BaseModel, ConfigDict, Field, IPvAnyNetwork, SecretStr

from thermalctl.points import Mode

if TYPE_CHECKING:
    from thermalctl.config.site import SiteProfile

__all__ = [
    "BmsListen",
    "BmsSettings",
    "InfluxSettings",
    "InfluxTarget",
    "MqttEndpoint",
    "MqttSettings",
    "OperatorPort",
    "OperatorSetting",
    "SettingValue",
    "StoreSettings",
    "operator_settings",
    "parse_listen",
    "parse_mqtt_url",
    "resolve_bms",
    "resolve_influx",
    "resolve_mqtt",
    "validate_setting",
]

ENV_INFLUX_URL = "THERMALCTL_INFLUX_URL"
ENV_INFLUX_TOKEN = "THERMALCTL_INFLUX_TOKEN"
ENV_INFLUX_ORG = "THERMALCTL_INFLUX_ORG"
ENV_INFLUX_BUCKET = "THERMALCTL_INFLUX_BUCKET"
ENV_MQTT_URL = "THERMALCTL_MQTT_URL"
ENV_MQTT_COMMAND_KEYS = "THERMALCTL_MQTT_COMMAND_KEYS"
ENV_BMS_LISTEN = "THERMALCTL_BMS_LISTEN"
ENV_BMS_ALLOW = "THERMALCTL_BMS_ALLOW"


class _Frozen(BaseModel):
    # NaN and infinity are refused: they would disable a range check or a timeout.
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class InfluxSettings(_Frozen):
    url: str | None = None
    org: str = "thermalctl"
    bucket: str = "thermalctl"
    token_env: str = "THERMALCTL_INFLUX_TOKEN"
    api: Literal["v2", "v1"] = "v2"
    batch_size: Annotated[int, Field(ge=1, le=50000)] = 5000
    flush_period_s: Annotated[float, Field(gt=0)] = 10.0
    timeout_s: Annotated[float, Field(gt=0, le=300)] = 10.0
    max_backoff_s: Annotated[float, Field(gt=0, le=3600)] = 300.0
    outage_alarm_s: Annotated[float, Field(gt=0, le=86400)] = Field(
        default=300.0, description="Raise 'telemetry.outage' when writes have failed this long."
    )
    confirm_after_s: Annotated[float, Field(ge=0, le=3600)] = Field(
        default=30.0, description="Persistence horizon: a batch counts as stored this long "
        "after the server acknowledged it (longer than the server's flush to disk)."
    )


class MqttSettings(_Frozen):
    url: str | None = Field(default=None, description="mqtt://user:pass@host:port or mqtts://")
    base_topic: str = "thermalctl"
    discovery_prefix: str = "homeassistant"
    client_id: str | None = None
    ca_file: str | None = None
    keepalive_s: Annotated[int, Field(ge=5, le=3600)] = 30
    gpu_cap_refresh_s: Annotated[float, Field(gt=0)] = Field(
        default=60.0, description="Re-publish an unchanged GPU cap command this often (MQTT mode)."
    )
    command_keys_file: str | None = Field(
        default=None, description="File of operators' HMAC keys ('key_id = hex key' per line, "
        "kept outside the profile); commands must then be signed (docs/facilities.md)."
    )
    command_signing: Literal["optional", "required"] | None = Field(
        default=None, description="'required' (the default with a key file): unsigned commands "
        "are refused; 'optional': they are applied as mqtt:unsigned (while migrating)."
    )


class BmsSettings(_Frozen):
    listen: str = "127.0.0.1:5502"
    unit_id: Annotated[int, Field(ge=0, le=255)] = 1
    heartbeat_timeout_s: Annotated[float, Field(gt=0, le=3600)] = Field(
        default=60.0, description="Revert the BMS's settings when it stops writing the "
        "heartbeat for this long (at most an hour)."
    )
    allowed_clients: tuple[IPvAnyNetwork, ...] = Field(
        default=(), description="Client IP addresses or networks (10.0.4.0/24) the BMS server "
        "accepts; a connection from any other is closed. Empty: any client."
    )


class StoreSettings(_Frozen):
    """The local store (``thermalctl/adapters/store.py``)."""

    readings_retention_days: Annotated[float, Field(gt=0, le=36500)] = Field(
        default=30.0, description="Readings and decisions older than this are deleted from "
        "the local store once shipped to telemetry (at once when none is configured); the "
        "energy ledger, alarms and the audit trail are kept [days]."
    )


# -- resolved targets -------------------------------------------------------------------
class InfluxTarget(_Frozen):
    """Where the shipper writes: a v2 write API (``/api/v2/write``) or a v1 ``/write``."""

    url: str
    token: SecretStr = SecretStr("")
    org: str = "thermalctl"
    bucket: str = "thermalctl"
    api: Literal["v2", "v1"] = "v2"
    batch_size: Annotated[int, Field(ge=1, le=50000)] = 5000
    flush_period_s: Annotated[float, Field(gt=0)] = 10.0
    timeout_s: Annotated[float, Field(gt=0)] = 10.0
    max_backoff_s: Annotated[float, Field(gt=0)] = 300.0
    outage_alarm_s: Annotated[float, Field(gt=0)] = 300.0
    confirm_after_s: Annotated[float, Field(ge=0)] = 30.0


class MqttEndpoint(_Frozen):
    """A broker parsed from ``mqtt://user:pass@host:port`` (``mqtts://`` for TLS)."""

    host: str
    port: Annotated[int, Field(ge=1, le=65535)]
    username: str | None = None
    password: SecretStr | None = None
    tls: bool = False
    ca_file: str | None = None
    base_topic: str = "thermalctl"
    discovery_prefix: str = "homeassistant"
    client_id: str | None = None
    keepalive_s: int = 30
    gpu_cap_refresh_s: float = 60.0
    command_keys_file: str | None = None
    command_signing: Literal["off", "optional", "required"] = "off"


class BmsListen(_Frozen):
    host: str
    port: Annotated[int, Field(ge=1, le=65535)]
    unit_id: Annotated[int, Field(ge=0, le=255)] = 1
    heartbeat_timeout_s: Annotated[float, Field(gt=0)] = 60.0
    allowed_clients: tuple[IPvAnyNetwork, ...] = ()


def resolve_influx(settings: InfluxSettings | None, env: Mapping[str, str]) -> InfluxTarget | None:
    """The InfluxDB target from the profile's ``influx`` section and the environment.

    None when neither gives a URL.
    """
    base = settings or InfluxSettings()
    url = env.get(ENV_INFLUX_URL) or base.url
    if not url:
        return None
    token = env.get(base.token_env) or env.get(ENV_INFLUX_TOKEN) or ""
    return InfluxTarget(
        url=url.rstrip("/"),
        token=SecretStr(token),
        org=env.get(ENV_INFLUX_ORG) or base.org,
        bucket=env.get(ENV_INFLUX_BUCKET) or base.bucket,
        api=base.api,
        batch_size=base.batch_size,
        flush_period_s=base.flush_period_s,
        timeout_s=base.timeout_s,
        max_backoff_s=base.max_backoff_s,
        outage_alarm_s=base.outage_alarm_s,
        confirm_after_s=base.confirm_after_s,
    )


def parse_mqtt_url(url: str) -> tuple[str, int, str | None, str | None, bool]:
    """``(host, port, username, password, tls)`` from an ``mqtt://`` or ``mqtts://`` URL.

    >>> parse_mqtt_url("mqtts://ha:s%40cret@broker.local")
    ('broker.local', 8883, 'ha', 's@cret', True)
    """
    parts = urlsplit(url)
    if parts.scheme not in ("mqtt", "mqtts", "tcp", "ssl"):
        raise ValueError(f"MQTT URL {_redact(url)!r}: scheme must be mqtt:// or mqtts://")
    tls = parts.scheme in ("mqtts", "ssl")
    if not parts.hostname:
        raise ValueError(f"MQTT URL {_redact(url)!r}: no host")
    try:
        port = parts.port or (8883 if tls else 1883)
    except ValueError as exc:
        raise ValueError(f"MQTT URL {_redact(url)!r}: bad port") from exc
    user = unquote(parts.username) if parts.username else None
    password = unquote(parts.password) if parts.password is not None else None
    return parts.hostname, port, user, password, tls


def _redact(url: str) -> str:
    parts = urlsplit(url)
    if parts.password is None:
        return url
    return url.replace(f":{parts.password}@", ":***@", 1)


def resolve_mqtt(settings: MqttSettings | None, env: Mapping[str, str]) -> MqttEndpoint | None:
    """The broker from ``THERMALCTL_MQTT_URL`` or the profile's ``mqtt.url``; None if neither."""
    base = settings or MqttSettings()
    url = env.get(ENV_MQTT_URL) or base.url
    if not url:
        return None
    host, port, user, password, tls = parse_mqtt_url(url)
    keys_file = env.get(ENV_MQTT_COMMAND_KEYS) or base.command_keys_file
    if base.command_signing is not None and keys_file is None:
        raise ValueError(f"mqtt.command_signing: {base.command_signing!r} needs a key file "
                         f"(mqtt.command_keys_file or {ENV_MQTT_COMMAND_KEYS})")
    signing = "off" if keys_file is None else (base.command_signing or "required")
    return MqttEndpoint(
        host=host,
        port=port,
        username=user,
        password=SecretStr(password) if password is not None else None,
        tls=tls or base.ca_file is not None,
        ca_file=base.ca_file,
        base_topic=base.base_topic.strip("/"),
        discovery_prefix=base.discovery_prefix.strip("/"),
        client_id=base.client_id,
        keepalive_s=base.keepalive_s,
        gpu_cap_refresh_s=base.gpu_cap_refresh_s,
        command_keys_file=keys_file,
        command_signing=signing,
    )


def parse_listen(text: str) -> tuple[str, int]:
    """``host:port`` (``[v6]:port`` for IPv6) as ``(host, port)``.

    >>> parse_listen("0.0.0.0:502")
    ('0.0.0.0', 502)
    """
    host, sep, port = text.strip().rpartition(":")
    if not sep or not host or not port.isdigit() or not 1 <= int(port) <= 65535:
        raise ValueError(f"listen address {text!r}: expected host:port")
    return host.strip("[]"), int(port)


def resolve_bms(settings: BmsSettings | None, env: Mapping[str, str]) -> BmsListen | None:
    """The BMS server's address from ``THERMALCTL_BMS_LISTEN`` or the profile's ``bms``."""
    listen = env.get(ENV_BMS_LISTEN)
    if settings is None and not listen:
        return None
    base = settings or BmsSettings()
    host, port = parse_listen(listen or base.listen)
    allow = env.get(ENV_BMS_ALLOW)
    allowed = base.allowed_clients if allow is None else _parse_networks(ENV_BMS_ALLOW, allow)
    return BmsListen(
        host=host, port=port, unit_id=base.unit_id,
        heartbeat_timeout_s=base.heartbeat_timeout_s, allowed_clients=allowed,
    )


def _parse_networks(name: str, text: str) -> tuple[IPv4Network | IPv6Network, ...]:
    """``"10.0.4.7, 10.0.5.0/24"`` as networks; a ValueError naming ``name`` and the entry."""
    out = []
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        try:
            out.append(ip_network(part))
        except ValueError as exc:
            raise ValueError(f"{name}: {part!r} is not an IP address or network: {exc}") from None
    return tuple(out)


# -- operator settings (MQTT commands, BMS holding registers) ---------------------------------
SettingValue = Mode | float | None
MODES: tuple[Mode, ...] = (Mode.AUTO, Mode.MANUAL, Mode.SAFE)


@dataclass(frozen=True, slots=True)
class OperatorSetting:
    """Something facilities staff may change at run time, with the bounds that apply.

    ``key`` is ``mode``, ``setpoint/<sink>`` (sink set point [degC], within the sink's
    comfort band) or ``gpu_cap/<group>`` (an operator's GPU power cap [W] for a rack
    group, between its ``min_cap_w`` and ``max_power_w``; the planner's cap is lowered
    to it, never raised). ``default`` is the profile's value (None: no override).
    """

    key: str
    name: str
    unit: str
    minimum: float
    maximum: float
    step: float
    default: float | None
    clearable: bool = False

    @property
    def is_mode(self) -> bool:
        return self.key == "mode"


def operator_settings(profile: SiteProfile) -> tuple[OperatorSetting, ...]:
    """Every setting of ``profile``, in a stable order (mode, set points, GPU caps)."""
    out = [OperatorSetting("mode", "Mode", "", 0, len(MODES) - 1, 1, 0)]
    for sink in profile.sinks:
        out.append(OperatorSetting(
            f"setpoint/{sink.id}", f"{sink.name or sink.id} set point", "degC",
            sink.band_low_c, sink.band_high_c, 0.1, sink.setpoint_c))
    for group in profile.rack_groups:
        out.append(OperatorSetting(
            f"gpu_cap/{group.id}", f"{group.id} GPU power cap", "W",
            group.min_cap_w, group.max_power_w, 100.0, None, clearable=True))
    return tuple(out)


def validate_setting(setting: OperatorSetting, raw: object) -> SettingValue:
    """The value ``raw`` means for ``setting``, or ``ValueError`` saying why it is refused.

    Mode takes ``auto``/``manual``/``safe`` (or 0/1/2); numbers must be finite and within
    bounds (a boolean is not a number); a clearable setting takes ``None``, ``"none"`` or
    ``"null"`` to clear (an empty string clears nothing: it is refused). Total: any
    ``raw`` gives a value or ``ValueError``, never another exception.
    """
    if isinstance(raw, str) and len(raw) > 64:
        raise ValueError(f"{setting.key}: {len(raw)} characters is too long for a value")
    if setting.is_mode:
        if isinstance(raw, str) and raw.strip().lower() in {m.value for m in MODES}:
            return Mode(raw.strip().lower())
        if isinstance(raw, int | float) and not isinstance(raw, bool) and raw in range(3):
            return MODES[int(raw)]
        raise ValueError(f"mode must be one of {', '.join(m.value for m in MODES)}, not {raw!r}")
    if raw is None or (isinstance(raw, str) and raw.strip().lower() in ("none", "null")):
        if setting.clearable:
            return None
        raise ValueError(f"{setting.key} needs a number")
    if isinstance(raw, bool) or not isinstance(raw, str | int | float):
        raise ValueError(f"{setting.key}: a {type(raw).__name__} is not a number")
    try:
        value = float(raw)
    except OverflowError:
        raise ValueError(f"{setting.key}: the number is too large") from None
    except ValueError:
        raise ValueError(f"{setting.key}: {raw!r} is not a number") from None
    if not math.isfinite(value):
        raise ValueError(f"{setting.key}: {value} is not finite")
    if not setting.minimum <= value <= setting.maximum:
        raise ValueError(
            f"{setting.key}: {value:g} {setting.unit} is outside "
            f"{setting.minimum:g}..{setting.maximum:g} {setting.unit}"
        )
    return value


class OperatorPort(Protocol):
    """What the MQTT and BMS adapters may change on a controller (the runtime implements it).

    ``source`` says who asked, for the audit trail: ``mqtt:<user or key id>``,
    ``bms:<client address>``, ``bms:watchdog``, ``cli``. Never a password or a key.
    """

    def apply_setting(self, key: str, value: SettingValue, *, source: str = "") -> None:
        """Apply an already validated value (``validate_setting``)."""

    def refuse_setting(self, key: str, raw: str, *, source: str, reason: str) -> None:
        """Record a refused change (``raw``: the request as received, already shortened)."""

    def setting_value(self, key: str) -> SettingValue:
        """The value in force now."""
