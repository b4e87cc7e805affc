"""The machine's cycle clock: the estimate of the cycles executed so far (exact block counts
costed by :mod:`armsim.timing`), which DWT CYCCNT, semihosting time and a script's
``states`` read, and the M7's run-time address facts it adds per block."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from armsim.machine import disasm
from armsim.timing import cycles
from armsim.timing.datamem import block_stalls, pc_cycles, unaligned_load_pcs

if TYPE_CHECKING:
    from armsim.machine.accesses import AccessCount
    from armsim.machine.counting import BlockCounter
    from armsim.parts.flash import Fetch
    from armsim.parts.cpus import CpuVariant
    from armsim.timing.datamem import DataTiming


class CycleClock:
    """The :class:`~armsim.machine.emulator.Machine`'s cycle estimate so far (a mixin: it
    reads the machine's counter, code and access counts)."""

    cpu: CpuVariant
    counter: BlockCounter
    accesses: AccessCount | None
    data_timing: DataTiming | None
    _cost_memo: dict[int, Any]
    _total_memo: dict[Any, float]
    _back_cycles: float
    _mmio_last: tuple[tuple[int, int, int], int]

    def read(self, address: int, size: int) -> bytes:
        raise NotImplementedError

    def _code(self, address: int, size: int) -> bytes:
        raise NotImplementedError

    def cycles_so_far(self, fetch: Fetch | None = None) -> float:
        """Estimated cycles of the instructions executed so far: every block the run has
        entered, less the block tails that stops inside blocks took back; with ``fetch``
        (flash.py) the flash wait states of that set-up (without: none, as DWT CYCCNT and a
        script's ``states`` count). Runs with the same block counts (most inferences of one
        model) are costed once."""

        keys, counts = self.counter.arrays()
        if not keys.size:
            return 0.0
        extra = self.data_stalls(keys, counts)
        memo_key = None
        if extra is None:
            memo_key = (fetch, keys.tobytes(), counts.tobytes())
            total = self._total_memo.get(memo_key)
            if total is not None:
                return max(total - self._back_cycles, 0.0)
        total = cycles.estimate(self.timing_cpu, keys, counts, self._code, memo=self._cost_memo,
                                fetch=fetch, extra=extra).total
        if memo_key is not None:
            if len(self._total_memo) > 256:
                self._total_memo.clear()
            self._total_memo[memo_key] = total
        return max(total - self._back_cycles, 0.0)

    def cycles_before(self, block_pc: int, address: int, write: bool = False) -> float:
        """Estimated cycles of the run so far, up to the instruction of the running block
        (which starts at ``block_pc``) that accesses ``address`` (found by
        :func:`disasm.access_insn`, in order within one execution of the block)."""

        total = self.cycles_so_far()
        a0, size = self.counter.last()
        if not total or not a0 <= block_pc < a0 + size:
            return total
        run = (a0, size, int(self.counter.arrays()[1].sum()))
        after = self._mmio_last[1] if self._mmio_last[0] == run else -1
        at = disasm.access_insn(self.read(a0, size), a0, address, write, after)
        if at is None:
            return total
        self._mmio_last = (run, at)
        tail = cycles.block_cost(self.read(at, a0 + size - at), at,
                                 cycles.timing_for(self.timing_cpu))
        return max(total - tail.base, 0.0)

    def data_stalls(self, keys: np.ndarray, counts: np.ndarray,
                    rows: np.ndarray | None = None) -> np.ndarray | None:
        """Per-block cycles of the run-time address facts (datamem.py: slow-memory loads,
        misaligned accesses on the M7) for the blocks ``keys`` run ``counts`` times, from
        ``rows`` (default: the whole run so far); None: none counted."""
        if self.accesses is None:
            return None
        if rows is None:
            rows = self.accesses.counts()
        return block_stalls(keys, counts, self.accesses.pcs,
                            pc_cycles(self.accesses, rows, self.data_timing,
                                      self.younger_loads(keys, rows)))

    def younger_loads(self, keys: np.ndarray, rows: np.ndarray) -> frozenset[int]:
        """The loads of ``rows`` that ran unaligned and that the M7 model issues in the
        second slot of a pair, in the blocks ``keys`` that hold them (costed from a clean
        entry)."""
        assert self.accesses is not None
        pcs = unaligned_load_pcs(self.accesses, rows)
        if not pcs.size or not len(keys):
            return frozenset()
        addrs = (keys >> np.uint64(32)).astype(np.int64)
        sizes = (keys & np.uint64(0xFFFFFFFF)).astype(np.int64)
        holds = np.searchsorted(pcs, addrs + sizes) > np.searchsorted(pcs, addrs)
        timing = cycles.timing_for(self.timing_cpu)
        out: set[int] = set()
        for a, size in zip(addrs[holds].tolist(), sizes[holds].tolist()):
            out.update(cycles.cached_block_cost(timing, self._code(a, size), a).younger)
        return frozenset(out.intersection(pcs.tolist()))
