"""The GNU Arm toolchain and the build cache: finding arm-none-eabi-gcc, its version (part of
every cache key), running it, and publishing finished builds into the cache folder."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
from functools import lru_cache
from pathlib import Path

from armsim.errors import ToolchainError

GCC_ENV = "ARMSIM_GCC"

CACHE_ENV = "ARMSIM_CACHE_DIR"

INSTALL_HINT = ("install the GNU Arm toolchain: `sudo apt-get install --no-install-recommends "
                "gcc-arm-none-eabi libnewlib-arm-none-eabi` (or run scripts/setup.sh), "
                f"or point ${GCC_ENV} at arm-none-eabi-gcc")

LINK_FLAGS = ("-nostartfiles", "--specs=nano.specs", "-Wl,--gc-sections")

LIBS = ("-lm",)


def cache_dir() -> Path:
    """Where built ELFs are kept: $ARMSIM_CACHE_DIR or ~/.cache/armsim."""
    env = os.environ.get(CACHE_ENV)
    base = Path(env) if env else Path(os.environ.get("XDG_CACHE_HOME",
                                                     Path.home() / ".cache")) / "armsim"
    return base / "build"


def find_gcc() -> str:
    """Path of arm-none-eabi-gcc, or a ToolchainError saying how to install it."""
    gcc = os.environ.get(GCC_ENV) or shutil.which("arm-none-eabi-gcc")
    if not gcc or not Path(gcc).exists():
        raise ToolchainError(f"arm-none-eabi-gcc not found: {INSTALL_HINT}")
    return gcc


@lru_cache(maxsize=4)
def gcc_version(gcc: str) -> str:
    """The compiler's --version text (part of every cache key)."""
    return subprocess.run([gcc, "--version"], capture_output=True, text=True).stdout


def content_hash(*parts: bytes | str) -> str:
    """A short hash of ``parts`` (the cache keys of libraries and ELFs)."""
    h = hashlib.sha256()
    for p in parts:
        h.update(p.encode() if isinstance(p, str) else p)
        h.update(b"\0")
    return h.hexdigest()[:16]


def run_tool(cmd: list[str], what: str) -> None:
    """Run a toolchain command; a ToolchainError with its stderr if it fails."""
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise ToolchainError(f"{what} failed:\n{proc.stderr.strip()}")


def publish(work: Path, out_dir: Path) -> None:
    """Move a finished work directory into the cache (another process may have won)."""
    if out_dir.exists():
        shutil.rmtree(work, ignore_errors=True)
        return
    try:
        work.rename(out_dir)
    except OSError:
        shutil.rmtree(work, ignore_errors=True)


def ar_for(gcc: str) -> str:
    """The archiver beside ``gcc``."""
    ar = str(Path(gcc).with_name(Path(gcc).name.replace("gcc", "ar")))
    if not Path(ar).exists():
        ar = shutil.which("arm-none-eabi-ar") or ar
    return ar
