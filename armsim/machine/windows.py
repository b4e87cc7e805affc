"""What ran between two points of a run, exactly: block executions, the instructions a stop
took back, the M7's run-time address facts, and their estimated cycles.

A :class:`Machine` snapshot is taken at each point (a profile's op entries, ``--between``'s
START and END); :func:`window` turns two snapshots into one :class:`Window`. Profiles and
``armsim run --between`` both cost their stretches with it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from armsim.parts.flash import Fetch
from armsim.timing import cycles

if TYPE_CHECKING:
    from armsim.machine.emulator import Machine
    from armsim.timing.cycles import CycleEstimate, Timing

#: Machine.snapshot(): block executions, instructions taken back, run-time address facts
Snapshot = tuple[dict[int, int], dict[int, int], "np.ndarray | None"]
#: The snapshot of a run that has not started.
START: Snapshot = ({}, {}, None)


def _delta(now: dict[int, int], before: dict[int, int]) -> dict[int, int]:
    return {k: n - before.get(k, 0) for k, n in now.items() if n - before.get(k, 0)}


def window_counts(m: Machine, before: Snapshot, after: Snapshot
                  ) -> tuple[dict[int, int], dict[int, int], np.ndarray | None]:
    """Block executions (key -> n), instructions taken back (address -> negative n) and
    the M7's run-time address facts per load/store (None: not counted) between two
    :meth:`Machine.snapshot` calls: exactly what ran in between."""
    counts = _delta(after[0], before[0])
    adjust = _delta(after[1], before[1])
    for a in list(adjust):
        # a stop at the start of a block took the whole block back: drop that execution
        tail = m.taken_back_tails[a]
        key = (a << 32) | tail
        if counts.get(key, 0) > 0 and adjust[a] == -m.instructions_in(a, tail):
            counts[key] -= 1
            if not counts[key]:
                del counts[key]
            del adjust[a]
    rows = after[2] if after[2] is None or before[2] is None else after[2] - before[2]
    return counts, adjust, rows


def tail_cycles(m: Machine, address: int, timing: Timing, wait_states: int = 0) -> float:
    """The estimated cycles of the block tail a stop at ``address`` left unexecuted (with
    the refill, and the flash wait states, of a taken branch that ends it)."""
    tail = cycles.cached_block_cost(timing, m.read(address, m.taken_back_tails[address]),
                                    address)
    return tail.base + (timing.refill + wait_states if tail.end == "taken" else 0)


@dataclass
class Window:
    """The work between two snapshots.

    Attributes:
        counts: executions per block key (address << 32 | size)
        adjust: instructions taken back where a stop ended the stretch inside a block
        rows: the M7's run-time address facts of the stretch (None: not counted)
        keys, blocks: ``counts`` as arrays (keys, executions), in the same order
        estimate: the cycle estimate of the blocks (None: nothing ran)
        back: estimated cycles of the taken-back tails, by address
        instructions: exact instructions executed
        cycles: estimated cycles
    """

    counts: dict[int, int]
    adjust: dict[int, int]
    rows: np.ndarray | None
    keys: np.ndarray
    blocks: np.ndarray
    estimate: CycleEstimate | None
    back: dict[int, float]
    instructions: int
    cycles: float


def window(m: Machine, before: Snapshot, after: Snapshot, fetch: Fetch | None = None
           ) -> Window:
    """Exact instructions and estimated cycles of what ran between ``before`` and
    ``after`` (with the flash timing ``fetch``; default: no wait states)."""
    fetch = fetch if fetch is not None else Fetch(0)
    counts, adjust, rows = window_counts(m, before, after)
    keys = np.array(list(counts), np.uint64)
    blocks = np.array(list(counts.values()), np.uint64)
    est = cycles.estimate(m.timing_cpu, keys, blocks, m.read, fetch=fetch,
                          extra=m.data_stalls(keys, blocks, rows) if rows is not None
                          else None) if len(keys) else None
    timing = cycles.timing_for(m.timing_cpu)
    back = {a: tail_cycles(m, a, timing, fetch.wait_states) for a in adjust}
    instructions = sum(n * m.instructions_in(k >> 32, k & 0xFFFFFFFF)
                       for k, n in counts.items()) + sum(adjust.values())
    total = (est.total if est is not None else 0.0) - sum(back.values())
    return Window(counts, adjust, rows, keys, blocks, est, back, int(instructions), total)
