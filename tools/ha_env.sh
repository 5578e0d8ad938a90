#!/usr/bin/env bash
# Make (once) the cached Home Assistant venv that tests/integration/test_home_assistant.py
# runs HA from, outside the repository: $THERMALCTL_HA_CACHE (default
# /var/cache/thermalctl-ci)/ha-<version>-py<major.minor>.
#
# HA is installed the way its maintainers pin it: the released wheel with the
# package_constraints.txt that the wheel itself ships, plus the requirements that the
# manifests of the integrations the test loads (mqtt, api, http, onboarding, auth and
# what they depend on) declare, under the same constraints. The venv counts only when
# complete (marker file .thermalctl-complete, written last): an interrupted install is
# removed and redone, never half used. A warm run only checks the marker.
#
# HA 2025.4.4 is the newest release for Python 3.13.0 (2025.5 and later need
# >= 3.13.2, 2026.3 and later >= 3.14.2). Override with THERMALCTL_HA_VERSION and
# THERMALCTL_HA_PYTHON. Prints the venv's python on stdout; exits 0 printing nothing
# when no Python >= 3.13 exists on this machine (the test then skips and says why).
set -euo pipefail

version="${THERMALCTL_HA_VERSION:-2025.4.4}"
cache="${THERMALCTL_HA_CACHE:-/var/cache/thermalctl-ci}"
python="${THERMALCTL_HA_PYTHON:-}"
if [ -z "$python" ]; then
  for cand in /root/.pyenv/versions/3.13.*/bin/python3 "$(command -v python3.13 || true)"; do
    if [ -n "$cand" ] && [ -x "$cand" ] \
       && "$cand" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 13))' 2>/dev/null; then
      python="$cand"; break
    fi
  done
fi
if [ -z "$python" ]; then
  echo "ha_env: no Python 3.13 found (HA $version needs it); the HA test will skip" >&2
  exit 0
fi
pyver="$("$python" -c 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")')"
venv="$cache/ha-$version-py$pyver"
marker="$venv/.thermalctl-complete"

if [ -f "$marker" ]; then
  echo "$venv/bin/python"
  exit 0
fi

mkdir -p "$cache"
work="$(mktemp -d "$cache/.ha-$version-XXXXXX")"
trap 'rm -rf "$work"' EXIT
start=$(date +%s)
echo "ha_env: installing Home Assistant $version with $python into $venv (cold, minutes)" >&2

rm -rf "$venv"  # no marker: whatever is there is unfinished
"$python" -m venv "$venv"
vpy="$venv/bin/python"
"$vpy" -m pip install -q --upgrade pip >&2
"$vpy" -m pip download -q --no-deps -d "$work/wheel" "homeassistant==$version" >&2
wheel="$(ls "$work"/wheel/homeassistant-*.whl)"
"$vpy" - "$wheel" "$work/constraints.txt" <<'EOF'
import sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as z:
    data = z.read("homeassistant/package_constraints.txt")
open(sys.argv[2], "wb").write(data)
EOF
"$vpy" -m pip install -q -c "$work/constraints.txt" "$wheel" >&2

# The requirements of the integrations the test loads, from their manifests.
"$vpy" - "$work/requirements.txt" <<'EOF'
import json, sys
from pathlib import Path
import homeassistant.components as comps
from homeassistant import bootstrap
root = Path(comps.__path__[0])
wanted = {"mqtt", "api", "http", "onboarding", "auth", "homeassistant",
          *getattr(bootstrap, "CORE_INTEGRATIONS", ()),
          *getattr(bootstrap, "DEFAULT_INTEGRATIONS", ()),
          *getattr(bootstrap, "LOGGING_AND_HTTP_DEPS_INTEGRATIONS", ())}
seen, reqs, todo = set(), set(), list(wanted)
while todo:
    name = todo.pop()
    if name in seen:
        continue
    seen.add(name)
    manifest = root / name / "manifest.json"
    if not manifest.exists():
        continue
    m = json.loads(manifest.read_text())
    reqs.update(m.get("requirements", []))
    todo.extend(m.get("dependencies", []))
Path(sys.argv[1]).write_text("\n".join(sorted(reqs)) + "\n")
print(f"ha_env: {len(seen)} integrations, {len(reqs)} requirements", file=sys.stderr)
EOF
if [ -s "$work/requirements.txt" ]; then
  "$vpy" -m pip install -q -c "$work/constraints.txt" -r "$work/requirements.txt" >&2
fi
cp "$work/constraints.txt" "$work/requirements.txt" "$venv/"
"$venv/bin/python" -c "import homeassistant.const as c; assert c.__version__ == '$version'"
echo "$version $(date -u +%FT%TZ) $(( $(date +%s) - start ))s" > "$marker"
echo "ha_env: done in $(( $(date +%s) - start )) s" >&2
echo "$venv/bin/python"
