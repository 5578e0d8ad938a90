"""``thermalctl init``, and how a site written by it finds its files.

A site's hardware maps are sought beside the profile first (``<folder>/hardware_maps``),
then in the shipped maps; paths in a profile are relative to its folder; ``--site``
takes a shipped example's name. Nothing here depends on the working directory but the
``--site NAME`` fallback, checked from a folder that holds no such file.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import SITE_PROFILES
from thermalctl.cli import main
from thermalctl.config.loader import ConfigError, load_site, map_search_dirs, site_path
from thermalctl.examples import example_names, maps_dir, profiles_dir
from thermalctl.runtime.init_cli import write_site

POOL_MAPS = [
    "eastron_sdm630.yaml", "kamstrup_multical603_gateway.yaml", "schneider_pm5100.yaml",
    "thermalctl_loop_controller.yaml", "thermalctl_rack_controller.yaml",
]


def test_init_writes_the_profile_and_the_maps_it_uses(tmp_path: Path,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["init", str(tmp_path / "site")]) == 0
    profile = tmp_path / "site" / "exmouth_pool.yaml"
    assert sorted(p.name for p in (tmp_path / "site" / "hardware_maps").iterdir()) == POOL_MAPS
    text = profile.read_text()
    assert text.startswith("# exmouth_pool.yaml: a starting site written by `thermalctl init`")
    assert text.endswith((profiles_dir() / "exmouth_pool.yaml").read_text())  # example's notes
    assert f"thermalctl validate {profile}" in capsys.readouterr().out
    site = load_site(profile)
    assert site.profile.site.id == "exmouth_pool"


def test_a_map_beside_the_profile_wins_over_the_shipped_one(tmp_path: Path) -> None:
    profile = write_site(tmp_path, "exmouth_pool")[0].path
    local = tmp_path / "hardware_maps" / "eastron_sdm630.yaml"
    local.write_text(local.read_text().replace("name: total_power", "name: total_power_w"))
    with pytest.raises(ConfigError) as err:
        load_site(profile)
    (issue,) = [i for i in err.value.issues if "total_power" in i.reason]
    assert "has no register 'total_power'" in issue.reason
    assert "total_power_w" in issue.reason  # the local map was read: its names are offered
    assert map_search_dirs(profile_dir=tmp_path)[0] == tmp_path / "hardware_maps"
    assert map_search_dirs(profile_dir=tmp_path)[-1] == maps_dir()


def test_a_map_the_folder_lacks_comes_from_the_shipped_maps(tmp_path: Path) -> None:
    profile = write_site(tmp_path, "exmouth_pool")[0].path
    (tmp_path / "hardware_maps" / "schneider_pm5100.yaml").unlink()
    assert load_site(profile).maps["facility_meter"].model  # found among the shipped maps


def test_a_map_path_is_relative_to_the_profile_not_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    profile = write_site(tmp_path / "site", "exmouth_pool")[0].path
    (tmp_path / "site" / "hardware_maps").rename(tmp_path / "site" / "maps")
    text = profile.read_text()
    for name in POOL_MAPS:
        text = text.replace(f"map: {name[:-5]}\n", f"map: maps/{name}\n")
    profile.write_text(text)
    monkeypatch.chdir(tmp_path)  # maps/ is not here: only beside the profile
    assert set(load_site(profile).maps) == {
        "it_meter", "facility_meter", "pool_heat_meter", "loop", "pod_ctrl"}
    (tmp_path / "site" / "maps" / "eastron_sdm630.yaml").unlink()
    with pytest.raises(ConfigError, match="relative to the profile's folder"):
        load_site(profile)


def test_init_refuses_to_overwrite_and_writes_nothing(tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    mine = tmp_path / "hardware_maps" / "eastron_sdm630.yaml"
    mine.parent.mkdir()
    mine.write_text("# my own map\n")
    assert main(["init", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert "not overwriting" in err and str(mine) in err and "--force" in err
    assert mine.read_text() == "# my own map\n"
    assert not (tmp_path / "exmouth_pool.yaml").exists()
    assert main(["init", str(tmp_path), "--force"]) == 0
    assert mine.read_text().startswith("# eastron_sdm630.yaml: copied by `thermalctl init`")


def test_init_of_an_unknown_example_names_those_there_are(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["init", str(tmp_path), "--example", "exmouth"]) == 1
    err = capsys.readouterr().err
    shipped = ", ".join(sorted(p.stem for p in SITE_PROFILES))
    assert "no example site 'exmouth'" in err and shipped in err
    assert list(tmp_path.iterdir()) == []


def test_init_without_a_folder_asks_for_one(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["init"]) == 2
    assert "give the folder" in capsys.readouterr().err


def test_init_lists_the_examples(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["init", "--list", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)["examples"]
    shipped = sorted(p.stem for p in SITE_PROFILES)  # every profile of site_profiles/
    assert [r["name"] for r in rows] == example_names() == shipped
    assert {"exmouth_pool", "harbour_hotel"} <= {r["site_id"] for r in rows}
    assert len({r["site_id"] for r in rows}) == len(rows)  # one site id per example


def test_site_name_or_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert site_path("harbour_hotel_dhw") == profiles_dir() / "harbour_hotel_dhw.yaml"
    (tmp_path / "harbour_hotel_dhw").write_text("a file of the user's wins\n")
    assert site_path("harbour_hotel_dhw") == Path("harbour_hotel_dhw")
    assert site_path("missing.yaml") == Path("missing.yaml")  # a path: its read error says so
    with pytest.raises(ConfigError, match=r"no such file in .*no example site 'pool'"):
        site_path("pool")
