#!/usr/bin/env bash
# Set up armsim on a fresh Debian machine: the GNU Arm cross toolchain, CMake and QEMU
# (apt-get); the Python package with its dev extras in .venv (which reuses packages Python
# already has); Unicorn rebuilt from source for speed (scripts/build_unicorn.sh).
# Safe to run again: it installs only what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf 'setup: %s\n' "$*" >&2; }

as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"
    elif command -v sudo >/dev/null 2>&1; then sudo "$@"
    else log "need root to run: $*"; exit 1
    fi
}

apt_missing=()
command -v arm-none-eabi-gcc >/dev/null 2>&1 || apt_missing+=(gcc-arm-none-eabi)
dpkg-query -W -f='${Status}' libnewlib-arm-none-eabi 2>/dev/null | grep -q "ok installed" \
    || apt_missing+=(libnewlib-arm-none-eabi)
# C++ for Cortex-M (TensorFlow Lite Micro, --runtime tflm): newlib's libstdc++ and headers
for pkg in libstdc++-arm-none-eabi-newlib libstdc++-arm-none-eabi-dev; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "ok installed" \
        || apt_missing+=("$pkg")
done
# patch applies TFLM's own patches (flatbuffers, kissfft) and armsim's to Unicorn
command -v patch >/dev/null 2>&1 || apt_missing+=(patch)
# headless Chromium renders the HTML reports in the tests (ARMSIM_NO_CHROMIUM=1 skips it)
if [ -z "${ARMSIM_NO_CHROMIUM:-}" ] && ! command -v chromium >/dev/null 2>&1; then
    apt_missing+=(chromium)
fi
# Unicorn is built from source for speed (scripts/build_unicorn.sh; ARMSIM_UNICORN=wheel skips)
if [ "${ARMSIM_UNICORN:-source}" != "wheel" ]; then
    command -v cmake >/dev/null 2>&1 || apt_missing+=(cmake)
    command -v gcc >/dev/null 2>&1 || apt_missing+=(gcc)
    command -v make >/dev/null 2>&1 || apt_missing+=(make)
fi
# QEMU runs the same firmware beside armsim in scripts/bench_engine.py (ARMSIM_NO_QEMU=1 skips)
if [ -z "${ARMSIM_NO_QEMU:-}" ] && ! command -v qemu-system-arm >/dev/null 2>&1; then
    apt_missing+=(qemu-system-arm)
fi
if ! python3 -c 'import ensurepip, venv' >/dev/null 2>&1; then
    apt_missing+=("python3-venv")
fi
if [ "${#apt_missing[@]}" -gt 0 ]; then
    log "installing Debian packages: ${apt_missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    as_root apt-get update -qq
    as_root apt-get install -y -qq --no-install-recommends "${apt_missing[@]}" >/dev/null
fi

if [ ! -x .venv/bin/python ]; then
    log "creating .venv"
    python3 -m venv --system-site-packages .venv
fi
if ! .venv/bin/python -c 'import armsim.cli.app, pytest, hypothesis, importlinter' >/dev/null 2>&1 \
   || [ pyproject.toml -nt .venv/.armsim-installed ] || [ setup.py -nt .venv/.armsim-installed ] \
   || [ armsim/machine/_blockcount.c -nt .venv/.armsim-installed ]; then
    log "installing armsim and its Python dependencies into .venv"
    .venv/bin/python -m pip install --quiet --disable-pip-version-check -e ".[dev]"
    touch .venv/.armsim-installed
fi
bash scripts/build_unicorn.sh
# CMSIS-NN (int8 models): ../shared/third_party/CMSIS-NN beside the checkout, or
# $ARMSIM_CMSIS_NN_DIR; else clone the pinned commit into the cache where the network allows.
if ! .venv/bin/python -c 'import sys; from armsim.firmware import cmsis
sys.exit(0 if cmsis.locate(required=False) else 1)' >/dev/null 2>&1; then
    dest=$(.venv/bin/python -c 'from armsim.firmware import cmsis; print(cmsis.cache_clone())')
    commit=$(.venv/bin/python -c 'from armsim.firmware import cmsis; print(cmsis.PINNED_COMMIT)')
    repo=$(.venv/bin/python -c 'from armsim.firmware import cmsis; print(cmsis.REPOSITORY)')
    log "CMSIS-NN not found: cloning $repo at ${commit:0:12} into $dest"
    rm -rf "$dest.tmp"
    if git clone --quiet "$repo" "$dest.tmp" 2>/dev/null \
       && git -C "$dest.tmp" checkout --quiet "$commit" 2>/dev/null; then
        mkdir -p "$(dirname "$dest")" && rm -rf "$dest" && mv "$dest.tmp" "$dest"
    else
        rm -rf "$dest.tmp"
        log "could not clone CMSIS-NN (no network?): int8 models need it (set ARMSIM_CMSIS_NN_DIR); float32 models work without it"
    fi
fi
log "ready: $(arm-none-eabi-gcc --version | head -n 1); .venv/bin/armsim"
