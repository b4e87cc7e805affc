"""Run a kernel ELF on Unicorn (ARM Thumb, a real Cortex-M CPU model) and count exactly.

Counting is per translated block: a block hook counts how often each block runs, and each
block's instruction count comes from decoding it once with capstone. Unlike a per-instruction
hook, this counts instructions of IT blocks whose condition fails, which the CPU executes.
"""

from __future__ import annotations

import ctypes
import time
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np
from unicorn import (
    UC_ARCH_ARM,
    UC_ERR_EXCEPTION,
    UC_ERR_FETCH_PROT,
    UC_HOOK_CODE,
    UC_HOOK_INTR,
    UC_HOOK_MEM_FETCH_PROT,
    UC_HOOK_MEM_FETCH_UNMAPPED,
    UC_HOOK_MEM_READ,
    UC_HOOK_MEM_READ_PROT,
    UC_HOOK_MEM_READ_UNMAPPED,
    UC_HOOK_MEM_WRITE,
    UC_HOOK_MEM_WRITE_PROT,
    UC_HOOK_MEM_WRITE_UNMAPPED,
    UC_MEM_WRITE,
    UC_MODE_THUMB,
    UC_PROT_NONE,
    UC_QUERY_TIMEOUT,
    Uc,
    UcError,
)
from unicorn import arm_const as A

from armsim.errors import ArmsimError, ElfError, EmulatorFault
from armsim.machine import crash, disasm
from armsim.machine.accesses import AccessCount
from armsim.machine import alignment as _alignment
from armsim.machine.alignment import ALIGNED_ONLY, AlignmentCheck, misaligned_at, use_watch
from armsim.machine.clock import CycleClock
from armsim.machine.counting import BlockCounter, make_counter, native_available
from armsim.machine.debugregs import DebugRegisters
from armsim.machine.debugregs import region as debug_region
from armsim.machine.elf import ElfImage, check_attributes
from armsim.machine.memcheck import memory_instructions
from armsim.machine.fpugate import FpuGate
from armsim.machine.peripherals import Unmodelled
from armsim.machine.regions import PERMS, Regions
from armsim.machine.semihost import Semihost
from armsim.machine.stats import RunStats
from armsim.machine.tlb import Translation, fault_ranges
from armsim.machine.windows import Snapshot, tail_cycles
from armsim.parts.cpus import CpuVariant
from armsim.parts.mcus import Mcu
from armsim.timing import cycles
from armsim.timing.datamem import data_timing_for

STOP_SYMBOL = "armsim_halt"
#: The stop address of an ELF without armsim_halt: odd, so no Thumb PC ever equals it (and
#: LR's architectural reset value).
NO_STOP = 0xFFFFFFFF
#: QEMU's exception number for a data abort: also how armsim's engine reports an
#: alignment fault (alignment.py)
EXCP_DATA_ABORT = 4
#: QEMU's exception number for BKPT; BKPT 0xAB is a semihosting call (encoding 0xBEAB).
EXCP_BKPT = 7
SEMIHOST_BKPT = 0xBEAB
CPUID = 0xE000ED00
#: QEMU's exception number for a coprocessor (FPU) access while disabled (NOCP).
EXCP_NOCP = 17
DEFAULT_MAX_INSTRUCTIONS = 50_000_000
DEFAULT_TIMEOUT_S = 30.0

ACCESS_KINDS = {
    UC_HOOK_MEM_READ_UNMAPPED: "read of unmapped memory",
    UC_HOOK_MEM_WRITE_UNMAPPED: "write to unmapped memory",
    UC_HOOK_MEM_FETCH_UNMAPPED: "instruction fetch from unmapped memory",
    UC_HOOK_MEM_WRITE_PROT: "write to read-only memory",
    UC_HOOK_MEM_READ_PROT: "read of unreadable memory",
    UC_HOOK_MEM_FETCH_PROT: "instruction fetch from non-executable memory",
}


