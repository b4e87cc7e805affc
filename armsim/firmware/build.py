"""Build a plan's firmware for one CPU variant and MCU: render its sources, check the plan fits
the part, and link them against the kernel libraries (``link``); the ELF is cached by the hash
of everything that went in."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from armsim.errors import LayoutError
from armsim.firmware import render_s8
from armsim.firmware.kernels import DEFAULT_KERNELS, INT8_KERNELS, INT8_SETS
from armsim.firmware.link import cache_key, link, safe_name
from armsim.firmware.render import memory_ld, network_c, plan_header, weights_c
from armsim.firmware.scratch import complete
from armsim.firmware.toolchain import cache_dir, find_gcc
from armsim.parts.cpus import CpuVariant
from armsim.parts.mcus import Mcu
from armsim.plan import Plan

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
            f"{mcu.name} has {mcu.sram_size:,} bytes; try "
            + ("--weights-in flash or " if plan.weights_in == "sram" and
               plan.graph.constants() else "") + "a larger --mcu (e.g. large)")
    flash = plan.flash_weight_bytes()
    if flash > mcu.flash_size:
        raise LayoutError(f"the model does not fit MCU preset '{mcu.name}': its weights need "
                          f"{flash:,} bytes of flash; {mcu.name} has {mcu.flash_size:,}")


def build(cpu: CpuVariant, plan: Plan, mcu: Mcu, force: bool = False,
          kernels: str = DEFAULT_KERNELS) -> Build:
    """Build (or reuse) the firmware ELF for this CPU, plan, MCU preset and kernel set
    (int8 graphs always use CMSIS-NN; their plan is completed with the CPU's scratch sizes,
    and ``Build.plan`` is the plan built)."""
    plan = complete(plan, cpu)
    check_plan_fits(plan, mcu)
    if plan.graph.quantized:
        kernels = INT8_SETS.get(kernels, kernels)
    gcc = find_gcc()
    generated = generated_sources(plan, mcu, kernels)
    key = cache_key(gcc, cpu, kernels, generated)
    name = plan.graph.name if plan.preset != "seed" else f"seed-f{plan.filters}"
    out_dir = cache_dir() / f"{cpu.name}-{safe_name(name)}-{mcu.name}-{kernels[:3]}-{key}"
    c_files = ["network.c"] + (["weights.c"] if "weights.c" in generated else [])
    built = link(gcc, cpu, kernels, generated, c_files, out_dir, force,
                  f"firmware build for {cpu.title}")
    return Build(out_dir / "network.elf", cpu, plan, mcu, cached=not built, kernels=kernels)


