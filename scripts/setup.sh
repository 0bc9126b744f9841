#!/usr/bin/env bash
# Idempotent set-up on Debian 12 (root or sudo): Debian packages, then .venv with the pinned packages.
# A second run on a ready machine only checks and returns in a few seconds.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(gcc-arm-none-eabi libnewlib-arm-none-eabi qemu-system-arm openssh-server adb iproute2 make gcc libc6-dev python3-venv)
PYTHON=${PYTHON:-python3}

missing=()
for pkg in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing Debian packages: ${missing[*]}"
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || { echo "error: need root or sudo to install ${missing[*]} (hint: run as root)" >&2; exit 1; }
    SUDO=sudo
  fi
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# Python 3.11 exactly (the pins are for it).
"$PYTHON" -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 11) else 1)' || {
  echo "error: edgekit needs Python 3.11, $PYTHON is $("$PYTHON" --version 2>&1) (hint: PYTHON=python3.11 make setup)" >&2; exit 1; }

if [ ! -x .venv/bin/python ]; then
  echo "setup: creating .venv"
  "$PYTHON" -m venv .venv
fi
stamp=.venv/.edgekit-installed
want=$(sha256sum pyproject.toml | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  echo "setup: installing Python packages (first time: ~2 min, ~4 GB)"
  log=$(mktemp)
  if ! .venv/bin/python -m pip install -q --disable-pip-version-check -e '.[test,scale]' >"$log" 2>&1; then
    grep -v "^WARNING: Location" "$log" | tail -30 >&2
    echo "error: pip could not install the pinned packages (hint: read the pip output above)" >&2; exit 1
  fi
  rm -f "$log"
  TF_CPP_MIN_LOG_LEVEL=3 .venv/bin/python -c "import edgekit, torch, tensorflow, ai_edge_litert, onnx2tf, lightgbm, pymoo, serial, paramiko, pytest, xdist, pytest_timeout, ray, matplotlib, scipy" \
    || { echo "error: Python packages did not install (hint: read the pip output above)" >&2; exit 1; }
  echo "$want" > "$stamp"
fi
echo "setup: ready (.venv, arm-none-eabi-gcc $(arm-none-eabi-gcc -dumpversion), $(qemu-system-arm --version | head -1))"
