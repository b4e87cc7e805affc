"""Unmodelled peripherals: the address space a part has but its MCU preset does not map.

Set-up scripts write clock, flash and GPIO registers (RCC at 0x40023800 on an STM32F4), and
enable memories the preset leaves out (CCM at 0x10000000, external SDRAM at 0xC0000000).
Faulting on those would refuse ordinary Keil scripts; pretending they are modelled would
hide that nothing reacts to them. So, while a script runs (``--peripherals model``, the
default), the gaps of the ARMv7-M/ARMv8-M memory map's Peripheral, External RAM, External
device and vendor System ranges (ARMv7-M ARM B3.1, table B3-1) are mapped as one kind of
region: a register reads back what was last written to it, or 0, and every access is logged
and summarised ("wrote 14 registers of 0x40023800-0x40023830 (RCC on STM32F4?)"). Memory
in the Code and SRAM ranges that the preset lacks is mapped the same way, page by page, when
a script itself touches it. ``--peripherals strict`` keeps the preset's map: such an access
faults.

Unicorn's MMIO callbacks carry the accesses; no memory hook is involved.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from unicorn import arm_const as A

from armsim.parts.memory import MemoryMap, Region

#: (begin, end, name) of the architecture ranges mapped as unmodelled peripherals at the
#: start of a script. The last page stays unmapped: 0xFFFFFFFF is the run's exit address.
RANGES = ((0x40000000, 0x60000000, "Peripheral"), (0x60000000, 0xA0000000, "External RAM"),
          (0xA0000000, 0xE0000000, "External device"), (0xE0000000, 0xFFFFF000, "System"))
#: Code and SRAM ranges: mapped a page at a time when a script touches them.
LAZY = ((0x00000000, 0x20000000, "Code"), (0x20000000, 0x40000000, "SRAM"))
PAGE = 0x1000
REGION_NAME = "unmodelled"

#: Peripheral blocks of common parts, to name what a script wrote (a guess: the same
#: address means different things on different vendors' parts). Sources: ST RM0090
#: (STM32F405/407) and RM0385 (STM32F7) memory maps, RM0008 (STM32F1), NXP UM10360 (LPC17xx),
#: Nordic nRF52840 PS, Microchip SAM D21 datasheet, RP2040 datasheet.
KNOWN: tuple[tuple[int, int, str], ...] = (
    (0x40023800, 0x400, "RCC on STM32F4/F7"),
    (0x40023C00, 0x400, "FLASH interface on STM32F4/F7"),
    (0x40007000, 0x400, "PWR on STM32F4/F7"),
    (0x40013800, 0x400, "SYSCFG on STM32F4/F7"),
    (0x40020000, 0x2400, "GPIOA-I on STM32F4/F7"),
    (0x40026000, 0x800, "DMA1/2 on STM32F4/F7"),
    (0x40021000, 0x400, "RCC on STM32F1"),
    (0x40022000, 0x400, "FLASH interface on STM32F1"),
    (0x40010800, 0x1C00, "GPIOA-G on STM32F1"),
    (0xA0000000, 0x1000, "FSMC/FMC registers on STM32"),
    (0xE0042000, 0x400, "DBGMCU on STM32"),
    (0x400FC000, 0x4000, "System control (SC) on LPC17xx"),
    (0x4002C000, 0x4000, "Pin connect on LPC17xx"),
    (0x2009C000, 0x4000, "Fast GPIO on LPC17xx"),
    (0x40000000, 0x1000, "CLOCK/POWER on nRF52 (TIM2 on STM32)"),
    (0x50000000, 0x1000, "GPIO P0/P1 on nRF52"),
    (0x4001E000, 0x1000, "NVMC on nRF52"),
    (0x40000400, 0x400, "PM on SAM D21 (TIM3 on STM32)"),
    (0x40000800, 0x400, "SYSCTRL on SAM D21 (TIM4 on STM32)"),
    (0x40000C00, 0x400, "GCLK on SAM D21 (TIM5 on STM32)"),
    (0x41004000, 0x400, "NVMCTRL on SAM D21"),
    (0x41004400, 0x400, "PORT on SAM D21"),
    (0x4000C000, 0x1000, "RESETS on RP2040"),
    (0x40008000, 0x1000, "CLOCKS on RP2040"),
    (0xD0000000, 0x1000, "SIO on RP2040"),
    (0x10000000, 0x10000, "CCM RAM on STM32F4 (local SRAM on LPC17xx)"),
    (0xC0000000, 0x10000000, "external SDRAM (FMC bank 5/6 on STM32)"),
)


def guess(address: int) -> str | None:
    """What common parts have at ``address``, as a guess."""
    for base, size, name in KNOWN:
        if base <= address < base + size:
            return name
    return None


@dataclass
class Access:
    """One logged access: address, size, value, whether a write, and who made it (a PC, or
    None for the script itself)."""

    address: int
    size: int
    value: int
    write: bool
    pc: int | None


@dataclass
class Unmodelled:
    """The unmodelled-peripheral store of one machine.

    Attributes:
        values: last value written, by byte address
        log: every access in order (capped at ``max_log``; ``dropped`` counts the rest)
        regions: the regions mapped so far
    """

    values: dict[int, int] = field(default_factory=dict)
    log: list[Access] = field(default_factory=list)
    regions: list[Region] = field(default_factory=list)
    max_log: int = 100_000
    dropped: int = 0
    host: bool = False  # True while the script (not the firmware) is accessing

    def _record(self, a: Access) -> None:
        if len(self.log) < self.max_log:
            self.log.append(a)
        else:
            self.dropped += 1

    def load(self, address: int, size: int) -> int:
        """The value at ``address``: bytes last written, 0 where none was."""
        return sum(self.values.get(address + i, 0) << (8 * i) for i in range(size))

    def store(self, address: int, size: int, value: int) -> None:
        for i in range(size):
            self.values[address + i] = (value >> (8 * i)) & 0xFF

    def callbacks(self, base: int) -> tuple[Any, Any]:
        """Unicorn MMIO (read, write) callbacks for a region at ``base``."""
        def read(uc: Any, offset: int, size: int, _data: Any) -> int:
            v = self.load(base + offset, size)
            self._record(Access(base + offset, size, v, False,
                                None if self.host else int(uc.reg_read(A.UC_ARM_REG_PC))))
            return v

        def write(uc: Any, offset: int, size: int, value: int, _data: Any) -> None:
            self.store(base + offset, size, value)
            self._record(Access(base + offset, size, value, True,
                                None if self.host else int(uc.reg_read(A.UC_ARM_REG_PC))))

        return read, write

    def summary(self, who: str | None = None) -> list[str]:
        """One line per cluster of registers accessed: what, where, and a guess of the block;
        ``who`` ("script" or "firmware") keeps only those accesses."""
        log = [a for a in self.log if who is None or (a.pc is None) == (who == "script")]
        if not log:
            return []
        by_reg: dict[int, list[Access]] = {}
        for a in log:
            by_reg.setdefault(a.address & ~3, []).append(a)
        regs = sorted(by_reg)
        clusters: list[list[int]] = [[regs[0]]]
        for r in regs[1:]:
            prev = clusters[-1][-1]
            if r - prev <= 0x100 and guess(r) == guess(prev):
                clusters[-1].append(r)
            else:
                clusters.append([r])
        out = []
        for c in clusters:
            writes = sum(1 for r in c if any(a.write for a in by_reg[r]))
            reads = sum(1 for r in c if any(not a.write for a in by_reg[r]))
            who = {("script" if a.pc is None else "firmware") for r in c for a in by_reg[r]}
            what = []
            if writes:
                what.append(f"wrote {writes} register{'s' if writes != 1 else ''}")
            if reads:
                what.append(f"read {reads}")
            span = f"0x{c[0]:08X}" if len(c) == 1 else f"0x{c[0]:08X}-0x{c[-1] + 3:08X}"
            name = guess(c[0])
            out.append(f"{' and '.join(what)} of {span}" + (f" ({name}?)" if name else "")
                       + f" [{' and '.join(sorted(who))}]")
        if self.dropped:
            out.append(f"... {self.dropped:,} further accesses not logged")
        return out


def gaps_in(memory: MemoryMap, lo: int, hi: int) -> list[tuple[int, int]]:
    """Unmapped [begin, end) ranges of ``memory`` inside [lo, hi), page-aligned."""
    out, at = [], lo
    for r in sorted(memory, key=lambda r: r.base):
        if r.end <= lo or r.base >= hi:
            continue
        if r.base > at:
            out.append((at, r.base))
        at = max(at, r.end)
    if at < hi:
        out.append((at, hi))
    return [(a, b) for a, b in out if b > a]


def lazy_range(address: int) -> bool:
    """True when ``address`` is in a range mapped page by page when a script touches it."""
    return any(lo <= address < hi for lo, hi, _ in LAZY)
