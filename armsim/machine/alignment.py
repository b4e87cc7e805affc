"""Alignment faults the Cortex-M takes: in the engine, or watched instruction by instruction.

ARMv7-M/ARMv8-M allow unaligned LDR/STR/LDRH/STRH (CCR.UNALIGN_TRP is 0 after reset) but
fault on an unaligned LDRD/STRD, LDM/STM/PUSH/POP, exclusive and acquire/release accesses and
VLDR/VSTR/VLDM/VSTM (ARMv7-M ARM, A3.2.1). QEMU's ARMv6-M model already raises the fault for
every unaligned halfword and word access.

**In the engine** (armsim's source build of Unicorn, every run, no cost): the build carries
``scripts/patches/unicorn-2.1.3-m-profile-alignment.patch``, which marks those accesses as
needing alignment in Unicorn's Arm translator, as QEMU does since 6.1. An aligned access stays
on the TLB fast path; an unaligned one faults before it happens, at the instruction's PC, as a
data abort. :func:`engine_aligns` checks the loaded engine with a two-instruction program.

**The watch** (an engine without the patch, such as the PyPI wheel, or
``ARMSIM_ALIGNMENT=watch``): a code hook on each instruction of those kinds (found by
disassembling the firmware's code once) computes its address from the registers before it
executes, on every run. It costs several times the run's time on code full of them, which
armsim says once per process. A memory hook would see every access, but Unicorn 2.1 mis-executes some
Thumb code while a memory-read hook is installed (an ``ldr r0, [sp, #40]`` after ``ldrd r6,
lr, [sp, #44]`` in CMSIS-NN's arm_elementwise_mul_s8 left r0 unchanged), so armsim installs
none.
"""

from __future__ import annotations

import ctypes
import os
import struct
import sys
from functools import lru_cache
from typing import Any

import numpy as np
from capstone import arm
from unicorn import UC_ARCH_ARM, UC_HOOK_CODE, UC_HOOK_INTR, UC_MODE_THUMB, Uc, UcError
from unicorn import arm_const as A
from unicorn.unicorn_py3.unicorn import uclib

from armsim.errors import ArmsimError
from armsim.machine.counting import _native, native_hook
from armsim.machine.disasm import decode_one, scan

#: Mnemonics (condition and width suffixes stripped) that need word alignment on v7-M/v8-M.
ALIGNED_ONLY = frozenset({
    "ldrd", "strd", "ldm", "ldmia", "ldmdb", "ldmfd", "ldmea", "stm", "stmia", "stmdb",
    "stmea", "stmfd", "push", "pop", "ldrex", "ldrexh", "strex", "strexh", "lda", "ldah",
    "stl", "stlh", "ldaex", "ldaexh", "stlex", "stlexh", "vldr", "vstr", "vldm", "vldmia",
    "vldmdb", "vstm", "vstmia", "vstmdb", "vpush", "vpop"})
_HALF = frozenset({"ldrexh", "strexh", "ldah", "stlh", "ldaexh", "stlexh"})
_WRITES = ("st", "push", "vst", "vpush")
#: Unicorn's id of SP (stack accesses are flagged for the memory check).
SP_REG = A.UC_ARM_REG_SP


def base_name(insn: Any) -> str:
    """The mnemonic without its condition and width suffixes."""
    return insn.mnemonic.split(".")[0]


def candidates(code: bytes, address: int) -> dict[int, Any]:
    """Instructions in ``code`` (Thumb, at ``address``) that need aligned addresses, except
    those that are aligned by construction: SP-relative ones with a word-multiple offset
    (SP's low two bits read as zero on M-profile) and PC-relative literal loads."""
    out = {}
    for insn in scan(code, address):
        if base_name(insn) not in ALIGNED_ONLY:
            continue
        if base_name(insn) in ("push", "pop", "vpush", "vpop"):
            continue
        mem = [o for o in insn.operands if o.type == arm.ARM_OP_MEM]
        if mem:
            m = mem[0].mem
            if m.base == arm.ARM_REG_PC or (m.base == arm.ARM_REG_SP and not m.index
                                            and m.disp % 4 == 0):
                continue
        elif insn.operands and insn.operands[0].reg == arm.ARM_REG_SP:
            continue  # LDM/STM on SP
        out[insn.address] = insn
    return out


#: ``ARMSIM_ALIGNMENT=watch`` runs armsim's own watch even on an engine that faults by itself
#: (the tests run both paths); ``engine`` (the default) uses the engine where it can.
MODE_VARIABLE = "ARMSIM_ALIGNMENT"
#: ldrd r0, r1, [r2]; bkpt #0 (Thumb-2), run with r2 = 0x20000002
_PROBE = bytes.fromhex("d2e90001 00be".replace(" ", ""))
_warned = False


