"""The painted-stack measure of peak stack use, one rule for every command (``profile`` of
armsim's firmware, ``run`` of any image): paint the free RAM between the image's data and the
initial SP before the run, then find the lowest word the run wrote, from the top down.

Where the image links a heap allocator (newlib's ``_sbrk``, ``malloc``), the heap grows up
from the same end of the image's data: the stack then ends above the first stretch of
:data:`GAP` bytes of untouched paint, and writes below it are the heap's.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from armsim.machine.emulator import Machine

PAINT = 0xA5A5A5A5
#: A stretch of untouched paint this long (bytes) separates the stack from the heap below it.
GAP = 512
#: Symbols of a heap allocator in an image (the heap grows up from the end of its data).
HEAP_SYMBOLS = ("_sbrk", "_sbrk_r", "sbrk", "malloc")
#: Symbols that name the end of an image's RAM data (GCC, Arm Compiler).
END_SYMBOLS = ("end", "__end__", "_end", "__HeapBase", "Image$$ARM_LIB_HEAP$$Base")


def data_end(m: Machine) -> int:
    """The first free RAM byte after the image's data and .bss (8-byte aligned): its end
    symbol when it has one, else the end of its writable segments in SRAM."""
    image, mcu = m.image, m.mcu
    top = m.initial_sp
    end = max((s.vaddr + s.memsz for s in image.segments if "w" in s.flags
               and mcu.sram_base <= s.vaddr < mcu.stack_top), default=0)
    for name in END_SYMBOLS:
        sym = image.symbols.get(name)
        if sym is not None and mcu.sram_base <= sym.address < top:
            end = sym.address
            break
    return (max(end, mcu.sram_base) + 7) & ~7


def has_heap(m: Machine) -> bool:
    """True when the image links a heap allocator."""
    return any(n in m.image.symbols for n in HEAP_SYMBOLS)


def paint(m: Machine) -> tuple[int, int] | None:
    """Paint [end of the image's data, initial SP) (above the guard page, when there is
    one); the painted range, or None when there is no room to measure in."""
    lo, hi = data_end(m), m.initial_sp
    if m.guard is not None and m.guard[0] >= lo:
        lo = m.guard[1]  # the guard page below the stack is not writable
    if m.map.find(lo, max(hi - lo, 1)) is None or hi - lo < 64:
        return None
    m.fill(lo, PAINT.to_bytes(4, "little") * ((hi - lo) // 4))
    return lo, hi


def peak(m: Machine, painted: tuple[int, int]) -> int:
    """Bytes of stack the run used: from the initial SP down to the lowest word written
    (with a heap, the lowest above the first :data:`GAP`-byte stretch of untouched paint)."""
    lo, hi = painted
    words = np.frombuffer(m.read(lo, hi - lo), "<u4")
    used = np.flatnonzero(words != PAINT)[::-1]  # from the top down
    if used.size == 0:
        return 0
    bottom = used[-1]
    if has_heap(m):
        edges = np.concatenate([[len(words)], used])
        gaps = edges[:-1] - edges[1:] - 1
        far = np.flatnonzero(gaps >= GAP // 4)
        if far.size and far[0] == 0:
            return 0
        if far.size:
            bottom = used[far[0] - 1]
    return hi - (lo + 4 * int(bottom))
