"""CMSIS-NN scratch sizes of an int8 graph on one CPU, asked of CMSIS-NN itself: a small
firmware calls each op's ``*_get_buffer_size`` and the emulator runs it. The planner takes the
sizes as data."""

from __future__ import annotations

from pathlib import Path

from armsim.errors import LayoutError
from armsim.firmware import render_s8
from armsim.firmware.kernels import INT8_KERNELS
from armsim.firmware.link import cache_key, link, safe_name
from armsim.firmware.render import memory_ld
from armsim.firmware.toolchain import cache_dir, find_gcc
from armsim.graph import Graph
from armsim.machine.elf import ElfImage
from armsim.machine.emulator import Machine
from armsim.parts.cpus import CpuVariant, get_cpu
from armsim.parts.mcus import Mcu, get_mcu
from armsim.plan import Plan, with_scratch


def scratch_elf(cpu: CpuVariant, g: Graph, mcu: Mcu) -> Path:
    """A small firmware that stores each int8 op's CMSIS-NN scratch size (cached)."""
    gcc = find_gcc()
    generated = {"scratch.c": render_s8.scratch_c(g),
                 "memory.ld": memory_ld(None, mcu)}
    key = cache_key(gcc, cpu, INT8_KERNELS, generated)
    out_dir = cache_dir() / f"{cpu.name}-{safe_name(g.name)}-scratch-{key}"
    link(gcc, cpu, INT8_KERNELS, generated, ["scratch.c"], out_dir, False,
          f"scratch-size program for {cpu.title}")
    return out_dir / "network.elf"

#: Scratch sizes measured, by (CPU, the scratch program's source): the source spells out
#: every parameter the sizes depend on.
_SIZES: dict[tuple[str, str], dict[int, int]] = {}


def scratch_sizes(g: Graph, cpu: CpuVariant | str) -> dict[int, int]:
    """Bytes of scratch each int8 op needs on ``cpu``, by op index, as CMSIS-NN's own
    ``*_get_buffer_size`` functions compute them on that CPU (run in the emulator)."""
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


def complete(plan: Plan, cpu: CpuVariant) -> Plan:
    """An int8 plan with its CMSIS-NN scratch sized for ``cpu``: completed when it was made
    without sizes, kept when its sizes are ``cpu``'s, else a LayoutError (planned for another
    CPU). Float plans are returned as they are."""
    if not plan.graph.quantized:
        return plan
    sizes = scratch_sizes(plan.graph, cpu)
    if plan.scratch_pending:
        return with_scratch(plan, sizes)
    want = {i: n for i, n in sizes.items() if n > 0}
    have = {int(b.name.split(":")[1]): b.nbytes for b in plan.buffers if b.role == "scratch"}
    if want != have:
        raise LayoutError(f"this plan's CMSIS-NN scratch ({have}) is not what {cpu.title} "
                          f"needs ({want}): plan the model for this CPU (armsim.plan(graph), "
                          "completed by the Session, or the sizes of scratch_sizes(graph, cpu))")
    return plan
