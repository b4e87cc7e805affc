"""Estimated Cortex-M cycles from exact block counts: a per-CPU table of instruction timings
(Arm Technical Reference Manuals), applied to each executed block once decoded with
capstone. Every figure this module produces is an estimate; docs/cycle-model.md lists the
tables, assumptions and what is not modelled.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import capstone
import numpy as np
from capstone import arm

AL = arm.ARM_CC_AL

#: instruction classes (capstone base names)
_ALU = {"add", "adc", "sub", "sbc", "rsb", "mov", "mvn", "cmp", "cmn", "tst", "teq", "and",
        "orr", "eor", "bic", "orn", "lsl", "lsr", "asr", "ror", "rrx", "neg", "adr", "movw",
        "movt", "uxtb", "uxth", "sxtb", "sxth", "ubfx", "sbfx", "bfi", "bfc", "clz", "rev",
        "rev16", "revsh", "rbit", "nop", "hint", "sev", "wfi", "wfe", "yield", "cpsid",
        "cpsie", "dmb", "dsb", "isb", "uxtab", "uxtah", "sxtab", "sxtah", "sel", "ssat",
        "usat", "qadd", "qsub", "sadd16", "uadd8", "ssub16"}
#: DSP-extension data processing (ARMv7E-M; DDI 0439 table 3-1: one cycle on the M4):
#: packed add/subtract, saturation, packing, byte extraction with rotation.
_DSP_ALU = {
    "sadd16", "sadd8", "ssub16", "ssub8", "sasx", "ssax", "uadd16", "uadd8", "usub16",
    "usub8", "uasx", "usax", "qadd", "qsub", "qdadd", "qdsub", "qadd16", "qadd8", "qsub16",
    "qsub8", "qasx", "qsax", "uqadd16", "uqadd8", "uqsub16", "uqsub8", "uqasx", "uqsax",
    "shadd16", "shadd8", "shsub16", "shsub8", "shasx", "shsax", "uhadd16", "uhadd8",
    "uhsub16", "uhsub8", "uhasx", "uhsax", "ssat16", "usat16", "sxtb16", "uxtb16",
    "sxtab16", "uxtab16", "pkhbt", "pkhtb", "usad8", "usada8"}
_ALU |= _DSP_ALU
_MUL = {"mul", "smulbb", "smulbt", "smultb", "smultt", "smulwb", "smulwt", "smuad",
        "smuadx", "smusd", "smusdx", "smmulr"}
#: Multiply-accumulates, including the DSP extension's dual 16-bit (SMLAD/SMLSD), the
#: halfword (SMLAxy, SMLAWx) and the 64-bit ones: one cycle each on the M4 (DDI 0439).
_MAC = {"mla", "mls", "smlabb", "smlabt", "smlatb", "smlatt", "smlawb", "smlawt", "smlad",
        "smladx", "smlsd", "smlsdx", "smlalbb", "smlalbt", "smlaltb", "smlaltt", "smlald",
        "smlaldx", "smlsld", "smlsldx", "smmul", "smmla", "smmlar", "smmls", "smmlsr"}
#: 64-bit result multiplies: one cycle on the M4/M7/M33, 3-7 on the M3 (DDI 0337 table 18-1:
#: SMULL/UMULL 3-5, SMLAL/UMLAL 4-7, early termination; the middle is used).
_MAC64 = {"smull", "umull", "smlal", "umlal", "umaal"}
_DIV = {"sdiv", "udiv"}
_LDR = {"ldr", "ldrb", "ldrh", "ldrsb", "ldrsh", "ldrex", "ldrt", "ldrbt", "ldrht"}
_STR = {"str", "strb", "strh", "strex", "strt"}
_FP_ALU = {"vadd", "vsub", "vmul", "vnmul", "vabs", "vneg", "vcmp", "vcmpe", "vcvt", "vcvtr",
           "vmov", "vmaxnm", "vminnm", "vsel", "vrinta", "vrintn", "vrintp", "vrintm",
           "vrintx", "vrintz", "vrintr", "vcvta", "vcvtn", "vcvtp", "vcvtm", "vcvtb", "vcvtt"}
_FP_MAC = {"vmla", "vmls", "vnmla", "vnmls", "vfma", "vfms", "vfnma", "vfnms"}


@dataclass(frozen=True)
class Timing:
    """Cycle costs for one core (see docs/cycle-model.md for the sources)."""

    name: str
    alu: float
    mul: float
    mac: float
    mac64: float
    div: float
    ldr: float
    ldr_pipelined: float  # a load or store right after a load
    str_: float
    ldrd: float
    multi_base: float  # LDM/STM/PUSH/POP/VLDM/VSTM: base + per register
    multi_per_reg: float
    branch: float  # branch instruction issue (not taken, or before refill)
    refill: float  # pipeline refill after a taken branch (P)
    bl_extra: float
    it: float
    fp_alu: float
    fp_mac: float
    fp_div: float
    vldr: float
    vldr_pipelined: float
    vstr: float
    vmrs: float
    other: float
    exact: bool  # False for the explicitly approximate (dual-issue) models


TIMINGS: dict[str, Timing] = {
    # DDI 0432: Cortex-M0 (fast multiplier configuration assumed).
    "m0": Timing("Cortex-M0 (DDI 0432)", alu=1, mul=1, mac=1, mac64=1, div=1, ldr=2,
                 ldr_pipelined=2,
                 str_=2, ldrd=4, multi_base=1, multi_per_reg=1, branch=1, refill=2, bl_extra=1,
                 it=1, fp_alu=1, fp_mac=1, fp_div=1, vldr=2, vldr_pipelined=2, vstr=2, vmrs=1,
                 other=1, exact=True),
    # DDI 0337: Cortex-M3.
    "m3": Timing("Cortex-M3 (DDI 0337)", alu=1, mul=1, mac=2, mac64=5, div=7, ldr=2, ldr_pipelined=1,
                 str_=1, ldrd=3, multi_base=1, multi_per_reg=1, branch=1, refill=2, bl_extra=0,
                 it=1, fp_alu=1, fp_mac=1, fp_div=1, vldr=2, vldr_pipelined=1, vstr=2, vmrs=1,
                 other=1, exact=True),
    # DDI 0439: Cortex-M4 with its FPU instruction table.
    "m4f": Timing("Cortex-M4F (DDI 0439)", alu=1, mul=1, mac=1, mac64=1, div=7, ldr=2, ldr_pipelined=1,
                  str_=1, ldrd=3, multi_base=1, multi_per_reg=1, branch=1, refill=2, bl_extra=0,
                  it=1, fp_alu=1, fp_mac=3, fp_div=14, vldr=2, vldr_pipelined=1, vstr=2, vmrs=1,
                  other=1, exact=True),
    # Cortex-M7: dual issue, branch prediction; explicitly approximate (see the docs).
    "m7": Timing("Cortex-M7 (approximate dual-issue model)", alu=0.5, mul=0.5, mac=1, mac64=1, div=7,
                 ldr=1, ldr_pipelined=0.5, str_=0.5, ldrd=1, multi_base=1, multi_per_reg=0.5,
                 branch=0.5, refill=0.5, bl_extra=0, it=0, fp_alu=0.5, fp_mac=1, fp_div=14,
                 vldr=1, vldr_pipelined=0.5, vstr=1, vmrs=1, other=1, exact=False),
    # Cortex-M33: 3-stage pipeline like the M4; M4 figures used (approximate).
    "m33": Timing("Cortex-M33 (M4 figures, approximate)", alu=1, mul=1, mac=1, mac64=1, div=7,
                  ldr=2,
                  ldr_pipelined=1, str_=1, ldrd=3, multi_base=1, multi_per_reg=1, branch=1,
                  refill=2, bl_extra=0, it=1, fp_alu=1, fp_mac=3, fp_div=14, vldr=2,
                  vldr_pipelined=1, vstr=2, vmrs=1, other=1, exact=False),
}
TIMINGS["m7d"] = TIMINGS["m7"]


def timing_for(cpu: str) -> Timing:
    """The timing table for a CPU variant name."""
    return TIMINGS[cpu]


@lru_cache(maxsize=1)
def _cs() -> capstone.Cs:
    cs = capstone.Cs(capstone.CS_ARCH_ARM, capstone.CS_MODE_THUMB | capstone.CS_MODE_MCLASS)
    cs.detail = True
    return cs


@dataclass(frozen=True)
class BlockCost:
    """A block's cycles before branch refills, and how it ends."""

    base: float
    end: str  # "taken" (always-taken branch), "cond" (conditional branch), "none"
    literal_loads: int  # PC-relative loads (read flash: wait states apply)


