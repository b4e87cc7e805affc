"""Address translation armsim gives Unicorn: identity pages with each region's rights.

Unicorn's default (``UC_TLB_CPU``) asks QEMU's Cortex-M model, whose default memory map marks
SRAM executable. A store to a page that may hold code never gets QEMU's "dirty" mark, and so
takes the softmmu slow path on every store; so does any store to a page covered by a memory
hook. armsim runs no code from SRAM (its regions say so), so it fills the TLB itself
(``UC_TLB_VIRTUAL``, one callback per TLB miss, not per access):

- every page maps to itself (the emulated part has no MMU);
- read and write are always granted at this level: the physical region's own rights,
  checked by Unicorn with the exact address, raise armsim's "write to read-only memory",
  "unmapped" and guard-page faults through hooks registered over exactly those ranges
  (:func:`fault_ranges`), so SRAM carries no hook and its stores stay on the fast path;
- execute is granted where the region is executable, and on unmapped pages: there the
  physical fetch reports the exact unmapped address, and the crash report names the
  architecture's never-execute region it lies in. (QEMU also asks for the fetch rights of
  pages it never runs, such as the exit address 0xFFFFFFFF: a refusal there would fault.)
  A fetch refused on a mapped non-executable region (SRAM, the SCS) ends the run with
  ``UC_ERR_EXCEPTION``, which :class:`Translation` remembers so the crash report names it.

Only the TLB is virtual: instruction counts, outputs and every fault kind are unchanged
(tests/test_tlb.py, tests/test_hardening.py).

Unicorn 2.1.3 as released restores the guest state before every fill, and a fill in the
middle of a translation block (a first access to a page) inside a Thumb IT block leaves
stale IT bits that make the next block skip its first instruction: armsim's source build
carries the fix (scripts/patches/unicorn-2.1.3-vtlb-restore.patch). :func:`vtlb_sound` checks
the loaded engine for the bug with a six-instruction program; where it is there (the PyPI
wheel), armsim keeps Unicorn's own TLB (slower stores to SRAM), where a region's own rights
refuse fetches from non-executable memory (UC_ERR_FETCH_PROT, reported as the same fault).
"""

from __future__ import annotations

import bisect
from functools import lru_cache

from unicorn import (
    UC_ARCH_ARM,
    UC_HOOK_TLB_FILL,
    UC_MEM_FETCH,
    UC_MODE_THUMB,
    UC_PROT_ALL,
    UC_PROT_EXEC,
    UC_PROT_READ,
    UC_PROT_WRITE,
    UC_TLB_VIRTUAL,
    Uc,
)
from unicorn import arm_const as A

from armsim.parts.memory import MemoryMap

#: Architecturally never-execute (XN) ranges of the ARMv7-M/ARMv8-M default memory map
#: (ARMv7-M ARM, B3.1 table B3-1): Peripheral, Device and System.
NEVER_EXECUTE = ((0x40000000, 0x60000000, "Peripheral"), (0xA0000000, 0xE0000000, "Device"),
                 (0xE0000000, 0x100000000, "System"))

_RW = UC_PROT_READ | UC_PROT_WRITE


def never_execute(address: int) -> str | None:
    """The XN region holding ``address``, as "<name> region 0x...-0x...", if any."""
    for lo, hi, name in NEVER_EXECUTE:
        if lo <= address < hi:
            return f"{name} region 0x{lo:08X}-0x{hi - 1:08X}"
    return None


def gaps(memory: MemoryMap, top: int = 1 << 32) -> list[tuple[int, int]]:
    """The unmapped [begin, end) ranges of a 32-bit address space."""
    out, at = [], 0
    for r in sorted(memory, key=lambda r: r.base):
        if r.base > at:
            out.append((at, r.base))
        at = max(at, r.end)
    if at < top:
        out.append((at, top))
    return out


def fault_ranges(memory: MemoryMap, guard: tuple[int, int] | None
                 ) -> dict[str, list[tuple[int, int]]]:
    """Where each kind of fault hook must watch, as inclusive-exclusive ranges:
    "unmapped" (the gaps), "write" (regions without w, and the guard page), "read" (regions
    without r, and the guard page)."""
    out: dict[str, list[tuple[int, int]]] = {"unmapped": gaps(memory), "write": [], "read": []}
    for r in memory:
        if "w" not in r.perms:
            out["write"].append((r.base, r.end))
        if "r" not in r.perms:
            out["read"].append((r.base, r.end))
    if guard is not None:
        out["write"].append(guard)
        out["read"].append(guard)
    return out


