#!/usr/bin/env bash
# Set up and run the whole test suite on a fresh Debian 12 machine.
# Installs the real servers the integration tests start on 127.0.0.1 (Mosquitto,
# VictoriaMetrics, InfluxDB 1.x, mbpoll, poppler-utils, Chromium for the HTML report
# render test) when run as root, creates
# .venv, installs thermalctl with its [dev] extra, and runs pytest.
set -euo pipefail
cd "$(dirname "$0")/.."

debs=(mosquitto mosquitto-clients victoria-metrics influxdb mbpoll poppler-utils chromium openssl systemd)
missing=()
for d in "${debs[@]}"; do
  dpkg -s "$d" >/dev/null 2>&1 || missing+=("$d")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    echo "missing Debian packages (tests needing them will skip): ${missing[*]}" >&2
    echo "install with: sudo apt-get install ${missing[*]}" >&2
  fi
fi

python3 -m venv .venv
.venv/bin/pip install -q --upgrade pip >/dev/null
.venv/bin/pip install -q -e '.[dev]'
# Home Assistant for tests/integration/test_home_assistant.py: a venv cached outside the
# repo (cold about 3 min, warm a file check); empty when this machine has no Python 3.13.
THERMALCTL_HA_PYTHON="$(bash tools/ha_env.sh)"
export THERMALCTL_HA_PYTHON
exec .venv/bin/python -m pytest "$@"
