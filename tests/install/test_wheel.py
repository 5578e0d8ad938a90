"""The wheel alone carries what a user needs: built, installed in a fresh venv, run elsewhere.

The wheel is built from a copy of the working tree (the files git would clone, plus
those not yet committed), so stale ``build/`` output cannot leak in. It is installed
with ``--no-deps --no-index`` into a venv made with ``--without-pip``: thermalctl itself
comes from the wheel and nothing else. Its dependencies (numpy, scipy, pandas, ...) are
the test environment's, made visible to the new venv by a ``.pth`` line added *after*
the install, so the test needs no download and stays short. A ``.pth`` line adds a
folder to ``sys.path`` without processing the ``.pth`` files in it, so the checkout's
editable-install hook is not loaded; the test asserts thermalctl and its examples load
from the new venv's site-packages. Every command runs from a folder outside the
checkout, with no ``THERMALCTL_*`` or ``PYTHONPATH`` in its environment.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import REPO

pytestmark = [pytest.mark.slow, pytest.mark.integration]

#: Every command here finishes in seconds; this bounds a hang, it is not a measurement.
COMMAND_TIMEOUT_S = 300.0
#: Every profile of site_profiles/ ships as an example.
EXAMPLES = tuple(sorted(p.stem for p in (REPO / "site_profiles").glob("*.yaml")))


@dataclass(frozen=True)
class Installed:
    wheel: Path
    venv: Path
    elsewhere: Path  # a working directory outside the checkout

    @property
    def bin(self) -> Path:
        return self.venv / "bin"

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items()
               if not k.startswith("THERMALCTL_") and k not in ("PYTHONPATH", "VIRTUAL_ENV")}
        env["PATH"] = f"{self.bin}{os.pathsep}{env.get('PATH', '')}"
        return env

    def run(self, *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(self.bin / "thermalctl"), *args], cwd=cwd or self.elsewhere, env=self.env(),
            capture_output=True, text=True, timeout=COMMAND_TIMEOUT_S, check=False,
        )

    def python(self, code: str) -> str:
        out = subprocess.run(
            [str(self.bin / "python"), "-c", code], cwd=self.elsewhere, env=self.env(),
            capture_output=True, text=True, timeout=COMMAND_TIMEOUT_S, check=True,
        )
        return out.stdout.strip()


def _source_files() -> list[str]:
    """What a clone of the working tree holds: tracked files and untracked, unignored ones."""
    out = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
        cwd=REPO, capture_output=True, check=True, timeout=60,
    )
    return [f for f in out.stdout.decode().split("\0") if f]


def _copy_tree(dest: Path) -> None:
    for rel in _source_files():
        src = REPO / rel
        if not src.exists() and not src.is_symlink():
            continue  # deleted in the working tree, not yet committed
        target = dest / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        if src.is_symlink():
            target.symlink_to(os.readlink(src))
        else:
            shutil.copy2(src, target)


def _site_packages(venv: Path) -> Path:
    return venv / "lib" / f"python{sys.version_info[0]}.{sys.version_info[1]}" / "site-packages"


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Installed:
    root = tmp_path_factory.mktemp("wheel")
    src, dist, venv = root / "src", root / "dist", root / "venv"
    _copy_tree(src)
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(dist),
                    str(src)], check=True, timeout=COMMAND_TIMEOUT_S)
    (wheel,) = dist.glob("thermalctl-*.whl")
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True,
                   timeout=COMMAND_TIMEOUT_S)
    subprocess.run([sys.executable, "-m", "pip", "--python", str(venv / "bin" / "python"),
                    "install", "-q", "--no-deps", "--no-index", str(wheel)], check=True,
                   timeout=COMMAND_TIMEOUT_S)
    deps = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
    (_site_packages(venv) / "_test_dependencies.pth").write_text("\n".join(sorted(deps)) + "\n")
    elsewhere = root / "elsewhere"
    elsewhere.mkdir()
    return Installed(wheel, venv, elsewhere)


def test_the_wheel_carries_the_example_profiles_and_maps(installed: Installed) -> None:
    with zipfile.ZipFile(installed.wheel) as whl:
        names = set(whl.namelist())
        linked = [i.filename for i in whl.infolist() if (i.external_attr >> 16) & 0o170000
                  == 0o120000]
    for example in EXAMPLES:
        assert f"thermalctl/examples/site_profiles/{example}.yaml" in names
    for path in sorted((REPO / "hardware_maps").glob("*.yaml")):
        assert f"thermalctl/examples/hardware_maps/{path.name}" in names
    assert linked == [], "the wheel must hold the files, not links to the checkout"


def test_thermalctl_and_its_examples_load_from_the_venv(installed: Installed) -> None:
    out = installed.python(
        "import json, thermalctl, thermalctl.examples as e; print(json.dumps("
        "[thermalctl.__file__, str(e.profiles_dir()), str(e.maps_dir()), e.example_names()]))"
    )
    module, profiles, maps, names = json.loads(out)
    site_packages = _site_packages(installed.venv).resolve()
    for path in (module, profiles, maps):
        assert Path(path).resolve().is_relative_to(site_packages), path
        assert not Path(path).resolve().is_relative_to(REPO.resolve()), path
    assert names == list(EXAMPLES)


def test_validate_and_registers_without_site(installed: Installed) -> None:
    done = installed.run("validate")
    assert done.returncode == 0, done.stderr
    assert "1 file(s) valid" in done.stdout
    done = installed.run("validate", "harbour_hotel_dhw")  # a shipped example by name
    assert done.returncode == 0, done.stderr
    done = installed.run("registers", "--format", "csv")
    assert done.returncode == 0, done.stderr
    assert len(done.stdout.splitlines()) > 5


def test_demo_writes_its_store_where_the_user_is(installed: Installed) -> None:
    done = installed.run("demo", "--hours", "1", "--json")
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert summary["it_energy_kwh"] > 0
    store = installed.elsewhere / summary["store"]
    assert summary["store"] == str(Path("var") / "demo-exmouth_pool.sqlite")
    assert store.is_file()
    report = installed.elsewhere / summary["report"]
    assert report.is_file() and report.resolve().is_relative_to(installed.elsewhere.resolve())


def test_init_writes_a_site_that_validates_and_runs_a_demo(installed: Installed) -> None:
    listed = installed.run("init", "--list")
    assert listed.returncode == 0, listed.stderr
    assert all(name in listed.stdout for name in EXAMPLES)

    done = installed.run("init", "mysite", "--example", "harbour_hotel_dhw")
    assert done.returncode == 0, done.stderr
    folder = installed.elsewhere / "mysite"
    profile = folder / "harbour_hotel_dhw.yaml"
    assert profile.is_file()
    assert sorted(p.name for p in (folder / "hardware_maps").iterdir()) == [
        "eastron_sdm630.yaml", "kamstrup_multical603_gateway.yaml", "schneider_pm5100.yaml",
        "thermalctl_loop_controller.yaml", "thermalctl_rack_controller.yaml",
    ]
    again = installed.run("init", "mysite", "--example", "harbour_hotel_dhw")
    assert again.returncode == 1 and "not overwriting" in again.stderr

    # The site is validated from inside its folder, with its own maps found beside it.
    checked = installed.run("validate", "harbour_hotel_dhw.yaml", cwd=folder)
    assert checked.returncode == 0, checked.stderr

    demo = installed.run("demo", "--site", "mysite/harbour_hotel_dhw.yaml", "--hours", "0.5",
                         "--state-dir", "state", "--no-report", "--json")
    assert demo.returncode == 0, demo.stderr
    assert json.loads(demo.stdout)["store"] == str(Path("state") / "demo-harbour_hotel.sqlite")
    assert (installed.elsewhere / "state" / "demo-harbour_hotel.sqlite").is_file()
