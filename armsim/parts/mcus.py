"""MCU presets: where flash and SRAM are and how big, and the memory map they give."""

from __future__ import annotations

from dataclasses import dataclass

from armsim.errors import ArmsimError
from armsim.parts.memory import MemoryMap, Region

#: The System Control Space page (SCB, NVIC, SysTick, CPACR, VTOR ...).
SCS_BASE = 0xE000E000
SCS_SIZE = 0x1000


@dataclass(frozen=True)
class Area:
    """One data memory inside a part's SRAM block, typed by how the core reaches it.

    Attributes:
        name: the part's name for it (DTCM, SRAM1 ...)
        base, size: where it is
        bus: "tcm" (the core's tightly coupled interface: no wait, no cache) or "axi"
            (the M7's AXI master, behind the L1 data cache)
    """

    name: str
    base: int
    size: int
    bus: str

    @property
    def end(self) -> int:
        """One past its last byte."""
        return self.base + self.size


@dataclass(frozen=True)
class Mcu:
    """A microcontroller's memories (the SRAM block the seed layout at 0x20000000 can use)."""

    name: str
    title: str
    flash_base: int
    flash_size: int
    sram_base: int
    sram_size: int
    #: other addresses where flash also appears (e.g. STM32's 0x08000000 beside the boot 0)
    flash_aliases: tuple[int, ...] = ()
    #: the CPU variant the part has: it is the default --cpu for this preset
    core: str = "m4f"
    #: core clock in Hz a script's swatch(seconds) and CCLK use (the part's maximum)
    clock_hz: float = 100e6
    #: the SRAM block's memories by bus, where they differ in timing (the M7's DTCM and
    #: AXI SRAM); empty: one uniform SRAM
    areas: tuple[Area, ...] = ()
    #: the part's other RAMs outside the SRAM block (name, base, size, rights): the M7's
    #: ITCM, the STM32F4's CCM, the LPC17xx's local SRAM. armsim's firmware does not place
    #: anything there; a set-up script or your own image may.
    other_ram: tuple[tuple[str, int, int, str], ...] = ()
    #: Cortex-M0/M0+ parts: the multiplier the vendor configured, "fast" (MULS in 1 cycle)
    #: or "small" (32 cycles, iterative; DDI 0432 / DDI 0484 table 3-1); "" where the core
    #: has no such option or the part does not say (the cycle model then assumes fast)
    multiplier: str = ""

    def area_at(self, address: int) -> Area | None:
        """The typed memory holding ``address``, if the part lists one."""
        return next((a for a in self.areas if a.base <= address < a.end), None)

    @property
    def stack_top(self) -> int:
        """Initial stack pointer: the end of SRAM."""
        return self.sram_base + self.sram_size

    def memory_map(self) -> MemoryMap:
        """Flash (read/execute), SRAM (read/write) and the SCS page."""
        regions = [
            Region("flash", self.flash_base, self.flash_size, "rx"),
            Region("sram", self.sram_base, self.sram_size, "rw"),
            Region("scs", SCS_BASE, SCS_SIZE, "rw"),
        ]
        regions += [Region(f"flash@{a:08X}", a, self.flash_size, "rx", alias_of="flash")
                    for a in self.flash_aliases]
        regions += [Region(name, base, size, perms) for name, base, size, perms in self.other_ram]
        return MemoryMap(regions)


