"""Where run and demo keep the store and the audit trail (thermalctl.runtime.paths)."""

from __future__ import annotations

from pathlib import Path

from thermalctl.runtime.paths import state_dir, store_path


def test_given_folder_wins_over_systemd() -> None:
    assert state_dir("/srv/heat", {"STATE_DIRECTORY": "/var/lib/thermalctl"}) == Path("/srv/heat")


def test_systemd_state_directory_first_entry() -> None:
    env = {"STATE_DIRECTORY": "/var/lib/thermalctl:/var/lib/other"}
    assert state_dir(None, env) == Path("/var/lib/thermalctl")


def test_outside_systemd_var_in_the_working_directory() -> None:
    assert state_dir(None, {}) == Path("var")
    assert state_dir(None, {"STATE_DIRECTORY": ""}) == Path("var")


def test_store_path() -> None:
    env = {"STATE_DIRECTORY": "/var/lib/thermalctl"}
    assert store_path("pool", env=env) == Path("/var/lib/thermalctl/pool.sqlite")
    assert store_path("pool", store="x/my.sqlite", env=env) == Path("x/my.sqlite")
    assert store_path("demo-pool", given_state_dir="st", env=env) == Path("st/demo-pool.sqlite")
