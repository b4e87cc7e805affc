#!/usr/bin/env bash
# Build Unicorn (the version armsim pins) from its PyPI source distribution and install it
# into .venv in place of the PyPI wheel: ARM target only, GCC -O3 with LTO and hidden
# symbols, profile-guided by armsim's own benchmark firmware (scripts/bench_engine.py
# --train). Measured here: the seed CNN runs 1.3-1.5x faster than on the 2.1.3 wheel
# (figures in docs/engine.md). armsim's patches (scripts/patches/unicorn-$version-*.patch,
# each explained in its header) are applied to the source first. Called by scripts/setup.sh.
#
#   ARMSIM_UNICORN=wheel          skip: keep the PyPI wheel
#   ARMSIM_UNICORN_CACHE=DIR      where the source and build live (default ~/.cache/armsim)
#
# Any failure leaves the wheel in place with a one-line notice: armsim runs the same on both,
# only slower (`armsim --version` says which one it runs).
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf 'setup: %s\n' "$*" >&2; }
py=.venv/bin/python

if [ "${ARMSIM_UNICORN:-source}" = "wheel" ]; then
    log "ARMSIM_UNICORN=wheel: keeping Unicorn's PyPI wheel"
    exit 0
fi
version=$($py -c 'from armsim.machine.engine import PINNED; print(PINNED)')
# True when .venv runs the source build of $version and pip records it as that version;
# "say" prints the engine build first.
source_build_installed() {
    $py -c "
import sys
from importlib.metadata import version
from armsim.machine.engine import engine_build
from armsim.machine.tlb import vtlb_sound
e = engine_build()
if '${1:-}' == 'say':
    print('setup: engine:', e)
sys.exit(0 if e.arm_only and e.version == version('unicorn') == '$version' and vtlb_sound()
         else 1)" 2>/dev/null
}

# the patches a build carries, recorded beside the installed library
patches_sum=$(cat scripts/patches/unicorn-"$version"-*.patch 2>/dev/null | sha256sum | cut -c1-16)
marker=.venv/.armsim-unicorn-patches
if source_build_installed && [ "$(cat "$marker" 2>/dev/null)" = "$patches_sum" ]; then
    exit 0  # already the source build of the pinned version, with today's patches
fi

cache="${ARMSIM_UNICORN_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/armsim}/unicorn-$version"
log "building Unicorn $version from source (ARM only, profile-guided; about 2 minutes) in $cache"

fail() {
    log "could not build Unicorn from source ($1; log in $cache/build.log): using the PyPI wheel"
    exit 0
}

mkdir -p "$cache"
: > "$cache/build.log"
src="$cache/unicorn-$version"
if [ ! -f "$cache/unicorn-$version.tar.gz" ]; then
    $py -m pip download --quiet --disable-pip-version-check --no-binary :all: --no-deps \
        "unicorn==$version" -d "$cache" >>"$cache/build.log" 2>&1 || fail "download failed"
fi
# a fresh copy of the source every build, so the patches apply to what was released
rm -rf "$src"
tar -xzf "$cache/unicorn-$version.tar.gz" -C "$cache" >>"$cache/build.log" 2>&1 \
    || fail "unpack failed"
for p in scripts/patches/unicorn-"$version"-*.patch; do
    [ -f "$p" ] || continue
    patch -p1 --quiet -d "$src/src" -i "$PWD/$p" >>"$cache/build.log" 2>&1 \
        || fail "applying $p failed"
done

build="$cache/build"
jobs=$(nproc 2>/dev/null || echo 2)
common=(-DCMAKE_BUILD_TYPE=Release -DUNICORN_BUILD_TESTS=off -DUNICORN_ARCH=arm)
prof="$cache/profile"

# 1. instrumented build; 2. the training run on it; 3. the optimized build from the profile
rm -rf "$prof" "$build"
cmake -S "$src/src" -B "$build" "${common[@]}" \
      -DCMAKE_C_FLAGS="-fvisibility=hidden -fprofile-generate -fprofile-update=single -fprofile-dir=$prof" \
      -DCMAKE_SHARED_LINKER_FLAGS="-fprofile-generate" >>"$cache/build.log" 2>&1 \
    || fail "cmake failed"
cmake --build "$build" -j"$jobs" >>"$cache/build.log" 2>&1 || fail "instrumented build failed"
LIBUNICORN_PATH="$build" $py scripts/bench_engine.py --train >>"$cache/build.log" 2>&1 \
    || fail "training run failed"
cmake -S "$src/src" -B "$build" "${common[@]}" \
      -DCMAKE_C_FLAGS="-fvisibility=hidden -flto=auto -fprofile-use -fprofile-partial-training -fprofile-dir=$prof -Wno-missing-profile -Wno-coverage-mismatch" \
      -DCMAKE_SHARED_LINKER_FLAGS="-flto=auto" >>"$cache/build.log" 2>&1 || fail "cmake failed"
cmake --build "$build" -j"$jobs" --clean-first >>"$cache/build.log" 2>&1 \
    || fail "optimized build failed"

# The sdist's setup.py installs a library found in prebuilt/ instead of building its own.
# Its version comes from setuptools-scm, which has no git history here: name it, or pip
# records 0.0.0 and the next `pip install` of armsim (unicorn==PIN) replaces the build.
mkdir -p "$src/prebuilt"
cp "$build/libunicorn.so.2" "$build/libunicorn.a" "$src/prebuilt/"
SETUPTOOLS_SCM_PRETEND_VERSION="$version" $py -m pip install --quiet \
    --disable-pip-version-check --no-deps --force-reinstall "$src" >>"$cache/build.log" 2>&1 \
    || fail "install failed"
echo "$patches_sum" > "$marker"
source_build_installed say >&2 \
    || { $py -m pip install --quiet --disable-pip-version-check --no-deps --force-reinstall \
             "unicorn==$version" >>"$cache/build.log" 2>&1
         fail "the installed library is not the one built, or pip does not see it as $version"; }