@dataclass
class Machine(Regions, CycleClock):
    """One Unicorn engine holding an ELF, reusable across runs (weights written once)."""

    image: ElfImage
    cpu: CpuVariant
    mcu: Mcu
    counting: str = "auto"
    #: fault on unaligned accesses where the chip does; False only drops the watch an engine
    #: without armsim's patch needs (the patched engine always faults: alignment.py)
    check_alignment: bool = True
    #: answer semihosting calls (BKPT 0xAB); None: a BKPT 0xAB is a breakpoint like any other
    semihost: Semihost | None = None
    #: told of every host write (address, size): the memory check's "initialised" bytes
    on_host_write: Callable[[int, int], None] | None = None
    uc: Uc = field(init=False)

    def __post_init__(self) -> None:
        self.map = self.mcu.memory_map()
        check_attributes(self.image, self.cpu)
        self._check_segments(self.image)
        self._backing: dict[str, ctypes.Array[ctypes.c_char]] = {}
        self._code_cache: dict[tuple[int, int], bytes] = {}
        self._code_span = (0, 0)  # the addresses the remembered block bytes span
        self._cost_memo: dict[int, Any] = {}  # block key -> cycles.BlockCost
        self._total_memo: dict[Any, float] = {}  # (fetch, keys, counts) -> estimated cycles
        self._icount: dict[tuple[int, int], int] = {}
        self._icount_cache: dict[bytes, np.ndarray] = {}
        self.uc = self._engine()
        self.load_segments(self.image)
        halt = self.image.symbols.get(STOP_SYMBOL)
        self.stop = halt.address if halt is not None else NO_STOP
        self.initial_sp, self.reset, self.start_note = self._reset_vector()
        self._attach_debug_registers()
        self._fault = crash.Access()
        self._intno: int | None = None
        self.fpu = FpuGate(self)
        code = [seg for seg in self.image.segments if "x" in seg.flags]
        span = (code[0].vaddr, len(code[0].data)) if code else (0, 0)
        self.counter: BlockCounter = make_counter(self.uc, self.counting, span)
        self.pc = self.reset & ~1
        # ARMv6-M: QEMU itself faults on unaligned accesses; on v7-M/v8-M armsim's build of
        # the engine does too (alignment.py), else the watch checks every run
        self.alignment: AlignmentCheck | None = (
            AlignmentCheck(self.uc, code[0].data, code[0].vaddr)
            if self.check_alignment and code and self.cpu.arch != "armv6-m" and use_watch()
            else None)
        self.guard = self._guard_page()
        self.unmodelled: Unmodelled | None = None
        self._attach_data_timing(bool(code))
        self.begin()
        self.uc.hook_add(UC_HOOK_INTR, self._on_interrupt)
        self._attach_fault_hooks()

    def _engine(self) -> Uc:
        """Unicorn in Thumb mode with the variant's CPU model, the preset's regions mapped
        onto host buffers (aliases share their owner's), and the CPUID register set."""
        uc = Uc(UC_ARCH_ARM, UC_MODE_THUMB)
        uc.ctl_set_cpu_model(self.cpu.uc_cpu)
        for r in sorted(self.map, key=lambda r: r.alias_of is not None):
            perms = 0
            for c in r.perms:
                perms |= PERMS[c]
            owner = r.alias_of or r.name
            if owner not in self._backing:
                self._backing[owner] = ctypes.create_string_buffer(r.size)
            uc.mem_map_ptr(r.base, r.size, perms, ctypes.addressof(self._backing[owner]))
        if self.cpu.cpuid:
            uc.mem_write(CPUID, self.cpu.cpuid.to_bytes(4, "little"))
        return uc

    def _attach_debug_registers(self) -> None:
        """ITM and DWT on their page (CYCCNT reads the cycle estimate), unless the preset
        maps something there."""
        self._mmio_last: tuple[tuple[int, int, int], int] = ((0, 0, 0), -1)
        self.debug = DebugRegisters(self.cycles_before, self._demcr,
                                    lambda port, text: self.semihost.emit(
                                        "itm" if port == 0 else f"itm{port}", text)
                                    if self.semihost is not None else None)
        if not any(r.base < 0xE0003000 and 0xE0000000 < r.end for r in self.map):
            self.debug.attach(self.uc)
            self.map.add(debug_region())

    def _attach_data_timing(self, has_code: bool) -> None:
        """How the estimate costs loads by memory (the M7's DTCM against AXI SRAM; None on
        parts where all SRAM is alike), and on an M7 the count of the run-time address facts
        it pays for: accesses to slow memory, misaligned ones (timing/datamem.py)."""
        #: the cycle model's table for this core on this part (the M0's multiplier)
        self.timing_cpu = cycles.timing_key(self.cpu.name, self.mcu)
        model = cycles.timing_for(self.timing_cpu).model
        self.data_timing = data_timing_for(self.mcu, model)
        self.accesses: AccessCount | None = (
            AccessCount(self.uc, self.image, self.data_timing.slow if self.data_timing else ())
            if model == "m7" and has_code and self.counting != "none" and native_available()
            else None)

    def _attach_fault_hooks(self) -> None:
        """Fault hooks only where a fault can happen, so SRAM stores stay on Unicorn's fast
        path (see tlb.py); the TLB itself refuses fetches from non-executable pages."""
        self.tlb = Translation(self.uc, self.map)
        watch = fault_ranges(self.map, self.guard)
        for kind, where in ((UC_HOOK_MEM_READ_UNMAPPED, "unmapped"),
                            (UC_HOOK_MEM_WRITE_UNMAPPED, "unmapped"),
                            (UC_HOOK_MEM_FETCH_UNMAPPED, "unmapped"),
                            (UC_HOOK_MEM_WRITE_PROT, "write"), (UC_HOOK_MEM_READ_PROT, "read")):
            for lo, hi in watch[where]:
                self.uc.hook_add(kind, self._on_bad_access, kind, lo, hi - 1)

    def adopt_program(self, image: ElfImage) -> None:
        """``image`` (loaded already) is now the program, as after µVision's ``LOAD file``:
        its symbols name the places in reports, its vector table (or entry point) starts it
        at the next reset, and it may call semihosting, as a user's image does."""
        self.image = image
        halt = image.symbols.get(STOP_SYMBOL)
        self.stop = halt.address if halt is not None else NO_STOP
        if self.semihost is None:
            self.semihost = Semihost()
        self.initial_sp, self.reset, self.start_note = self._reset_vector()

    def _reset_vector(self) -> tuple[int, int, str]:
        """(initial SP, reset handler, how they were found): the vector table at the start of
        flash, as the core reads it at reset; else (an image with no table there, such as one
        linked with newlib's default script) the ELF's entry point and the top of SRAM."""
        sp, reset = (int(x) for x in np.frombuffer(self.uc.mem_read(self.mcu.flash_base, 8), "<u4"))
        ram = self.map.find(sp - 4, 4)
        code = any("x" in s.flags and s.paddr <= (reset & ~1) < s.paddr + len(s.data)
                   for s in self.image.segments)
        if reset & 1 and code and ram is not None and "w" in ram.perms:
            return sp, reset, f"vector table at 0x{self.mcu.flash_base:08X}"
        if self.stop != NO_STOP:  # armsim's own firmware always has its table
            return sp, reset, f"vector table at 0x{self.mcu.flash_base:08X}"
        entry = self.image.entry | 1
        return self.mcu.stack_top, entry, (
            f"no vector table at 0x{self.mcu.flash_base:08X} (SP 0x{sp:08X}, reset "
            f"0x{reset:08X}): started at the ELF entry point 0x{entry & ~1:08X} with SP at the "
            f"top of SRAM 0x{self.mcu.stack_top:08X}")

    def _demcr(self) -> int:
        return int.from_bytes(self.read(0xE000EDFC, 4), "little")

    def _forget_code(self) -> None:
        """Drop remembered block bytes and costs: the host is changing memory."""
        self._code_cache.clear()
        self._cost_memo.clear()
        self._total_memo.clear()
        self._code_span = (0, 0)

    def _code(self, address: int, size: int) -> bytes:
        """A block's bytes, remembered until the host next writes over remembered code."""
        key = (address, size)
        code = self._code_cache.get(key)
        if code is None:
            code = self._code_cache[key] = self.read(address, size)
            lo, hi = self._code_span
            self._code_span = (min(lo, address) if hi else address, max(hi, address + size))
        return code

    # -- memory -----------------------------------------------------------------------------
    def load_segments(self, image: ElfImage) -> None:
        """Write an ELF's PT_LOAD file bytes at their load addresses (after checking them)."""
        self._check_segments(image)
        self._forget_code()
        for s in image.segments:
            if s.data:
                self.uc.mem_write(s.paddr, s.data)

    def _check_segments(self, image: ElfImage) -> None:
        for k, s in enumerate(image.segments):
            spans = [(s.paddr, len(s.data), "load address")]
            if s.vaddr != s.paddr or s.memsz:
                spans.append((s.vaddr, s.memsz, "run address"))
            for addr, size, what in spans:
                if size and self.map.find(addr, size) is None:
                    names = [n for n, (a, n_bytes, _t, flags) in image.sections.items()
                             if flags & 2 and n_bytes and s.vaddr <= a < s.vaddr + max(
                                 s.memsz, 1)]
                    label = f"segment {k} ({s.flags or '-'}" + (
                        f", sections {', '.join(names[:4])}" if names else "") + ")"
                    raise ElfError(
                        f"{image.path}: {label} {what} 0x{addr:08X}-0x{addr + size - 1:08X} "
                        f"{self._misses(addr, size)} of MCU preset '{self.mcu.name}':\n"
                        f"{self.map.table()}")

    def _misses(self, addr: int, size: int) -> str:
        """How a span misses the memory map: past the end of a region, or in none."""
        for r in self.map:
            if r.base <= addr < r.end:
                return (f"starts in {r.name} (0x{r.base:08X}-0x{r.end - 1:08X}) but runs "
                        f"{addr + size - r.end:,} bytes past its end")
            if addr < r.base < addr + size:
                return (f"runs into {r.name} at 0x{r.base:08X} from unmapped memory below it")
        return "lies in no region"

    def write_blocks(self, blocks: list[tuple[int, bytes]]) -> None:
        """Write coalesced (address, bytes) blocks; each must lie in mapped regions."""
        for addr, data in blocks:
            at = addr
            while at < addr + len(data):
                r = self.map.find(at, 1)
                if r is None:
                    raise ArmsimError(f"write of {len(data)} bytes at 0x{addr:08X} is outside "
                                      f"mapped memory:\n{self.map.table()}")
                n = min(r.end, addr + len(data)) - at
                self.host_write(at, data[at - addr:at - addr + n])
                at += n

    def host_write(self, address: int, data: bytes) -> None:
        """A write by the host (script, loader, semihosting): it initialises memory, as the
        memory check (``on_host_write``) is told."""
        self.uc.mem_write(address, data)
        lo, hi = self._code_span
        if address < hi and lo < address + len(data):  # over code whose costs are known
            self._forget_code()
        if self.on_host_write is not None:
            self.on_host_write(address, len(data))

    def read(self, address: int, size: int) -> bytes:
        """Bytes of emulated memory."""
        return bytes(self.uc.mem_read(address, size))

    def read_i32(self, symbol: str) -> int:
        """A 32-bit signed integer at an ELF symbol."""
        return int(np.frombuffer(self.read(self.image.symbol(symbol).address, 4), "<i4")[0])

    def fill(self, address: int, data: bytes) -> None:
        """Write raw bytes (e.g. a stack paint pattern) without the block checks."""
        self.uc.mem_write(address, data)

    # -- hooks ------------------------------------------------------------------------------
    def instructions_in(self, address: int, size: int) -> int:
        """Instructions in a block, decoded once."""
        n = self._icount.get((address, size))
        return n if n is not None else self._decode_block(address, size)

    def _decode_block(self, address: int, size: int) -> int:
        if size == 0:
            n = 0  # reported after the run: the engine gave no size for this block
        else:
            n = disasm.count_instructions(self.read(address, size), address) or 0
        self._icount[(address, size)] = n
        return n

    def _block_counts(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
        """This run's block keys, executions, instructions per block, and exact total."""
        keys, counts = self.counter.arrays()
        tag = keys.tobytes()
        icounts = self._icount_cache.get(tag)
        if icounts is None:
            icounts = np.array([self.instructions_in(int(k) >> 32, int(k) & 0xFFFFFFFF)
                                for k in keys], np.uint64)
            if len(self._icount_cache) > 64:
                self._icount_cache.clear()
            self._icount_cache[tag] = icounts
        total = int(np.dot(counts, icounts)) if keys.size else 0
        return keys, counts, icounts, total + sum(self._adjust.values())

    def snapshot(self) -> Snapshot:
        """Block executions so far (key -> count), instructions taken back (address -> n)
        and the run-time address facts per load/store instruction (None: not counted)."""
        keys, counts = self.counter.arrays()
        return ({int(k): int(n) for k, n in zip(keys, counts)}, dict(self._adjust),
                self.accesses.counts() if self.accesses is not None else None)

    @property
    def executed(self) -> int:
        """Instructions executed so far in this run (exact)."""
        return self._block_counts()[3]

    def _on_bad_access(self, uc: Uc, access: int, address: int, size: int, value: int,
                       kind: int) -> bool:
        self._fault = crash.Access(ACCESS_KINDS[kind], address, size)
        return False

    def fpu_enabled(self) -> bool:
        """True when CPACR grants access to CP10 and CP11 (the FPU)."""
        return self.fpu.enabled()

    def raise_nocp(self, address: int) -> None:
        """The FPU instruction at ``address`` takes the chip's NOCP UsageFault (the FPU gate's
        word): the run stops and the fault is reported there."""
        if self._intno is None:
            self._intno = EXCP_NOCP
            self._nocp_pc = address
            self.uc.emu_stop()

    def _on_interrupt(self, uc: Uc, intno: int, _data: object) -> None:
        if self._intno is None:
            self._intno = intno
        uc.emu_stop()

    def _guard_page(self) -> tuple[int, int] | None:
        """A no-access page just above .bss: a stack that grows into it is an overflow."""
        ebss = self.image.symbols.get("_ebss")
        if ebss is None:
            return None
        if any(n in self.image.symbols for n in ("_sbrk", "_sbrk_r", "sbrk", "malloc")):
            return None  # the heap grows up from .bss: no guard in its way
        lo = (ebss.address + 0xFFF) & ~0xFFF
        hi = lo + 0x1000
        sram = self.map.find(lo, 0x1000)
        if sram is None or sram.name != "sram" or hi + 0x400 > self.initial_sp:
            return None
        self.uc.mem_protect(lo, 0x1000, UC_PROT_NONE)
        return lo, hi

    # -- CPU control ------------------------------------------------------------------------
    REGS = {**{f"R{i}": getattr(A, f"UC_ARM_REG_R{i}") for i in range(13)},
            "SP": A.UC_ARM_REG_SP, "LR": A.UC_ARM_REG_LR, "PC": A.UC_ARM_REG_PC,
            "XPSR": A.UC_ARM_REG_XPSR, "FPSCR": A.UC_ARM_REG_FPSCR, "PSP": A.UC_ARM_REG_PSP,
            "CONTROL": A.UC_ARM_REG_CONTROL, "PRIMASK": A.UC_ARM_REG_PRIMASK,
            "BASEPRI": A.UC_ARM_REG_BASEPRI, "FAULTMASK": A.UC_ARM_REG_FAULTMASK}

    def set_reg(self, name: str, value: int) -> None:
        """Set a core register by name (PC loses its Thumb bit)."""
        if name == "PC":
            self.pc = value & ~1
        else:
            self.uc.reg_write(self.REGS[name], value & 0xFFFFFFFF)

    def get_reg(self, name: str) -> int:
        """A core register by name."""
        return self.pc if name == "PC" else int(self.uc.reg_read(self.REGS[name]))

    def reset_cpu(self) -> None:
        """Registers as after reset: SP and PC from the vector table, LR a return sentinel."""
        uc = self.uc
        for reg in range(A.UC_ARM_REG_R0, A.UC_ARM_REG_R12 + 1):
            uc.reg_write(reg, 0)
        uc.reg_write(A.UC_ARM_REG_SP, self.initial_sp)
        uc.reg_write(A.UC_ARM_REG_LR, self.stop | 1)
        self.debug.reset()
        uc.reg_write(A.UC_ARM_REG_XPSR, 0x01000000)  # Thumb state
        if self.cpu.fpu:
            uc.reg_write(A.UC_ARM_REG_FPSCR, 0)  # the reset value: IEEE denormals, no FZ/DN
            self.fpu.reset()  # CPACR 0: the FPU off until the firmware enables it
        self.pc = self.reset & ~1

    def begin(self, max_instructions: int = DEFAULT_MAX_INSTRUCTIONS,
              timeout_s: float = DEFAULT_TIMEOUT_S) -> None:
        """Start counting a new run (counts, budget and limits) and reset the CPU."""
        self.recount(max_instructions, timeout_s)
        self.reset_cpu()

    def recount(self, max_instructions: int = DEFAULT_MAX_INSTRUCTIONS,
                timeout_s: float = DEFAULT_TIMEOUT_S) -> None:
        """Start counting afresh (counts, budget and limits) where the CPU is: a program
        that loops over inferences is counted one inference at a time."""
        self.counter.reset(max_instructions, timeout_s)
        if self.accesses is not None:
            self.accesses.counts(zero=True)
        if self.semihost is not None:
            self.semihost.exit = None
        self._adjust: dict[int, int] = {}
        #: address -> bytes of the block tail that a stop there left unexecuted
        self.taken_back_tails: dict[int, int] = {}
        self._back_cycles = 0.0  # estimated cycles of those tails (see cycles_so_far)
        self._budget = max_instructions
        self._timeout_s = timeout_s
        self._seconds = 0.0
        self.breakpoints: set[int] = set()

    @property
    def at_halt(self) -> bool:
        """True when the program has reached armsim_halt."""
        return self.pc == self.stop

    def go(self, start: int | None = None, stop: int | None = None,
           max_steps: int | None = None,
           watches: tuple[tuple[int, int, str], ...] = ()) -> int:
        """Run from ``start`` (else the current PC) until ``stop``, a breakpoint or the halt.

        Returns the address where execution stopped; :attr:`stopped_by` says why ("stop",
        "breakpoint", "halt", "steps", "watch", "exit"); a fault or a limit raises an
        :class:`EmulatorFault`. Counting stays exact when a stop lands inside a translated
        block: the block's instructions from the stop on are taken back. ``max_steps`` ends
        the run after that many instructions; ``watches`` are access breakpoints (begin,
        end, "read"|"write"|"readwrite"): the run stops at the end of the block holding such
        an access (its address in :attr:`watch_hit`).
        """
        if start is not None:
            self.pc = start & ~1
        stops = set(self.breakpoints)
        if stop is not None:
            stops.add(stop & ~1)
        stops.discard(self.pc)  # resuming from a breakpoint steps over it
        stops.discard(self.stop)
        self.stopped_by = ""
        self.watch_hit: tuple[int, str] | None = None
        self.watch_size = 1  # bytes of the access in watch_hit (a memory hook's: unknown, 1)
        hit: list[int] = []
        natives = self._native_watches(watches)
        hooks = self._arm(stops, () if natives else watches, hit)
        found: list[tuple[int, ...]] = []
        t0 = time.perf_counter()
        try:
            unaligned = self._emulate(max_steps, hit)
        finally:
            self._seconds += time.perf_counter() - t0
            for h in hooks:
                self.uc.hook_del(h)
            if hooks:
                self.uc.ctl_flush_tb()
            for w in natives:
                found += w.take()
                w.detach()
        if unaligned is not None:
            raise unaligned
        self.fpu.settle()  # an FPU instruction judged late faults if the FPU is still off
        if found and not hit:  # a watch stopped the run before its access: run that one
            pc, address, size, write = (int(v) for v in found[0][:4])
            hit.append(pc)
            self._conclude(hit, stop, max_steps)
            self.go(max_steps=1)
            self.watch_hit = (address, "write" if write else "read")
            self.watch_size = size
            self.stopped_by = "watch"
            return self.pc
        return self._conclude(hit, stop, max_steps)

    def _native_watches(self, watches: tuple[tuple[int, int, str], ...]) -> list[Any]:
        """Native access checks (WATCH mode) for the watched ranges, on every load and store
        of the program's code: no Unicorn memory hook, which makes Unicorn mis-execute some
        Thumb code; empty without armsim's C extension (memory hooks are used then)."""
        if not watches or _alignment._native is None:
            return []
        insns: dict[int, Any] = {}
        for seg in self.image.segments:
            if "x" in seg.flags:
                insns.update(memory_instructions(seg.data, seg.vaddr))
        out = []
        for lo, hi, access in watches:
            w = _alignment.NativeCheck(self.uc, insns, _alignment.WATCH, lo, hi)
            w.set_op(("read" in access) | ("write" in access) << 1, [])
            out.append(w)
        return out

    def _arm(self, stops: set[int], watches: tuple[tuple[int, int, str], ...],
             hit: list[int]) -> list[int]:
        """Code hooks at the stop addresses (appending to ``hit``) and memory hooks over the
        watched ranges (setting :attr:`watch_hit`); the hooks to remove after the run."""
        def on_stop(uc: Uc, address: int, size: int, _data: object) -> None:
            hit.append(address)
            uc.emu_stop()

        def on_watch(uc: Uc, access: int, address: int, size: int, value: int,
                     _data: object) -> None:
            if self.watch_hit is None:
                self.watch_hit = (address, "write" if access == UC_MEM_WRITE else "read")
            uc.emu_stop()

        hooks = [self.uc.hook_add(UC_HOOK_CODE, on_stop, begin=a, end=a) for a in stops]
        for lo, hi, access in watches:
            kinds = (UC_HOOK_MEM_READ if "read" in access else 0) | \
                (UC_HOOK_MEM_WRITE if "write" in access else 0)
            hooks.append(self.uc.hook_add(kinds, on_watch, begin=lo, end=hi - 1))
        if hooks:
            self.uc.ctl_flush_tb()
        return hooks

    def _emulate(self, max_steps: int | None, hit: list[int]) -> EmulatorFault | None:
        """Run the engine until something stops it for good: a stop, a fault, the halt, a
        limit. It is started again after the stops that are armsim's own business (the FPU
        gate retiring, a semihosting call, a watch's block end). Returns the alignment fault
        the chip would take first, if any; raises the engine's other faults."""
        uc = self.uc
        self._fault = crash.Access()
        self._intno = None
        self.tlb.clear()
        try:
            while True:
                # a native counter enforces the time limit itself (see counting.py)
                timeout = 0 if self.counter.deadline else int(self._timeout_s * 1e6)
                uc.emu_start(self.pc | 1, self.stop, timeout=timeout,
                             count=0 if max_steps is None else max(1, max_steps))
                resume = self.fpu.retire()  # the firmware enabled the FPU: resume here
                if self.alignment is not None:
                    found = self.alignment.take()
                    unaligned = self._alignment_fault(found) if found else None
                    if unaligned is not None:
                        return unaligned
                if self._intno == EXCP_BKPT and self._semihosting_call():
                    if self.exited or self._limit_reached():
                        return None
                    continue
                if not resume or hit or self._intno is not None:
                    return None
                now = int(uc.reg_read(A.UC_ARM_REG_PC))
                if now == self.stop or self._limit_reached():
                    return None
                self._take_back(now)  # a watch stopped the run: count on from here
                self.pc = now
        except UcError as e:
            self.pc = int(uc.reg_read(A.UC_ARM_REG_PC))
            refused = (e.errno == UC_ERR_EXCEPTION and self.tlb.refused_fetch_at(self.pc)) \
                or e.errno == UC_ERR_FETCH_PROT  # (the latter: on Unicorn's own TLB)
            if refused and not self._fault.kind:  # a fetch the TLB refused (tlb.py)
                self._fault = crash.Access(ACCESS_KINDS[UC_HOOK_MEM_FETCH_PROT], self.pc, 2)
            found = self.alignment.take() if self.alignment is not None else []
            unaligned = self._alignment_fault(found) if found else None
            if unaligned is None:  # an unaligned access the chip faults on comes first
                raise self._fault_error(e) from None
            return unaligned

    def _limit_reached(self) -> bool:
        return self.counter.over_budget() or self.counter.timed_out()

    def _conclude(self, hit: list[int], stop: int | None, max_steps: int | None) -> int:
        """Why the engine stopped, in :attr:`stopped_by`, with the counts made exact (the
        tail of a block a stop cut short taken back); raises for a fault or a limit."""
        uc = self.uc
        self.pc = int(uc.reg_read(A.UC_ARM_REG_PC))
        if self.exited:
            self.stopped_by = "exit"
            return self.pc
        if self._intno == EXCP_NOCP:
            self.pc = self._nocp_pc
        if self._intno is not None:
            raise self._fault_error(None)
        if hit:  # a stop address or a breakpoint: it has not run yet
            self._not_run(self.pc)
            self._take_back(hit[0])
            self.stopped_by = "stop" if stop is not None and hit[0] == stop & ~1 \
                else "breakpoint"
            return self.pc
        if self.watch_hit is not None:
            self._take_back(self.pc)
            self.stopped_by = "watch"
            return self.pc
        timed_out = self.counter.timed_out() or uc.query(UC_QUERY_TIMEOUT)
        if max_steps is not None and self.pc != self.stop and not self.counter.over_budget() \
                and not timed_out:
            self._not_run(self.pc)
            self._take_back(self.pc)
            self.stopped_by = "steps"
            return self.pc
        self.stopped_by = "halt"
        if self.pc == self.stop:
            return self.pc
        if self.counter.over_budget():
            raise self._limit_error("instruction budget", f"{self._budget:,} instructions")
        if timed_out:
            raise self._limit_error("time limit", f"{self._timeout_s:g} s")
        raise self._fault_error(None)

    def _not_run(self, pc: int) -> None:
        """A code hook (a stop, the step count) ended the run at ``pc`` before its
        instruction ran, after the access count's hook had counted it: take that back."""
        if self.accesses is not None:
            self.accesses.uncount(pc)

    @property
    def exited(self) -> bool:
        """True when the firmware has exited through semihosting (SYS_EXIT*)."""
        return self.semihost is not None and self.semihost.exit is not None

    def _semihosting_call(self) -> bool:
        """Answer the semihosting call at PC, if the BKPT there is one; True if answered.
        PC moves past the BKPT, except on exit (the run stops there)."""
        if self.semihost is None:
            return False
        pc = int(self.uc.reg_read(A.UC_ARM_REG_PC))
        if self.read(pc, 2) != SEMIHOST_BKPT.to_bytes(2, "little"):
            return False
        op = int(self.uc.reg_read(A.UC_ARM_REG_R0))
        arg = int(self.uc.reg_read(A.UC_ARM_REG_R1))
        try:
            result = self.semihost.call(op, arg, self)
        except UcError:
            self.pc = pc
            raise EmulatorFault("semihosting", f"emulator fault: semihosting call 0x{op:02X} "
                                f"at PC 0x{pc:08X} ({self.image.describe(pc)}) passed an "
                                f"unmapped parameter block 0x{arg:08X}", pc,
                                getattr(self.image.function_at(pc), "name", None)) from None
        self._intno = None
        self.uc.reg_write(A.UC_ARM_REG_R0, result & 0xFFFFFFFF)
        self.pc = pc if self.semihost.exit is not None else pc + 2
        return True

    def _alignment_fault(self, found: list[tuple[int, int, int, int]]) -> EmulatorFault | None:
        """The fault the chip takes for the first of these unaligned accesses that faults."""
        v6m = self.cpu.arch == "armv6-m"
        for pc, address, size, write in found:
            insn = crash.insn_at(self, pc)
            name = insn.split()[0].split(".")[0] if insn else ""
            if not v6m and name not in ALIGNED_ONLY:
                continue  # an unaligned LDR/STR/LDRH/STRH: allowed (UNALIGN_TRP is 0)
            self.pc = pc
            need = 4 if size >= 4 else size
            rule = ("ARMv6-M faults on every unaligned halfword and word access (HardFault)"
                    if v6m else f"{name.upper()} needs {need}-byte alignment on "
                    f"{self.cpu.arch.upper()} (UsageFault UNALIGNED)")
            message = (f"unaligned {size}-byte {'write' if write else 'read'} at "
                       f"0x{address:08X} by {insn}: {rule}")
            f = self.image.function_at(pc)
            where = f"PC 0x{pc:08X} ({self.image.describe(pc)})"
            return EmulatorFault("unaligned", f"emulator fault: {message}, at {where}", pc,
                                 f.name if f else None,
                                 crash.report(self, "unaligned", message, [
                                     "registers as the chip would leave them at the fault: "
                                     "the access has not executed"]))
        return None

    def _take_back(self, address: int) -> None:
        """Uncount the instructions of the last block from ``address`` (not executed)."""
        a0, size = self.counter.last()
        if not a0 <= address < a0 + size:
            return
        n = disasm.count_instructions(self.read(address, a0 + size - address), address) or 0
        self._adjust[address] = self._adjust.get(address, 0) - n
        self.taken_back_tails[address] = a0 + size - address
        self._back_cycles += tail_cycles(self, address, cycles.timing_for(self.timing_cpu))

    def finish(self) -> RunStats:
        """Run on to armsim_halt (if not there yet) and return the run's counts."""
        if not self.at_halt:
            self.go()
        keys, counts, icounts, total = self._block_counts()
        if total > self._budget:
            raise self._limit_error("instruction budget", f"{self._budget:,} instructions",
                                    f"the run reached the end but executed {total:,}")
        bad = np.flatnonzero(icounts == 0)
        if bad.size:
            k = int(keys[bad[0]])
            raise ArmsimError(f"cannot count block at 0x{k >> 32:08X} (size {k & 0xFFFFFFFF}): "
                              "the engine or the decoder did not give its instructions")
        return RunStats(total, keys, counts, icounts, self._seconds, dict(self._adjust))

    def run(self, max_instructions: int = DEFAULT_MAX_INSTRUCTIONS,
            timeout_s: float = DEFAULT_TIMEOUT_S) -> RunStats:
        """Run from the reset vector to armsim_halt; exact instruction counts per block."""
        self.begin(max_instructions, timeout_s)
        return self.finish()

    # -- fault reports ----------------------------------------------------------------------
    def _fault_error(self, e: UcError | None) -> EmulatorFault:
        if self._intno == EXCP_DATA_ABORT:
            try:  # the engine's own alignment fault (alignment.py): reported as the watch's
                found = misaligned_at(self.uc, self.pc, self.read(self.pc, 4),
                                      self.cpu.arch == "armv6-m")
            except UcError:
                found = None
            unaligned = self._alignment_fault([found]) if found is not None else None
            if unaligned is not None:
                return unaligned
        kind, message, hints = crash.classify(self, e, self._intno, self._fault)
        f = self.image.function_at(self.pc)
        text = crash.report(self, kind, message, hints)
        where = f"PC 0x{self.pc:08X} ({self.image.describe(self.pc)})"
        return EmulatorFault(kind, f"emulator fault: {message}, at {where}", self.pc,
                             f.name if f else None, text)

    def _limit_error(self, what: str, limit: str, done: str = "") -> EmulatorFault:
        pc = self.pc
        f = self.image.function_at(pc)
        kind = "instruction-budget" if "budget" in what else "time-limit"
        message = f"run exceeded its {what} of {limit}"
        where = done or (f"stopped at PC 0x{pc:08X} "
                         f"({self.image.describe(pc)}: {crash.insn_at(self, pc)})")
        hints = ["raise --max-instructions/--timeout if the work is real"] if done else [
            "an endless loop? raise --max-instructions/--timeout if the work is real"]
        return EmulatorFault(kind, f"{message}; {where}", pc, f.name if f else None,
                             crash.report(self, kind, message, hints))
