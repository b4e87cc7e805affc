"""What a parsed script holds: memory writes as columns, with their source lines."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np

from armsim.errors import ScriptError


class WriteKind(NamedTuple):
    """A Keil memory-write function: its name, width in bytes and value type."""

    name: str
    size: int
    is_float: bool
    align: int


#: Keil's write functions, by upper-case name. Alignment is what an ARMv7-M load of that
#: width needs (VLDR/LDRD/LDM fault on a word-unaligned address on the chip).
KINDS: dict[str, WriteKind] = {k.name: k for k in (
    WriteKind("_WBYTE", 1, False, 1),
    WriteKind("_WWORD", 2, False, 1),
    WriteKind("_WDWORD", 4, False, 4),
    WriteKind("_WFLOAT", 4, True, 4),
    WriteKind("_WDOUBLE", 8, True, 4),
)}
KIND_CODES = {name: i for i, name in enumerate(KINDS)}
#: Set in ``Script.bits`` above the value's bytes when an integer write spelled a number
#: above its width's signed range (``_WBYTE(a, 200)``): memory gets the same byte as -56,
#: but a check of a signed (int8/int32) buffer can still name the line.
UNSIGNED_HIGH = 1 << 63
KIND_BY_CODE = list(KINDS.values())


@dataclass
class Script:
    """The memory writes of a script, in source order, as parallel numpy columns."""

    path: str
    address: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    kind: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int8))
    bits: np.ndarray = field(default_factory=lambda: np.zeros(0, np.uint64))
    line: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int32))
    lines_total: int = 0

    def __len__(self) -> int:
        return int(self.address.size)

    @property
    def size(self) -> np.ndarray:
        """Width in bytes of every write."""
        widths = np.array([k.size for k in KIND_BY_CODE], np.int64)
        return widths[self.kind]

    def to_bytes(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Every write expanded to bytes: (address, value, index of the write)."""
        sizes = self.size
        total = int(sizes.sum())
        index = np.repeat(np.arange(len(self), dtype=np.int64), sizes)
        starts = np.cumsum(sizes) - sizes
        offset = np.arange(total, dtype=np.int64) - np.repeat(starts, sizes)
        addr = self.address[index] + offset
        value = ((self.bits[index] >> (8 * offset).astype(np.uint64)) & np.uint64(0xFF))
        return addr, value.astype(np.uint8), index

    def blocks(self, check: bool = False) -> list[tuple[int, bytes]]:
        """Writes coalesced into contiguous (address, bytes) blocks, later writes winning.

        With ``check``, two writes that set one byte to different values are an error naming
        both lines.
        """
        if not len(self):
            return []
        addr, value, index = self.to_bytes()
        order = np.lexsort((index, addr))
        addr, value, index = addr[order], value[order], index[order]
        same = addr[1:] == addr[:-1]
        clash = same & (value[1:] != value[:-1])
        if check and clash.any():
            i = int(np.argmax(clash))
            first, second = int(index[i]), int(index[i + 1])
            raise ScriptError(
                f"address 0x{int(self.address[second]):08X} is written twice with different values "
                f"(line {int(self.line[first])} and line {int(self.line[second])})",
                self.path, int(self.line[second]), 1)
        keep = np.ones(addr.size, bool)
        keep[:-1] = ~same  # keep the last write of each byte
        addr, value = addr[keep], value[keep]
        breaks = np.flatnonzero(np.diff(addr) != 1) + 1
        out = []
        for a, v in zip(np.split(addr, breaks), np.split(value, breaks)):
            out.append((int(a[0]), v.tobytes()))
        return out

    def floats_at(self, address: int, count: int) -> tuple[np.ndarray, np.ndarray]:
        """float32 values and a coverage mask for ``count`` words from ``address``."""
        return self.values_at(address, count, "float32")

    def values_at(self, address: int, count: int, dtype: str
                  ) -> tuple[np.ndarray, np.ndarray]:
        """``count`` little-endian values of ``dtype`` from ``address``, and which of them
        the script wrote completely."""
        size = np.dtype(dtype).itemsize
        mem = np.zeros(count * size, np.uint8)
        have = np.zeros(count * size, bool)
        if len(self):
            a, v, _ = self.to_bytes()
            sel = (a >= address) & (a < address + size * count)
            mem[a[sel] - address] = v[sel]  # later writes win (source order)
            have[a[sel] - address] = True
        return (mem.view(np.dtype(dtype).newbyteorder("<")).astype(dtype),
                have.reshape(count, size).all(axis=1))
