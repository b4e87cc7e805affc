"""Alignment faults the Cortex-M takes, checked without a memory hook.

ARMv7-M/ARMv8-M allow unaligned LDR/STR/LDRH/STRH (CCR.UNALIGN_TRP is 0 after reset) but
fault on an unaligned LDRD/STRD, LDM/STM/PUSH/POP, exclusive and acquire/release accesses and
VLDR/VSTR/VLDM/VSTM (ARMv7-M ARM, A3.2.1). QEMU's ARMv6-M model already raises the fault for
every unaligned halfword and word access, so only v7-M and v8-M need this check.

The check puts a code hook on each instruction of those kinds (found by disassembling the
firmware's code once) and computes its address from the registers before it executes. A
memory hook would see every access, but Unicorn 2.1 mis-executes some Thumb code while a
memory-read hook is installed (an ``ldr r0, [sp, #40]`` after ``ldrd r6, lr, [sp, #44]`` in
CMSIS-NN's arm_elementwise_mul_s8 left r0 unchanged), so armsim installs none.
"""

from __future__ import annotations

from typing import Any

import capstone
from capstone import arm
from unicorn import UC_HOOK_CODE, Uc

#: Mnemonics (condition and width suffixes stripped) that need word alignment on v7-M/v8-M.
ALIGNED_ONLY = frozenset({
    "ldrd", "strd", "ldm", "ldmia", "ldmdb", "ldmfd", "ldmea", "stm", "stmia", "stmdb",
    "stmea", "stmfd", "push", "pop", "ldrex", "ldrexh", "strex", "strexh", "lda", "ldah",
    "stl", "stlh", "ldaex", "ldaexh", "stlex", "stlexh", "vldr", "vstr", "vldm", "vldmia",
    "vldmdb", "vstm", "vstmia", "vstmdb", "vpush", "vpop"})
_HALF = frozenset({"ldrexh", "strexh", "ldah", "stlh", "ldaexh", "stlexh"})
_WRITES = ("st", "push", "vst", "vpush")


def _name(insn: Any) -> str:
    return insn.mnemonic.split(".")[0]


def candidates(code: bytes, address: int) -> dict[int, Any]:
    """Instructions in ``code`` (Thumb, at ``address``) that need aligned addresses."""
    cs = capstone.Cs(capstone.CS_ARCH_ARM, capstone.CS_MODE_THUMB | capstone.CS_MODE_MCLASS)
    cs.detail = True
    cs.skipdata = True
    out = {}
    for insn in cs.disasm(code, address):
        if insn.id != 0 and _name(insn) in ALIGNED_ONLY:
            out[insn.address] = insn
    return out


def _uc_reg(cs_reg: int) -> int:
    from unicorn import arm_const as A

    names = {arm.ARM_REG_SP: A.UC_ARM_REG_SP, arm.ARM_REG_LR: A.UC_ARM_REG_LR,
             arm.ARM_REG_PC: A.UC_ARM_REG_PC}
    if cs_reg in names:
        return names[cs_reg]
    return getattr(A, f"UC_ARM_REG_R{cs_reg - arm.ARM_REG_R0}")


def target(uc: Uc, insn: Any) -> tuple[int, int, bool]:
    """(address, alignment needed, is a write) of ``insn`` with the registers as they are."""
    name = _name(insn)
    need = 2 if name in _HALF else 4
    write = name.startswith(_WRITES)
    regs = uc.reg_read
    mem = [o for o in insn.operands if o.type == arm.ARM_OP_MEM]
    if mem:
        m = mem[0].mem
        base = (insn.address + 4) & ~3 if m.base == arm.ARM_REG_PC else int(regs(_uc_reg(m.base)))
        if insn.post_index:  # LDRD r0, r1, [r2], #8 accesses [r2]
            return base, need, write
        index = int(regs(_uc_reg(m.index))) << (m.lshift or 0) if m.index else 0
        return (base + index + m.disp) & 0xFFFFFFFF, need, write
    # register lists: LDM/STM Rn, PUSH/POP (SP); the lowest address has the base's alignment
    base = arm.ARM_REG_SP if name in ("push", "pop", "vpush", "vpop") else insn.operands[0].reg
    return int(regs(_uc_reg(base))), need, write


class AlignmentCheck:
    """Code hooks on every instruction that needs alignment; records (pc, address, size,
    is_write) of each misaligned one (the first per PC) and stops the run there."""

    def __init__(self, uc: Uc, code: bytes, address: int) -> None:
        self._uc = uc
        self._insns = candidates(code, address)
        self._seen: list[tuple[int, int, int, int]] = []
        self._pcs: set[int] = set()
        self._handles = [uc.hook_add(UC_HOOK_CODE, self._on_insn, begin=a, end=a)
                         for a in self._insns]

    def _on_insn(self, uc: Uc, address: int, _size: int, _data: object) -> None:
        insn = self._insns.get(address)
        if insn is None or address in self._pcs:
            return
        where, need, write = target(uc, insn)
        if where & (need - 1):
            self._pcs.add(address)
            self._seen.append((address, where, need, int(write)))
            uc.emu_stop()

    def take(self) -> list[tuple[int, int, int, int]]:
        """(pc, address, size, is_write) of the misaligned accesses since the last take."""
        out, self._seen = self._seen, []
        return out

    def detach(self) -> None:
        """Remove the hooks and retranslate."""
        for h in self._handles:
            self._uc.hook_del(h)
        self._handles = []
        self._uc.ctl_flush_tb()
