"""A slow, independent instruction counter: a per-instruction hook plus IT-block accounting.

Unicorn's code hook does not fire for an instruction inside an IT block whose condition
fails, but the CPU executes it. After each executed IT instruction, the oracle decodes the
block's addresses and adds the ones whose hook did not fire.
"""

from __future__ import annotations

import capstone
from unicorn import UC_HOOK_CODE

from armsim.machine.emulator import Machine

_CS = capstone.Cs(capstone.CS_ARCH_ARM, capstone.CS_MODE_THUMB | capstone.CS_MODE_MCLASS)


def count(machine: Machine) -> int:
    """Run ``machine`` from reset to its halt and count instructions the slow way."""
    trace: list[int] = []
    h = machine.uc.hook_add(UC_HOOK_CODE, lambda uc, a, s, d: trace.append(a))
    machine.uc.ctl_flush_tb()  # code translated before the hook existed would not call it
    try:
        machine.run()
    finally:
        machine.uc.hook_del(h)
        machine.uc.ctl_flush_tb()
    total = len(trace)
    decoded: dict[int, tuple[str, int]] = {}

    def decode(addr: int) -> tuple[str, int]:
        if addr not in decoded:
            code = machine.read(addr, 4)
            insn = next(_CS.disasm_lite(code, addr, 1))
            decoded[addr] = (insn[2], insn[1])
        return decoded[addr]

    for i, addr in enumerate(trace):
        mnem, size = decode(addr)
        if not (mnem.startswith("it") and len(mnem) <= 4):
            continue
        block = []
        a = addr + size
        for _ in range(len(mnem) - 1):
            block.append(a)
            a += decode(a)[1]
        fired = 0
        j = i + 1
        for b in block:
            if j < len(trace) and trace[j] == b:
                fired += 1
                j += 1
        total += len(block) - fired
    return total
