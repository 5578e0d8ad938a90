"""Configuration: one pydantic schema (frozen, ``extra="forbid"``) loaded from YAML."""

from thermalctl.config.hardware import DataType, HardwareMap, Register, Table
from thermalctl.config.loader import (
    ConfigError,
    ConfigIssue,
    Site,
    load_hardware_map,
    load_site,
    load_site_profile,
    validate_files,
)
from thermalctl.config.site import SiteProfile

__all__ = [
    "ConfigError",
    "ConfigIssue",
    "DataType",
    "HardwareMap",
    "Register",
    "Site",
    "SiteProfile",
    "Table",
    "load_hardware_map",
    "load_site",
    "load_site_profile",
    "validate_files",
]
