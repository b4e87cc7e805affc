"""Memory a script's set-up adds to a machine beside the MCU preset's own regions:
unmodelled peripherals (the architecture's peripheral, external and system ranges the preset
leaves unmapped, :mod:`armsim.machine.peripherals`), pages of the Code and SRAM ranges mapped
as the script touches them, and µVision's ``MAP`` ranges with their rights."""

from __future__ import annotations

import ctypes
from typing import TYPE_CHECKING, Any

from unicorn import (
    UC_HOOK_MEM_READ_PROT,
    UC_HOOK_MEM_WRITE_PROT,
    UC_PROT_EXEC,
    UC_PROT_READ,
    UC_PROT_WRITE,
)

from armsim.errors import ArmsimError
from armsim.machine.peripherals import PAGE, RANGES, REGION_NAME, Unmodelled, gaps_in, lazy_range
from armsim.parts.memory import Region

if TYPE_CHECKING:
    from unicorn import Uc

    from armsim.machine.tlb import Translation
    from armsim.parts.memory import MemoryMap

PERMS = {"r": UC_PROT_READ, "w": UC_PROT_WRITE, "x": UC_PROT_EXEC}


class Regions:
    """The :class:`~armsim.machine.emulator.Machine`'s methods for regions beyond the
    preset's (a mixin: it uses the machine's engine, memory map, TLB and fault hook)."""

    uc: Uc
    map: MemoryMap
    tlb: Translation
    unmodelled: Unmodelled | None
    _backing: dict[str, Any]

    def _on_bad_access(self, uc: Uc, access: int, address: int, size: int, value: int,
                       kind: int) -> bool:
        raise NotImplementedError

    def open_unmodelled(self) -> "Unmodelled":
        """Map the architecture's peripheral, external and system ranges the preset leaves
        unmapped as unmodelled peripherals (once per machine); the store is returned."""
        if self.unmodelled is None:
            self.unmodelled = Unmodelled()
            for lo, hi, _ in RANGES:
                for a, b in gaps_in(self.map, lo, hi):
                    self._map_unmodelled(a, b, REGION_NAME)
            self.tlb._index()
        return self.unmodelled

    def _map_unmodelled(self, lo: int, hi: int, name: str) -> None:
        assert self.unmodelled is not None
        read, write = self.unmodelled.callbacks(lo)
        self.uc.mmio_map(lo, hi - lo, read, None, write, None)
        r = Region(name, lo, hi - lo, "rw")
        self.map.add(r)
        self.unmodelled.regions.append(r)

    def ensure_mapped(self, address: int, size: int) -> bool:
        """Map the unmapped pages of [address, address+size) in the Code and SRAM ranges as
        unmodelled memory (when :meth:`open_unmodelled` has run); True if all is mapped."""
        if self.map.find(address, size) is not None:
            return True
        if self.unmodelled is None:
            return False
        lo, hi = address & ~(PAGE - 1), (address + size + PAGE - 1) & ~(PAGE - 1)
        for a, b in gaps_in(self.map, lo, hi):
            if not (lazy_range(a) and lazy_range(b - 1)):
                return False
            self._map_unmodelled(a, b, REGION_NAME)
        self.tlb._index()
        return True

    def clear_region(self, lo: int, hi: int) -> tuple[list[Region], list[Region]]:
        """uVision's ``MAP lo, hi-1 CLEAR``: the ranges earlier MAP commands mapped inside it
        lose every right (an access there then faults, until a later MAP grants them again);
        the part's own memories stay, as the program needs them. Returns (regions cleared,
        preset regions kept). (Unmapping would be truer, but armsim's engine cannot map RAM
        again where RAM was unmapped.)"""
        lo, hi = lo & ~(PAGE - 1), (hi + PAGE - 1) & ~(PAGE - 1)
        cleared, kept = [], []
        for r in [r for r in self.map if r.base < hi and lo < r.end]:
            if r.name.startswith("map@") and lo <= r.base and r.end <= hi:
                cleared.append(self._set_rights(r, ""))
            elif not r.name.startswith("map@") and r.name != REGION_NAME:
                kept.append(r)
        if cleared:
            self.tlb._index()
            self.uc.ctl_flush_tb()
        return cleared, kept

    def _set_rights(self, r: Region, perms: str) -> Region:
        """A MAP region with new rights (faults reported as bad accesses)."""
        prot = 0
        for c in perms:
            prot |= PERMS[c]
        self.uc.mem_protect(r.base, r.size, prot)
        for kind, need in ((UC_HOOK_MEM_WRITE_PROT, "w"), (UC_HOOK_MEM_READ_PROT, "r")):
            if need not in perms:
                self.uc.hook_add(kind, self._on_bad_access, kind, r.base, r.end - 1)
        new = Region(r.name, r.base, r.size, perms)
        self.map.remove(r)
        self.map.add(new)
        return new

    def map_region(self, lo: int, hi: int, perms: str) -> tuple[list[Region], list[Region]]:
        """uVision's ``MAP lo, hi-1 READ WRITE EXEC``: memory with those rights where nothing
        is mapped (page-aligned); the part's own regions inside the range keep their rights.
        Returns (regions mapped, preset regions the range overlapped)."""
        lo, hi = lo & ~(PAGE - 1), (hi + PAGE - 1) & ~(PAGE - 1)
        unmodelled = self.unmodelled.regions if self.unmodelled is not None else []
        for r in unmodelled:
            # in armsim's engine, mapping RAM where an MMIO region was unmapped fails with
            # UC_ERR_NOMEM (Unicorn 2.1.3), so MAP ranges are applied before the unmodelled
            # ranges open (MachineTarget's premap); a MAP that was not is refused here
            if r.base < hi and lo < r.end:
                raise ArmsimError(
                    f"MAP 0x{lo:08X}-0x{hi - 1:08X} overlaps unmodelled peripheral space "
                    f"0x{r.base:08X}-0x{r.end - 1:08X} opened before it: armsim applies the "
                    "MAP ranges it can compute when the script is read (constant addresses)")
        overlapped = [r for r in self.map if r.base < hi and lo < r.end]
        made = []
        for r in overlapped:  # a range an earlier MAP mapped (or cleared): the new rights
            if r.name.startswith("map@") and lo <= r.base and r.end <= hi and r.perms != perms:
                made.append(self._set_rights(r, perms))
        overlapped = [r for r in overlapped if not r.name.startswith("map@")]
        prot = 0
        for c in perms:
            prot |= PERMS[c]
        for a, b in gaps_in(self.map, lo, hi):
            name = f"map@{a:08X}"
            self._backing[name] = ctypes.create_string_buffer(b - a)
            self.uc.mem_map_ptr(a, b - a, prot, ctypes.addressof(self._backing[name]))
            region = Region(name, a, b - a, perms)
            self.map.add(region)
            made.append(region)
            for kind, need in ((UC_HOOK_MEM_WRITE_PROT, "w"), (UC_HOOK_MEM_READ_PROT, "r")):
                if need not in perms:
                    self.uc.hook_add(kind, self._on_bad_access, kind, a, b - 1)
        if made:
            self.tlb._index()
            self.uc.ctl_flush_tb()
        return made, overlapped