@lru_cache(maxsize=1)
def engine_aligns() -> bool:
    """True when the loaded Unicorn faults on an unaligned LDRD on a Cortex-M4 (armsim's
    patched build): the alignment rules are then enforced inside translated code."""
    uc = Uc(UC_ARCH_ARM, UC_MODE_THUMB)
    uc.ctl_set_cpu_model(A.UC_CPU_ARM_CORTEX_M4)
    uc.mem_map(0, 0x1000)
    uc.mem_map(0x20000000, 0x1000)
    uc.mem_write(0, _PROBE)
    uc.mem_write(0x20000000, b"\x11" * 16)  # what an LDRD that ran would load
    uc.reg_write(A.UC_ARM_REG_R2, 0x20000002)
    taken: list[int] = []

    def on_intr(uc: Uc, intno: int, _data: object) -> None:
        taken.append(intno)
        uc.emu_stop()

    uc.hook_add(UC_HOOK_INTR, on_intr)
    try:
        uc.emu_start(1, 4, count=1)
    except UcError:
        return False  # not the fault it should be
    # the data abort at the LDRD, before r0 was written
    return taken == [4] and int(uc.reg_read(A.UC_ARM_REG_PC)) == 0 \
        and int(uc.reg_read(A.UC_ARM_REG_R0)) == 0


def use_watch() -> bool:
    """True when this process checks alignment with the instruction watch: the engine does
    not fault by itself (said once on stderr: it is slower), or ARMSIM_ALIGNMENT=watch."""
    global _warned
    mode = os.environ.get(MODE_VARIABLE, "engine").strip().lower() or "engine"
    if mode not in ("engine", "watch"):
        raise ArmsimError(f"{MODE_VARIABLE}={mode!r}: expected 'engine' or 'watch'")
    if mode == "watch":
        return True
    if engine_aligns():
        return False
    if not _warned:
        _warned = True
        print("armsim: this Unicorn build does not fault on unaligned LDRD/LDM/VLDR by "
              "itself; armsim watches those instructions instead, which makes runs several "
              "times slower (scripts/setup.sh builds the engine that does: docs/engine.md)",
              file=sys.stderr)
    return True


class Access:
    """How to compute an instruction's address from the registers, decoded once (capstone's
    operand objects are slow to read in a hook that runs per execution)."""

    __slots__ = ("base", "index", "shift", "disp", "post", "need", "write", "down", "size",
                 "pc_base", "rule")

    def __init__(self, insn: Any) -> None:
        name = base_name(insn)
        self.need = 2 if name in _HALF else 4
        self.write = name.startswith(_WRITES)
        mem = [o for o in insn.operands if o.type == arm.ARM_OP_MEM]
        regs = [o for o in insn.operands if o.type == arm.ARM_OP_REG]
        self.down = name.endswith("db")
        self.pc_base: int | None = None
        self.rule = 0  # the area count's misalignment rule (datamem.py), 0: none
        if mem:
            m = mem[0].mem
            if m.base == arm.ARM_REG_PC:  # literal: Align(PC + 4, 4) of this instruction
                self.pc_base = (insn.address + 4) & ~3
            self.base = uc_reg(m.base)
            self.index = uc_reg(m.index) if m.index else None
            # capstone 5 gives a Thumb register offset's LSL on the operand (shift.type
            # ARM_SFT_LSL, shift.value), not in mem.lshift (0): `ldr r0, [r1, r2, lsl #2]`
            sft = mem[0].shift
            self.shift = m.lshift or (sft.value if sft.type == arm.ARM_SFT_LSL else 0)
            self.disp = m.disp
            self.post = bool(insn.post_index)
        elif name in ("push", "pop", "vpush", "vpop"):  # register lists on SP
            self.base, self.index, self.shift, self.disp, self.post = \
                uc_reg(arm.ARM_REG_SP), None, 0, 0, False
            self.down = name in ("push", "vpush")
        else:  # register lists: LDM/STM Rn
            self.base, self.index, self.shift, self.disp, self.post = \
                uc_reg(insn.operands[0].reg), None, 0, 0, False
        self.size = _size(name, regs, bool(mem) or name in ("push", "pop", "vpush", "vpop"))

    def address(self, uc: Uc) -> int:
        """The lowest address the instruction accesses, with the registers now."""
        a = self.pc_base if self.pc_base is not None else int(uc.reg_read(self.base))
        if self.post:
            return a
        if self.index is not None:
            a += int(uc.reg_read(self.index)) << self.shift
        a += self.disp
        if self.down:
            a -= self.size
        return a & 0xFFFFFFFF


