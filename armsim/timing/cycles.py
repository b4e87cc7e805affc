"""Estimated Cortex-M cycles from exact block counts: per-core timing tables (Arm Technical
Reference Manuals and measured facts) and in-order pipeline models (pipeline.py), applied to
each executed block once per distinct entry state. Every figure this module produces is an
estimate; docs/cycle-model.md lists the sources, the rules and the model's measured error.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import lru_cache

from typing import Any

import numpy as np

from armsim.parts.flash import Fetch
from armsim.timing import pipeline
from armsim.timing.pipeline import CLEAN, State


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
    exact: bool  # False for the explicitly approximate models
    model: str = "m34"  # pipeline model: "table" (M0), "m34" (M3/M4/M33), "m7"
    #: which indexed (writeback) load stops the next load from pipelining: "base" (one on
    #: the same base register: the M4), "any" (the M3)
    indexed_chain: str = "base"


TIMINGS: dict[str, Timing] = {
    # DDI 0432: Cortex-M0. Its multiplier is the part's choice (timing_key): 1 cycle (fast)
    # or 32 (small, iterative); with no part saying which, the fast one is assumed.
    "m0": Timing("Cortex-M0 (DDI 0432; fast multiplier assumed: MULS 1 cycle, 32 on parts "
                 "with the small one)", alu=1, mul=1, mac=1, mac64=1, div=1, ldr=2,
                 ldr_pipelined=2,
                 str_=2, ldrd=4, multi_base=1, multi_per_reg=1, branch=1, refill=2, bl_extra=1,
                 it=1, fp_alu=1, fp_mac=1, fp_div=1, vldr=2, vldr_pipelined=2, vstr=2, vmrs=1,
                 other=1, exact=True, model="table"),
    # DDI 0337: Cortex-M3.
    "m3": Timing("Cortex-M3 (DDI 0337)", alu=1, mul=1, mac=2, mac64=5, div=7, ldr=2, ldr_pipelined=1,
                 str_=1, ldrd=3, multi_base=1, multi_per_reg=1, branch=1, refill=1, bl_extra=0,
                 it=1, fp_alu=1, fp_mac=1, fp_div=1, vldr=2, vldr_pipelined=1, vstr=2, vmrs=1,
                 other=1, exact=True, indexed_chain="any"),
    # DDI 0439: Cortex-M4 with its FPU instruction table.
    "m4f": Timing("Cortex-M4F (DDI 0439)", alu=1, mul=1, mac=1, mac64=1, div=7, ldr=2, ldr_pipelined=1,
                  str_=1, ldrd=3, multi_base=1, multi_per_reg=1, branch=1, refill=1, bl_extra=0,
                  it=1, fp_alu=1, fp_mac=3, fp_div=14, vldr=2, vldr_pipelined=1, vstr=2, vmrs=1,
                  other=1, exact=True),
    # Cortex-M7 (DDI 0489, measured facts): dual issue, latencies and pairing in pipeline.py;
    # a predicted branch costs its issue slot, a mispredicted one 8 (6) cycles.
    "m7": Timing("Cortex-M7 (dual-issue model)", alu=1, mul=1, mac=1, mac64=1, div=7,
                 ldr=1, ldr_pipelined=1, str_=1, ldrd=2, multi_base=0, multi_per_reg=0.5,
                 branch=1, refill=0, bl_extra=0, it=0, fp_alu=1, fp_mac=1, fp_div=14,
                 vldr=1, vldr_pipelined=1, vstr=1, vmrs=1, other=1, exact=False, model="m7"),
    # Cortex-M33: 3-stage pipeline like the M4; M4 figures used (approximate).
    "m33": Timing("Cortex-M33 (M4 figures, approximate)", alu=1, mul=1, mac=1, mac64=1, div=7,
                  ldr=2,
                  ldr_pipelined=1, str_=1, ldrd=3, multi_base=1, multi_per_reg=1, branch=1,
                  refill=1, bl_extra=0, it=1, fp_alu=1, fp_mac=3, fp_div=14, vldr=2,
                  vldr_pipelined=1, vstr=2, vmrs=1, other=1, exact=False),
}
TIMINGS["m7d"] = TIMINGS["m7"]
# DDI 0484 table 3.1: the Cortex-M0+ (two-stage pipeline) has the M0's table but for its
# branches: a taken B or BX 2 cycles, BL 3 (refill 1 where the M0 has 2).
TIMINGS["m0plus"] = replace(TIMINGS["m0"], name="Cortex-M0+ (DDI 0484; fast multiplier "
                            "assumed: MULS 1 cycle, 32 on parts with the small one)", refill=1)
#: The M0/M0+ as the part builds it (Mcu.multiplier): MULS 1 or 32 cycles (table 3-1 of
#: each TRM).
for _core, _title in (("m0", "Cortex-M0 (DDI 0432"), ("m0plus", "Cortex-M0+ (DDI 0484")):
    TIMINGS[f"{_core}/fast-mul"] = replace(TIMINGS[_core], name=f"{_title}; the part's fast "
                                           "multiplier: MULS 1 cycle)")
    TIMINGS[f"{_core}/small-mul"] = replace(TIMINGS[_core], name=f"{_title}; the part's "
                                            "small multiplier: MULS 32 cycles)", mul=32)
# The M4 without its FPU: the same integer pipeline (DDI 0439); it runs no FPU instruction.
TIMINGS["m4-nofp"] = TIMINGS["m4f"]


def timing_for(cpu: str) -> Timing:
    """The timing table for a CPU variant name (or a timing_key)."""
    return TIMINGS[cpu]


def timing_key(cpu: str, mcu: Any = None) -> str:
    """The timing table of CPU variant ``cpu`` on part ``mcu`` (an Mcu or None): the M0's
    table with the multiplier the part has, where it says."""
    mult = getattr(mcu, "multiplier", "")
    if TIMINGS[cpu].model == "table" and mult:
        return f"{cpu}/{mult}-mul"
    return cpu


@dataclass(frozen=True)
class BlockCost:
    """A block's cycles from one entry state, before branch refills and wait states.

    Attributes:
        base: cycles of its instructions
        end: "taken" (always-taken branch), "cond" (conditional branch), "none"
        literal_loads: PC-relative loads (they read flash: wait states apply)
        exit: what it leaves in flight for a block that follows it without a branch
        mispredict: cycles a mispredicted final branch costs (M7), else 0
        unaligned_start: its first instruction is a 32-bit one at a halfword address (a
            branch to it costs one more refill cycle on the M3/M4)
        code_bytes: its length (sequential flash fetch)
        younger: instructions issued in the second slot of a cycle (M7; an unaligned load
            there costs one more, datamem.py)
        target: where its final unconditional B goes, when it issued with the second slot of
            its cycle free (M7: the target's first instruction may take that slot), else None
    """

    base: float
    end: str
    literal_loads: int
    exit: State = CLEAN
    mispredict: float = 0.0
    unaligned_start: bool = False
    code_bytes: int = 0
    younger: tuple[int, ...] = ()
    target: int | None = None


def block_cost(code: bytes, address: int, t: Timing, entry: State = CLEAN) -> BlockCost:
    """Cycles of one block's instructions in order, from ``entry`` (default: nothing in
    flight, as after a taken branch)."""
    ops = pipeline.decode(code, address)
    c = pipeline.cost_block(t.model, ops, t, entry)
    end = (ops[-1].end or "none") if ops else "none"
    literal = sum(1 for o in ops if o.mem == "literal" and o.kind in ("load", "loadd"))
    unaligned = bool(ops) and ops[0].size == 4 and ops[0].address % 4 == 2
    target = ops[-1].offset if ops and c.slot_after else None
    return BlockCost(c.base, end, literal, c.exit, c.mispredict,
                     unaligned and t.model == "m34", len(code), c.younger, target)


@dataclass(frozen=True)
class CycleEstimate:
    """Estimated cycles per executed block, aligned with the run's block arrays."""

    cpu: str
    per_block: np.ndarray  # total cycles of each block over the run
    total: float
    wait_states: int


