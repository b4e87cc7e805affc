"""``--check-memory``: a small sanitizer for firmware, the memory errors a board never shows.

Every load and store instruction of the image gets the native access check (a C code hook
that computes the address from the registers before the instruction runs; no memory hook,
see :mod:`armsim.machine.alignment`) against a shadow byte per byte of SRAM:

* a store into the heap arena (from the end of .bss up to the stack pointer, when the image
  has an allocator) outside every live block: an overrun of a block, or a use after free;
* a read whose every byte is in the heap arena outside every live block (reads of freed or
  never-allocated heap; a word read that only partly leaves a block is allowed);
* an SP-based store below the stack limit (the top of the heap, else the end of .bss): the
  stack has grown into data;
* a read of bytes never written since reset, by the CPU or by the loader (script writes,
  RAM-resident segments). Only accesses whose *every* byte is unwritten count, so the
  word-wise string functions of newlib that read a few bytes past a terminator are not
  reported (a partly initialised word is not caught either).

The heap is followed through the image's allocator entry points (newlib's ``malloc``,
``_malloc_r``, ``calloc``, ``realloc``, ``free`` and the reentrant forms, found by symbol):
a code hook at each entry notes the arguments, and a hook after each call site takes the
result. Inside the allocator nothing is checked (it writes its own chunk headers).

Cost: a C call per executed load or store while on; the default path has no hook at all.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Callable

from capstone import arm
from unicorn import UC_HOOK_CODE
from unicorn import arm_const as A

from armsim.errors import ArmsimError
from armsim.machine.alignment import MEMORY, Access, NativeCheck, base_name
from armsim.machine.counting import _native
from armsim.machine.disasm import scan

#: Allocator functions: name -> (kind, index of the size argument, of the pointer argument)
#: for the reentrant forms the first argument is the reent structure.
ALLOCATORS = {
    "malloc": ("malloc", 0, None), "_malloc_r": ("malloc", 1, None),
    "calloc": ("calloc", 0, None), "_calloc_r": ("calloc", 1, None),
    "realloc": ("realloc", 1, 0), "_realloc_r": ("realloc", 2, 1),
    "free": ("free", None, 0), "_free_r": ("free", None, 1),
    "memalign": ("memalign", 1, None), "_memalign_r": ("memalign", 2, None),
    "aligned_alloc": ("memalign", 1, None),
}
SH_WRITTEN, SH_ARENA, SH_LIVE = 1, 2, 4
KINDS = {1: "heap-overrun", 2: "stack-below-limit", 3: "uninitialised-read", 4: "heap-read"}
_ARGS = (A.UC_ARM_REG_R0, A.UC_ARM_REG_R1, A.UC_ARM_REG_R2, A.UC_ARM_REG_R3)
_SKIP = ("pld", "pli", "tbb", "tbh")


@dataclass(frozen=True)
class Block:
    """A heap block: where, how big, and where it was allocated (and freed)."""

    address: int
    size: int
    alloc_pc: int
    free_pc: int | None = None


@dataclass(frozen=True)
class MemoryFinding:
    """One memory error.

    Attributes:
        kind: heap-overrun, use-after-free, heap-read, stack-below-limit, uninitialised-read
        pc, function, line: the accessing instruction
        address, size: the access
        write: True for a store
        detail: the block (its size, where allocated or freed) and how far outside it
    """

    kind: str
    pc: int
    function: str
    line: str
    address: int
    size: int
    write: bool
    detail: str

    def message(self) -> str:
        """One line for reports."""
        what = "wrote" if self.write else "read"
        return (f"{self.kind}: {self.function} at PC 0x{self.pc:08X} ({self.line}) {what} "
                f"{self.size} byte(s) at 0x{self.address:08X}: {self.detail}")

    def to_json(self) -> dict[str, Any]:
        """Stable keys."""
        return {"kind": self.kind, "pc": f"0x{self.pc:08X}", "function": self.function,
                "line": self.line, "address": f"0x{self.address:08X}", "size": self.size,
                "write": self.write, "detail": self.detail}


def memory_instructions(code: bytes, address: int,
                        rule: Callable[[str, Access], int] | None = None) -> dict[int, Access]:
    """Every load and store of a code segment, except PC-relative literal loads; ``rule``
    (mnemonic, access) sets each one's ``rule`` for the area count (datamem.py). Decoded
    once per image and rule (every checked run of an image wants them)."""
    return dict(_memory_instructions(code, address, rule))


@lru_cache(maxsize=8)
def _memory_instructions(code: bytes, address: int,
                         rule: Callable[[str, Access], int] | None) -> dict[int, Access]:
    out = {}
    for insn in scan(code, address):
        name = base_name(insn)
        if name.startswith(_SKIP):
            continue
        mem = [o for o in insn.operands if o.type == arm.ARM_OP_MEM]
        lists = name.startswith(("ldm", "stm", "push", "pop", "vpush", "vpop", "vldm", "vstm"))
        if not mem and not lists:
            continue
        if mem and mem[0].mem.base == arm.ARM_REG_PC:
            continue
        if not name.startswith(("ld", "st", "push", "pop", "vld", "vst", "vpush", "vpop")):
            continue
        acc = out[insn.address] = Access(insn)
        if rule is not None:
            acc.rule = rule(name, acc)
    return out


@lru_cache(maxsize=8)
def _return_sites(code: bytes, address: int, entries: frozenset[int]) -> frozenset[int]:
    """In one code segment: the addresses after every BL to one of ``entries`` and after
    every BLX through a register (decoded once per image)."""
    out = set()
    for insn in scan(code, address):
        name = base_name(insn)
        if name == "bl" and insn.operands and insn.operands[0].imm in entries:
            out.add(insn.address + insn.size)
        elif name == "blx" and insn.operands and insn.operands[0].type == arm.ARM_OP_REG:
            out.add(insn.address + insn.size)
    return frozenset(out)


class MemoryCheck:
    """The sanitizer on one :class:`armsim.machine.emulator.Machine` (attach before the run)."""

    def __init__(self, machine: Any, stack: tuple[int, int] | None = None) -> None:
        if _native is None:
            raise ArmsimError("--check-memory needs armsim's C extension (armsim.machine._blockcount), "
                              "which is not built in this install")
        self.m = machine
        image = machine.image
        ram = machine.map["sram"]
        self.lo, self.hi = ram.base, ram.end
        accesses: dict[int, Access] = {}
        for seg in image.segments:
            if "x" in seg.flags:
                accesses.update(memory_instructions(seg.data, seg.vaddr))
        self._check = NativeCheck(machine.uc, accesses, MEMORY, self.lo, self.hi)
        self._n = _native
        self.live: dict[int, Block] = {}
        self.freed: list[Block] = []
        self.found: list[MemoryFinding] = []
        self._pending: list[tuple[str, int, int, int, int]] = []  # kind, size, ptr, lr, pc
        end = next((image.symbols[n].address for n in ("end", "__end__", "_end", "_ebss")
                    if n in image.symbols), None)
        self.end = end if end is not None and self.lo <= end < self.hi else None
        self.limit = self.end or 0
        # what the loader put in RAM counts as written
        for seg in image.segments:
            if seg.data and self.lo <= seg.paddr < self.hi:
                self.mark_written(seg.paddr, len(seg.data))
        machine.on_host_write = self.mark_written
        self._hooks = []
        entries = {image.symbols[n].address & ~1: n for n in ALLOCATORS
                   if n in image.symbols and image.symbols[n].is_function}
        for addr, name in entries.items():
            self._hooks.append(machine.uc.hook_add(UC_HOOK_CODE, self._on_entry, name,
                                                   addr, addr))
        returns = self._return_sites(entries) if entries else set()
        for addr in returns:
            self._hooks.append(machine.uc.hook_add(UC_HOOK_CODE, self._on_return, None,
                                                   addr, addr))
        self.allocator_found = sorted(set(entries.values()))
        if entries and self.end is not None:
            # the heap may grow anywhere from the end of .bss up to the stack: a store there
            # outside every live block and below SP is an error (the allocator's own
            # stores are not checked)
            self._mark(self.end, self.hi - self.end, SH_ARENA, 0)
        self._state()

    # -- shadow -------------------------------------------------------------------------------
    def mark_written(self, address: int, size: int) -> None:
        """Bytes the host wrote (script, loader, semihosting) count as initialised."""
        self._n.mem_mark(self._check._ptr, address, address + size, SH_WRITTEN, 0)

    def _state(self) -> None:
        self._n.mem_state(self._check._ptr, int(bool(self._pending)), self.limit)

    def _return_sites(self, entries: dict[int, str]) -> set[int]:
        """Addresses after every BL to an allocator and after every BLX through a register."""
        out: set[int] = set()
        for seg in self.m.image.segments:
            if "x" in seg.flags:
                out |= _return_sites(seg.data, seg.vaddr, frozenset(entries))
        return out

    # -- allocator hooks ---------------------------------------------------------------------
    def _on_entry(self, uc: Any, address: int, _size: int, name: str) -> None:
        self._collect()
        kind, size_arg, ptr_arg = ALLOCATORS[name]
        args = [int(uc.reg_read(r)) for r in _ARGS]
        size = args[size_arg] if size_arg is not None else 0
        if kind == "calloc":
            size = args[size_arg] * args[size_arg + 1]
        ptr = args[ptr_arg] if ptr_arg is not None else 0
        lr = int(uc.reg_read(A.UC_ARM_REG_LR)) & ~1
        self._pending.append((kind, size, ptr, lr, lr - 4))
        self._state()

    def _on_return(self, uc: Any, address: int, _size: int, _data: Any) -> None:
        if not self._pending or self._pending[-1][3] != address:
            return
        frames = []
        while self._pending and self._pending[-1][3] == address:
            frames.append(self._pending.pop())
        if self._pending:  # a nested call inside the allocator: the outer one records
            self._state()
            return
        kind, size, ptr, _lr, site = frames[-1]  # the outermost call
        result = int(uc.reg_read(A.UC_ARM_REG_R0))
        if kind in ("free", "realloc") and ptr:
            old = self.live.pop(ptr, None)
            if old is not None and (kind == "free" or result):
                self.freed.append(Block(old.address, old.size, old.alloc_pc, site))
                self._mark(old.address, old.size, 0, SH_LIVE)
            elif old is not None:
                self.live[ptr] = old  # realloc failed: the old block stays
        if kind in ("malloc", "calloc", "realloc", "memalign") and result:
            self._grow(result, size)
            self.live[result] = Block(result, size, site)
            # the new block's bytes are no longer those of a freed block
            self.freed = [b for b in self.freed
                          if b.address + b.size <= result or b.address >= result + size]
            self._mark(result, size, SH_LIVE, 0)  # calloc's zeroing and realloc's copy
            # were stores the allocator made: they marked the bytes written
        self._state()

    def _grow(self, address: int, size: int) -> None:
        """The stack limit rises with the heap's highest block."""
        self.limit = max(self.limit, address + size)

    def _mark(self, address: int, size: int, set_: int, clear: int) -> None:
        self._n.mem_mark(self._check._ptr, address, address + size, set_, clear)

    # -- findings ----------------------------------------------------------------------------
    def _collect(self) -> None:
        """Classify what the C hook found since the last look (with the heap as it is now)."""
        for pc, address, size, write, code in self._check.take():
            self.found.append(self._classify(pc, address, size, bool(write), code))

    def _classify(self, pc: int, address: int, size: int, write: bool,
                  code: int) -> MemoryFinding:
        image = self.m.image
        f = image.function_at(pc)
        line = image.source_line(pc)
        where = f"{line[0].rsplit('/', 1)[-1]}:{line[1]}" if line else "no line info"
        kind = KINDS.get(code, "memory")
        detail = ""
        if code in (1, 4):
            gone = next((b for b in reversed(self.freed)
                         if b.address <= address < b.address + max(b.size, 1)), None)
            if gone is not None:
                kind = "use-after-free"
                detail = (f"inside a {gone.size}-byte block allocated at "
                          f"{self._site(gone.alloc_pc)} and freed at "
                          f"{self._site(gone.free_pc or 0)}")
            else:
                below = [b for b in self.live.values() if b.address + b.size <= address]
                above = [b for b in self.live.values() if b.address > address]
                near = max(below, key=lambda b: b.address, default=None)
                if near is not None:
                    past = address - (near.address + near.size)
                    how = "just past" if past == 0 else f"{past} byte(s) past"
                    detail = (f"{how} the end of a {near.size}-byte block at "
                              f"0x{near.address:08X} allocated at {self._site(near.alloc_pc)}")
                elif above:
                    b = min(above, key=lambda b: b.address)
                    detail = (f"{b.address - address} byte(s) before a {b.size}-byte block at "
                              f"0x{b.address:08X} allocated at {self._site(b.alloc_pc)}")
                else:
                    detail = "in the heap arena, outside every live block"
            if code == 4 and kind == "heap-overrun":
                kind = "heap-read"
        elif code == 2:
            detail = (f"{self.limit - address} byte(s) below the stack limit "
                      f"0x{self.limit:08X} (the top of the heap, else the end of .bss): the "
                      "stack has grown into data")
        elif code == 3:
            detail = "these bytes were never written since reset"
        return MemoryFinding(kind, pc, f.name if f else "?", where, address, size, write,
                             detail)

    def _site(self, pc: int) -> str:
        image = self.m.image
        line = image.source_line(pc)
        return image.describe(pc) + (f" ({line[0].rsplit('/', 1)[-1]}:{line[1]})" if line
                                     else "")

    def finish(self) -> list[MemoryFinding]:
        """Every finding of the run; the hooks come off."""
        self._collect()
        for h in self._hooks:
            self.m.uc.hook_del(h)
        self._hooks = []
        self._check.detach()
        self.m.on_host_write = None
        return self.found