#: movs r0,#0; cmp r0,#1; it ne; strne r1,[r2] (a first store to a page, inside the IT
#: block); tst r0,r0 (Z=1); b 1f; nop; 1: movs r3,#42 (must run: it is outside any IT
#: block; with stale IT bits "ne" it is skipped); nop
_IT_PROBE = bytes.fromhex("0020012818bf11600042" "00e000bf2a2300bf")


@lru_cache(maxsize=1)
def vtlb_sound() -> bool:
    """True when the loaded Unicorn keeps the Thumb IT state across a TLB fill in the middle
    of a block (armsim's patched build), so its virtual TLB can be used."""
    uc = Uc(UC_ARCH_ARM, UC_MODE_THUMB)
    uc.ctl_set_cpu_model(A.UC_CPU_ARM_CORTEX_M4)
    uc.mem_map(0, 0x1000)
    uc.mem_map(0x20000000, 0x10000)
    uc.ctl_set_tlb_mode(UC_TLB_VIRTUAL)

    def fill(uc: Uc, vaddr: int, access: int, entry: object, _data: object) -> bool:
        entry.paddr = vaddr  # type: ignore[attr-defined]
        entry.perms = UC_PROT_ALL  # type: ignore[attr-defined]
        return True

    uc.hook_add(UC_HOOK_TLB_FILL, fill)
    uc.mem_write(0, _IT_PROBE)
    uc.reg_write(A.UC_ARM_REG_R2, 0x20008000)
    uc.reg_write(A.UC_ARM_REG_SP, 0x2000F000)
    uc.emu_start(1, len(_IT_PROBE) - 2)
    return int(uc.reg_read(A.UC_ARM_REG_R3)) == 42


class Translation:
    """The TLB-fill hook of one engine (or, on an engine whose virtual TLB is not sound,
    Unicorn's own TLB, whose regions' rights refuse fetches from non-executable memory).

    Attributes:
        denied: the page of the last fetch refused since :meth:`clear` (None if none)
        page_size: Unicorn's page size (the granule of a refusal)
        fills: TLB fills answered (a cost figure: one Python call each)
    """

    def __init__(self, uc: Uc, memory: MemoryMap, virtual: bool | None = None) -> None:
        self._memory = memory
        self._uc = uc
        self.denied: int | None = None
        self.fills = 0
        #: True: armsim fills the TLB; False: Unicorn's own TLB (see :func:`vtlb_sound`)
        self.virtual = vtlb_sound() if virtual is None else virtual
        self.page_size = int(uc.ctl_get_page_size())
        if self.virtual:
            uc.ctl_set_tlb_mode(UC_TLB_VIRTUAL)
            self._handle = uc.hook_add(UC_HOOK_TLB_FILL, self._fill)
        self._index()

    def _index(self) -> None:
        regions = sorted(self._memory, key=lambda r: r.base)
        self._bases = [r.base for r in regions]
        self._regions = regions

    def clear(self) -> None:
        """Forget the last refused fetch (at the start of a run)."""
        self.denied = None

    def refused_fetch_at(self, pc: int) -> bool:
        """True when the last refused fetch was of ``pc``'s page (the run stopped on it)."""
        d = self.denied
        return d is not None and d <= pc < d + self.page_size

    def _region(self, page: int) -> int | None:
        """Index of the region holding ``page``, if any."""
        i = bisect.bisect_right(self._bases, page) - 1
        return i if i >= 0 and page < self._regions[i].end else None

    def rights(self, page: int) -> int:
        """The Unicorn rights a page is given: RW always, X unless a mapped region denies it."""
        i = self._region(page)
        if i is not None and "x" not in self._regions[i].perms:
            return _RW
        return _RW | UC_PROT_EXEC

    def _fill(self, uc: Uc, vaddr: int, access: int, entry: object, _data: object) -> bool:
        self.fills += 1
        perms = self.rights(vaddr)
        if access == UC_MEM_FETCH and not perms & UC_PROT_EXEC:
            self.denied = vaddr
        entry.paddr = vaddr  # type: ignore[attr-defined]
        entry.perms = perms  # type: ignore[attr-defined]
        return True