@dataclass
class _Layout:
    """What :func:`estimate` needs of one set of executed blocks that does not depend on how
    often each ran: their costs, their flow (fall-through neighbours, shared conditional
    branches) and the entry-state corrections, as arrays. Runs of one program mostly
    execute the same blocks, so a memo keeps it per block set."""

    addrs: np.ndarray
    sizes: np.ndarray
    base: np.ndarray
    lit: np.ndarray
    taken_end: np.ndarray
    cond: np.ndarray
    order: np.ndarray
    uniq: np.ndarray
    first: np.ndarray
    pos: np.ndarray
    hit: np.ndarray
    inv: np.ndarray
    n_ends: int
    mine: np.ndarray
    unal: np.ndarray
    pen: np.ndarray
    #: entry-state corrections: (source block, target block, cycles per entry); the source's
    #: executions (an M7 B with a free slot) or its not-taken ones (a fall-through) enter
    after_src: np.ndarray
    after_dst: np.ndarray
    after_delta: np.ndarray
    fall_src: np.ndarray
    fall_dst: np.ndarray
    fall_delta: np.ndarray


def _layout(t: Timing, keys: np.ndarray, read: "callable", memo: dict | None) -> _Layout:
    """The count-independent part of :func:`estimate` for blocks ``keys``."""
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
    nb = len(costs)
    base = np.fromiter((c.base for c in costs), np.float64, nb)
    lit = np.fromiter((c.literal_loads for c in costs), np.float64, nb)
    ends = addrs + sizes
    taken_end = np.fromiter((c.end == "taken" for c in costs), bool, nb)
    cond = np.fromiter((c.end == "cond" for c in costs), bool, nb)
    order = np.argsort(addrs, kind="stable")
    uniq, first = np.unique(addrs[order], return_index=True)
    pos = np.searchsorted(uniq, ends)
    hit = (pos < uniq.size) & (uniq[np.minimum(pos, max(uniq.size - 1, 0))] == ends) \
        if uniq.size else np.zeros(nb, bool)
    ue, inv = np.unique(ends[cond], return_inverse=True)
    mine = np.searchsorted(uniq, addrs) if uniq.size else np.zeros(0, np.int64)
    unal = np.fromiter((c.unaligned_start for c in costs), bool, nb)
    pen = np.fromiter((c.mispredict for c in costs), np.float64, nb)

    def entries(pairs: list[tuple[int, int]], entry_of: "callable") -> tuple[np.ndarray, ...]:
        """(source, target block, cycles per entry) for each block starting at each
        source's target, from the entry state the source leaves."""
        src, dst, delta = [], [], []
        for i, target in pairs:
            entry = entry_of(i)
            for j in np.flatnonzero(addrs == target).tolist():
                a, sz = int(addrs[j]), int(sizes[j])
                key = (int(keys[j]), entry)
                c2 = memo.get(key) if memo is not None else None  # type: ignore[call-overload]
                if c2 is None:
                    c2 = block_cost(read(a, sz), a, t, entry)
                    if memo is not None:
                        memo[key] = c2  # type: ignore[index]
                src.append(i)
                dst.append(j)
                delta.append(c2.base - costs[j].base)
        return (np.array(src, np.int64), np.array(dst, np.int64), np.array(delta, np.float64))

    after = ([(i, c.target) for i, c in enumerate(costs) if c.target is not None]
             if t.model == "m7" else [])
    fall = [(i, int(uniq[pos[i]])) for i, c in enumerate(costs)
            if c.end == "none" and c.exit != CLEAN and hit[i]]
    a_src, a_dst, a_delta = entries(after, lambda _i: pipeline.AFTER_BRANCH)
    f_src, f_dst, f_delta = entries(fall, lambda i: costs[i].exit)
    return _Layout(addrs, sizes, base, lit, taken_end, cond, order, uniq, first, pos, hit, inv,
                   int(ue.size), mine, unal, pen, a_src, a_dst, a_delta, f_src, f_dst, f_delta)


