"""The TLB armsim fills for Unicorn (tlb.py): which pages may execute, and where the fault
hooks watch. The fault kinds themselves run through it in test_hardening.py."""

from __future__ import annotations

from unicorn import UC_PROT_EXEC, UC_PROT_READ, UC_PROT_WRITE

from armsim.parts.mcus import get_mcu
from armsim.machine.tlb import fault_ranges, gaps, never_execute

RW = UC_PROT_READ | UC_PROT_WRITE


class _Uc:
    """Just enough of Uc for Translation's constructor."""

    def ctl_set_tlb_mode(self, mode: int) -> None:
        self.mode = mode

    def hook_add(self, kind: int, cb: object, *args: object) -> int:
        return 1

    def ctl_get_page_size(self) -> int:
        return 1024


def test_gaps_are_the_complement_of_the_map():
    m = get_mcu("generic").memory_map()
    g = gaps(m)
    covered = sorted([(r.base, r.end) for r in m] + g)
    assert covered[0][0] == 0 and covered[-1][1] == 1 << 32
    for (_a, b), (c, _d) in zip(covered, covered[1:]):
        assert b == c  # no hole, no overlap


def test_no_fault_hook_covers_sram_but_the_guard_page():
    """A hook over a page keeps its stores on Unicorn's slow path: SRAM must have none."""
    mcu = get_mcu("stm32f407")
    m = mcu.memory_map()
    guard = (0x20004000, 0x20005000)
    watch = fault_ranges(m, guard)
    sram = (mcu.sram_base, mcu.sram_base + mcu.sram_size)
    for kind, ranges in watch.items():
        for lo, hi in ranges:
            if lo < sram[1] and sram[0] < hi:
                assert (lo, hi) == guard, (kind, hex(lo), hex(hi))
    assert (mcu.flash_base, mcu.flash_base + mcu.flash_size) in watch["write"]
    assert guard in watch["read"] and guard in watch["write"]


def test_rights_follow_regions_and_the_architecture():
    from armsim.machine.tlb import Translation

    mcu = get_mcu("generic")
    t = Translation(_Uc(), mcu.memory_map(), virtual=True)  # type: ignore[arg-type]
    assert t.rights(mcu.sram_base) == RW  # no code from SRAM: the page can be "dirty"
    assert t.rights(mcu.flash_base) == RW | UC_PROT_EXEC
    assert t.rights(0x08000400) == RW | UC_PROT_EXEC  # the flash alias
    assert t.rights(0xE000E000) == RW  # SCS: mapped, System region
    # unmapped pages: the physical fetch reports the exact unmapped address (the crash
    # report then names a never-execute region); QEMU also peeks at the fetch rights of
    # pages it never runs (the exit address 0xFFFFFFFF), which must not fault
    assert t.rights(0x40000000) == RW | UC_PROT_EXEC
    assert t.rights(0xFFFFFC00) == RW | UC_PROT_EXEC
    assert never_execute(0x40000000).startswith("Peripheral")
    assert never_execute(0x60000000) is None


def test_the_source_build_keeps_it_state_across_tlb_fills():
    """armsim's build of Unicorn carries scripts/patches/unicorn-2.1.3-vtlb-restore.patch:
    a TLB fill inside a Thumb IT block no longer leaves stale IT bits (vtlb_sound runs the
    six instructions that showed it)."""
    import pytest

    from armsim.machine.engine import engine_build
    from armsim.machine.tlb import vtlb_sound

    if not engine_build().arm_only:
        pytest.skip("the PyPI wheel carries the bug: armsim runs it on Unicorn's own TLB")
    assert vtlb_sound()