def _pc_in(insn: capstone.CsInsn) -> bool:
    return any(o.type == arm.ARM_OP_REG and o.reg == arm.ARM_REG_PC for o in insn.operands)


def block_cost(code: bytes, address: int, t: Timing) -> BlockCost:
    """Cycles of one block's instructions in order (load pipelining within the block)."""
    total = 0.0
    end = "none"
    literal = 0
    prev_load = False
    insns = list(_cs().disasm(code, address))
    for k, insn in enumerate(insns):
        name = insn.insn_name()
        last = k == len(insns) - 1
        is_load = False
        if name in _ALU:
            c = t.alu
            if name in ("mov", "add") and _pc_in(insn) and insn.operands and \
                    insn.operands[0].type == arm.ARM_OP_REG and insn.operands[0].reg == arm.ARM_REG_PC:
                end = "taken"
        elif name in _MUL:
            c = t.mul
        elif name in _MAC:
            c = t.mac
        elif name in _MAC64:
            c = t.mac64
        elif name in _DIV:
            c = t.div
        elif name in _LDR:
            c = t.ldr_pipelined if prev_load else t.ldr
            is_load = True
            mem = [o for o in insn.operands if o.type == arm.ARM_OP_MEM]
            if mem and mem[0].mem.base == arm.ARM_REG_PC:
                literal += 1
            if insn.operands and insn.operands[0].type == arm.ARM_OP_REG and \
                    insn.operands[0].reg == arm.ARM_REG_PC:
                end = "taken"
        elif name in _STR:
            c = t.ldr_pipelined if prev_load and t.ldr_pipelined < t.str_ else t.str_
        elif name in ("ldrd", "strd"):
            c = t.ldrd
            is_load = name == "ldrd"
        elif name in ("ldm", "ldmdb", "stm", "stmdb", "push", "pop", "vpush", "vpop", "vldmia",
                      "vldmdb", "vstmia", "vstmdb", "vldm", "vstm"):
            regs = sum(1 for o in insn.operands if o.type == arm.ARM_OP_REG)
            if name in ("ldm", "ldmdb", "stm", "stmdb", "vldmia", "vldmdb", "vstmia", "vstmdb",
                        "vldm", "vstm"):
                regs -= 1  # the base register
            c = t.multi_base + t.multi_per_reg * max(regs, 1)
            if name in ("pop", "ldm", "ldmdb") and _pc_in(insn):
                end = "taken"
        elif name in ("b", "cbz", "cbnz"):
            c = t.branch
            end = "cond" if (name != "b" or insn.cc != AL) else "taken"
        elif name in ("bl", "blx", "bx"):
            c = t.branch + t.bl_extra
            end = "taken"
        elif name in ("tbb", "tbh"):
            c = t.branch + t.ldr
            end = "taken"
        elif name == "it":
            c = t.it
        elif name in _FP_ALU:
            c = t.fp_alu
        elif name in _FP_MAC:
            c = t.fp_mac
        elif name in ("vdiv", "vsqrt"):
            c = t.fp_div
        elif name == "vldr":
            c = t.vldr_pipelined if prev_load else t.vldr
            is_load = True
            mem = [o for o in insn.operands if o.type == arm.ARM_OP_MEM]
            if mem and mem[0].mem.base == arm.ARM_REG_PC:
                literal += 1
        elif name == "vstr":
            c = t.vstr
        elif name in ("vmrs", "vmsr"):
            c = t.vmrs
        else:
            c = t.other
        if not last and end != "none":
            end = "none"  # a branch-like instruction that is not last cannot end the block
        total += c
        prev_load = is_load
    return BlockCost(total, end, literal)


