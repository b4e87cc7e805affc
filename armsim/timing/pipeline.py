"""In-order pipeline models per core: a block's instructions costed in order from an entry
state (what the instruction before the block left in flight), giving its cycles and its exit
state. cycles.py drives them from exact block counts, once per distinct block and entry
state.

Sources (docs/cycle-model.md has the full table):

* Cortex-M3/M4 (DDI 0337, DDI 0439 "Instruction timings" and "Load/store timings") and the
  measured facts of issue 17 (STM32F103, STM32F407, DWT, self-timing loops): loads pipeline
  (N loads, N+1 cycles) only when independent, in the same memory block, and a 32-bit LDR.W
  is word-aligned; a NOP after a load is absorbed; STR [Rn,#imm] 1 cycle, STR [Rn,Rm] 2; a
  load right after a store does not pipeline (+1); an address register written by the
  instruction just before stalls one cycle (no forwarding to the AGU); three or more
  consecutive unaligned 32-bit instructions cost +1; IT folds onto a preceding 16-bit
  instruction.
* Cortex-M7 (DDI 0489 and the measured facts, STM32H743): dual issue with the pairing rules
  below, result latencies, LDM/STM at two registers a cycle, VDIV/VSQRT 16/14.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import lru_cache
from typing import TYPE_CHECKING

import capstone
from capstone import arm

if TYPE_CHECKING:
    from armsim.timing.cycles import Timing

AL = arm.ARM_CC_AL
PC, SP = arm.ARM_REG_PC, arm.ARM_REG_SP
#: capstone's VFP registers (S0-S31, D0-D31): a VMOV's other operands are core registers
_FP_REGS = frozenset(range(arm.ARM_REG_S0, arm.ARM_REG_S31 + 1)) | \
    frozenset(range(arm.ARM_REG_D0, arm.ARM_REG_D31 + 1))

#: instruction classes (capstone base names) -> kind
_ALU = {"add", "adc", "sub", "sbc", "rsb", "mov", "mvn", "cmp", "cmn", "tst", "teq", "and",
        "orr", "eor", "bic", "orn", "lsl", "lsr", "asr", "ror", "rrx", "neg", "adr", "movw",
        "movt", "uxtb", "uxth", "sxtb", "sxth", "ubfx", "sbfx", "bfi", "bfc", "clz", "rev",
        "rev16", "revsh", "rbit", "sev", "wfi", "wfe", "yield", "cpsid", "cpsie", "dmb", "dsb",
        "isb", "uxtab", "uxtah", "sxtab", "sxtah", "sel", "ssat", "usat", "qadd", "qsub",
        "mrs", "msr"}
#: DSP-extension data processing (ARMv7E-M; DDI 0439 table 3-1: one cycle on the M4).
_DSP_ALU = {
    "sadd16", "sadd8", "ssub16", "ssub8", "sasx", "ssax", "uadd16", "uadd8", "usub16",
    "usub8", "uasx", "usax", "qadd", "qsub", "qdadd", "qdsub", "qadd16", "qadd8", "qsub16",
    "qsub8", "qasx", "qsax", "uqadd16", "uqadd8", "uqsub16", "uqsub8", "uqasx", "uqsax",
    "shadd16", "shadd8", "shsub16", "shsub8", "shasx", "shsax", "uhadd16", "uhadd8",
    "uhsub16", "uhsub8", "uhasx", "uhsax", "ssat16", "usat16", "sxtb16", "uxtb16",
    "sxtab16", "uxtab16", "pkhbt", "pkhtb", "usad8", "usada8"}
_MUL = {"mul", "smulbb", "smulbt", "smultb", "smultt", "smulwb", "smulwt", "smuad",
        "smuadx", "smusd", "smusdx", "smmulr"}
_MAC = {"mla", "mls", "smlabb", "smlabt", "smlatb", "smlatt", "smlawb", "smlawt", "smlad",
        "smladx", "smlsd", "smlsdx", "smlalbb", "smlalbt", "smlaltb", "smlaltt", "smlald",
        "smlaldx", "smlsld", "smlsldx", "smmul", "smmla", "smmlar", "smmls", "smmlsr"}
_MAC64 = {"smull", "umull", "smlal", "umlal", "umaal"}
_LDR = {"ldr", "ldrb", "ldrh", "ldrsb", "ldrsh", "ldrex", "ldrt", "ldrbt", "ldrht", "ldrexb",
        "ldrexh"}
_STR = {"str", "strb", "strh", "strex", "strt", "strexb", "strexh"}
_MULTI_LOAD = {"ldm", "ldmdb", "pop", "vpop", "vldmia", "vldmdb", "vldm"}
_MULTI_STORE = {"stm", "stmdb", "push", "vpush", "vstmia", "vstmdb", "vstm"}
_FP_ALU = {"vadd", "vsub", "vmul", "vnmul", "vabs", "vneg", "vcmp", "vcmpe", "vcvt", "vcvtr",
           "vmov", "vmaxnm", "vminnm", "vsel", "vrinta", "vrintn", "vrintp", "vrintm",
           "vrintx", "vrintz", "vrintr", "vcvta", "vcvtn", "vcvtp", "vcvtm", "vcvtb", "vcvtt"}
_FP_MAC = {"vmla", "vmls", "vnmla", "vnmls", "vfma", "vfms", "vfnma", "vfnms"}
_KINDS: dict[str, str] = {
    **dict.fromkeys(_ALU | _DSP_ALU, "alu"), **dict.fromkeys(_MUL, "mul"),
    **dict.fromkeys(_MAC, "mac"), **dict.fromkeys(_MAC64, "mac64"),
    "sdiv": "div", "udiv": "div", **dict.fromkeys(_LDR, "load"), **dict.fromkeys(_STR, "store"),
    "ldrd": "loadd", "strd": "stored", **dict.fromkeys(_MULTI_LOAD, "multi_load"),
    **dict.fromkeys(_MULTI_STORE, "multi_store"), "b": "branch", "cbz": "branch",
    "cbnz": "branch", "bl": "call", "blx": "call", "bx": "call", "tbb": "table", "tbh": "table",
    "it": "it", "nop": "nop", "hint": "nop", **dict.fromkeys(_FP_ALU, "fp_alu"),
    **dict.fromkeys(_FP_MAC, "fp_mac"), "vdiv": "fp_div", "vsqrt": "fp_sqrt", "vldr": "load",
    "vstr": "store", "vmrs": "vmrs", "vmsr": "vmrs"}
#: kinds whose result an address register may be waiting for (no forwarding to the AGU)
_PRODUCERS = {"alu", "mul", "mac", "mac64", "div"}


@dataclass(frozen=True)
class Op:
    """One decoded instruction, as the pipeline models see it.

    Attributes:
        name: capstone's base mnemonic
        address, size: where it is and its width (2 or 4 bytes)
        kind: its timing class (``_KINDS``), "other" if none
        dst, src: registers written and read (capstone ids)
        agu: base and index registers of its memory access
        mem: "imm" (register + immediate), "reg" (register + register), "literal" (PC +
            immediate) or "" (no single memory access)
        offset: the immediate offset of an "imm" access
        nregs: registers transferred by LDM/STM/PUSH/POP/VLDM/VSTM
        end: "taken" (always-taken branch), "cond" (conditional branch) or ""
        sets_flags: it writes the condition flags
        fp_double: a double-precision VFP operation
    """

    name: str
    address: int
    size: int
    kind: str
    dst: frozenset[int]
    src: frozenset[int]
    agu: frozenset[int]
    mem: str
    offset: int
    nregs: int
    end: str
    sets_flags: bool
    fp_double: bool
    op2: str = ""
    early: frozenset[int] = frozenset()
    bitfield: bool = False
    writeback: bool = False
    step: int = 0  # an indexed access's base change (post-index immediate, or pre-index disp)


#: The M7's bitfield and DSP data-processing instructions (pipetest, "bitfield and DSP
#: instructions"): never two in one cycle, and only in the older slot.
_M7_BITFIELD = _DSP_ALU | {
    "uxtb", "uxth", "sxtb", "sxth", "uxtab", "uxtah", "sxtab", "sxtah", "ubfx", "sbfx", "bfi",
    "bfc", "clz", "rev", "rev16", "revsh", "rbit", "sel", "qadd", "qsub"}
#: ... of which these never pair with an operand2 shifted register or shifted constant
_M7_NO_OP2 = {"bfi", "bfc", "sbfx", "ubfx", "rbit", "rev", "rev16", "revsh", "sxtab",
              "uxtab", "sxtah", "uxtah", "sxtab16", "uxtab16", "pkhbt", "pkhtb"}
#: ... and these read their sources in the early ALU
_M7_EARLY_ALL = {"sbfx", "ubfx", "rbit", "rev", "rev16", "revsh"}
_M7_EARLY_LAST = {"sxtab", "uxtab", "sxtah", "uxtah", "sxtab16", "uxtab16", "pkhbt", "pkhtb",
                  "bfi"}
_SHIFTS = {"lsl", "lsr", "asr", "ror", "rrx"}
#: loads of a byte or halfword: one more cycle of result latency on the M7
_NARROW_LOADS = {"ldrb", "ldrh", "ldrsb", "ldrsh", "ldrbt", "ldrht", "ldrsbt", "ldrsht",
                 "ldrexb", "ldrexh"}


def _step(insn: capstone.CsInsn, kind: str) -> int:
    """How far an indexed load or store moves its base (0: none, or a register amount)."""
    if not insn.writeback or kind not in ("load", "store"):
        return 0
    if insn.post_index:
        imms = [o for o in insn.operands if o.type == arm.ARM_OP_IMM]
        return (-imms[-1].imm if imms[-1].subtracted else imms[-1].imm) if imms else 0
    mems = [o.mem for o in insn.operands if o.type == arm.ARM_OP_MEM]
    return mems[0].disp if mems else 0


def _imm_class(name: str, size: int, value: int) -> str:
    """Operand2 class of an immediate (ARMv7-M ARM A5.3.2 modified immediates): "imm" (8 or
    12 bits), "pattern" (0x00XY00XY, 0xXY00XY00, 0xXYXYXYXY) or "shifted_imm"."""
    v = value & 0xFFFFFFFF
    if v <= 0xFF or (name in ("add", "sub", "mov") and v <= 0xFFFF and size == 4
                     and (name == "mov" or v <= 0xFFF)):
        return "imm"
    x = v & 0xFF
    if v in (x | x << 16, (x | x << 16) << 8, x * 0x01010101):
        return "pattern"
    return "shifted_imm"


@lru_cache(maxsize=1)
def _cs() -> capstone.Cs:
    cs = capstone.Cs(capstone.CS_ARCH_ARM, capstone.CS_MODE_THUMB | capstone.CS_MODE_MCLASS)
    cs.detail = True
    return cs


def _op(insn: capstone.CsInsn) -> Op:
    name = insn.insn_name()
    kind = _KINDS.get(name, "other")
    try:
        read, written = insn.regs_access()
    except capstone.CsError:
        read, written = [], []
    regs = [o.reg for o in insn.operands if o.type == arm.ARM_OP_REG]
    mems = [o.mem for o in insn.operands if o.type == arm.ARM_OP_MEM]
    agu: set[int] = set()
    mem, offset = "", 0
    if mems and kind in ("load", "store", "loadd", "stored", "table"):
        m = mems[0]
        agu = {r for r in (m.base, m.index) if r}
        mem = "literal" if m.base == PC else "reg" if m.index else "imm"
        offset = m.disp
    if kind in ("multi_load", "multi_store"):
        nregs = len(regs) - (0 if name in ("push", "pop", "vpush", "vpop") else 1)
        if name not in ("push", "pop", "vpush", "vpop") and regs:
            agu = {regs[0]}
        else:
            agu = {SP}
    elif name == "vmov":  # core registers moved to or from the FPU (two take 2 cycles)
        nregs = sum(1 for r in regs if r not in _FP_REGS)
    else:
        nregs = 0
    end = ""
    writes_pc = PC in written or (regs and regs[0] == PC and kind in ("alu", "load"))
    if kind == "branch":
        end = "cond" if (name != "b" or insn.cc != AL) else "taken"
        imms = [o.imm for o in insn.operands if o.type == arm.ARM_OP_IMM]
        offset = imms[-1] if imms else 0  # a direct branch's target address
    elif kind in ("call", "table") or writes_pc and kind in ("alu", "load", "multi_load"):
        end = "taken"
    fp_double = kind.startswith("fp") and any(
        o.type == arm.ARM_OP_REG and arm.ARM_REG_D0 <= o.reg <= arm.ARM_REG_D31
        for o in insn.operands)
    op2, early = "", set()
    ops_ = insn.operands
    if kind == "alu" and ops_ and name not in _M7_BITFIELD and name not in _SHIFTS:
        last = ops_[-1]
        if last.type == arm.ARM_OP_IMM and len(ops_) >= 2:
            op2 = _imm_class(name, insn.size, last.imm)
        elif last.type == arm.ARM_OP_REG and last.shift.type and last.shift.value:
            op2 = "shifted_reg"  # consumed in the early ALU
            early.add(last.reg)
    if name in _M7_EARLY_ALL:
        early |= {o.reg for o in ops_[1:] if o.type == arm.ARM_OP_REG}
    elif name in _M7_EARLY_LAST and ops_ and ops_[-1].type == arm.ARM_OP_REG:
        early.add(ops_[-1].reg)
        if name == "pkhtb" and len(ops_) > 2 and ops_[1].type == arm.ARM_OP_REG:
            early.add(ops_[1].reg)
    return Op(name, insn.address, insn.size, kind, frozenset(written) - {PC},
              frozenset(read), frozenset(agu), mem, offset, max(nregs, 0), end,
              bool(insn.update_flags) or name in ("cmp", "cmn", "tst", "teq"), fp_double,
              op2, frozenset(early), name in _M7_BITFIELD or name in ("pkhbt", "pkhtb"),
              bool(insn.writeback) and kind in ("load", "store"), _step(insn, kind))


@lru_cache(maxsize=65536)
def decode(code: bytes, address: int) -> tuple[Op, ...]:
    """A block's instructions; a branch-like instruction that is not last ends nothing."""
    ops = [_op(i) for i in _cs().disasm(code, address)]
    return tuple(o if k == len(ops) - 1 or not o.end else _no_end(o) for k, o in enumerate(ops))


