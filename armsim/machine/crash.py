"""Crash reports: what went wrong in the emulated CPU, where, and the machine state."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from unicorn import UcError
from unicorn import arm_const as A

from armsim.machine import disasm
from armsim.machine.tlb import never_execute

#: QEMU's ARM exception numbers, as Unicorn's interrupt hook reports them.
EXCEPTIONS = {
    1: ("undefined-instruction", "undefined instruction (UsageFault UNDEFINSTR)"),
    2: ("svc", "SVC: supervisor call with no handler in the emulator"),
    3: ("prefetch-abort", "instruction fetch aborted (MemManage/BusFault)"),
    4: ("data-abort", "data access aborted (BusFault)"),
    7: ("bkpt", "BKPT reached outside armsim_halt"),
    8: ("exception-return", "exception return (EXC_RETURN) with no exception active"),
    17: ("no-fpu", "floating-point instruction with the FPU disabled (NOCP UsageFault): "
         "nothing enabled CP10/CP11 in CPACR (0xE000ED88) before it"),
    18: ("thumb-bit-missing", "branch to ARM state (INVSTATE): a BX/BLX/POP target without the "
         "Thumb bit"),
    19: ("stack-limit", "stack limit exceeded (STKOF)"),
    22: ("unaligned", "unaligned access (UsageFault UNALIGNED)"),
    23: ("divide-by-zero", "division by zero (UsageFault DIVBYZERO)"),
}


@dataclass
class Access:
    """A bad memory access recorded by the memory hooks."""

    kind: str = ""
    address: int = 0
    size: int = 0


def classify(machine: Any, uc_error: UcError | None, intno: int | None,
             access: Access) -> tuple[str, str, list[str]]:
    """(kind, message, hints) for a stopped run."""
    pc = machine.pc
    hints: list[str] = []
    xn = never_execute(pc)
    insn = insn_at(machine, pc)
    if access.kind:
        guard = machine.guard
        if guard and guard[0] <= access.address < guard[1]:
            top = machine.initial_sp
            return ("stack-overflow",
                    f"stack overflow: a {access.size}-byte {access.kind.split()[0]} at "
                    f"0x{access.address:08X} hit the guard page 0x{guard[0]:08X}-"
                    f"0x{guard[1] - 1:08X} below the stack (top 0x{top:08X}, more than "
                    f"{top - guard[1]:,} bytes used)", ["look for deep recursion or large local "
                                                      "arrays"])
        kind = {"read": "unmapped-read", "write": "unmapped-write",
                "instruction": "unmapped-fetch"}.get(access.kind.split()[0], "bad-access")
        if "read-only" in access.kind:
            kind = "write-protected"
        elif "non-executable" in access.kind or (kind == "unmapped-fetch" and xn):
            kind = "never-execute"
        msg = f"{access.kind} at 0x{access.address:08X} ({access.size} bytes)"
        if kind == "never-execute" and xn:
            hints.append(f"PC is in the never-execute {xn}")
        if pc == 0:
            hints.append("PC 0: a return through LR=0, or a call through a null pointer")
        return kind, msg, hints
    if intno is not None:
        kind, msg = EXCEPTIONS.get(intno, (f"exception-{intno}", f"CPU exception {intno}"))
        if intno == 2:
            prev = insn_at(machine, pc - 2)
            msg += f" ({prev})" if prev.startswith("svc") else ""
        if intno == 7:
            msg += f" ({insn})"
        if intno == 3 and xn:
            kind, msg = "never-execute", f"instruction fetch from the never-execute {xn}"
        if pc == 0:
            hints.append("PC 0: a return through LR=0, or a call through a null pointer")
        return kind, msg, hints
    if uc_error is not None:
        name = str(uc_error)
        if pc == 0:
            return ("pc-zero", f"execution reached address 0 ({name})",
                    ["PC 0: a return through LR=0, or a call through a null pointer "
                     "(Unicorn starts LR at 0 on Cortex-M)"])
        if xn:
            return "never-execute", f"instruction fetch from the never-execute {xn}", hints
        if insn.startswith("udf"):
            return "undefined-instruction", f"undefined instruction ({insn})", hints
        if "UC_ERR_INSN_INVALID" in name and not insn.startswith(("undecodable", "(not")):
            return ("thumb-bit-missing",
                    f"the CPU left Thumb state at a valid instruction ({insn})",
                    ["Thumb bit missing: a BX/BLX/POP/LDR PC target with bit 0 clear "
                     "(Cortex-M has no ARM state)"])
        return "emulator-error", f"{name} executing {insn}", hints
    return "unknown", "the run stopped for an unknown reason", hints


def insn_at(machine: Any, pc: int) -> str:
    """The disassembled instruction at ``pc``, or why there is none."""
    try:
        code = machine.read(pc, 4)
    except UcError:
        return "(not in mapped memory)"
    lst = disasm.listing(code, pc, 1)
    return lst[0][1] if lst else f"undecodable bytes {code.hex()}"


def report(machine: Any, kind: str, message: str, hints: list[str]) -> str:
    """The full crash report text."""
    m = machine
    pc = m.pc
    lines = [f"error: {kind}", f"  {message}",
             f"  PC: 0x{pc:08X} {m.image.describe(pc)}"]
    src = m.image.source_line(pc)
    if src:
        lines.append(f"  source: {src[0]}:{src[1]}")
    lines += [f"  hint: {h}" for h in hints]
    lines.append("disassembly:")
    lines += _around(m, pc)
    lines.append("registers:")
    regs = [(f"r{i}", getattr(A, f"UC_ARM_REG_R{i}")) for i in range(13)] + [
        ("sp", A.UC_ARM_REG_SP), ("lr", A.UC_ARM_REG_LR)]
    vals = [(n, int(m.uc.reg_read(r))) for n, r in regs] + [("pc", pc),
                                                            ("xpsr", int(m.uc.reg_read(A.UC_ARM_REG_XPSR)))]
    for i in range(0, len(vals), 4):
        lines.append("  " + "  ".join(f"{n:>4} 0x{v:08X}" for n, v in vals[i:i + 4]))
    if m.cpu.fpu:
        s = [int(m.uc.reg_read(getattr(A, f"UC_ARM_REG_S{i}"))) for i in range(32)]
        f = np.array(s, np.uint32).view(np.float32)
        for i in range(0, 32, 4):
            lines.append("  " + "  ".join(f"{'s' + str(j):>4} 0x{s[j]:08X} ({f[j]:.7g})"
                                           for j in range(i, i + 4)))
        lines.append(f"  fpscr 0x{int(m.uc.reg_read(A.UC_ARM_REG_FPSCR)):08X}")
    sp = int(m.uc.reg_read(A.UC_ARM_REG_SP))
    lines.append(f"stack (sp 0x{sp:08X}):")
    lines += _stack(m, sp)
    lines.append("memory map:")
    lines += ["  " + row for row in m.map.table().splitlines()]
    return "\n".join(lines)


def _around(m: Any, pc: int, before: int = 4, after: int = 4) -> list[str]:
    f = m.image.function_at(pc)
    start = f.address if f else pc
    try:
        code = m.read(start, pc - start + 4 * (after + 1))
    except UcError:
        try:
            code, start = m.read(pc, 4 * (after + 1)), pc
        except UcError:
            return ["  (PC is not in mapped memory)"]
    lst = disasm.listing(code, start)
    idx = next((i for i, (a, _t) in enumerate(lst) if a == pc), None)
    if idx is None:
        return [f"  0x{pc:08X}: (no instruction decodes here)"]
    return [f"  {'=>' if a == pc else '  '} 0x{a:08X} {m.image.describe(a):<28} {t}"
            for a, t in lst[max(0, idx - before): idx + after + 1]]


def _stack(m: Any, sp: int) -> list[str]:
    out = []
    for base in range((sp - 16) & ~15, ((sp - 16) & ~15) + 64, 16):
        try:
            words = np.frombuffer(m.read(base, 16), "<u4")
        except UcError:
            out.append(f"  0x{base:08X}: (unmapped)")
            continue
        mark = " <- sp" if base <= sp < base + 16 else ""
        out.append(f"  0x{base:08X}: " + " ".join(f"{int(w):08X}" for w in words) + mark)
    return out
