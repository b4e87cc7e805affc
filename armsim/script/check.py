"""Check a parsed script against the memory map and a memory plan, and read its tensors."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from armsim.errors import ScriptError
from armsim.parts.mcus import MCUS, SCS_BASE, SCS_SIZE
from armsim.parts.memory import MemoryMap
from armsim.plan import Plan
from armsim.plan.seed import infer_filters
from armsim.script.model import KIND_BY_CODE, UNSIGNED_HIGH, Script

#: Start of the ARMv7-M Peripheral range (ARMv7-M ARM B3.1): registers from here up.
DEVICE_BASE = 0x40000000
#: The write function each integer buffer type takes, and its value range.
INT_WRITES = {"int8": ("_WBYTE", -128, 127), "int16": ("_WWORD", -2**15, 2**15 - 1),
              "int32": ("_WDWORD", -2**31, 2**31 - 1),
              "int64": ("_WDWORD", -2**31, 2**31 - 1)}  # int64: two words, each signed


@dataclass(frozen=True)
class BufferFill:
    """How much of one layout buffer a script writes."""

    name: str
    address: int
    end: int
    written: int
    needed: int
    minimum: float
    maximum: float


def _err(script: Script, i: int, message: str) -> ScriptError:
    return ScriptError(message, script.path, int(script.line[i]), 1)


def _parts_with_memory(address: int, size: int) -> str:
    """" (stm32f407: ccm)": the presets with memory at ``address`` other than the generic
    ones ("" if none)."""
    have = []
    for mcu in MCUS.values():
        if mcu.name in ("generic", "large"):
            continue
        r = mcu.memory_map().find(address, size)
        if r is not None and "w" in r.perms:
            have.append(f"{mcu.name}: {r.name}")
    return f" ({', '.join(have)})" if have else ""


def check_writes(script: Script, memory: MemoryMap, layout: Plan | None,
                 allow_outside: bool = False) -> None:
    """Alignment, mapped memory, and (unless allowed) SRAM writes outside every buffer."""
    sizes = script.size
    aligns = np.array([k.align for k in KIND_BY_CODE], np.int64)[script.kind]
    for i in np.flatnonzero(script.address % aligns)[:1]:
        k = KIND_BY_CODE[script.kind[i]]
        raise _err(script, i, f"{k.name} to 0x{int(script.address[i]):08X} is not "
                   f"{k.align}-byte aligned (a VLDR/LDR of it faults on the chip)")
    scs = (script.address >= SCS_BASE) & (script.address + sizes <= SCS_BASE + SCS_SIZE)
    bufs = list(layout) if layout is not None else []
    lo = np.array([b.address for b in bufs], np.int64)
    hi = np.array([b.capacity_end for b in bufs], np.int64)
    in_buf = ((script.address[:, None] >= lo) & (script.address[:, None] + sizes[:, None] <= hi)).any(1)
    for i in np.flatnonzero(~(scs | in_buf)):
        a, n = int(script.address[i]), int(sizes[i])
        region = memory.find(a, n)
        if region is None:
            if a < 0x40000000:  # the Code and SRAM spaces: µVision's access violation
                space = "Code" if a < 0x20000000 else "SRAM"
                below = ", ".join(f"{r.name} 0x{r.base:08X}-0x{r.end - 1:08X}"
                                  for r in memory if r.base < 0x40000000)
                raise _err(script, i, f"write of {n} bytes to 0x{a:08X} is outside mapped "
                           f"memory: an access violation, as in µVision (the {space} region "
                           "of the Cortex-M memory map, where neither the part nor the "
                           f"script's MAP has memory; below 0x40000000 there are {below}). "
                           "MAP the range, or pick the --mcu whose memory is there"
                           + _parts_with_memory(a, n))
            spans = ", ".join(f"{r.name} 0x{r.base:08X}-0x{r.end - 1:08X}" for r in memory)
            raise _err(script, i, f"write of {n} bytes to 0x{a:08X} is outside mapped memory "
                       f"({spans})")
        if "w" not in region.perms:
            raise _err(script, i, f"write to 0x{a:08X} is in {region.name}, which is read-only")
        if not allow_outside and layout is not None and region.name == "sram":
            raise _err(script, i, f"write to 0x{a:08X} ({region.name}) is outside every buffer "
                       "of the plan (pass --allow-outside-layout to accept it)")


def check_conflicts(script: Script) -> None:
    """Two writes that leave one byte with different values are an error naming both lines.

    Registers are exempt: set-up scripts rewrite them. That is everything from the
    architecture's Peripheral range (0x40000000) up: peripherals, external memory and
    devices, and the System Control Space.
    """
    scs = script.address >= DEVICE_BASE
    if scs.any():
        keep = ~scs
        script = Script(script.path, script.address[keep], script.kind[keep], script.bits[keep],
                        script.line[keep], script.lines_total)
    script.blocks(check=True)


def check_types(script: Script, layout: Plan) -> None:
    """Writes into an int8 or int32 buffer must be that buffer's write function with a value
    in its signed range; an error names the line otherwise."""
    if not len(script):
        return
    sizes = script.size
    for b in layout:
        if b.dtype not in INT_WRITES:
            continue
        name, lo, hi = INT_WRITES[b.dtype]
        assert b.address is not None
        inside = np.flatnonzero((script.address < b.capacity_end)
                                & (script.address + sizes > b.address))
        for i in inside:
            kind = KIND_BY_CODE[script.kind[i]]
            if kind.name != name:
                raise _err(script, i, f"{kind.name} into {b.name}, an {b.dtype} buffer "
                           f"(0x{b.address:08X}-0x{b.end - 1:08X}): expected {name}")
            bits = int(script.bits[i])
            if bits & UNSIGNED_HIGH:
                value = bits & ~UNSIGNED_HIGH
                raise _err(script, i, f"{name} value {value} into {b.name} is outside "
                           f"{lo}..{hi} ({b.dtype})")


def fills(script: Script, layout: Plan) -> list[BufferFill]:
    """What the script writes in each buffer's reservation."""
    out = []
    for b in layout:
        vals, have = script.values_at(b.address, b.capacity, b.dtype)
        w = vals[have]
        out.append(BufferFill(b.name, b.address, b.end, int(have.sum()), b.count,
                              float(w.min()) if w.size else float("nan"),
                              float(w.max()) if w.size else float("nan")))
    return out


