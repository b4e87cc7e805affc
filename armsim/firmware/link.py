"""Compile generated sources and link them against the kernel libraries (and the CMSIS-NN
closure they call) with armsim's start-up code and linker script; the ELF is cached by a key
over everything that went in."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from armsim.firmware import cmsis
from armsim.firmware.kernels import (
    F32_DEFINES,
    INT8_KERNELS,
    includes,
    kernel_library,
    kernel_sources,
    kernels_dir,
)
from armsim.firmware.toolchain import LIBS, LINK_FLAGS, content_hash, gcc_version, publish, run_tool
from armsim.parts.cpus import CpuVariant


def libraries(cpu: CpuVariant, kernels: str, gcc: str, sources: dict[str, str]
               ) -> tuple[list[Path], list[str]]:
    """The static libraries a firmware links and the extra -I flags its sources need."""
    if kernels == "cmsis-nn":  # float32 on CMSIS-NN: what kernels/cmsis calls
        need = set()
        for p in (kernels_dir() / "cmsis").glob("*.c"):
            need |= cmsis.called(p.read_text())
        cm_lib, _srcs = cmsis.library(cpu, need, gcc, F32_DEFINES)
        return [kernel_library(cpu, kernels, gcc), cm_lib], []
    if not kernels.startswith(INT8_KERNELS):
        return [kernel_library(cpu, kernels, gcc)], []
    need = set()
    for text in sources.values():
        need |= cmsis.called(text)
    for p in sorted((kernels_dir() / "s8").glob("*.c")):  # what armsim's s8 kernels read
        need |= cmsis.referenced(p.read_text())
    cm_lib, _srcs = cmsis.library(cpu, need, gcc)
    own = kernel_library(cpu, "s8", gcc)
    return [own, cm_lib], includes(kernels_dir(), INT8_KERNELS)[2:]


def link(gcc: str, cpu: CpuVariant, kernels: str, generated: dict[str, str], c_files: list[str],
          out_dir: Path, force: bool, what: str) -> bool:
    """Compile and link generated sources into ``out_dir/network.elf``; False if cached."""
    kdir = kernels_dir()
    elf = out_dir / "network.elf"
    if elf.is_file() and not force:
        return False  # the key names the libraries' inputs (kernel sources, CMSIS-NN commit)
    libs, incs = libraries(cpu, kernels, gcc, {k: v for k, v in generated.items()
                                                if k.endswith(".c")})
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="tmp-", dir=out_dir.parent))
    try:
        for fname, text in generated.items():
            (work / fname).write_text(text)
        srcs = [str(kdir / "runtime" / "startup.c")] + [str(work / f) for f in c_files]
        cmd = [gcc, *cpu.all_flags, "-I", str(work), "-I", str(kdir / "include"), *incs, *srcs,
               "-L", str(work), "-L", str(kdir / "runtime"), "-T", "armsim.ld", *LINK_FLAGS,
               f"-Wl,-Map={work / 'network.map'}", "-o", str(work / "network.elf"),
               *[str(lib) for lib in libs], *LIBS]
        (work / "command.txt").write_text(" ".join(cmd) + "\n")
        run_tool(cmd, what)
        if force and out_dir.exists():
            shutil.rmtree(out_dir)
        publish(work, out_dir)
    finally:
        if work.exists():
            shutil.rmtree(work, ignore_errors=True)
    return True


def cache_key(gcc: str, cpu: CpuVariant, kernels: str, generated: dict[str, str]) -> str:
    """The cache key of a firmware: compiler, flags, kernel set and its libraries' inputs,
    the run-time sources and every generated file."""
    kdir = kernels_dir()
    runtime = sorted((kdir / "runtime").iterdir())
    extra: list[bytes | str] = []
    if kernels.startswith(INT8_KERNELS):
        cm = cmsis.locate()
        assert cm is not None
        extra = [cm.commit, str(cm.root), *[p.read_bytes() for p in kernel_sources("s8", kdir)],
                 *[p.read_bytes() for p in sorted((kdir / "include").glob("*.h"))]]
    else:
        extra = [kernel_library(cpu, kernels, gcc).parent.name]
        if kernels == "cmsis-nn":  # the float32 set links CMSIS-NN too
            cm = cmsis.locate()
            assert cm is not None
            extra += [cm.commit, str(cm.root)]
    return content_hash(gcc_version(gcc), " ".join(cpu.all_flags + LINK_FLAGS + LIBS), kernels,
                        *extra, *[p.read_bytes() for p in runtime],
                        *[f"{k}\0{v}" for k, v in sorted(generated.items())])


def safe_name(name: str) -> str:
    """``name`` as a short file-name part."""
    return "".join(c if c.isalnum() or c in "-_" else "_" for c in name)[:32]