def _no_end(o: Op) -> Op:
    return replace(o, end="")


#: What the instruction before a block left in flight: (kind, registers it wrote, memory
#: region of its access). CLEAN: nothing (after a taken branch's refill).
State = tuple
CLEAN: State = ("", frozenset(), "")


@dataclass(frozen=True)
class Cost:
    """A block's cycles from one entry state.

    Attributes:
        base: cycles of its instructions (no branch refill, no wait states)
        exit: the state it leaves for a block that follows it without a branch
        mispredict: cycles a mispredicted final branch costs (M7), else 0
        younger: addresses of the instructions issued in the second slot of a cycle (M7)
        slot_after: the final instruction is an unconditional B that issued with the second
            slot of its cycle free: its target's first instruction may take it (M7)
    """

    base: float
    exit: State
    mispredict: float
    younger: tuple[int, ...] = ()
    slot_after: bool = False


def _region(op: Op) -> str:
    return "flash" if op.mem == "literal" else "data"


#: The M3/M4 fetch queue, in halfwords fetched ahead of decode. Fetch brings one aligned
#: word (two halfwords) a cycle; an instruction takes its halfwords, and an unaligned 32-bit
#: one wastes one more (its second word is half used). Decode waits a cycle when the queue
#: runs dry. After a taken branch's refill one halfword is ahead; a queue holds at most
#: FETCH_SLACK_MAX. Fitted to the measured facts (STM32F4, code in flash: three consecutive
#: unaligned 32-bit instructions after a 16-bit one cost +1, two cost nothing, a group of
#: STRs only from the fourth; compendium.i-0.nl "alignment rules", which also notes that
#: loads and stores that do not touch flash change the delays: a data load's second cycle
#: is a fetch cycle) and to hand-written AES loops on an STM32F1/F4 (jnk0le/cortexm-AES's
#: published counts: the run of three unaligned EORs after eight table loads costs nothing).
FETCH_SLACK_ENTRY = 1
FETCH_SLACK_MAX = 4


