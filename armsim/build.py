"""Cross-compile the kernels for one CPU variant and layout, caching the ELF by content."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from .cgen import layout_header, memory_ld
from .cpus import CpuVariant
from .errors import LayoutError, ToolchainError
from .layout import Layout
from .mcu import Mcu, check_fit

GCC_ENV = "ARMSIM_GCC"
CACHE_ENV = "ARMSIM_CACHE_DIR"
KERNELS_ENV = "ARMSIM_KERNELS_DIR"
INSTALL_HINT = ("install the GNU Arm toolchain: `sudo apt-get install --no-install-recommends "
                "gcc-arm-none-eabi libnewlib-arm-none-eabi` (or run scripts/setup.sh), "
                f"or point ${GCC_ENV} at arm-none-eabi-gcc")
LINK_FLAGS = ("-nostartfiles", "--specs=nano.specs", "-Wl,--gc-sections", "-T", "armsim.ld")
LIBS = ("-lm",)

#: Kernel sets: "reference" is kernels/src; "optimized" replaces each file of kernels/src
#: that has a namesake in kernels/opt (same functions, same signatures).
KERNEL_SETS = ("optimized", "reference")
DEFAULT_KERNELS = "optimized"


@dataclass(frozen=True)
class Build:
    """A built ELF and what it was built for."""

    elf: Path
    cpu: CpuVariant
    layout: Layout
    mcu: Mcu
    cached: bool
    kernels: str = DEFAULT_KERNELS


def kernels_dir() -> Path:
    """The kernels/ source tree: $ARMSIM_KERNELS_DIR or the one beside the package."""
    env = os.environ.get(KERNELS_ENV)
    d = Path(env) if env else Path(__file__).resolve().parent.parent / "kernels"
    if not (d / "armsim.ld").is_file():
        raise ToolchainError(f"kernel sources not found in {d} (set ${KERNELS_ENV})")
    return d


def cache_dir() -> Path:
    """Where built ELFs are kept: $ARMSIM_CACHE_DIR or ~/.cache/armsim."""
    env = os.environ.get(CACHE_ENV)
    base = Path(env) if env else Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "armsim"
    return base / "build"


def find_gcc() -> str:
    """Path of arm-none-eabi-gcc, or a ToolchainError saying how to install it."""
    gcc = os.environ.get(GCC_ENV) or shutil.which("arm-none-eabi-gcc")
    if not gcc or not Path(gcc).exists():
        raise ToolchainError(f"arm-none-eabi-gcc not found: {INSTALL_HINT}")
    return gcc


def _sources(kdir: Path, kernels: str = DEFAULT_KERNELS) -> list[Path]:
    if kernels not in KERNEL_SETS:
        raise ToolchainError(f"unknown kernel set {kernels!r}; known: {', '.join(KERNEL_SETS)}")
    ref = {p.name: p for p in (kdir / "src").glob("*.c")}
    if kernels == "optimized":
        ref.update({p.name: p for p in (kdir / "opt").glob("*.c") if p.name in ref})
    return sorted(ref.values(), key=lambda p: p.name)


def _fingerprint(gcc: str, kdir: Path, cpu: CpuVariant, generated: dict[str, str],
                 kernels: str) -> str:
    h = hashlib.sha256()
    version = subprocess.run([gcc, "--version"], capture_output=True, text=True).stdout
    h.update(version.encode())
    h.update(" ".join(cpu.all_flags + LINK_FLAGS + LIBS).encode())
    h.update(kernels.encode())
    files = [kdir / "armsim.ld", *sorted((kdir / "include").glob("*.h")), *_sources(kdir, kernels)]
    for p in files:
        h.update(str(p.relative_to(kdir)).encode())
        h.update(p.read_bytes())
    for name, text in sorted(generated.items()):
        h.update(name.encode())
        h.update(text.encode())
    return h.hexdigest()[:16]


def build(cpu: CpuVariant, layout: Layout, mcu: Mcu, force: bool = False,
          kernels: str = DEFAULT_KERNELS) -> Build:
    """Build (or reuse) the network ELF for this CPU, layout, MCU preset and kernel set."""
    fit = check_fit(mcu, layout.start, layout.reserved_end)
    if not fit.ok:
        raise LayoutError(f"the model does not fit MCU preset '{mcu.name}': "
                          + "; ".join(fit.problems))
    gcc = find_gcc()
    kdir = kernels_dir()
    generated = {"armsim_layout.h": layout_header(layout), "memory.ld": memory_ld(layout, mcu)}
    key = _fingerprint(gcc, kdir, cpu, generated, kernels)
    out_dir = cache_dir() / f"{cpu.name}-f{layout.filters}-{mcu.name}-{kernels[:3]}-{key}"
    elf = out_dir / "network.elf"
    if elf.is_file() and not force:
        return Build(elf, cpu, layout, mcu, cached=True, kernels=kernels)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="tmp-", dir=out_dir.parent))
    try:
        for name, text in generated.items():
            (work / name).write_text(text)
        cmd = [gcc, *cpu.all_flags, "-I", str(work), "-I", str(kdir / "include"),
               *map(str, _sources(kdir, kernels)), "-L", str(work), "-L", str(kdir), *LINK_FLAGS,
               f"-Wl,-Map={work / 'network.map'}", "-o", str(work / "network.elf"), *LIBS]
        (work / "command.txt").write_text(" ".join(cmd) + "\n")
        proc = subprocess.run(cmd, capture_output=True, text=True)
        if proc.returncode != 0:
            raise ToolchainError(f"kernel build for {cpu.title} failed:\n{proc.stderr.strip()}")
        if out_dir.exists():
            shutil.rmtree(out_dir)
        work.rename(out_dir)
    finally:
        if work.exists():
            shutil.rmtree(work, ignore_errors=True)
    return Build(elf, cpu, layout, mcu, cached=False, kernels=kernels)
