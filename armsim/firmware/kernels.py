"""Kernel sets and their libraries: armsim's own C kernels (kernels/ref, kernels/opt,
kernels/cmsis, kernels/s8, and kernels/common in every set) compiled per CPU variant into
cached static libraries."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from armsim.errors import ToolchainError
from armsim.firmware import cmsis
from armsim.firmware.toolchain import (
    ar_for,
    cache_dir,
    content_hash,
    find_gcc,
    gcc_version,
    publish,
    run_tool,
)
from armsim.parts.cpus import CpuVariant

KERNELS_ENV = "ARMSIM_KERNELS_DIR"

#: Kernel sets: "reference" is kernels/ref; "optimized" is kernels/ref with every file that
#: kernels/opt has replaced by it, plus the specialised kernels only kernels/opt has;
#: "cmsis-nn" is kernels/ref with the files of kernels/cmsis, which hand the ops to Arm's
#: CMSIS-NN float32 API (ARM_NN_ENABLE_F32) where it takes them.
KERNEL_SETS = ("optimized", "reference", "cmsis-nn")

#: The float32 CMSIS-NN API is compiled in with this define.
F32_DEFINES = ("-DARM_NN_ENABLE_F32=1",)

#: int8 graphs run CMSIS-NN's s8 kernels plus armsim's own (kernels/s8). With the default
#: set, dense layers use armsim's kernel with TFLite's reference requantization (bit-exact
#: with the interpreter); "cmsis-nn" takes CMSIS-NN's dense kernels too (TFLM's integer
#: requantization, one step off the interpreter now and then).
INT8_KERNELS = "s8-cmsis-nn"

INT8_SETS = {"optimized": "s8-cmsis-nn+armsim-fc", "reference": "s8-cmsis-nn+armsim-fc",
             "cmsis-nn": "s8-cmsis-nn"}

DEFAULT_KERNELS = "optimized"


def kernels_dir() -> Path:
    """The kernel tree: $ARMSIM_KERNELS_DIR, the installed package's copy, or the checkout's."""
    env = os.environ.get(KERNELS_ENV)
    here = Path(__file__).resolve().parent.parent
    for d in ([Path(env)] if env else []) + [here / "kernels", here.parent / "kernels"]:
        if (d / "runtime" / "armsim.ld").is_file():
            return d
    raise ToolchainError(f"kernel sources not found (looked in {here / 'kernels'} and "
                         f"{here.parent / 'kernels'}; set ${KERNELS_ENV})")


def kernel_sources(kernels: str = DEFAULT_KERNELS, kdir: Path | None = None) -> list[Path]:
    """The C files of a kernel set, sorted by name ("s8": armsim's own int8 kernels)."""
    if kernels == "s8":
        kdir = kdir or kernels_dir()
        return sorted([*kdir.joinpath("s8").glob("*.c"), *kdir.joinpath("common").glob("*.c")],
                      key=lambda p: p.name)
    if kernels not in KERNEL_SETS:
        raise ToolchainError(f"unknown kernel set {kernels!r}; known: {', '.join(KERNEL_SETS)}")
    kdir = kdir or kernels_dir()
    # kernels/common: the dtype-agnostic kernels every build has (armsim_nn_copy.h)
    files = {p.name: p for d in ("ref", "common") for p in (kdir / d).glob("*.c")}
    if kernels == "optimized":
        files.update({p.name: p for p in (kdir / "opt").glob("*.c")})
    if kernels == "cmsis-nn":
        files.update({p.name: p for p in (kdir / "cmsis").glob("*.c")})
    return sorted(files.values(), key=lambda p: p.name)


def includes(kdir: Path, kernels: str) -> list[str]:
    """-I flags of a kernel set (the s8 kernels build against CMSIS-NN's headers)."""
    out = ["-I", str(kdir / "include")]
    if kernels in ("s8", "cmsis-nn") or kernels.startswith(INT8_KERNELS):
        cm = cmsis.locate()
        assert cm is not None
        out += ["-isystem", str(cm.include)]
    if kernels == "cmsis-nn":
        out += ["-I", str(kdir / "cmsis"), *F32_DEFINES]
    return out


def kernel_library(cpu: CpuVariant, kernels: str, gcc: str | None = None) -> Path:
    """The kernel set compiled for ``cpu`` as a static library (cached)."""
    gcc = gcc or find_gcc()
    kdir = kernels_dir()
    srcs = kernel_sources(kernels, kdir)
    incs = includes(kdir, kernels)
    key = content_hash(gcc_version(gcc), " ".join(cpu.all_flags), kernels, " ".join(incs),
                *[p.read_bytes() for p in sorted((kdir / "cmsis").glob("*.h"))],
                *[p.name for p in srcs], *[p.read_bytes() for p in srcs],
                *[p.read_bytes() for p in sorted((kdir / "include").glob("*.h"))])
    out_dir = cache_dir() / f"lib-{cpu.name}-{kernels[:5]}-{key}"
    lib = out_dir / "libarmsim_nn.a"
    if lib.is_file():
        return lib
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="tmp-", dir=out_dir.parent))
    try:
        objs = []
        for src in srcs:
            obj = work / (src.stem + ".o")
            run_tool([gcc, *cpu.all_flags, *incs, "-c", str(src), "-o", str(obj)],
                 f"compiling {src.name} for {cpu.title}")
            objs.append(str(obj))
        run_tool([ar_for(gcc), "rcs", str(work / "libarmsim_nn.a"), *objs], "archiving the kernels")
        publish(work, out_dir)
    finally:
        if work.exists():
            shutil.rmtree(work, ignore_errors=True)
    return lib
