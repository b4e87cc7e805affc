"""TFLM built from the pinned tree, per CPU variant, into armsim's cache: static libraries
split so that a second kernel set costs only the files it replaces.

- ``core``: the interpreter, allocators, memory planners, flatbuffer reading, TFLite's shared
  kernel utilities, the cortex_m_generic debug log and timer, and the signal ops (their FFT is
  kissfft); the same for every kernel set;
- ``kernels``: TFLM's reference kernels that no set replaces (the same for both sets);
- ``kernels-<set>``: the 14 files a set decides, ``reference`` (the reference files) or
  ``cmsis-nn`` (``kernels/cmsis_nn``'s files, which replace the reference files of the same
  names, as TFLM's make build does);
- ``cmsis-nn``: Arm's CMSIS-NN C sources (float ones left out, as TFLM leaves them).

The flags are TFLM's own for ``cortex_m_generic`` (its defines and warnings, C++17, C17, the
core at -Os and the kernels at the build's optimisation level, -O2 by default as TFLM's
``KERNEL_OPTIMIZATION_LEVEL``), with the variant's architecture and FPU flags from
:mod:`armsim.parts.cpus`; an application must be compiled with the same defines
(:func:`app_flags`). TFLM applies patches of its own to its copies of flatbuffers and kissfft;
armsim applies the same files to copies in its cache (the shared tree stays read-only).
Every library is cached by the pinned commits, the flags and the compiler; objects are
compiled in parallel, one compiler per core.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from armsim.errors import ToolchainError
from armsim.firmware.tflm.tree import Tree
from armsim.firmware.toolchain import ar_for, cache_dir, content_hash, gcc_version, publish
from armsim.parts.cpus import CpuVariant

#: TFLM's kernel sets: its CMSIS-NN kernels (the default, as deployed) and its reference ones.
KERNEL_SETS = ("cmsis-nn", "reference")
DEFAULT_KERNELS = "cmsis-nn"
#: Files matching these are tests, benchmarks or test data, never part of the library.
_NOT_LIBRARY = ("_test.cc", "_test_common.cc", "_flexbuffers_generated_data.cc",
                "benchmark.cc")
#: Test infrastructure the make build puts in its archive; no application needs it (and
#: test_helpers.cc builds flatbuffers, which needs the patched allocator headers).
_TEST_INFRA = {"test_helpers.cc", "test_helper_custom_ops.cc", "mock_micro_graph.cc",
               "fake_micro_context.cc", "kernel_runner.cc"}
#: The patches TFLM applies to its downloaded copies (paths inside tflite-micro).
PATCHES = {"flatbuffers": "tensorflow/lite/micro/tools/make/flatbuffers.patch",
           "kissfft": "third_party/kissfft/kissfft.patch"}
#: TFLM's warnings (Makefile), not armsim's -Werror set.
WARNINGS = ("-Wsign-compare", "-Wdouble-promotion", "-Wunused-variable", "-Wunused-function",
            "-Wswitch", "-Wvla", "-Wall", "-Wextra", "-Wmissing-field-initializers",
            "-Wstrict-aliasing", "-Wno-unused-parameter", "-Wno-type-limits",
            "-Wno-unused-private-field")
COMMON = ("-mthumb", "-mlittle-endian", "-fno-unwind-tables", "-fno-asynchronous-unwind-tables",
          "-ffunction-sections", "-fdata-sections", "-fmessage-length=0", "-fomit-frame-pointer",
          "-funsigned-char", "-DTF_LITE_STATIC_MEMORY", "-DTF_LITE_DISABLE_X86_NEON",
          "-DTF_LITE_MCU_DEBUG_LOG", "-DKERNELS_OPTIMIZED_FOR_SPEED",
          "-DARM_NN_ENABLE_F16=0", "-DARM_NN_ENABLE_F32=0")
CXX_ONLY = ("-std=c++17", "-fno-rtti", "-fno-exceptions", "-fno-threadsafe-statics",
            "-Wnon-virtual-dtor")
C_ONLY = ("-std=c17", "-Wimplicit-function-declaration")
#: The core's optimisation level (TFLM's CORE_OPTIMIZATION_LEVEL).
CORE_OPT = "-Os"


@dataclass(frozen=True)
class Libraries:
    """The archives an application links, and the flags it must be compiled with."""

    archives: tuple[Path, ...]
    cxxflags: tuple[str, ...]
    includes: tuple[str, ...]
    kernels: str
    key: str


def _bad(path: Path) -> bool:
    return path.name.endswith(_NOT_LIBRARY) or path.name in _TEST_INFRA


def core_sources(tree: Tree) -> list[Path]:
    """The kernel-independent sources: interpreter, allocators, planners, TFLite's shared
    utilities, cortex_m_generic's debug log and timer, and the signal ops."""
    micro = tree.micro
    out: list[Path] = []
    for d in (micro, micro / "arena_allocator", micro / "memory_planner",
              micro / "tflite_bridge"):
        out += sorted(d.glob("*.cc"))
    skip = {tree.tflm / "tensorflow" / "lite" / "micro",
            tree.tflm / "tensorflow" / "lite" / "experimental"}
    for dirpath, dirnames, filenames in os.walk(tree.tflm / "tensorflow"):
        if Path(dirpath) in skip:
            dirnames[:] = []
            continue
        dirnames.sort()
        out += [Path(dirpath) / f for f in sorted(filenames) if f.endswith((".cc", ".c"))]
    out = [p for p in out if not _bad(p) and p != tree.tflm / "tensorflow/lite/array.cc"]
    target = micro / "cortex_m_generic"  # TFLM's target specialisation by file name
    out = [target / p.name if (target / p.name).is_file() else p for p in out]
    signal = tree.tflm / "signal"
    out += sorted(p for p in [*(signal / "micro" / "kernels").glob("*.cc"),
                              *(signal / "src").glob("*.cc"),
                              *(signal / "src" / "kiss_fft_wrappers").glob("*.cc")]
                  if not _bad(p))
    return out