def _fetch_slack(op: Op, cycles: float, prev_kind: str) -> float:
    """What ``op``, taking ``cycles``, does to the fetch queue (halfwords)."""
    halves = op.size // 2
    unaligned = op.size == 4 and op.address % 4 == 2
    fetched = 2 * cycles
    if op.kind == "load" and op.mem == "literal":
        fetched -= 2  # a literal load takes a fetch cycle for its data
    delta = fetched - halves - (1 if unaligned else 0)
    if unaligned and op.kind == "store" and prev_kind != "store":
        delta += 1  # the first store of a group buffers its write (measured: from the 4th)
    return delta


def cost_m34(ops: tuple[Op, ...], t: "Timing", entry: State) -> Cost:
    """Cortex-M3/M4 (and M33): 3-stage, single issue, with the load/store and AGU rules."""
    prev_kind, prev_dst, prev_region = entry
    prev_size = 0
    prev_wb: frozenset[int] | None = None  # the base of an indexed load/store just before
    total = 0.0
    slack = FETCH_SLACK_ENTRY  # halfwords fetched ahead of decode
    for op in ops:
        k = op.kind
        if k == "load":
            region = _region(op)
            word_ok = op.size == 2 or op.address % 4 == 0
            # an indexed (pre/post, writeback) load does not chain into the next load: on the
            # M4 when both use its base, on the M3 ever; on the M3 only the first load of a
            # chain may be indexed (pipetest, STM32F103/STM32F407)
            chained = prev_wb is not None and (t.indexed_chain == "any" or op.agu & prev_wb)
            if t.indexed_chain == "any" and op.writeback:
                chained = True
            if prev_kind == "load" and not (op.agu & prev_dst) and region == prev_region \
                    and word_ok and not chained:
                c = t.ldr_pipelined if op.name != "vldr" else t.vldr_pipelined
            else:
                c = t.ldr if op.name != "vldr" else t.vldr
                if prev_kind in ("store", "stored"):
                    c += 1  # a load right after a store does not pipeline
        elif k == "store":
            # STR [Rn,Rm] takes 2, or 1 pipelined after a load (TRM example: LDR then
            # STR [Rn,Rm] "normally three cycles total")
            pipelined = prev_kind == "load" and not (op.agu & prev_dst)
            c = (t.str_ if op.mem != "reg" or pipelined else t.str_ + 1) \
                if op.name != "vstr" else t.vstr
            if op.writeback and prev_kind == "store" and prev_wb is not None \
                    and op.agu & prev_wb:
                c += 1  # indexed stores on one base do not chain back to back (pipetest)
            elif op.writeback and prev_kind == "load" and t.indexed_chain == "any":
                c += 1  # M3: an indexed store takes one cycle only after a non-load
        elif k == "nop":
            c = 0 if prev_kind == "load" else t.alu  # absorbed by the load before it
        elif op.name == "vmov" and op.nregs == 2:
            c = 2 * t.fp_alu  # two core registers: one cycle each (measured)
        elif k == "it":
            c = 0 if prev_size == 2 and prev_kind not in ("branch", "call", "table", "it") \
                else t.it  # folded onto a preceding 16-bit instruction
        else:
            c = _base(op, t)
        if k == "load" and op.end == "taken":
            c += 1  # LDR PC: the load, then a three-cycle reload (TRM: at least 5 in all)
        if op.agu and prev_kind in _PRODUCERS and op.agu & prev_dst:
            c += 1  # the address is needed a cycle before an ALU operand would be
        slack = min(slack + _fetch_slack(op, c, prev_kind), FETCH_SLACK_MAX)
        if slack < 0:  # decode waits a cycle for fetch, which then catches up
            c += 1
            slack = FETCH_SLACK_MAX
        total += c
        prev_kind, prev_dst = k, op.dst
        prev_region = _region(op) if k == "load" else ""
        prev_wb = op.agu if op.writeback else None
        prev_size = op.size
    return Cost(total, (prev_kind, prev_dst, prev_region), 0.0)