#: Register-list loads and stores (no memory operand): what else counts as an access.
_LISTS = ("ldm", "stm", "push", "pop", "vldm", "vstm", "vpush", "vpop")


def misaligned_at(uc: Uc, pc: int, code: bytes, v6m: bool = False
                  ) -> tuple[int, int, int, int] | None:
    """(pc, address, alignment needed, is_write) when the instruction ``code`` at ``pc`` is
    one that needs alignment (on ARMv6-M, ``v6m``: every halfword and word access) and its
    address, from the registers now, lacks it; else None. How the engine's own fault (a
    data abort at that PC) is told from other aborts."""
    insn = decode_one(code, pc)
    if insn is None:
        return None
    name = base_name(insn)
    if v6m:
        if not (any(o.type == arm.ARM_OP_MEM for o in insn.operands)
                or name.startswith(_LISTS)):
            return None
    elif name not in ALIGNED_ONLY:
        return None
    acc = Access(insn)
    need = min(acc.size, 4) if v6m else acc.need
    where = acc.address(uc)
    return (pc, where, need, int(acc.write)) if where & (need - 1) else None


def _size(name: str, regs: list[Any], has_mem: bool) -> int:
    """Bytes an access instruction reads or writes."""
    dregs = sum(1 for r in regs if arm.ARM_REG_D0 <= r.reg <= arm.ARM_REG_D31)
    if name.startswith(("ldm", "stm", "vldm", "vstm", "push", "pop", "vpush", "vpop")):
        n = len(regs) - (0 if has_mem else 1)  # the first register operand is the base
        return 8 * n if dregs else 4 * n
    if name.startswith(("vldr", "vstr")):
        return 8 if dregs else 4
    if name.startswith(("ldrd", "strd")):
        return 8
    if name.startswith(("ldrb", "strb", "ldrsb")) or name in ("stlb", "stlexb", "strexb",
                                                                 "ldab", "ldaexb", "ldrexb"):
        return 1
    if name.startswith(("ldrh", "strh", "ldrsh")) or name in _HALF:
        return 2
    return 4


def uc_reg(cs_reg: int) -> int:
    """The Unicorn register id of a capstone ARM register."""
    names = {arm.ARM_REG_SP: A.UC_ARM_REG_SP, arm.ARM_REG_LR: A.UC_ARM_REG_LR,
             arm.ARM_REG_PC: A.UC_ARM_REG_PC}
    if cs_reg in names:
        return names[cs_reg]
    return getattr(A, f"UC_ARM_REG_R{cs_reg - arm.ARM_REG_R0}")


#: One armsim.machine._blockcount acc_entry: pc, base, index, shift, disp, size, need, post, down,
#: write, sp, rule (the C struct's layout).
_ENTRY = struct.Struct("<IiiiiIBBBBBB2x")
ALIGN, BOUNDS, MEMORY, AREA, WATCH = 0, 1, 2, 3, 4


def _select_function() -> Any:
    """Unicorn's uc_armsim_hook_select_pcs (armsim's patch), or None."""
    fn = getattr(uclib, "uc_armsim_hook_select_pcs", None)
    if fn is not None:
        fn.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_void_p]
        fn.restype = ctypes.c_int
    return fn


