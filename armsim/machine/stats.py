"""What one run executed: exact instructions and executions per translated block."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from armsim.machine.elf import ElfImage


@dataclass
class RunStats:
    """What one run executed: total instructions and executions per (block address, size)."""

    instructions: int
    #: block keys (address << 32 | size), executions and instructions per block
    keys: np.ndarray
    counts: np.ndarray
    icounts: np.ndarray
    seconds: float
    #: instructions taken back where a run stopped inside a block (address -> negative count)
    adjust: dict[int, int] = field(default_factory=dict)

    @property
    def blocks(self) -> dict[tuple[int, int], int]:
        """Executions per (address, size)."""
        return {(int(k) >> 32, int(k) & 0xFFFFFFFF): int(n) for k, n in zip(self.keys, self.counts)}

    @property
    def block_instructions(self) -> dict[tuple[int, int], int]:
        """Instructions per (address, size)."""
        return {(int(k) >> 32, int(k) & 0xFFFFFFFF): int(n)
                for k, n in zip(self.keys, self.icounts)}

    def per_function(self, image: ElfImage) -> dict[str, int]:
        """Instructions attributed to the function holding each block's first address."""
        out: dict[str, int] = {}

        def add(address: int, n: int) -> None:
            f = image.function_at(address)
            name = f.name if f else f"0x{address:08X}"
            out[name] = out.get(name, 0) + n

        for k, n, i in zip(self.keys, self.counts, self.icounts):
            add(int(k) >> 32, int(n) * int(i))
        for address, n in self.adjust.items():
            add(address, n)
        return out
