"""MCU presets: where flash and SRAM are and how big, and the memory map they give."""

from __future__ import annotations

from dataclasses import dataclass

from .errors import ArmsimError
from .memory import MemoryMap, Region

#: The System Control Space page (SCB, NVIC, SysTick, CPACR, VTOR ...).
SCS_BASE = 0xE000E000
SCS_SIZE = 0x1000


@dataclass(frozen=True)
class Mcu:
    """A microcontroller's memories."""

    name: str
    title: str
    flash_base: int
    flash_size: int
    sram_base: int
    sram_size: int
    #: other addresses where flash also appears (e.g. STM32's 0x08000000 beside the boot 0)
    flash_aliases: tuple[int, ...] = ()

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
        return MemoryMap(regions)


MCUS: dict[str, Mcu] = {
    m.name: m
    for m in (
        Mcu("generic", "generic Cortex-M, 1 MiB flash (also at 0x08000000), 128 KiB SRAM",
            0x00000000, 1024 * 1024, 0x20000000, 128 * 1024, flash_aliases=(0x08000000,)),
    )
}

DEFAULT_MCU = "generic"


def get_mcu(name: str) -> Mcu:
    """Look up an MCU preset by name, with a clear error listing the known ones."""
    try:
        return MCUS[name]
    except KeyError:
        raise ArmsimError(f"unknown MCU preset {name!r}; known: {', '.join(MCUS)}") from None