def select_pcs(uc: Uc, handle: Any, pcs: list[int]) -> ctypes.Array[ctypes.c_char] | None:
    """Instrument only the instructions at ``pcs`` (ascending) of a code hook over
    [pcs[0], pcs[-1]], on an engine with armsim's patch
    (scripts/patches/unicorn-2.1.3-code-hook-pcs.patch); None (every instruction of the span
    stays instrumented) elsewhere. The bitmap returned must live as long as the hook."""
    fn = _select_function()
    if fn is None or not pcs:
        return None
    offsets = (np.asarray(pcs, np.int64) - pcs[0]) >> 1
    bits = np.zeros(int(offsets[-1]) // 8 + 1, np.uint8)
    np.bitwise_or.at(bits, offsets >> 3, (1 << (offsets & 7)).astype(np.uint8))
    bitmap = ctypes.create_string_buffer(bits.tobytes(), len(bits))
    if fn(uc._uch, getattr(handle, "value", handle), ctypes.addressof(bitmap)) != 0:
        return None
    uc.ctl_flush_tb()
    return bitmap


class NativeCheck:
    """The C code hook of armsim.machine._blockcount on the given instructions: no Python runs per
    access. ``mode`` is ALIGN, BOUNDS (stores into [lo, hi) outside the running op's
    spans), MEMORY (memcheck.py), AREA (per instruction, the accesses that start in the
    spans: datamem.py) or WATCH (the run stops before the first access to [lo, hi) of the
    kinds :meth:`set_op` names: 1 reads, 2 writes)."""

    def __init__(self, uc: Uc, accesses: dict[int, Access], mode: int, lo: int = 0,
                 hi: int = 0) -> None:
        assert _native is not None
        self._uc, self._lib, self._n = uc, uclib, _native
        entries = b"".join(
            _ENTRY.pack(pc, a.base, -1 if a.index is None else a.index, a.shift, a.disp,
                        a.size, a.need, int(a.post), int(a.down), int(a.write),
                        int(a.base == SP_REG), a.rule)
            for pc, a in sorted(accesses.items()))
        stop = ctypes.cast(uclib.uc_emu_stop, ctypes.c_void_p).value
        read = ctypes.cast(uclib.uc_reg_read, ctypes.c_void_p).value
        self._ptr = _native.check_new(stop, read, mode, entries, lo, hi)
        hook = _native.check_hook_address()
        # one hook over the span of the instructions (Unicorn walks its whole hook list for
        # every hooked instruction it runs, so hundreds of one-address hooks cost more);
        # on armsim's engine only these instructions of the span are instrumented
        self._handles = [native_hook(uc, UC_HOOK_CODE, hook, self._ptr, min(accesses),
                                     max(accesses))] if accesses else []
        self._selection = select_pcs(uc, self._handles[0], sorted(accesses)) \
            if accesses else None

    def set_op(self, op: int | None, spans: list[tuple[int, int]]) -> None:
        """The running op (None: none) and the spans it may write."""
        self._n.check_set_op(self._ptr, -1 if op is None else op, spans)

    def area_counts(self, zero: bool = False) -> bytes:
        """AREA mode: (loads and stores in the spans, misaligned) per instruction in address
        order, as uint64 bytes."""
        return self._n.area_counts(self._ptr, zero)  # type: ignore[no-any-return]

    def area_uncount(self, pc: int) -> bool:
        """AREA mode: the run stopped before the instruction at ``pc`` ran, after it was
        counted: take the count back (True when there was one)."""
        return bool(self._n.area_uncount(self._ptr, pc))

    def take(self) -> list[tuple[int, int, int, int, int]]:
        """(pc, address, size, is_write, op) found since the last take."""
        return [tuple(t) for t in self._n.check_take(self._ptr)]  # type: ignore[misc]

    def detach(self) -> None:
        """Remove the hooks, free the table, retranslate."""
        for h in self._handles:
            self._lib.uc_hook_del(self._uc._uch, h)
        self._handles = []
        self._uc.ctl_flush_tb()
        self._selection = None
        if self._ptr:
            self._n.check_free(self._ptr)
            self._ptr = 0


class AlignmentCheck:
    """Hooks on every instruction that needs alignment; records (pc, address, size,
    is_write) of each misaligned one (the first per PC) and stops the run there. Native
    when armsim's C extension is built, else a Python hook (slow)."""

    def __init__(self, uc: Uc, code: bytes, address: int) -> None:
        self._uc = uc
        self._insns = {a: Access(i) for a, i in candidates(code, address).items()}
        self._seen: list[tuple[int, int, int, int]] = []
        self._pcs: set[int] = set()
        self._native = NativeCheck(uc, self._insns, ALIGN) if _native is not None else None
        self._handles = [] if self._native is not None else [
            uc.hook_add(UC_HOOK_CODE, self._on_insn, begin=a, end=a) for a in self._insns]

    def _on_insn(self, uc: Uc, address: int, _size: int, _data: object) -> None:
        acc = self._insns.get(address)
        if acc is None or address in self._pcs:
            return
        where = acc.address(uc)
        if where & (acc.need - 1):
            self._pcs.add(address)
            self._seen.append((address, where, acc.need, int(acc.write)))
            uc.emu_stop()

    def take(self) -> list[tuple[int, int, int, int]]:
        """(pc, address, size, is_write) of the misaligned accesses since the last take."""
        if self._native is not None:
            return [t[:4] for t in self._native.take()]  # type: ignore[misc]
        out, self._seen = self._seen, []
        return out

    def detach(self) -> None:
        """Remove the hooks and retranslate."""
        if self._native is not None:
            self._native.detach()
            self._native = None
            return
        for h in self._handles:
            self._uc.hook_del(h)
        self._handles = []
        self._uc.ctl_flush_tb()