def _replacements(tree: Tree) -> Path:
    return tree.micro / "kernels" / "cmsis_nn"


def shared_kernel_sources(tree: Tree) -> list[Path]:
    """The reference kernel files no kernel set replaces (the same objects in both sets:
    ``-DCMSIS_NN`` only changes which registrations the kernel headers declare, and none of
    these files calls a type-specialised one)."""
    opt = _replacements(tree)
    return [p for p in sorted((tree.micro / "kernels").glob("*.cc"))
            if not _bad(p) and not (opt / p.name).is_file()]


def kernel_sources(tree: Tree, kernels: str) -> list[Path]:
    """The kernel files of a set: ``kernels/cmsis_nn``'s files for the CMSIS-NN set, and
    the reference files of the same names for the reference set (TFLM's replacement by file
    name)."""
    if kernels not in KERNEL_SETS:
        raise ToolchainError(f"unknown TFLM kernel set {kernels!r}; known: "
                             f"{', '.join(KERNEL_SETS)}")
    opt = _replacements(tree)
    ref = [p for p in sorted((tree.micro / "kernels").glob("*.cc"))
           if not _bad(p) and (opt / p.name).is_file()]
    return ref if kernels == "reference" else [opt / p.name for p in ref]


def cmsis_nn_sources(tree: Tree) -> list[Path]:
    """CMSIS-NN's C sources less the float ones (TFLM builds it with F16/F32 off)."""
    return sorted(p for p in (tree["CMSIS-NN"] / "Source").rglob("*.c")
                  if not p.name.endswith(("_f16.c", "_f32.c"))
                  and p.name != "arm_nntables_flt.c")