KIB = 1024
MCUS: dict[str, Mcu] = {
    m.name: m
    for m in (
        Mcu("generic", "generic Cortex-M, 1 MiB flash (also at 0x08000000), 128 KiB SRAM",
            0x00000000, 1024 * KIB, 0x20000000, 128 * KIB, flash_aliases=(0x08000000,)),
        # RM0090 2.3.1 (memory map): the 64 KiB CCM data RAM at 0x10000000 (D-bus only: no
        # code runs there)
        Mcu("stm32f407", "STM32F407VG: 1 MiB flash, 128 KiB SRAM1+2, 64 KiB CCM at "
            "0x10000000", 0x08000000, 1024 * KIB, 0x20000000, 128 * KIB,
            flash_aliases=(0x00000000,), core="m4f", clock_hz=168e6,
            other_ram=(("ccm", 0x10000000, 64 * KIB, "rw"),)),
        Mcu("nrf52840", "nRF52840: 1 MiB flash, 256 KiB RAM", 0x00000000, 1024 * KIB,
            0x20000000, 256 * KIB, core="m4f", clock_hz=64e6),
        # RM0385 2.2.2 (memory map): DTCM-RAM on the core's TCM interface, SRAM1 and SRAM2 on
        # the AXI bus matrix, one contiguous block from 0x20000000; the 16 KiB ITCM-RAM at
        # 0x00000000 and the flash again on the ITCM interface at 0x00200000
        Mcu("stm32f746", "STM32F746NG: 1 MiB flash, 320 KiB DTCM+SRAM1+SRAM2, 16 KiB ITCM "
            "at 0", 0x08000000, 1024 * KIB, 0x20000000, 320 * KIB,
            flash_aliases=(0x00200000,), core="m7", clock_hz=216e6,
            other_ram=(("itcm", 0x00000000, 16 * KIB, "rwx"),),
            areas=(Area("DTCM", 0x20000000, 64 * KIB, "tcm"),
                   Area("SRAM1", 0x20010000, 240 * KIB, "axi"),
                   Area("SRAM2", 0x2004C000, 16 * KIB, "axi"))),
        # UM10360 2.3 (memory map): 32 KiB local SRAM at 0x10000000 beside the AHB SRAM
        Mcu("lpc1768", "LPC1768: 512 KiB flash, 32 KiB local SRAM at 0x10000000 "
            "(AHB SRAM 0x2007C000, 32 KiB)", 0x00000000, 512 * KIB, 0x2007C000, 32 * KIB,
            core="m3", clock_hz=100e6,
            other_ram=(("local sram", 0x10000000, 32 * KIB, "rwx"),)),
        Mcu("samd21g18", "ATSAMD21G18 (Cortex-M0+): 256 KiB flash, 32 KiB SRAM",
            0x00000000, 256 * KIB, 0x20000000, 32 * KIB, core="m0plus", clock_hz=48e6,
            # SAM D21 datasheet (DS40001882) 1 "Description": "single-cycle hardware multiplier"
            multiplier="fast"),
        Mcu("rp2040", "RP2040 (Cortex-M0+): 2 MiB XIP flash, 264 KiB SRAM",
            0x10000000, 2048 * KIB, 0x20000000, 264 * KIB, core="m0plus", clock_hz=125e6,
            # RP2040 datasheet 2.4.1: each M0+ "is configured with ... single-cycle 32x32
            # multiply"
            multiplier="fast"),
        # RM0456: SRAM1 (768 KiB), SRAM2 (64 KiB), SRAM3 (832 KiB) and SRAM5 (832 KiB) are
        # contiguous from 0x20000000 on the STM32U5A9/U599; flash is 4 MiB at 0x08000000.
        Mcu("stm32u5a9", "STM32U5A9NJ (Cortex-M33): 4 MiB flash, 2,496 KiB contiguous SRAM1-3+5",
            0x08000000, 4096 * KIB, 0x20000000, 2496 * KIB, flash_aliases=(0x00000000,),
            core="m33", clock_hz=160e6),
        # flash as large as a published float32 MobileNet's weights (64 MiB ends at 0x0C000000,
        # its alias at 0x04000000); SRAM stops short of the bit-band alias at 0x22000000
        Mcu("large", "emulation only: 64 MiB flash at 0x08000000, 16 MiB SRAM (no real part)",
            0x08000000, 64 * 1024 * KIB, 0x20000000, 16 * 1024 * KIB,
            flash_aliases=(0x00000000,), core="m4f"),
    )
}

DEFAULT_MCU = "generic"


def resolve_cpu(mcu: Mcu, cpu: str | None) -> str:
    """The CPU to build for: ``cpu`` if given (refused when the part has another core),
    else the part's own core."""
    if cpu is None:
        return mcu.core
    same = {"m7d": "m7", "m4-nofp": "m4f"}.get(cpu, cpu)  # the same core, FPU used or not
    if mcu.name not in ("generic", "large") and same != mcu.core:
        raise ArmsimError(f"--cpu {cpu} does not match MCU preset '{mcu.name}', which has a "
                          f"{mcu.core} core; leave --cpu out to use it, or pick --mcu generic "
                          "or large")
    return cpu


def canonical_mcu(text: str) -> str:
    """An MCU preset's name from a part name in any case (``STM32F407``, ``nRF52840``)."""
    key = text.strip().lower()
    if key in MCUS:
        return key
    raise ArmsimError(f"unknown MCU preset {text!r}; known: {', '.join(MCUS)} (any case)")


def get_mcu(name: str) -> Mcu:
    """Look up an MCU preset by name (any case), with a clear error listing the known ones."""
    return MCUS[canonical_mcu(name)]