def estimate(cpu: str, keys: np.ndarray, counts: np.ndarray, read: "callable",
             wait_states: int = 0, memo: dict | None = None,
             fetch: "Fetch | None" = None, extra: np.ndarray | None = None) -> CycleEstimate:
    """Cycles for a run: base costs, taken-branch refills, flash wait states.

    A conditional branch's taken count is inferred from flow: the executions of blocks that
    start right after it (its fall-through) count as its not-taken executions. Each block is
    costed once from a clean entry (after a branch), and once more per distinct state a
    block falling into it without a branch leaves in flight. ``memo`` (block key, or block
    key and entry state -> cost; a block set -> its :class:`_Layout`) spares re-reading and
    re-costing blocks seen before. ``fetch`` (flash.py) sets the flash timing;
    ``wait_states`` alone means W wait states with the prefetch hiding sequential fetch.
    ``extra`` adds cycles per block found at run time (the M7's loads from AXI SRAM:
    datamem.py).
    """
    if fetch is None:
        fetch = Fetch(wait_states)
    wait_states = fetch.wait_states
    t = TIMINGS[cpu]
    lay = None
    lkey = ("layout", t.name, keys.tobytes())
    if memo is not None:
        lay = memo.get(lkey)  # type: ignore[call-overload]
    if lay is None:
        lay = _layout(t, keys, read, memo)
        if memo is not None:
            memo[lkey] = lay  # type: ignore[index]
    addrs, sizes, uniq, pos, hit, cond = lay.addrs, lay.sizes, lay.uniq, lay.pos, lay.hit, \
        lay.cond
    nb = len(addrs)
    n = counts.astype(np.float64)
    # executions of blocks starting at each block's end address (its fall-through)
    start_sum = np.add.reduceat(n[lay.order], lay.first) if nb else np.zeros(0)
    fall = np.where(hit, start_sum[np.minimum(pos, max(uniq.size - 1, 0))], 0.0) \
        if uniq.size else np.zeros(nb)
    # blocks ending at the same conditional branch (a loop's first pass and its body) share
    # one fall-through: infer taken executions per branch, then share them out by count
    runs = np.zeros(nb)
    if lay.n_ends:
        runs_per_end = np.bincount(lay.inv, weights=n[cond], minlength=lay.n_ends)
        runs[cond] = runs_per_end[lay.inv]
    taken = np.where(lay.taken_end, n, 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.where(cond & (runs > 0), np.maximum(runs - fall, 0.0) * n / np.where(
            runs > 0, runs, 1.0), 0.0)
    taken = taken + share
    out = lay.base * n + taken * t.refill
    if wait_states:
        w = float(wait_states)
        ln = fetch.line_bytes  # the flash lines a block's bytes span
        lines = ((addrs + np.maximum(sizes, 1) - 1) // ln - addrs // ln + 1).astype(np.float64)
        if fetch.mode == "prefetch":  # a taken branch and a literal load each fetch a line
            out += (lay.lit * n + taken) * w
        elif fetch.mode == "lines":  # nothing hides the fetch: every line, every time
            out += (lines + lay.lit) * w * n
        else:  # a cache: a block's lines and literals miss once, then hit
            out += (lines + lay.lit) * w * np.minimum(n, 1.0)
    # entries by falling through: the blocks ending where a block starts, less their taken
    # branches, shared among the blocks that start there by their executions
    not_taken = n - taken
    per_start = np.zeros(uniq.size)
    if uniq.size:
        np.add.at(per_start, pos[hit], not_taken[hit])
    mine = lay.mine
    with np.errstate(invalid="ignore", divide="ignore"):
        weight = np.where(start_sum[mine] > 0, n / start_sum[mine], 0.0) if uniq.size \
            else np.zeros(nb)
    fall_in = per_start[mine] * weight if uniq.size else np.zeros(nb)
    taken_in = np.maximum(n - fall_in, 0.0)
    if t.model == "m34":  # a branch to an unaligned 32-bit instruction: one more cycle
        out += np.where(lay.unal, taken_in, 0.0)
    if t.model == "m7":  # mispredictions: a loop's exit, or the rarer way of a branch
        out += np.where(cond, np.minimum(taken, n - taken) * lay.pen, 0.0)
    # blocks reached from another entry state than a clean one: their cost from that state,
    # shared by their executions (an M7 B with a free slot: its target's first instruction
    # may issue beside it on every execution; a block falling into the next leaves its
    # state in flight)
    if lay.after_src.size:
        np.add.at(out, lay.after_dst,
                  lay.after_delta * n[lay.after_src] * weight[lay.after_dst])
    if lay.fall_src.size:
        np.add.at(out, lay.fall_dst,
                  lay.fall_delta * not_taken[lay.fall_src] * weight[lay.fall_dst])
    if extra is not None:
        out += extra
    return CycleEstimate(cpu, out, float(out.sum()), wait_states)


@lru_cache(maxsize=65536)
def cached_block_cost(timing: Timing, code: bytes, address: int) -> BlockCost:
    """:func:`block_cost` of ``code`` at ``address`` with ``timing``, remembered."""
    return block_cost(code, address, timing)