#: the Timing field of each kind whose cost depends on nothing else
_FIELD = {"alu": "alu", "nop": "alu", "mul": "mul", "mac": "mac", "mac64": "mac64",
          "div": "div", "loadd": "ldrd", "stored": "ldrd", "branch": "branch", "it": "it",
          "fp_alu": "fp_alu", "fp_mac": "fp_mac", "fp_div": "fp_div", "fp_sqrt": "fp_div",
          "vmrs": "vmrs"}


def _base(op: Op, t: "Timing") -> float:
    """The table cost of one instruction (no neighbours)."""
    k = op.kind
    if k == "load":
        return t.ldr if op.name != "vldr" else t.vldr
    if k == "store":
        return t.str_ if op.name != "vstr" else t.vstr
    if k in ("multi_load", "multi_store"):
        return t.multi_base + t.multi_per_reg * max(op.nregs, 1)
    if k == "call":
        return t.branch + t.bl_extra
    if k == "table":
        return t.branch + t.ldr + 1  # TRM: the load, an add, then the refill (6 with P)
    return float(getattr(t, _FIELD.get(k, "other")))


def cost_table(ops: tuple[Op, ...], t: "Timing", entry: State) -> Cost:
    """Cortex-M0: the TRM table, no pipelining (DDI 0432)."""
    return Cost(float(sum(_base(op, t) for op in ops)), CLEAN, 0.0)