@dataclass(frozen=True)
class CycleEstimate:
    """Estimated cycles per executed block, aligned with the run's block arrays."""

    cpu: str
    per_block: np.ndarray  # total cycles of each block over the run
    total: float
    wait_states: int


def estimate(cpu: str, keys: np.ndarray, counts: np.ndarray, read: "callable",
             wait_states: int = 0, memo: dict[int, BlockCost] | None = None) -> CycleEstimate:
    """Cycles for a run: base costs, taken-branch refills, flash wait states.

    A conditional branch's taken count is inferred from flow: the executions of blocks that
    start right after it (its fall-through) count as its not-taken executions. ``memo``
    (block key -> cost) spares re-reading and re-costing blocks seen before.
    """
    t = TIMINGS[cpu]
    addrs = (keys >> np.uint64(32)).astype(np.int64)
    sizes = (keys & np.uint64(0xFFFFFFFF)).astype(np.int64)
    costs = []
    for k, a, sz in zip(keys.tolist(), addrs.tolist(), sizes.tolist()):
        c = memo.get(k) if memo is not None else None
        if c is None:
            c = cached_block_cost(t, read(a, sz), a)
            if memo is not None:
                memo[k] = c
        costs.append(c)
    n = counts.astype(np.float64)
    base = np.fromiter((c.base for c in costs), np.float64, len(costs))
    lit = np.fromiter((c.literal_loads for c in costs), np.float64, len(costs))
    ends = addrs + sizes
    taken_end = np.fromiter((c.end == "taken" for c in costs), bool, len(costs))
    cond = np.fromiter((c.end == "cond" for c in costs), bool, len(costs))
    # executions of blocks starting at each block's end address (its fall-through)
    order = np.argsort(addrs, kind="stable")
    sa, sn = addrs[order], n[order]
    uniq, first = np.unique(sa, return_index=True)
    start_sum = np.add.reduceat(sn, first) if sa.size else np.zeros(0)
    pos = np.searchsorted(uniq, ends)
    hit = (pos < uniq.size) & (uniq[np.minimum(pos, max(uniq.size - 1, 0))] == ends)
    fall = np.where(hit, start_sum[np.minimum(pos, max(uniq.size - 1, 0))], 0.0) \
        if uniq.size else np.zeros(len(costs))
    # blocks ending at the same conditional branch (a loop's first pass and its body) share
    # one fall-through: infer taken executions per branch, then share them out by count
    cond_ends = ends[cond]
    ue, inv = np.unique(cond_ends, return_inverse=True)
    runs = np.zeros(len(costs))
    if ue.size:
        runs_per_end = np.bincount(inv, weights=n[cond], minlength=ue.size)
        runs[cond] = runs_per_end[inv]
    taken = np.where(taken_end, n, 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.where(cond & (runs > 0), np.maximum(runs - fall, 0.0) * n / np.where(
            runs > 0, runs, 1.0), 0.0)
    taken = taken + share
    out = base * n + lit * wait_states * n + taken * (t.refill + wait_states)
    return CycleEstimate(cpu, out, float(out.sum()), wait_states)


@lru_cache(maxsize=65536)
def cached_block_cost(timing: Timing, code: bytes, address: int) -> BlockCost:
    """:func:`block_cost` of ``code`` at ``address`` with ``timing``, remembered."""
    return block_cost(code, address, timing)
