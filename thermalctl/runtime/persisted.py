"""Operator settings kept in the local store, so they survive a restart.

They live as JSON in the store's meta table under :data:`SETTINGS_META_KEY`. On
start each kept value is checked against the profile's bounds as they are now
(``thermalctl.config.services.operator_settings``): a value that no longer fits (the
profile narrowed a band, removed a sink) is dropped with a warning, the rest kept.
"""

from __future__ import annotations

import json
import logging
from typing import Protocol

from thermalctl.config.services import operator_settings, validate_setting
from thermalctl.config.site import SiteProfile
from thermalctl.control.settings import OperatorSettings

__all__ = ["SETTINGS_META_KEY", "restored_settings", "save_settings"]

log = logging.getLogger(__name__)

#: Key of the operator settings in the store's meta table.
SETTINGS_META_KEY = "operator_settings"


class MetaStore(Protocol):
    def get_meta(self, key: str) -> str | None: ...

    def set_meta(self, key: str, value: str) -> None: ...


def save_settings(store: MetaStore, settings: OperatorSettings) -> None:
    store.set_meta(SETTINGS_META_KEY, json.dumps(settings.to_json(), sort_keys=True))


def _number(value: object) -> float:
    if not isinstance(value, float | int):
        raise ValueError(f"{value!r} is not a number")
    return float(value)


def restored_settings(store: MetaStore, profile: SiteProfile) -> OperatorSettings:
    """The settings kept in ``store``, each checked against ``profile``'s bounds now."""
    raw = store.get_meta(SETTINGS_META_KEY)
    if raw is None:
        return OperatorSettings()
    try:
        saved = OperatorSettings.from_json(json.loads(raw))
    except (ValueError, TypeError, AttributeError) as exc:
        log.warning("stored operator settings unreadable (%s); profile defaults", exc)
        return OperatorSettings()
    bounds = {s.key: s for s in operator_settings(profile)}
    kept = OperatorSettings(mode=saved.mode)
    for sink_id, temp in saved.sink_setpoint_c.items():
        try:
            value = _number(validate_setting(bounds[f"setpoint/{sink_id}"], temp))
            kept = kept.with_setpoint(sink_id, value)
        except (KeyError, ValueError) as exc:
            log.warning("stored set point of %s dropped: %s", sink_id, exc or "unknown sink")
    for group_id, cap in saved.gpu_cap_w.items():
        try:
            value = _number(validate_setting(bounds[f"gpu_cap/{group_id}"], cap))
            kept = kept.with_gpu_cap(group_id, value)
        except (KeyError, ValueError) as exc:
            log.warning("stored GPU cap of %s dropped: %s", group_id, exc or "unknown group")
    if kept != OperatorSettings():
        log.info("operator settings restored from the store: %s", kept.to_json())
    return kept