# -- Cortex-M7 ------------------------------------------------------------------------------

#: cycles from issue until a result can be used (measured facts; DDI 0489)
M7_LATENCY = {"alu": 1, "mul": 2, "mac": 2, "mac64": 2, "div": 7, "load": 2, "loadd": 2,
              "multi_load": 2, "fp_alu": 3, "fp_mac": 5, "fp_div": 16, "fp_sqrt": 14,
              "vmrs": 1, "other": 1, "it": 0, "nop": 1}
_M7_NO_PAIR = {"multi_load", "multi_store", "div", "fp_div", "fp_sqrt", "table"}
_M7_MUL = {"mul", "mac", "mac64"}
_M7_FP = {"fp_alu", "fp_mac", "fp_div", "fp_sqrt"}


#: The M7 entry state of a block reached by a predicted branch that left its slot free.
BRANCH_SLOT = "slot"
AFTER_BRANCH: State = ("m7", (), BRANCH_SLOT)
#: The branch before such a block, as m7_pairs sees it: it pairs with what may follow it.
_BRANCH = Op("b", 0, 2, "alu", frozenset(), frozenset(), frozenset(), "", 0, 0, "", False,
             False)


def m7_pairs(a: Op, b: Op) -> bool:
    """True when ``b`` may issue in the same cycle as the older ``a`` (measured facts)."""
    if a.kind in _M7_NO_PAIR or b.kind in _M7_NO_PAIR:
        return False  # LDM/STM/PUSH/POP never dual-issue, nor do iterative ops
    if a.kind in _M7_MUL and b.kind in _M7_MUL:
        return False  # two multiplies never pair
    if {a.kind, b.kind} in ({"mac", "store"}, {"mac64", "store"}):
        return False  # a MAC never pairs with a store
    if a.kind in ("store", "stored") and b.kind in ("store", "stored"):
        return False  # two stores never pair
    if a.kind in ("load", "loadd") and b.kind in ("load", "loadd"):
        # two loads pair only on different DTCM banks (even/odd word): known statically
        # when both use the same base register and their offsets differ by an odd word count
        return a.mem == b.mem == "imm" and a.agu == b.agu and a.kind == b.kind == "load" \
            and (a.offset - b.offset) % 8 == 4
    if a.kind in _M7_FP and b.kind in _M7_FP:
        return False  # VFP arithmetic never pairs with VFP arithmetic
    if b.bitfield:
        return False  # bitfield/DSP: never two in a cycle, never in the younger slot
    shifted = ("shifted_reg", "shifted_imm")
    if a.name in _M7_NO_OP2 and b.op2 in shifted:
        return False  # the early ALU's shifter is taken
    if a.op2 in shifted and b.op2 in shifted:
        return False  # one shifter for operand2 (pipetest's operand2 matrix)
    if a.end or a.kind == "it":
        return False  # nothing issues beside a branch from its own block (its target may)
    return True


