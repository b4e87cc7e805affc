"""A labelled memory map that refuses overlaps and prints as a table."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator

from armsim.errors import ArmsimError


@dataclass(frozen=True)
class Region:
    """A mapped address range with its permissions (a subset of "rwx")."""

    name: str
    base: int
    size: int
    perms: str
    #: the region whose memory this one shows again (a boot alias), if any
    alias_of: str | None = None

    @property
    def end(self) -> int:
        """One past the last byte."""
        return self.base + self.size

    def contains(self, address: int, size: int = 1) -> bool:
        """True when [address, address+size) lies inside the region."""
        return self.base <= address and address + size <= self.end


class MemoryMap:
    """Named, non-overlapping regions, sorted by address."""

    def __init__(self, regions: list[Region] | None = None) -> None:
        self._regions: list[Region] = []
        for r in regions or []:
            self.add(r)

    def add(self, region: Region) -> None:
        """Add a region; refuses one that overlaps an existing region."""
        if region.size <= 0:
            raise ArmsimError(f"memory region {region.name} has size {region.size}")
        for r in self._regions:
            if region.base < r.end and r.base < region.end:
                raise ArmsimError(
                    f"memory region {region.name} 0x{region.base:08X}-0x{region.end - 1:08X} "
                    f"overlaps {r.name} 0x{r.base:08X}-0x{r.end - 1:08X}")
        self._regions.append(region)
        self._regions.sort(key=lambda r: r.base)

    def remove(self, region: Region) -> None:
        """Take a region out of the map."""
        self._regions.remove(region)

    def __iter__(self) -> Iterator[Region]:
        return iter(self._regions)

    def __getitem__(self, name: str) -> Region:
        for r in self._regions:
            if r.name == name:
                return r
        raise KeyError(name)

    def find(self, address: int, size: int = 1) -> Region | None:
        """The region wholly containing [address, address+size), if any."""
        for r in self._regions:
            if r.contains(address, size):
                return r
        return None

    def table(self) -> str:
        """A plain-text table of the regions."""
        lines = [f"{'region':<15} {'start':>10}  {'end':>10}  {'size':>9}  perms"]
        for r in self._regions:
            lines.append(f"{r.name:<15} 0x{r.base:08X}  0x{r.end - 1:08X}  "
                         f"{_size(r.size):>9}  {r.perms}"
                         + (f"  (alias of {r.alias_of})" if r.alias_of else ""))
        return "\n".join(lines)


def _size(n: int) -> str:
    if n % (1024 * 1024) == 0:
        return f"{n // (1024 * 1024)} MiB"
    if n % 1024 == 0:
        return f"{n // 1024} KiB"
    return f"{n} B"