def cpu_flags(cpu: CpuVariant) -> tuple[str, ...]:
    """The variant's architecture and FPU flags, and TFLM's defines naming the core."""
    if not cpu.cmsis_device:
        raise ToolchainError(f"{cpu.title}: no CMSIS device to build TFLM for")
    core = cpu.cmsis_device.replace("ARMC", "CPU_")  # ARMCM4 -> CPU_M4
    return (*cpu.gcc_flags, f"-D{core}=1", f"-D{cpu.cmsis_device}",
            f'-DCMSIS_DEVICE_ARM_CORTEX_M_XX_HEADER_FILE="{cpu.cmsis_device}.h"')


def set_defines(kernels: str) -> tuple[str, ...]:
    """The defines of a kernel set (CMSIS_NN gates the type-specialised registrations)."""
    return ("-DCMSIS_NN",) if kernels == "cmsis-nn" else ()


def patched_deps(tree: Tree) -> Path:
    """Writable copies of flatbuffers' headers and kissfft with TFLM's own patches applied,
    in the cache (made once per pinned version)."""
    patches = {n: (tree.tflm / p).read_bytes() for n, p in PATCHES.items()}
    key = content_hash(tree.commit("flatbuffers"), tree.commit("kissfft"),
                       *patches.values())
    out = cache_dir() / f"tflm-deps-{key}"
    if (out / "done").is_file():
        return out
    out.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="tmp-", dir=out.parent))
    try:
        shutil.copytree(tree["flatbuffers"] / "include", work / "flatbuffers" / "include")
        shutil.copytree(tree["kissfft"], work / "kissfft",
                        ignore=shutil.ignore_patterns("test", ".git"))
        for name, patch in PATCHES.items():
            if shutil.which("patch") is None:
                raise ToolchainError("the 'patch' tool is missing: it applies TFLM's own "
                                     "patches to its dependencies (apt-get install patch, or "
                                     "run scripts/setup.sh)")
            proc = subprocess.run(["patch", "-p1", "--quiet", "-d", str(work / name), "-i",
                                   str(tree.tflm / patch)], capture_output=True, text=True)
            if proc.returncode != 0:
                raise ToolchainError(f"applying TFLM's {patch} to {name} failed:\n"
                                     f"{proc.stdout}{proc.stderr}")
        (work / "done").write_text("flatbuffers and kissfft with TFLM's patches\n")
        publish(work, out)
    finally:
        if work.exists():
            shutil.rmtree(work, ignore_errors=True)
    return out


def includes(tree: Tree, cpu: CpuVariant) -> tuple[str, ...]:
    """-I flags of a TFLM build (TFLM's own layout of its downloads, mapped onto the tree)."""
    deps = patched_deps(tree)
    dirs = [tree.tflm, tree["gemmlowp"], deps / "flatbuffers" / "include", deps / "kissfft",
            tree["ruy"], tree["Cortex_DFP"] / "Device" / cpu.cmsis_device / "Include",
            tree["CMSIS_6"] / "CMSIS" / "Core" / "Include", tree["CMSIS-NN"],
            tree["CMSIS-NN"] / "Include"]
    return tuple(f"-I{d}" for d in dirs)


def app_flags(cpu: CpuVariant, kernels: str) -> tuple[str, ...]:
    """The C++ flags an application linking the libraries must use (the same defines)."""
    return (*COMMON, *cpu_flags(cpu), *set_defines(kernels), *WARNINGS, *CXX_ONLY)


def compiler(gcc: str, cxx: bool) -> str:
    """arm-none-eabi-g++ beside ``gcc`` for C++ (``gcc`` itself for C)."""
    if not cxx:
        return gcc
    gxx = str(Path(gcc).with_name(Path(gcc).name.replace("gcc", "g++")))
    return gxx if Path(gxx).exists() else shutil.which("arm-none-eabi-g++") or gxx


