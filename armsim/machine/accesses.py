"""The M7's run-time address facts, counted per load/store instruction by the native access
check (mode AREA): accesses that start in the part's AXI SRAM and misaligned accesses the M7
pays for. What they cost is :mod:`armsim.timing.datamem`'s business."""

from __future__ import annotations

from typing import Any

import numpy as np

from armsim.machine.alignment import AREA, SP_REG, NativeCheck
from armsim.machine.memcheck import memory_instructions
from armsim.parts.mcus import Area
from armsim.timing.datamem import RULE_LOAD, m7_rule


def may_cost(access: Any) -> bool:
    """True when a load/store's misalignment rule applies and its alignment can vary: an
    LDR/LDRH on SP with an offset of its size's multiple is aligned by construction (SP's low
    two bits read as zero on M-profile), so only what is left needs the hook."""
    if not access.rule:
        return False
    if access.rule == RULE_LOAD and access.base == SP_REG and access.index is None:
        return not access.post and access.disp % access.size != 0
    return True


class AccessCount:
    """Per load/store instruction of an image, run-time address facts: executions that
    started in the slow areas (loads, stores) and executions misaligned as the M7 pays for;
    rows aligned with ``pcs``. Native only (armsim.machine._blockcount). On a part whose SRAM
    is all alike, only the loads and stores whose misalignment can cost are hooked (the rest
    would count zeros): an M7 run of float kernels then hooks few instructions.

    Attributes:
        pcs: the instructions' addresses, ascending
        rules: each one's misalignment rule (RULE_LOAD, RULE_STM, 0)
        slow: the counted areas (empty on a part without a TCM/AXI split)
    """

    def __init__(self, uc: Any, image: Any, slow: tuple[Area, ...]) -> None:
        accesses: dict[int, Any] = {}
        for seg in image.segments:
            if "x" in seg.flags:
                accesses.update(memory_instructions(seg.data, seg.vaddr, m7_rule))
        self.slow = slow
        if not slow:  # nothing to count by area: only the accesses whose alignment can cost
            accesses = {pc: a for pc, a in accesses.items() if may_cost(a)}
        self.pcs = np.array(sorted(accesses), np.int64)
        self.rules = np.array([accesses[int(pc)].rule for pc in self.pcs], np.int64)
        self._check = NativeCheck(uc, accesses, AREA)
        self._check.set_op(0, [(a.base, a.end) for a in slow])

    def counts(self, zero: bool = False) -> np.ndarray:
        """(loads in slow areas, stores in them, misaligned) per instruction so far, shape
        (len(pcs), 3); ``zero`` starts over."""
        raw = self._check.area_counts(zero)
        return np.frombuffer(raw, np.uint64).reshape(-1, 3).astype(np.int64)

    def uncount(self, pc: int) -> None:
        """A stop at ``pc`` came after the hook counted the instruction there, which did not
        run (it runs, and is counted, when the run resumes)."""
        self._check.area_uncount(pc)

    def detach(self) -> None:
        """Remove the hook."""
        self._check.detach()