#: results the early ALU makes, ready for the early ALU of the next cycle (pipetest):
#: ADD/SUB/MOV with an unshifted operand2, and plain shifts
_M7_EARLY_RESULT = {"add", "sub", "mov"}


def _m7_latency(producer: Op, consumer: Op, reg: int) -> int:
    lat = M7_LATENCY.get(producer.kind, 1)
    if consumer.kind in ("store", "stored") and reg not in consumer.agu:
        return 0  # a store takes any result as its data in the same cycle (pipetest)
    if producer.name == "vldr":
        return 1
    early = reg in consumer.early
    if producer.kind in ("load", "loadd", "multi_load") and reg in producer.agu:
        return 1  # an indexed load's written-back base comes from the AGU's adder
    if producer.kind in ("load", "loadd"):
        # a word load (LDRD's two words too) feeds the late ALU next cycle; a byte or halfword one cycle later;
        # an early-ALU operand (a shifted operand2, an address) one cycle later still
        narrow = producer.name in _NARROW_LOADS
        return 1 + narrow + (early or reg in consumer.agu)
    if producer.kind == "alu":
        if producer.bitfield and reg in consumer.agu:
            return 2  # a bitfield/DSP result is an address a cycle late
        if early and not (producer.name in _SHIFTS or producer.name in _M7_EARLY_RESULT
                          and producer.op2 not in ("shifted_reg", "shifted_imm")):
            return 2  # a late-ALU result reaches the early ALU a cycle late
        return 1
    if producer.kind == "fp_mac":
        accumulate = consumer.kind == "fp_mac" and reg in consumer.dst
        vmla = producer.name in ("vmla", "vmls", "vnmla", "vnmls")
        return 3 if accumulate else (6 if vmla else 5)
    return lat