def _archive(gcc: str, name: str, sources: list[Path], flags: tuple[str, ...],
             cpu: CpuVariant, tree: Tree, note: Callable[[str], None] | None, what: str
             ) -> Path:
    """Compile ``sources`` in parallel and archive them as ``lib<name>.a`` in the cache, keyed
    by the compiler, the flags, the sources (by path in the tree) and the pinned commits (an
    existing archive is returned)."""
    key = content_hash(gcc_version(gcc), " ".join(flags), *tree.commits().values(),
                       *(str(p.relative_to(tree.root)) for p in sources))
    out_dir = cache_dir() / f"tflm-{cpu.name}-{name}-{key}"
    lib = out_dir / f"lib{name}.a"
    if lib.is_file():
        return lib
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="tmp-", dir=out_dir.parent))
    t0 = time.perf_counter()
    if note is not None:
        note(f"building TFLM: {what} ({len(sources)} files, on {os.cpu_count() or 1} "
             "cores; cached afterwards)")

    def compile_one(k: int) -> str:
        src = sources[k]
        obj = work / f"{k:04d}_{src.stem}.o"
        cxx = src.suffix == ".cc"
        cmd = [compiler(gcc, cxx), *flags, *(CXX_ONLY if cxx else C_ONLY), "-c", str(src),
               "-o", str(obj)]
        proc = subprocess.run(cmd, capture_output=True, text=True)
        if proc.returncode != 0:
            raise ToolchainError(f"compiling {src} failed:\n{proc.stderr.strip()[-4000:]}")
        return str(obj)

    try:
        with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
            objs = list(pool.map(compile_one, range(len(sources))))
        proc = subprocess.run([ar_for(gcc), "rcs", str(work / lib.name), *objs],
                              capture_output=True, text=True)
        if proc.returncode != 0:
            raise ToolchainError(f"archiving {lib.name} failed:\n{proc.stderr.strip()}")
        (work / "sources.txt").write_text("".join(f"{p}\n" for p in sources))
        (work / "flags.txt").write_text(" ".join(flags) + "\n")
        for o in objs:
            Path(o).unlink()
        publish(work, out_dir)
    finally:
        if work.exists():
            shutil.rmtree(work, ignore_errors=True)
    if note is not None:
        note(f"built TFLM {what} in {time.perf_counter() - t0:.0f} s")
    return lib


def libraries(tree: Tree, cpu: CpuVariant, kernels: str, gcc: str,
              note: Callable[[str], None] | None = None) -> Libraries:
    """The TFLM libraries of ``cpu`` and kernel set ``kernels`` (built when missing)."""
    if kernels not in KERNEL_SETS:
        raise ToolchainError(f"unknown TFLM kernel set {kernels!r}; known: "
                             f"{', '.join(KERNEL_SETS)}")
    incs = includes(tree, cpu)
    base = (*COMMON, *cpu_flags(cpu), *WARNINGS, *incs)
    opt = cpu.opt  # the kernels' level: TFLM's default -O2, or the build's --opt
    core = _archive(gcc, "tflm-core", core_sources(tree), (*base, CORE_OPT), cpu, tree, note,
                    f"the interpreter and signal ops for {cpu.title}")
    kern = _archive(gcc, f"tflm-kernels-{kernels}", kernel_sources(tree, kernels),
                    (*base, *set_defines(kernels), opt), cpu, tree, note,
                    f"the {kernels} kernels for {cpu.title}")
    shared = _archive(gcc, "tflm-kernels", shared_kernel_sources(tree), (*base, opt), cpu,
                      tree, note, f"the kernels both sets share, for {cpu.title}")
    archives = [kern, shared, core]
    if kernels == "cmsis-nn":
        archives.append(_archive(gcc, "cmsis-nn", cmsis_nn_sources(tree), (*base, opt), cpu,
                                 tree, note, f"CMSIS-NN for {cpu.title}"))
    key = content_hash(*(str(a.parent.name) for a in archives))
    return Libraries(tuple(archives), app_flags(cpu, kernels) + (opt,), incs, kernels, key)