def plan_name(plan: Plan) -> str:
    """How messages name a plan: the seed layout with its F, or the model's plan."""
    return (f"the seed layout for F={plan.filters}" if plan.preset == "seed"
            else f"the plan of model '{plan.graph.name}'")


def tensors(script: Script, layout: Plan) -> dict[str, np.ndarray]:
    """The script's buffers in memory order; a clear error when they do not fit ``layout``."""
    out = {}
    guess = infer_filters(script) if layout.preset == "seed" else None
    problems = []
    check_types(script, layout)
    for b in layout:
        vals, have = script.values_at(b.address, b.capacity, b.dtype)
        written = int(have.sum())
        if have[:b.count].all() and not have[b.count:].any():
            out[b.name] = vals[:b.count].copy()
            continue
        missing = np.flatnonzero(~have[:b.count])
        detail = (f"first missing element {int(missing[0])} at "
                  f"0x{b.address + b.itemsize * int(missing[0]):08X}" if missing.size else
                  f"{int(have[b.count:].sum())} values beyond its end 0x{b.end:08X}")
        problems.append(f"  {b.name}: writes {written} values, {plan_name(layout)} needs "
                        f"{b.count} at 0x{b.address:08X}-0x{b.end - 1:08X} ({detail})")
    if problems:
        hint = (f"\nthe conv weights look like F={guess}: pass --filters {guess}"
                if guess and guess != layout.filters else "")
        raise ScriptError(f"script does not fit {plan_name(layout)}:\n"
                          + "\n".join(problems) + hint, script.path)
    for b in layout:
        vals = out[b.name]
        if b.dtype != "float32":
            continue
        bad = np.flatnonzero(~np.isfinite(vals))
        if bad.size:
            raise ScriptError(f"{b.name}[{int(bad[0])}] is {vals[bad[0]]} (written as raw bits): "
                              "NaN/Inf weights cannot be compared", script.path)
    return out
