"""Data memory timing on the Cortex-M7: what a load or store costs by where it goes.

The M7 reaches its DTCM through the TCM interface (no wait states, never cached: a load costs
what pipeline.py gives it) and SRAM1/SRAM2 through its AXI master, behind the L1 data cache,
which is off out of reset (CCR.DC resets to 0, DDI 0489). With the cache off every load from
AXI SRAM waits for the bus. Which memory a load reads is known only at run time, while the
cycle estimate costs blocks, so armsim counts them: a native code hook on every load and
store of the image computes its address from the registers (the access check of
alignment.py, mode AREA) and counts, per instruction, the accesses that start in the part's
AXI areas (``Mcu.areas``). The estimate then adds a latency per such load (see below).

The same count catches the two misalignment costs of the M7 (measured on an STM32H743): an
unaligned LDR/LDRH costs 3 more cycles, 4 when it issued in the younger slot of a pair (the
slot the pipeline model gives it in its block), and an STM/PUSH of an even number of
registers to an address that is not a multiple of 8 costs 1 more. Both are run-time facts,
so they are counted on every M7 run.

That latency is not in any source armsim has: Arm's TRM leaves it to the SoC, and ST's AN4667
gives whole-benchmark scores only. So it is the user's figure (``--sram-latency N``, measured
on the board with a DWT loop of loads from SRAM1); without it the accesses are counted and
reported, and not costed. With the data cache on (``--dcache on``) AXI loads are costed as
cache hits (line fills are not modelled). Stores are counted and not costed: the M7's store
buffer is taken to absorb them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from armsim.errors import ArmsimError
from armsim.parts.mcus import MCUS, Area, Mcu

#: Extra cycles of the M7's misaligned accesses (measured facts, docs/cycle-model.md)
UNALIGNED_LOAD = 3.0
UNALIGNED_LOAD_YOUNGER = 4.0  # issued in the second slot of a pair
ODD_STM = 1.0
#: The C count's rules (armsim/machine/_blockcount.c ALIGN_COST_*)
RULE_LOAD, RULE_STM = 1, 2
PENALTY = np.array([0.0, UNALIGNED_LOAD, ODD_STM])


@dataclass(frozen=True)
class DataTiming:
    """How the cycle estimate costs data accesses by memory.

    Attributes:
        slow: the part's areas off the TCM (AXI SRAM), whose accesses are counted
        latency: extra cycles per load from them with the data cache off (None: unknown)
        dcache: the L1 data cache on (AXI loads then cost as hits)
        note: the choice in words, for reports
    """

    slow: tuple[Area, ...]
    latency: int | None
    dcache: bool
    note: str

    @property
    def per_load(self) -> float:
        """Extra cycles the estimate adds per counted load (0 when not costed)."""
        return float(self.latency) if self.latency is not None and not self.dcache else 0.0


def data_timing_for(mcu: Mcu, model: str, latency: int | None = None,
                    dcache: str | None = None) -> DataTiming | None:
    """The data timing of preset ``mcu`` on a core with pipeline ``model``; None where every
    SRAM byte is alike (a part without typed areas, or a core other than the M7). ``dcache``
    is "on" or "off" (default: off, its reset state)."""
    slow = tuple(a for a in mcu.areas if a.bus == "axi")
    if model != "m7" or not slow:
        given = [f for f, v in (("--sram-latency", latency), ("--dcache", dcache)) if v is not None]
        if given:
            raise ArmsimError(f"{' and '.join(given)}: MCU preset '{mcu.name}' has no "
                              "Cortex-M7 TCM/AXI SRAM split (parts with one: "
                              f"{', '.join(split_parts())})")
        return None
    names = "+".join(a.name for a in slow)
    on = dcache == "on"
    tcm = "+".join(a.name for a in mcu.areas if a.bus == "tcm") or "TCM"
    if on:
        note = f"{names} loads costed as data-cache hits (--dcache on; line fills not modelled)"
    elif latency is None:
        note = (f"{names} (AXI) loads counted, not costed: no measured latency (give "
                f"--sram-latency CYCLES); {tcm} loads cost as the pipeline gives them")
    else:
        note = f"{names} (AXI, data cache off) loads +{latency} cycles each (--sram-latency)"
    return DataTiming(slow, latency, on, note)


def split_parts() -> list[str]:
    """Presets with a TCM/AXI SRAM split."""
    return [m.name for m in MCUS.values() if any(a.bus == "axi" for a in m.areas)]


#: Condition suffixes capstone leaves on a mnemonic inside an IT block (ARMv7-M ARM A7.3)
_CONDS = frozenset("eq ne cs hs cc lo mi pl vs vc hi ls ge lt gt le".split())


def m7_rule(name: str, access: Any) -> int:
    """The misalignment rule of one load/store on the M7 (RULE_LOAD, RULE_STM or 0); ``name``
    is its mnemonic without the width suffix, perhaps with a condition (``ldrne``)."""
    if name[-2:] in _CONDS and len(name) > 3 and name not in ("ldrsh", "ldrht"):
        name = name[:-2]
    if name in ("ldr", "ldrh", "ldrsh", "ldrt", "ldrht", "ldrsht") and access.size in (2, 4):
        return RULE_LOAD
    if name.startswith(("stm", "push")) and access.size % 8 == 0:
        return RULE_STM  # an even number of core registers
    return 0


def pc_cycles(count: Any, rows: np.ndarray, timing: DataTiming | None,
              younger: frozenset[int] = frozenset()) -> np.ndarray:
    """Extra cycles per instruction of ``count`` for the facts in ``rows``; ``younger``
    holds the loads the pipeline issues in the second slot of a pair."""
    per_load = timing.per_load if timing is not None else 0.0
    penalty = PENALTY[count.rules]
    if younger:
        late = np.isin(count.pcs, np.fromiter(younger, np.int64)) & (count.rules == RULE_LOAD)
        penalty = np.where(late, UNALIGNED_LOAD_YOUNGER, penalty)
    return rows[:, 0] * per_load + rows[:, 2] * penalty


def unaligned_load_pcs(count: Any, rows: np.ndarray) -> np.ndarray:
    """Addresses of the loads that ran unaligned at least once in ``rows``."""
    return count.pcs[(rows[:, 2] > 0) & (count.rules == RULE_LOAD)]


def block_stalls(keys: np.ndarray, counts: np.ndarray, pcs: np.ndarray,
                 per_pc: np.ndarray) -> np.ndarray:
    """Extra cycles per block (aligned with ``keys``) from ``per_pc`` extra cycles of the
    instructions at ``pcs``. A PC inside several blocks (a loop entered mid-way, say) shares
    its cycles among them by their executions, so the total is exact."""
    out = np.zeros(len(keys))
    if not len(keys) or not pcs.size or not per_pc.any():
        return out
    addrs = (keys >> np.uint64(32)).astype(np.int64)
    ends = addrs + (keys & np.uint64(0xFFFFFFFF)).astype(np.int64)
    n = counts.astype(np.float64)
    lo = np.searchsorted(pcs, addrs)
    hi = np.searchsorted(pcs, ends)
    cover = np.zeros(pcs.size + 1)  # executions of the blocks holding each PC
    np.add.at(cover, lo, n)
    np.add.at(cover, hi, -n)
    cover = np.cumsum(cover)[:-1]
    with np.errstate(invalid="ignore", divide="ignore"):
        per_exec = np.where(cover > 0, per_pc / np.where(cover > 0, cover, 1.0), 0.0)
    prefix = np.concatenate(([0.0], np.cumsum(per_exec)))
    return n * (prefix[hi] - prefix[lo])


def summary(count: Any, rows: np.ndarray, timing: DataTiming | None,
            younger: frozenset[int] = frozenset()) -> dict[str, Any]:
    """Counted accesses and what the estimate made of them, for reports."""
    mis = rows[:, 2]
    out: dict[str, Any] = {
        "unaligned_loads": int(mis[count.rules == RULE_LOAD].sum()),
        "odd_multi_stores": int(mis[count.rules == RULE_STM].sum()),
        "alignment_cycles": float(pc_cycles(count, rows, None, younger).sum())}
    if timing is None:
        out["note"] = "all SRAM of this part is alike (no TCM/AXI split)"
        return out
    loads, stores = int(rows[:, 0].sum()), int(rows[:, 1].sum())
    out.update(areas=[f"{a.name} 0x{a.base:08X}-0x{a.end - 1:08X}" for a in count.slow],
               loads=loads, stores=stores, cycles=loads * timing.per_load, note=timing.note)
    return out