#: stores of a byte or halfword: a read-modify-write of a word in the M7's store buffer
_NARROW_STORES = {"strb", "strh", "strbt", "strht"}
#: cycles the store buffer takes per narrow store (pipetest, STM32H743: one per cycle drains
#: at 4 cycles a store to one DTCM bank, 2 alternating banks, 2.4 for unit-stride STRB)
DRAIN_SAME_BANK, DRAIN_OTHER_BANK, DRAIN_UNIT_STRB = 4.0, 2.0, 2.4


def m7_store_drain(ops: tuple[Op, ...]) -> float:
    """The cycles the M7's store buffer needs for a block's byte and halfword stores, run as
    a loop: each store to the same DTCM bank (even/odd word) as the one before it takes 4,
    to the other bank 2; where the addresses are not known statically (different bases, a
    base rewritten), 2. A lone unit-stride STRB takes 2.4, a unit-stride STRH 2, as
    measured. The block takes at least this long (the buffer absorbs a few stores, but a
    loop's steady state is the drain)."""
    adv: dict[int, int] = {}  # each base register's writeback so far in the block
    gen: dict[int, int] = {}  # bumped when a base is rewritten otherwise (address unknown)
    stores: list[tuple[Op, tuple | None]] = []  # (store, (base, generation, offset))
    for op in ops:
        if op.kind == "store" and op.name in _NARROW_STORES:
            known = op.mem == "imm" and len(op.agu) == 1
            base = next(iter(op.agu)) if known else -1
            # a post-indexed store writes at its base (capstone's disp is 0 there)
            stores.append((op, (base, gen.get(base, 0), adv.get(base, 0) + op.offset)
                           if known else None))
        for r in op.dst:
            if op.writeback and r in op.agu:
                adv[r] = adv.get(r, 0) + op.step
            else:
                gen[r] = gen.get(r, 0) + 1
    if not stores:
        return 0.0
    if len(stores) == 1 and stores[0][0].writeback and abs(stores[0][0].step) in (1, 2):
        op = stores[0][0]
        return DRAIN_UNIT_STRB if op.name.startswith("strb") and abs(op.step) == 1 \
            else DRAIN_OTHER_BANK
    total = 0.0
    for i, (op, addr) in enumerate(stores):
        prev = stores[i - 1][1]
        if i == 0 and prev is not None and addr is not None:
            # the block's last store, one loop pass earlier: comparable when neither store's
            # base was rewritten in the block, relative to the base at the block's end
            base, g, at = prev
            ok = addr[0] == base and addr[1] == 0 and g == 0 and gen.get(base, 0) == 0
            prev = (base, 0, at - adv.get(base, 0)) if ok else None
        same = addr is not None and prev is not None and addr[:2] == prev[:2] \
            and (addr[2] // 4) % 2 == (prev[2] // 4) % 2
        total += DRAIN_SAME_BANK if same else DRAIN_OTHER_BANK
    return total


def cost_m7(ops: tuple[Op, ...], t: "Timing", entry: State) -> Cost:
    """Cortex-M7: in-order dual issue. An instruction issues when its operands are ready; it
    takes the second slot of the cycle beside the one before it if the pair is allowed.
    ``entry`` carries the registers still in flight (register -> cycles until ready)."""
    kind0, pending, how = entry
    ready: dict[int, float] = {r: float(c) for r, c in pending} if kind0 == "m7" else {}
    producers: dict[int, Op] = {}
    cycle = 0.0  # the cycle the next instruction could issue in
    slot_free = False  # the second slot of cycle - 1 is still free
    prev: Op | None = None
    if how == BRANCH_SLOT:  # entered by a predicted branch whose cycle has a free slot:
        cycle, slot_free, prev = 1.0, True, _BRANCH  # the branch's cycle is cycle 0
        ready = {r: c + 1 for r, c in ready.items()}
    last_flags = -10.0
    mispredict = 0.0
    younger: list[int] = []
    for op in ops:
        need = 0.0
        for r in op.src | op.agu:
            if r in ready:
                lat = ready[r] if r not in producers else ready[r] - M7_LATENCY.get(
                    producers[r].kind, 1) + _m7_latency(producers[r], op, r)
                need = max(need, lat)
        if slot_free and prev is not None and m7_pairs(prev, op) and need <= cycle - 1:
            at = cycle - 1  # issue beside prev
            slot_free = False
            younger.append(op.address)
        else:
            at = max(cycle, need)
            slot_free = True
            cycle = at + 1
        if op.kind in ("multi_load", "multi_store"):
            busy = (op.nregs + 1) // 2  # two registers a cycle
            cycle = at + max(busy, 1)
            slot_free = False
        elif op.kind in ("div", "fp_div", "fp_sqrt"):
            cycle = at + M7_LATENCY[op.kind]
            slot_free = False
        elif op.kind in ("loadd", "stored"):
            cycle = at + 1
            slot_free = False
        for r in op.dst:
            ready[r] = at + M7_LATENCY.get(op.kind, 1)
            producers[r] = op
        if op.sets_flags:
            last_flags = at
        if op.end == "cond":
            mispredict = 6.0 if at - last_flags >= 3 else 8.0
        prev = op
    end = cycle
    drain = m7_store_drain(ops)
    if drain > end:  # byte/halfword stores: the store buffer's read-modify-writes
        end = drain
    pending_out = tuple(sorted((r, max(c - end, 0.0)) for r, c in ready.items() if c > end))
    # only an unconditional B: the loop facts (closed by BNE) show no such pairing
    slot_after = bool(ops) and ops[-1].kind == "branch" and ops[-1].end == "taken" \
        and slot_free and prev is ops[-1]
    return Cost(end - (1.0 if how == BRANCH_SLOT else 0.0), ("m7", pending_out, ""),
                mispredict, tuple(younger), slot_after)


def cost_block(model: str, ops: tuple[Op, ...], t: "Timing", entry: State = CLEAN) -> Cost:
    """A block's cost with the pipeline ``model`` ("table", "m34" or "m7") from ``entry``."""
    if model == "m7":
        return cost_m7(ops, t, entry if entry[0] == "m7" else CLEAN)
    if model == "table":
        return cost_table(ops, t, entry)
    return cost_m34(ops, t, entry if entry[0] != "m7" else CLEAN)
