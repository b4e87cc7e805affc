"""Cross-compile a plan's firmware for one CPU variant: the kernel set as a cached static
library per (CPU, kernel set, flags), then the generated sources linked against it, the ELF
cached by the hash of everything that went in."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from armsim.parts.cpus import CpuVariant
from armsim.errors import LayoutError, ToolchainError
from armsim.parts.mcus import Mcu
from armsim.graph import Graph
from armsim.plan import Plan
from armsim.codegen import render_s8
from armsim.codegen.render import memory_ld, network_c, plan_header, weights_c

GCC_ENV = "ARMSIM_GCC"
CACHE_ENV = "ARMSIM_CACHE_DIR"
KERNELS_ENV = "ARMSIM_KERNELS_DIR"
INSTALL_HINT = ("install the GNU Arm toolchain: `sudo apt-get install --no-install-recommends "
                "gcc-arm-none-eabi libnewlib-arm-none-eabi` (or run scripts/setup.sh), "
                f"or point ${GCC_ENV} at arm-none-eabi-gcc")
LINK_FLAGS = ("-nostartfiles", "--specs=nano.specs", "-Wl,--gc-sections")
LIBS = ("-lm",)
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
#: The smallest stack the linker script accepts.
MIN_STACK = 0x1000


@dataclass(frozen=True)
class Build:
    """A built ELF and what it was built for."""

    elf: Path
    cpu: CpuVariant
    plan: Plan
    mcu: Mcu
    cached: bool
    kernels: str = DEFAULT_KERNELS


def kernels_dir() -> Path:
    """The kernel tree: $ARMSIM_KERNELS_DIR, the installed package's copy, or the checkout's."""
    env = os.environ.get(KERNELS_ENV)
    here = Path(__file__).resolve().parent.parent
    for d in ([Path(env)] if env else []) + [here / "kernels", here.parent / "kernels"]:
        if (d / "runtime" / "armsim.ld").is_file():
            return d
    raise ToolchainError(f"kernel sources not found (looked in {here / 'kernels'} and "
                         f"{here.parent / 'kernels'}; set ${KERNELS_ENV})")


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


def kernel_sources(kernels: str = DEFAULT_KERNELS, kdir: Path | None = None) -> list[Path]:
    """The C files of a kernel set, sorted by name ("s8": armsim's own int8 kernels)."""
    if kernels == "s8":
        return sorted((kdir or kernels_dir()).joinpath("s8").glob("*.c"))
    if kernels not in KERNEL_SETS:
        raise ToolchainError(f"unknown kernel set {kernels!r}; known: {', '.join(KERNEL_SETS)}")
    kdir = kdir or kernels_dir()
    files = {p.name: p for p in (kdir / "ref").glob("*.c")}
    if kernels == "optimized":
        files.update({p.name: p for p in (kdir / "opt").glob("*.c")})
    if kernels == "cmsis-nn":
        files.update({p.name: p for p in (kdir / "cmsis").glob("*.c")})
    return sorted(files.values(), key=lambda p: p.name)


def _hash(*parts: bytes | str) -> str:
    h = hashlib.sha256()
    for p in parts:
        h.update(p.encode() if isinstance(p, str) else p)
        h.update(b"\0")
    return h.hexdigest()[:16]


def _run(cmd: list[str], what: str) -> None:
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise ToolchainError(f"{what} failed:\n{proc.stderr.strip()}")


def _publish(work: Path, out_dir: Path) -> None:
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


def _includes(kdir: Path, kernels: str) -> list[str]:
    """-I flags of a kernel set (the s8 kernels build against CMSIS-NN's headers)."""
    out = ["-I", str(kdir / "include")]
    if kernels in ("s8", "cmsis-nn") or kernels.startswith(INT8_KERNELS):
        from armsim.codegen.cmsis import locate

        cm = locate()
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
    incs = _includes(kdir, kernels)
    key = _hash(gcc_version(gcc), " ".join(cpu.all_flags), kernels, " ".join(incs),
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
            _run([gcc, *cpu.all_flags, *incs, "-c", str(src), "-o", str(obj)],
                 f"compiling {src.name} for {cpu.title}")
            objs.append(str(obj))
        _run([ar_for(gcc), "rcs", str(work / "libarmsim_nn.a"), *objs], "archiving the kernels")
        _publish(work, out_dir)
    finally:
        if work.exists():
            shutil.rmtree(work, ignore_errors=True)
    return lib


def generated_sources(plan: Plan, mcu: Mcu, kernels: str = DEFAULT_KERNELS) -> dict[str, str]:
    """The files generated for a plan and MCU, by name."""
    g = plan.graph
    net = render_s8.network_c(g, plan, kernels == INT8_KERNELS) if g.quantized \
        else network_c(g, plan)
    files = {"network.c": net, "armsim_plan.h": plan_header(g, plan),
             "memory.ld": memory_ld(plan, mcu)}
    if plan.weights_in == "flash":
        files["weights.c"] = weights_c(g, plan)
    return files


def check_plan_fits(plan: Plan, mcu: Mcu) -> None:
    """A LayoutError saying what the plan needs and what the part has, if it does not fit."""
    top = mcu.sram_base + mcu.sram_size
    if not mcu.sram_base <= plan.base < top:
        raise LayoutError(f"the model does not fit MCU preset '{mcu.name}': its plan starts at "
                          f"0x{plan.base:08X}, outside the part's SRAM 0x{mcu.sram_base:08X}-"
                          f"0x{top - 1:08X}")
    need = plan.reserved_end - mcu.sram_base + MIN_STACK
    if need > mcu.sram_size:
        raise LayoutError(
            f"the model does not fit MCU preset '{mcu.name}': it needs {need:,} bytes of SRAM "
            f"(inputs and weights {plan.arena[0] - plan.base:,}, activation arena "
            f"{plan.arena[1]:,}, at least {MIN_STACK:,} of stack, from 0x{mcu.sram_base:08X}); "
            f"{mcu.name} has {mcu.sram_size:,} bytes"
            + ("; try --weights-in flash" if plan.weights_in == "sram" and
               plan.graph.constants() else "") + " or a larger --mcu (e.g. large)")
    flash = plan.flash_weight_bytes()
    if flash > mcu.flash_size:
        raise LayoutError(f"the model does not fit MCU preset '{mcu.name}': its weights need "
                          f"{flash:,} bytes of flash; {mcu.name} has {mcu.flash_size:,}")


def _libraries(cpu: CpuVariant, kernels: str, gcc: str, sources: dict[str, str]
               ) -> tuple[list[Path], list[str]]:
    """The static libraries a firmware links and the extra -I flags its sources need."""
    from armsim.codegen import cmsis

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
    cm_lib, _srcs = cmsis.library(cpu, need, gcc)
    own = kernel_library(cpu, "s8", gcc)
    return [own, cm_lib], _includes(kernels_dir(), INT8_KERNELS)[2:]


def _link(gcc: str, cpu: CpuVariant, kernels: str, generated: dict[str, str], c_files: list[str],
          out_dir: Path, force: bool, what: str) -> bool:
    """Compile and link generated sources into ``out_dir/network.elf``; False if cached."""
    kdir = kernels_dir()
    elf = out_dir / "network.elf"
    if elf.is_file() and not force:
        return False  # the key names the libraries' inputs (kernel sources, CMSIS-NN commit)
    libs, incs = _libraries(cpu, kernels, gcc, {k: v for k, v in generated.items()
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
        _run(cmd, what)
        if force and out_dir.exists():
            shutil.rmtree(out_dir)
        _publish(work, out_dir)
    finally:
        if work.exists():
            shutil.rmtree(work, ignore_errors=True)
    return True


def _key(gcc: str, cpu: CpuVariant, kernels: str, generated: dict[str, str]) -> str:
    kdir = kernels_dir()
    runtime = sorted((kdir / "runtime").iterdir())
    extra: list[bytes | str] = []
    if kernels.startswith(INT8_KERNELS):
        from armsim.codegen import cmsis

        cm = cmsis.locate()
        assert cm is not None
        extra = [cm.commit, str(cm.root), *[p.read_bytes() for p in kernel_sources("s8", kdir)],
                 *[p.read_bytes() for p in sorted((kdir / "include").glob("*.h"))]]
    else:
        extra = [kernel_library(cpu, kernels, gcc).parent.name]
        if kernels == "cmsis-nn":  # the float32 set links CMSIS-NN too
            from armsim.codegen import cmsis

            cm = cmsis.locate()
            assert cm is not None
            extra += [cm.commit, str(cm.root)]
    return _hash(gcc_version(gcc), " ".join(cpu.all_flags + LINK_FLAGS + LIBS), kernels,
                 *extra, *[p.read_bytes() for p in runtime],
                 *[f"{k}\0{v}" for k, v in sorted(generated.items())])


def build(cpu: CpuVariant, plan: Plan, mcu: Mcu, force: bool = False,
          kernels: str = DEFAULT_KERNELS) -> Build:
    """Build (or reuse) the firmware ELF for this CPU, plan, MCU preset and kernel set
    (int8 graphs always use CMSIS-NN)."""
    check_plan_fits(plan, mcu)
    if plan.graph.quantized:
        kernels = INT8_SETS.get(kernels, kernels)
        want = {i: n for i, n in scratch_sizes(plan.graph, cpu).items() if n > 0}
        have = {int(b.name.split(":")[1]): b.nbytes for b in plan.buffers if b.role == "scratch"}
        if want != have:
            raise LayoutError(f"this plan's CMSIS-NN scratch ({have}) is not what "
                              f"{cpu.title} needs ({want}): plan the model for this CPU "
                              "(armsim.plan(graph, cpu=...))")
    gcc = find_gcc()
    generated = generated_sources(plan, mcu, kernels)
    key = _key(gcc, cpu, kernels, generated)
    name = plan.graph.name if plan.preset != "seed" else f"seed-f{plan.filters}"
    out_dir = cache_dir() / f"{cpu.name}-{_safe(name)}-{mcu.name}-{kernels[:3]}-{key}"
    c_files = ["network.c"] + (["weights.c"] if "weights.c" in generated else [])
    built = _link(gcc, cpu, kernels, generated, c_files, out_dir, force,
                  f"firmware build for {cpu.title}")
    return Build(out_dir / "network.elf", cpu, plan, mcu, cached=not built, kernels=kernels)


def scratch_elf(cpu: CpuVariant, g: Graph, mcu: Mcu) -> Path:
    """A small firmware that stores each int8 op's CMSIS-NN scratch size (cached)."""
    gcc = find_gcc()
    generated = {"scratch.c": render_s8.scratch_c(g),
                 "memory.ld": memory_ld(None, mcu)}
    key = _key(gcc, cpu, INT8_KERNELS, generated)
    out_dir = cache_dir() / f"{cpu.name}-{_safe(g.name)}-scratch-{key}"
    _link(gcc, cpu, INT8_KERNELS, generated, ["scratch.c"], out_dir, False,
          f"scratch-size program for {cpu.title}")
    return out_dir / "network.elf"


def _safe(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_" else "_" for c in name)[:32]


#: Scratch sizes measured, by (CPU, the scratch program's source): the source spells out
#: every parameter the sizes depend on.
_SIZES: dict[tuple[str, str], dict[int, int]] = {}


def scratch_sizes(g: Graph, cpu: CpuVariant | str) -> dict[int, int]:
    """Bytes of scratch each int8 op needs on ``cpu``, by op index, as CMSIS-NN's own
    ``*_get_buffer_size`` functions compute them on that CPU (run in the emulator)."""
    from armsim.parts.cpus import get_cpu
    from armsim.machine.elf import ElfImage
    from armsim.machine.emulator import Machine
    from armsim.parts.mcus import get_mcu

    cpu = get_cpu(cpu) if isinstance(cpu, str) else cpu
    ops = render_s8.scratch_ops(g)
    if not ops:
        return {}
    key = (cpu.name, render_s8.scratch_c(g))
    if key not in _SIZES:
        mcu = get_mcu("large")
        image = ElfImage.load(scratch_elf(cpu, g, mcu))
        m = Machine(image, cpu, mcu, check_alignment=False)
        m.run()
        raw = m.read(image.symbol(render_s8.SIZES).address, 4 * len(ops))
        vals = [int.from_bytes(raw[4 * k:4 * k + 4], "little", signed=True)
                for k in range(len(ops))]
        bad = [(i, v) for i, v in zip(ops, vals) if v < 0]
        if bad:
            raise LayoutError(f"CMSIS-NN reports a negative scratch size for op "
                              f"{g.ops[bad[0][0]].name}: {bad[0][1]}")
        _SIZES[key] = dict(zip(ops, vals))
    return _SIZES[key]
