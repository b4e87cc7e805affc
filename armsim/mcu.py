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

    @property
    def stack_top(self) -> int:
        """Initial stack pointer: the end of SRAM."""
        return self.sram_base + self.sram_size

    def memory_map(self) -> MemoryMap:
        """Flash (read/execute), SRAM (read/write) and the SCS page."""
        return MemoryMap([
            Region("flash", self.flash_base, self.flash_size, "rx"),
            Region("sram", self.sram_base, self.sram_size, "rw"),
            Region("scs", SCS_BASE, SCS_SIZE, "rw"),
        ])


MCUS: dict[str, Mcu] = {
    m.name: m
    for m in (
        Mcu("generic", "generic Cortex-M, 1 MiB flash, 128 KiB SRAM",
            0x00000000, 1024 * 1024, 0x20000000, 128 * 1024),
    )
}

DEFAULT_MCU = "generic"


def get_mcu(name: str) -> Mcu:
    """Look up an MCU preset by name, with a clear error listing the known ones."""
    try:
        return MCUS[name]
    except KeyError:
        raise ArmsimError(f"unknown MCU preset {name!r}; known: {', '.join(MCUS)}") from None
